"""Instances in error: record a failure, list them for admins, reset one to an earlier task or retry it.

Which failures mark an instance in error, per entry point:

- the worker's timers: yes (nobody sees the failure when it happens);
- a withdrawal of consent: yes, and the withdrawal stands. It is a fact about the complainant that must be
  recorded whatever the process does; the instance is marked in error and, once repaired (retry or reset),
  the process is told of the withdrawal it missed (``deliver_withdrawal``);
- a task completion or a recorded response: no. The person gets a clear error (400) and nothing changes;
  their input is not lost to a half-run process, and they can do it again once the administrators fixed the
  cause. One person's bad input never puts a case in error.

The failed unit of work is rolled back, so the stored state is the one before the failure (never a half-run
tree whose service operations' writes were undone). ``retry`` runs the engine again from there (the due timer
fires again); ``reset`` moves the instance back to an earlier task (SpiffWorkflow's ``reset_from_task_id``:
the task becomes runnable again with its data re-inherited from its parent, inside a filing's sub-workflow
too) and runs the engine. The failed step and its time are in the ``instance_failed`` audit event
(codes only); the error text, which may quote case data, stays encrypted on the instance and only admins
read it (audited).

Alerting: the administrators get a mail naming the case and the failed step (``services/repair_alerts.py``,
a step of the worker's loop), the admins' navigation shows the count, the page of instances in error lists
them; the case page tells staff the case is stuck and who was mailed, and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed, WorkflowFailed
from workflow.models import AuditEvent, CollectiveComplaint, ProcessDefinition, ProcessInstance, User, utcnow
from workflow.problems import Problem
from workflow.roles import ADMINS
from workflow.runtime import instances, pruning
from workflow.runtime.specs import specs_for
from workflow.runtime.tasktree import filing_id_of
from workflow.services import processes
from workflow.states import ConsentStatus

# ERROR (the status) and FAILED (the audit event of a failure: {"task", "process", "version"}) are the runtime's:
# a save that finds its instance stalled records the failure itself (runtime/pruning.py, code STALLED).
ERROR, FAILED = pruning.ERROR, pruning.FAILED
ALERTED = "instance_error_alerted"  # a failure mailed to admins: {"failure": its event's id, "users": [ids]}
# Tasks an admin may reset to: those that ran (or failed), never the engine's own start/end markers.
RESETTABLE = TaskState.COMPLETED | TaskState.ERROR


@dataclass(frozen=True)
class Failure:
    """Where and when an instance failed (from its last ``instance_failed`` event)."""

    step: str | None
    step_name: str | None
    since: datetime | None


@dataclass(frozen=True)
class Candidate:
    """A task an admin may reset the instance to."""

    task_id: str
    bpmn_id: str
    name: str
    state: str  # completed | error
    filing_id: int | None  # inside a filing's sub-workflow


@dataclass
class InError:
    instance_id: int
    case_ref: str | None
    case_id: int | None
    collective_id: int | None
    process_id: str
    version: int
    failure: Failure
    error: str | None  # admins only: may quote case data
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What a reset or retry did: the instance's status after it, and the new error when it failed again."""

    instance_id: int
    status: str
    error: str | None = None


def _require_admin(actor: User) -> None:
    if actor.role not in ADMINS:
        raise Forbidden("only administrators repair process instances")


def step_name(definition: ProcessDefinition, bpmn_id: str | None) -> str | None:
    """The BPMN name of a task of a definition (top process or any sub-process), or None."""
    if not bpmn_id:
        return None
    spec, subprocess_specs = specs_for(definition)
    for candidate in (spec, *subprocess_specs.values()):
        task_spec = candidate.task_specs.get(bpmn_id)
        if task_spec is not None:
            return str(getattr(task_spec, "bpmn_name", None) or bpmn_id)
    return bpmn_id


# -- recording a failure ----------------------------------------------------------------------------------

def record_failure(session: Session, instance_id: int, err: WorkflowFailed,
                   actor: User | None = None) -> int | None:
    """Mark the instance in error after its unit of work was rolled back (the caller commits); its case id."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        return None
    instance.status = ERROR
    instance.last_error = str(err)
    instance.updated_at = utcnow()
    definition = instance.definition
    audit(session, actor, FAILED, "process_instance", instance.id, instance.case_id,
          {"task": err.step, "process": definition.process_id, "version": definition.version})
    return instance.case_id


def failures(session: Session, instance_ids: list[int]) -> dict[int, Failure]:
    """The last recorded failure of each instance (its step and time)."""
    if not instance_ids:
        return {}
    last = (select(func.max(AuditEvent.id))
            .where(AuditEvent.action == FAILED, AuditEvent.object_type == "process_instance",
                   AuditEvent.object_id.in_([str(i) for i in instance_ids]))
            .group_by(AuditEvent.object_id))
    events = session.scalars(select(AuditEvent).where(AuditEvent.id.in_(last)))
    definitions = {i.id: i.definition for i in session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids)))}
    found = {}
    for event in events:
        instance_id = int(event.object_id or 0)
        step = event.data.get("task")
        found[instance_id] = Failure(step, step_name(definitions[instance_id], step), event.at)
    return found


@dataclass(frozen=True)
class Stuck:
    """What the case page says of a case whose process is in error (no error text: staff see no data here)."""

    step: str | None  # the BPMN id of the failed step
    step_name: str | None
    since: datetime | None
    alerted: list[str]  # who was mailed about this failure (services/repair_alerts.py); empty: not mailed yet
    alerted_at: datetime | None


def stuck(session: Session, case_id: int | None = None, *, instance_id: int | None = None) -> Stuck | None:
    """Whether a case's process (or, by ``instance_id``, a collective complaint's) is in error, and since when."""
    where = ProcessInstance.case_id == case_id if instance_id is None else ProcessInstance.id == instance_id
    instance = session.scalar(select(ProcessInstance).where(where, ProcessInstance.status == ERROR))
    if instance is None:
        return None
    failure = failures(session, [instance.id]).get(instance.id, Failure(None, None, None))
    alert = session.scalar(select(AuditEvent).where(AuditEvent.action == ALERTED,
                                                    AuditEvent.object_type == "process_instance",
                                                    AuditEvent.object_id == str(instance.id))
                           .order_by(AuditEvent.id.desc()).limit(1))
    if alert is None or failure.since is None or alert.at < failure.since:  # it announced an earlier failure
        return Stuck(failure.step, failure.step_name, failure.since, [], None)
    mailed = session.scalars(select(User).where(User.id.in_(alert.data.get("users") or [])))
    return Stuck(failure.step, failure.step_name, failure.since, sorted(u.display_name for u in mailed), alert.at)


def error_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProcessInstance)
                          .where(ProcessInstance.status == ERROR)) or 0


# -- reading, for admins ------------------------------------------------------------------------------------

def _describe(session: Session, instance: ProcessInstance, failure: Failure) -> InError:
    collective_id = None if instance.case_id is not None else session.scalar(
        select(CollectiveComplaint.id).where(CollectiveComplaint.instance_id == instance.id))
    return InError(instance.id, instance.case.ref if instance.case else None, instance.case_id, collective_id,
                   instance.definition.process_id, instance.definition.version, failure, instance.last_error)


def instances_in_error(session: Session, actor: User) -> list[InError]:
    """Every instance in error, oldest failure first; reading their errors is audited (they may quote data)."""
    _require_admin(actor)
    rows = list(session.scalars(select(ProcessInstance).where(ProcessInstance.status == ERROR)
                                .order_by(ProcessInstance.updated_at)))
    found = failures(session, [r.id for r in rows])
    listed = [_describe(session, r, found.get(r.id, Failure(None, None, None))) for r in rows]
    if listed:
        audit(session, actor, "instance_errors_read", "process_instance", None, None,
              {"instances": [i.instance_id for i in listed]})
    return listed


def candidates(loaded: processes.Loaded) -> list[Candidate]:
    """The tasks of the instance that ran or failed, top process and sub-workflows, in the order they ran."""
    # Named BPMN nodes only: the engine's own start/end markers and unnamed joins mean nothing to an admin.
    tasks = [t for t in loaded.workflow.get_tasks(state=RESETTABLE)
             if getattr(t.task_spec, "bpmn_id", None) and getattr(t.task_spec, "bpmn_name", None)]
    tasks.sort(key=lambda t: t.last_state_change)
    return [Candidate(str(t.id), t.task_spec.bpmn_id, str(t.task_spec.bpmn_name),
                      "error" if t.state == TaskState.ERROR else "completed", filing_id_of(t)) for t in tasks]


def instance_in_error(session: Session, settings: Settings, actor: User, instance_id: int) -> InError:
    """One instance with its error and the tasks it may be reset to (the read of the error is audited)."""
    _require_admin(actor)
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    described = _describe(session, instance, failures(session, [instance.id]).get(instance.id,
                                                                                  Failure(None, None, None)))
    described.candidates = candidates(processes.load(session, settings, instance, actor))
    if instance.status == ERROR:
        audit(session, actor, "instance_error_read", "process_instance", instance.id, instance.case_id, {})
    return described


# -- a withdrawal the process must learn ----------------------------------------------------------------------

WITHDRAWN = "consent_withdrawn"  # the BPMN message


def _withdrawal_pending(loaded: processes.Loaded) -> bool:
    case = loaded.instance.case
    return (case is not None and case.consent is not None and case.consent.status == ConsentStatus.WITHDRAWN
            and bool(processes.waiting_catchers(loaded.workflow, WITHDRAWN)))


def _send_withdrawal(session: Session, loaded: processes.Loaded) -> None:
    consent = loaded.instance.case.consent  # type: ignore[union-attr]  # _withdrawal_pending checked it
    by = session.get(User, consent.withdrawn_by_id) if consent.withdrawn_by_id else None
    processes.deliver_message(loaded, WITHDRAWN, {"by": by.username if by else None})


def deliver_withdrawal(session: Session, settings: Settings, actor: User, instance_id: int) -> bool:
    """Tell a running case process that consent was withdrawn (recorded by the caller); False when the process
    failed: it is then marked in error (its own savepoint) and told again once repaired."""
    savepoint = session.begin_nested()
    try:
        loaded = processes.load_locked(session, settings, instance_id, actor)
        if _withdrawal_pending(loaded):
            _send_withdrawal(session, loaded)
            processes.save(loaded, action=WITHDRAWN)
        savepoint.commit()
    except WorkflowFailed as err:
        savepoint.rollback()
        record_failure(session, instance_id, err, actor)
        return False
    except BaseException:
        savepoint.rollback()
        raise
    return True


# -- repairing ---------------------------------------------------------------------------------------------

def _target(loaded: processes.Loaded, target: str) -> Any:
    """A task to reset to: its id, or the BPMN id of the latest task of that id that ran or failed."""
    task = instances.find_ready_task(loaded.workflow, target)  # by id, whatever its state; None if unknown
    if task is None:
        named = [t for t in loaded.workflow.get_tasks(state=RESETTABLE)
                 if getattr(t.task_spec, "bpmn_id", None) == target]
        task = max(named, key=lambda t: t.last_state_change, default=None)
    if task is None or not task.state & RESETTABLE or task.task_spec.bpmn_id is None:
        raise ValidationFailed(f"no task {target!r} that ran in instance {loaded.instance.id}",
                               errors={"task": Problem("not_a_reset_target")})
    return task


def _repair(session: Session, settings: Settings, actor: User, instance_id: int, action: str,
            target: str | None) -> Outcome:
    _require_admin(actor)
    savepoint = session.begin_nested()
    try:
        loaded = processes.load_locked(session, settings, instance_id, actor)
        if loaded.instance.status == "complete":
            raise Conflict(f"process instance {instance_id} is complete: there is nothing to repair")
        data: dict[str, Any] = {"ok": True, "from_status": loaded.instance.status}
        if target is not None:
            task = _target(loaded, target)
            data["task"] = task.task_spec.bpmn_id
            processes.reset_to(loaded, task)
        elif failed := loaded.workflow.get_tasks(state=TaskState.ERROR):  # a failure kept in the tree
            processes.reset_to(loaded, failed[0])
        else:
            processes.fire_timers(loaded)  # the stored state is the one before the failure: what was due fires
        if _withdrawal_pending(loaded):  # consent was withdrawn while the instance was in error
            _send_withdrawal(session, loaded)
            data["withdrawal"] = True
        processes.save(loaded, action=action, data=data)
        savepoint.commit()
    except WorkflowFailed as err:
        # It failed again: the instance stays (or goes) in error with the new error, the attempt is recorded.
        savepoint.rollback()
        case_id = record_failure(session, instance_id, err, actor)
        audit(session, actor, action, "process_instance", instance_id, case_id, {"ok": False, "task": err.step})
        return Outcome(instance_id, ERROR, str(err))
    except BaseException:
        savepoint.rollback()
        raise
    return Outcome(instance_id, loaded.instance.status)


def retry(session: Session, settings: Settings, actor: User, instance_id: int) -> Outcome:
    """Run the engine again from the stored state (a failed task in the tree is reset first)."""
    return _repair(session, settings, actor, instance_id, "instance_retried", None)


def reset(session: Session, settings: Settings, actor: User, instance_id: int, target: str) -> Outcome:
    """Reset the instance to an earlier task (its id, or a BPMN id: the latest run of it) and run the engine."""
    return _repair(session, settings, actor, instance_id, "instance_reset", target)
