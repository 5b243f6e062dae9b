"""Moving running instances of a process to another version of it (usually the one just activated).

``plan`` is the dry run: each running instance on another version is loaded, moved in memory and checked,
and nothing is written. ``migrate`` moves one instance inside the caller's transaction: locked, checked again
on its fresh state, moved, and saved through the runtime (inbox, deadlines and case stage re-projected,
``process_migrated`` audited). The caller opens one transaction per instance, so an instance is moved whole
or not at all, and one that cannot move keeps running on its own version.

What blocks a move (each a ``Problem`` code naming the BPMN id, templates in ``workflow/problems.py``):

- ``task_removed``: a task the instance stands at (ready, waiting, started or in error; in the top workflow or
  in any of its sub-workflows) has no counterpart in the new version;
- ``history_removed``: a step the instance already went through has none: its saved state names that step, and
  the new version could not read it back;
- ``subprocess_removed``: a sub-process or called process the instance holds is missing from the new version;
- ``changed_under_way``: a task under way changes what it is (type, id, the process it calls, its
  multi-instance input or data mapping); names, lanes, properties, scripts to come, timers and flows may change;
- ``form_incompatible``: a ready user task's form changes so that what was prepared for the old one would be
  refused: the new form requires a field the old one did not have, a field changes its JSON type, or a value the
  task's data holds for a field of the form does not validate against the new form's field.

SpiffWorkflow (``SpiffWorkflow.bpmn.util.diff``) aligns the old and new task specs by BPMN id and re-arms the
ready and waiting tasks from their new specs; task ids stay, so inbox rows, claims and deadlines are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound
from workflow.models import ProcessDefinition, ProcessInstance, User
from workflow.problems import Problem
from workflow.roles import ADMINS
from workflow.runtime import specs as spec_registry
from workflow.runtime.serializer import SERIALIZER
from workflow.services import processes
from workflow.task_forms import fill_enums

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
# What a task under way may change in a new version: its ready and waiting tasks are re-armed from the new
# spec (a timer reads its new definition, a user task its new properties), and flows are followed afresh.
FOLLOWABLE = frozenset({"description", "bpmn_name", "documentation", "lookahead", "inputs", "outputs", "lane",
                        "extensions", "prescript", "postscript", "event_definition", "cancel_activity", "script"})
MIGRATED = "process_migrated"


class MigrationRefused(Conflict):
    """The instance cannot move to that version; ``errors`` maps each BPMN id to what blocks it."""

    code = "migration_refused"


@dataclass(frozen=True)
class MigrationCheck:
    """One instance and whether it can move (``blockers`` empty) to the target version."""

    instance_id: int
    case_ref: str | None
    process_id: str
    from_version: int
    to_version: int
    blockers: tuple[Problem, ...]

    @property
    def movable(self) -> bool:
        return not self.blockers


def target_version(session: Session, process_id: str, version: int | None = None) -> ProcessDefinition:
    """The stored version ``version`` of a process, or its active version."""
    if version is None:
        definition = spec_registry.current_definition(session, process_id)
    else:
        definition = session.scalar(select(ProcessDefinition).filter_by(process_id=process_id, version=version))
    if definition is None:
        raise NotFound(f"process {process_id!r} has no {'active version' if version is None else f'version {version}'}")
    return definition


def plan(session: Session, settings: Settings, actor: User | None, process_id: str,
         target: ProcessDefinition | None = None, instance_ids: list[int] | None = None) -> list[MigrationCheck]:
    """The dry run: every running instance of the process on another version, checked; nothing is written."""
    _require_admin(actor)
    target = target or target_version(session, process_id)
    if target.process_id != process_id:
        raise Conflict(f"version {target.version} is a version of {target.process_id!r}, not of {process_id!r}")
    query = (select(ProcessInstance).join(ProcessInstance.definition)
             .where(ProcessDefinition.process_id == process_id, ProcessInstance.status == "running",
                    ProcessInstance.definition_id != target.id)
             .options(joinedload(ProcessInstance.definition), joinedload(ProcessInstance.case))
             .order_by(ProcessInstance.id))
    if instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(instance_ids))
    checks = []
    for instance in session.scalars(query).unique():
        loaded = processes.load(session, settings, instance, actor)
        checks.append(_check(instance, target, _move(session, loaded, target)))
    return checks


def migrate(session: Session, settings: Settings, actor: User | None, instance_id: int,
            target: ProcessDefinition) -> MigrationCheck:
    """Move one instance to ``target`` in the caller's transaction, or raise and change nothing.

    The row is locked without waiting (PostgreSQL): a case someone is working on at this moment is a
    ``Conflict`` and stays on its version; otherwise the version column refuses a stale save.
    """
    _require_admin(actor)
    loaded = processes.load_locked(session, settings, instance_id, actor, nowait=True)
    instance = loaded.instance
    source = instance.definition
    if source.process_id != target.process_id:
        raise Conflict(f"process instance {instance_id} runs process {source.process_id!r}, "
                       f"not {target.process_id!r}")
    if source.id == target.id or instance.status != "running":
        raise Conflict(f"process instance {instance_id} is {instance.status} on version {source.version}: "
                       "nothing to move")
    check = _check(instance, target, _move(session, loaded, target))
    if not check.movable:
        errors: dict[str, Problem] = {}
        for problem in check.blockers:  # by BPMN id; the first problem found for an id names it
            errors.setdefault(str(problem.params["task"]), problem)
        raise MigrationRefused(f"process instance {instance_id} cannot move to version {target.version}",
                               errors=errors)
    instance.definition = target
    processes.save(loaded, action=MIGRATED, data={"process": target.process_id, "from_version": source.version,
                                                  "to_version": target.version})
    return check


def _require_admin(actor: User | None) -> None:
    if actor is not None and actor.role not in ADMINS:  # None: the operator at the command line
        raise Forbidden("only admins move running cases to another process version")


def _check(instance: ProcessInstance, target: ProcessDefinition, blockers: list[Problem]) -> MigrationCheck:
    standing = {p.params["task"] for p in blockers if p.code == "task_removed"}
    # A task's generated parts (a boundary event's split) are history when the task itself is where it stands.
    kept = [p for p in blockers if p.code != "history_removed" or p.params["task"] not in standing]
    unique = tuple({(p.code, *sorted(p.params.items())): p for p in kept}.values())
    return MigrationCheck(instance.id, instance.case.ref if instance.case else None, target.process_id,
                          instance.definition.version, target.version, unique)


def _move(session: Session, loaded: processes.Loaded, target: ProcessDefinition) -> list[Problem]:
    """Migrate the loaded workflow in memory; what blocks it (empty: it moved and may be saved).

    The loaded workflow is only ever saved when nothing blocks; a refused one is dropped with its session's
    transaction, so checking by moving is safe for the dry run too.
    """
    workflow = loaded.workflow
    new_spec, new_subprocess_specs = spec_registry.specs_for(target)
    top_diff, sp_diffs = diff_workflow(SERIALIZER.registry, workflow, new_spec, new_subprocess_specs)
    blockers = _diff_blockers(top_diff)
    for sp_id, diff in sp_diffs.items():
        if diff is None:
            blockers.append(Problem("subprocess_removed", {"task": workflow.subprocesses[sp_id].spec.name}))
        else:
            blockers.extend(_diff_blockers(diff))
    forms = _form_blockers(session, loaded, target, top_diff, sp_diffs)
    if blockers or forms:
        return blockers + forms
    migrate_workflow(top_diff, workflow, new_spec)
    for sp_id, diff in sp_diffs.items():
        subworkflow = workflow.subprocesses[sp_id]
        migrate_workflow(diff, subworkflow, new_subprocess_specs[subworkflow.spec.name])
    workflow.subprocess_specs = dict(new_subprocess_specs)
    return _stale_specs(workflow)


def _diff_blockers(diff: WorkflowDiff) -> list[Problem]:
    found = []
    for task in diff.removed:
        if task.has_state(LIVE):
            found.append(Problem("task_removed", {"task": _bpmn_id(task)}))
        elif task.has_state(FINISHED):
            found.append(Problem("history_removed", {"task": _bpmn_id(task)}))
    for task in diff.changed:
        if not task.has_state(LIVE):
            continue
        new = diff.alignment[task]
        old_dict, new_dict = SERIALIZER.registry.convert(task.task_spec), SERIALIZER.registry.convert(new)
        for attribute in sorted(k for k in old_dict.keys() | new_dict.keys()
                                if old_dict.get(k) != new_dict.get(k) and k not in FOLLOWABLE):
            found.append(Problem("changed_under_way", {"task": _bpmn_id(task), "attribute": attribute}))
    return found


def _form_blockers(session: Session, loaded: processes.Loaded, target: ProcessDefinition, top_diff: WorkflowDiff,
                   sp_diffs: dict[Any, WorkflowDiff | None]) -> list[Problem]:
    found = []
    source = loaded.instance.definition
    for diff in [top_diff, *sp_diffs.values()]:
        for task, new in (diff.alignment.items() if diff is not None else ()):
            if new is None or not task.has_state(TaskState.READY) or not task.task_spec.manual:
                continue
            old_form, new_form = _form_of(task.task_spec), _form_of(new)
            if old_form is None or new_form is None:
                continue
            old = spec_registry.form_schema(source, old_form)
            fresh = spec_registry.form_schema(target, new_form)
            if old != fresh:
                found.extend(Problem("form_incompatible", {"task": _bpmn_id(task), "field": field})
                             for field in _incompatible_fields(session, old, fresh, task.data))
    return found


def _incompatible_fields(session: Session, old: dict[str, Any], new: dict[str, Any],
                         data: dict[str, Any]) -> list[str]:
    """The fields of ``new`` that work prepared for ``old`` (or the task's data) would not satisfy."""
    old_fields, new_fields = old.get("properties", {}), fill_enums(session, new).get("properties", {})
    fields = [name for name in new.get("required", []) if name not in old_fields]
    for name, prop in new_fields.items():
        retyped = name in old_fields and old_fields[name].get("type") != prop.get("type")
        if retyped or (name in data and not Draft202012Validator(prop).is_valid(data[name])):
            fields.append(name)
    return list(dict.fromkeys(fields))


def _stale_specs(workflow: Any) -> list[Problem]:
    """Tasks the move left on an old spec (predicted steps nothing re-armed): the state would not read back."""
    found = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.tasks.values():
            if wf.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                found.append(Problem("task_removed", {"task": _bpmn_id(task)}))
    return found


def _form_of(task_spec: Any) -> str | None:
    return getattr(task_spec, "extensions", {}).get("properties", {}).get(spec_registry.FORM_PROPERTY)


def _bpmn_id(task: Any) -> str:
    # Generated specs (a boundary event's split and join, a multi-instance child) carry no BPMN id of their own.
    return str(task.task_spec.bpmn_id or task.task_spec.name.split(".")[0].removesuffix(" [child]"))
