"""Load, drive and save process instances; keep the inbox, deadlines and case stage in step.

Every change to an instance goes through ``save`` inside the caller's transaction: state JSON,
serializer version, ``next_timer_at``, inbox rows, deadlines, case stage and an audit event are written
together, and the row's version column makes a stale write fail instead of overwriting newer state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, NotFound, WorkflowFailed
from workflow.models import Case, HumanTask, ProcessInstance, User, utcnow
from workflow.runtime import folded_writes, projections, pruning
from workflow.runtime import specs as spec_registry
from workflow.runtime.context import ServiceContext
from workflow.runtime.scripting import Operations, make_script_engine, timer_expressions_of
from workflow.runtime.serializer import SERIALIZER, SERIALIZER_VERSION
from workflow.runtime.tasktree import (
    STAGE_PROPERTY,
    properties,
)
from workflow.states import Stage

_INSTANCES = ProcessInstance.__table__
# Built once; the SET clause is the parameters' other keys (the instance's columns).
_FRESH_STATE = update(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id"))
STAGES = Stage.codes()  # in order: a case shows its earliest open step
FOUR_EYES_PROPERTY = "fourEyesWith"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's answer to FOR UPDATE NOWAIT on a row another transaction holds


@dataclass
class Loaded:
    """A deserialized workflow with the context its service operations run in."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    context: ServiceContext
    # A new instance's first save: the state columns it computed, which start_many writes for all rows at once.
    fresh_state: dict[str, Any] | None = None


def _engine_errors(fn):  # type: ignore[no-untyped-def]
    """Turn SpiffWorkflow errors into one clear WorkflowFailed line (no tracebacks for users)."""

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except WorkflowTaskException as err:
            where = err.task.task_spec.bpmn_id if getattr(err, "task", None) is not None else None
            raise WorkflowFailed(f"process step {where or '?'!r} failed: {err}", step=where) from err
        except SpiffWorkflowException as err:
            raise WorkflowFailed(f"process error: {err}") from err

    return wrapper


def start(session: Session, settings: Settings, process_id: str, *, case: Case | None, actor: User | None,
          data: dict[str, Any], operations: Operations) -> Loaded:
    return start_many(session, settings, process_id, [(case, data)], actor=actor, operations=operations)[0]


def start_many(session: Session, settings: Settings, process_id: str,
               starts: Sequence[tuple[Case | None, dict[str, Any]]], *, actor: User | None,
               operations: Operations) -> list[Loaded]:
    """One new instance per (case, start data), each built and run as if alone; shared (an import starts hundreds):
    one read of the definition, one insert of the rows, one flush of the new projections (nothing to compare)."""
    definition = spec_registry.current_definition(session, process_id)
    if definition is None:
        raise NotFound(f"process {process_id!r} is not deployed; run `petitio init`")
    spec, subprocess_specs = spec_registry.specs_for(definition)
    rows = [ProcessInstance(definition=definition, case=case, state_json="{}", serializer_version=SERIALIZER_VERSION)
            for case, _data in starts]
    session.add_all(rows)
    session.flush()
    started = []
    for instance, (_case, data) in zip(rows, starts, strict=True):
        context = ServiceContext(session, settings, instance, actor)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=make_script_engine(context, operations))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        loaded = Loaded(instance, workflow, context)
        _run_engine(loaded)
        started.append(loaded)
    for loaded in started:
        save(loaded, action="process_started", data={"process": process_id, "version": definition.version},
             fresh=True)
    # The rows were inserted by this transaction a moment ago: no other writer can have changed them, so their
    # state goes in one executemany UPDATE without the version check (save recorded the values on the objects).
    if started:
        session.execute(_FRESH_STATE, [{"instance_id": loaded.instance.id, **(loaded.fresh_state or {})}
                                       for loaded in started])
    session.flush()
    return started


def of_case(session: Session, case_id: int) -> ProcessInstance | None:
    """The case's process instance (a case has at most one), or None before it has started."""
    return session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case_id))


# Read with the locked instance: its definition, its case and what its steps read (consent; triage: legal facts).
# With them, in the same round trip, the rows its save rewrites (projections.note_locked).
LOCKED_WITH = (joinedload(ProcessInstance.definition),
               joinedload(ProcessInstance.case).joinedload(Case.consent),
               joinedload(ProcessInstance.case).joinedload(Case.legal_facts),
               joinedload(ProcessInstance.ready_task_rows), joinedload(ProcessInstance.open_timer_rows))


def lock(session: Session, instance_id: int, *, nowait: bool = False) -> ProcessInstance:
    """Re-read the instance row, locked ``FOR UPDATE`` on PostgreSQL (SQLite ignores the clause).

    ``nowait``: a row another transaction holds is a ``Conflict`` at once instead of a wait (PostgreSQL).
    """
    query = (select(ProcessInstance)
             .where(ProcessInstance.id == instance_id)
             .options(*LOCKED_WITH)
             .with_for_update(of=ProcessInstance, nowait=nowait)
             .execution_options(populate_existing=True))
    try:
        instance = session.execute(query).unique().scalar_one_or_none()
    except OperationalError as err:
        if not nowait or getattr(err.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict(f"process instance {instance_id} is being changed by someone else; retry later") from None
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    projections.note_locked(session, instance)
    return instance


def load(session: Session, settings: Settings, instance: ProcessInstance, actor: User | None,
         operations: Operations) -> Loaded:
    spec, subprocess_specs = spec_registry.specs_for(instance.definition)
    state = json.loads(instance.state_json)
    if instance.serializer_version != SERIALIZER_VERSION:
        # Older state: run the library's migrations on the full dictionary (specs included).
        state.update(json.loads(instance.definition.spec_json))
        state[SERIALIZER.VERSION_KEY] = instance.serializer_version
        SERIALIZER.migrate(state)
    # Spec objects are immutable and shared: hand them in instead of restoring them every time.
    state["spec"], state["subprocess_specs"] = spec, dict(subprocess_specs)
    workflow = SERIALIZER.from_dict(state)
    context = ServiceContext(session, settings, instance, actor)
    workflow.script_engine = make_script_engine(context, operations)  # never serialized: re-attach on every load
    return Loaded(instance, workflow, context)


@_engine_errors
def _run_engine(loaded: Loaded) -> None:
    loaded.workflow.do_engine_steps()


@_engine_errors
def run_task(loaded: Loaded, task: Any, data: dict[str, Any]) -> None:
    task.set_data(**data)
    task.run()
    loaded.workflow.do_engine_steps()


@_engine_errors
def fire_timers(loaded: Loaded) -> None:
    loaded.workflow.refresh_timers()
    loaded.workflow.do_engine_steps()


@_engine_errors
def reset_to(loaded: Loaded, task: Any) -> None:
    """Make an earlier (or failed) task runnable again, its data re-inherited from its parent, and run the engine.

    Inside a sub-workflow the library also resets the calling task, which keeps its sub-workflow.
    """
    workflow = loaded.workflow
    workflow.reset_from_task_id(task.id)
    # SpiffWorkflow 3.2.0 drops the reset task's descendants from the tree but leaves the waiting ones (a
    # boundary timer of a later task) registered with the event manager: the next refresh_timers would then
    # update a task without a parent. Forget every catcher that is no longer in a live (sub-)workflow.
    live = {id(workflow), *(id(sp) for sp in workflow.subprocesses.values())}
    for catcher in list(workflow.event_manager.tasks.values()):
        if id(catcher.workflow) not in live or catcher.id not in catcher.workflow.tasks:
            workflow.event_manager.remove_task(catcher)
    workflow.do_engine_steps()
    # A user task made ready again keeps its id, whose inbox row says completed (or cancelled): that row is
    # the task's again (the audit trail keeps who completed it before), so the save finds it ready, not new.
    session = loaded.context.session
    for ready in workflow.get_tasks(state=TaskState.READY, manual=True):
        row = session.get(HumanTask, str(ready.id))
        if row is not None and row.state != "ready":
            row.state, row.completed_at, row.completed_by_id = "ready", None, None


@_engine_errors
def deliver_message(loaded: Loaded, name: str, payload: dict[str, Any], *, target: Any = None) -> None:
    """Send a BPMN message; with ``target`` (a sub-workflow) only that sub-workflow may catch it."""
    event = BpmnEvent(MessageEventDefinition(name), payload=payload, target=target)
    loaded.workflow.send_event(event)
    loaded.workflow.refresh_timers()
    loaded.workflow.do_engine_steps()


def waiting_catchers(workflow: BpmnWorkflow, message: str, waiting: Iterable[Any] | None = None) -> list[Any]:
    """WAITING tasks that would catch ``message`` (message catch events and event-based gateways)."""
    probe = BpmnEvent(MessageEventDefinition(message))
    waiting = workflow.get_tasks(state=TaskState.WAITING) if waiting is None else waiting
    return [t for t in waiting
            if getattr(t.task_spec, "event_definition", None) is not None and t.task_spec.catches(t, probe)]


def find_ready_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        return None


# -- projections -------------------------------------------------------------------------------------

def timer_due_times(workflow: BpmnWorkflow) -> list[tuple[Any, datetime]]:
    """(task, aware UTC due time) of every WAITING timer, event-based gateways included.

    ``waiting_events()`` reports no due time for event-based gateways, so read the task's stored value.
    """
    return _timers_among(workflow.get_tasks(state=TaskState.WAITING))


def _timers_among(waiting: Iterable[Any]) -> list[tuple[Any, datetime]]:
    found = []
    for task in waiting:
        if not timer_expressions_of(getattr(task.task_spec, "event_definition", None)):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):  # multiple-event definitions and cycle timers nest the value
            value = value.get("next") or next(
                (v for v in value.values() if isinstance(v, str) and v[:1].isdigit()), None)
        if isinstance(value, str) and value:
            found.append((task, TimerEventDefinition.get_datetime(value)))
    return found


def _stage(workflow: BpmnWorkflow, ready: list[Any], waiting: list[Any]) -> str:
    if workflow.is_completed():
        return str(workflow.data.get("case_outcome") or Stage.CLOSED)
    stages = {properties(t).get(STAGE_PROPERTY) for t in ready} - {None}
    if not stages and any(waiting_catchers(workflow, "response_received", waiting)):
        stages.add(Stage.AWAITING_RESPONSE)
    if not stages:
        stages.add(str(workflow.data.get("case_outcome") or Stage.FILING))
    return min(stages, key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES))


def save(loaded: Loaded, *, action: str, data: dict[str, Any] | None = None, fresh: bool = False) -> None:
    """``fresh``: the instance's first save (``start_many``): no inbox or deadline rows to read, no stale writer
    to stop, and the caller flushes."""
    instance, workflow, session = loaded.instance, loaded.workflow, loaded.context.session
    now = utcnow()
    ready, waiting, seen_live = [], [], 0
    for task in workflow.get_tasks(state=pruning.LIVE):  # one walk of the task tree
        seen_live += pruning.moves_on(task)
        if task.state == TaskState.WAITING:
            waiting.append(task)
        elif task.state == TaskState.READY and task.task_spec.manual:
            ready.append(task)
    timers = _timers_among(waiting)
    stalled = pruning.stalled(workflow, seen_live)
    # Read without flushing (the session's unflushed rows included): what the save changes is written with the
    # instance's own UPDATE (folded_writes).
    open_deadlines, inbox = ({}, {}) if fresh else projections.rows_to_rewrite(session, instance)
    pruning.prune(workflow, projections.pinned_timers(open_deadlines))  # the history of loops stays bounded
    state = SERIALIZER.to_dict(workflow)  # instance state only: specs are stored once per definition version
    values = {"state_json": json.dumps(state, separators=(",", ":")), "serializer_version": SERIALIZER_VERSION,
              "next_timer_at": min((due for _, due in timers), default=None),
              "status": pruning.ERROR if stalled else "complete" if workflow.is_completed() else "running",
              "last_error": pruning.STALLED_TEXT if stalled else None, "updated_at": now}
    if fresh:
        loaded.fresh_state = values
        for key, value in values.items():
            # A fresh row's values are written by start_many, all rows in one statement: here they are only
            # recorded as the row's (an ORM change would be a version-checked UPDATE per row).
            set_committed_value(instance, key, value)
    if instance.case is not None:
        with session.no_autoflush:
            instance.case.stage = _stage(workflow, ready, waiting)
    projections.sync_inbox(session, instance, ready, timers, now, inbox)
    projections.sync_deadlines(session, instance, workflow, timers, now, open_deadlines)
    if not fresh:
        # The state, version-checked; on PostgreSQL in one statement with the rows changed above (and the task's
        # own row, what the step recorded). A stale writer is a Conflict that wrote none of them. A new instance's
        # rows go with its batch (start_many).
        folded_writes.write_state(session, instance, values)
    # Not flushed here: the commit writes it once, with its place in the hash chain (workflow/audit.py).
    audit(session, loaded.context.actor, action, "process_instance", instance.id, instance.case_id,
          {**(data or {}), "stage": instance.case.stage if instance.case else None})
    if stalled:  # nothing will ever move it on: in error for the admins' repair pages, as a failure is
        definition = instance.definition
        audit(session, None, pruning.FAILED, "process_instance", instance.id, instance.case_id,
              {"task": None, "code": pruning.STALLED, "process": definition.process_id,
               "version": definition.version})


def reschedule_timers(loaded: Loaded, due: datetime, *, only: str | None = None) -> int:
    """Set the due time of waiting timers (``only``: those whose name contains that text).

    For operators and the demo data set (and tests, which move clocks instead of sleeping); the caller
    saves, which recomputes ``next_timer_at`` so the worker sees the change.
    """
    moved = 0
    for timer, _old in timer_due_times(loaded.workflow):
        label = timer.task_spec.bpmn_name or timer.task_spec.name
        if only and only not in label:
            continue
        value = timer.internal_data["event_value"]
        if isinstance(value, dict):  # event-based gateways and cycles keep the time inside a dict
            value = {k: due.isoformat() if isinstance(v, str) and v[:1].isdigit() else v for k, v in value.items()}
        else:
            value = due.isoformat()
        timer.internal_data["event_value"] = value
        moved += 1
    return moved


def ready_rows(session: Session, case_id: int) -> Iterable[HumanTask]:
    return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "ready")
                           .order_by(HumanTask.created_at))


def require_ready_row(session: Session, task_id: str, *, lock: bool = False) -> HumanTask:
    query = select(HumanTask).where(HumanTask.id == task_id).execution_options(populate_existing=True)
    return ready_or_refused(session.scalar(query.with_for_update() if lock else query), task_id)


def ready_or_refused(row: HumanTask | None, task_id: str) -> HumanTask:
    if row is None:
        raise NotFound(f"task {task_id} not found")
    if row.state != "ready":
        raise Conflict(f"task {task_id} is no longer ready (it was {row.state})")
    return row
