"""The rows an instance's state projects: its inbox (ready user tasks) and its deadlines (waiting timers).

Written by ``instances.save`` in the caller's transaction, from one walk of the task tree; read by the inbox,
the deadline board and the digest without touching any state JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from workflow.models import Deadline, HumanTask, ProcessInstance
from workflow.problems import N_
from workflow.runtime import specs as spec_registry
from workflow.runtime.tasktree import escalated, filing_id_of, guarded_task, properties, task_by_id, work_pending
from workflow.states import DeadlineState

Row = TypeVar("Row", Deadline, HumanTask)
ASSIGN_PROPERTY = "assignTo"  # a data variable holding the id of the user the task goes back to


_FLUSHES = "projections.flushes"  # Session.info: how many flushes (or folded writes) wrote something in this session
_AS_LOCKED = "projections.as_locked"  # Session.info: instance id -> the flush count when its lock read its rows


@event.listens_for(Session, "after_flush")
def _count_flush(session: Session, _context: object) -> None:
    note_written(session)


def note_written(session: Session) -> None:
    """Rows were written (by a flush, or around it: ``folded_writes``): rows read before may be stale now."""
    session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1


def note_locked(session: Session, instance: ProcessInstance) -> None:
    """The instance was just read with its lock (``LOCKED_WITH``), its stored projection rows with it."""
    session.info.setdefault(_AS_LOCKED, {})[instance.id] = session.info.get(_FLUSHES, 0)


def _stored(session: Session, instance: ProcessInstance, relationship: str) -> list[Any]:
    """The rows of one of the instance's projection relationships as stored. Those its lock read serve if nothing
    was flushed since (the stored rows are then as read); otherwise, or on a second save, they are read again."""
    locked_at = session.info.get(_AS_LOCKED, {}).get(instance.id)
    if locked_at is None or locked_at != session.info.get(_FLUSHES, 0) or relationship in inspect(instance).unloaded:
        session.expire(instance, [relationship])
    with session.no_autoflush:
        return list(getattr(instance, relationship))


def _current_rows(session: Session, instance: ProcessInstance, relationship: str, model: type[Row],
                  matches: Callable[[Row], bool]) -> list[Row]:
    """The instance's rows of one projection as the session sees them now: what a query after a flush would
    return, without the flush. The stored rows, with the session's unflushed changes on top (its new and changed
    rows that match, less those it deletes or changed so that they no longer match), so ``save`` writes everything
    it changed in one flush after the instance's version-checked UPDATE."""
    pending = [row for row in (*session.new, *session.dirty)
               if isinstance(row, model) and row.instance_id == instance.id]
    rows = {id(row): row for row in (*_stored(session, instance, relationship), *pending)}
    return [row for row in rows.values() if row not in session.deleted and matches(row)]


# The same tests as the relationships' joins (ProcessInstance.open_timer_rows, .ready_task_rows), on the values the
# session holds.
def _is_open_timer(row: Deadline) -> bool:
    return bool(row.open_timer)


def _is_ready(row: HumanTask) -> bool:
    return row.state == "ready"


def rows_to_rewrite(session: Session, instance: ProcessInstance) -> tuple[dict[str, Deadline], dict[str, HumanTask]]:
    """The instance's open deadline rows of BPMN timers, by timer task id (only the timers' own rows: a deadline a
    response opened on this instance is not a timer's to close), and its ready inbox rows, by task id."""
    deadlines = _current_rows(session, instance, "open_timer_rows", Deadline, _is_open_timer)
    inbox = _current_rows(session, instance, "ready_task_rows", HumanTask, _is_ready)
    session.info.get(_AS_LOCKED, {}).pop(instance.id, None)  # used: a later save reads them again
    return {row.timer_task_id: row for row in deadlines}, {row.id: row for row in inbox}


def pinned_timers(open_rows: dict[str, Deadline]) -> set[UUID]:
    """The timers of open deadline rows: the pruning keeps them, ``sync_deadlines`` reads them back from the tree."""
    pinned = set()
    for task_id in open_rows:
        try:
            pinned.add(UUID(task_id))
        except (TypeError, ValueError):
            continue
    return pinned


def timer_label(timer: Any, subject: Any) -> str:
    # An event-based gateway's own name says "awaiting"; the timer event behind it names the window.
    for definition in getattr(timer.task_spec.event_definition, "event_definitions", ()):
        if isinstance(definition, TimerEventDefinition) and definition.name:
            return str(definition.name)
    # A BPMN name is extracted for translation from the file (workflow/babel_extract.py); the last resort here.
    return str(timer.task_spec.bpmn_name or subject.task_spec.bpmn_name or N_("Deadline"))


def sync_inbox(session: Session, instance: ProcessInstance, ready: list[Any],
               timers: list[tuple[Any, datetime]], now: datetime, rows: dict[str, HumanTask]) -> None:
    """Add a row for each ready user task, cancel the ready rows whose task is gone (``rows``: the instance's
    ready rows, from ``ready_inbox_rows``)."""
    due_by_task = {}
    for timer, due in timers:
        guarded = guarded_task(timer)
        if guarded is not None:
            due_by_task[guarded.id] = min(due, due_by_task.get(guarded.id, due))
    live = {str(t.id): t for t in ready}
    for task_id, row in rows.items():
        # Gone without being completed through complete_task (which marks its row): cancelled by an event.
        if task_id not in live and row.state == "ready":
            row.state = "cancelled"
            row.completed_at = now
    for task_id, task in live.items():
        row = rows.get(task_id)
        if row is None:
            row = HumanTask(id=task_id, instance_id=instance.id, case_id=instance.case_id, state="ready",
                            created_at=now)
            session.add(row)
        row.bpmn_id = task.task_spec.bpmn_id
        row.name = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        row.lane = task.task_spec.lane
        row.form = properties(task).get(spec_registry.FORM_PROPERTY)
        row.filing_id = filing_id_of(task)
        row.due_at = due_by_task.get(task.id)
        if row.assigned_at is None:  # a claim or a manager's assignment (services/queues.py) outlives saves
            assignee = task.data.get(properties(task).get(ASSIGN_PROPERTY, ""))
            row.assignee_id = assignee if isinstance(assignee, int) and not isinstance(assignee, bool) else None


def sync_deadlines(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                   timers: list[tuple[Any, datetime]], now: datetime, open_rows: dict[str, Deadline]) -> None:
    """Open a deadline row for each waiting timer, close (met or missed) those whose timer is gone."""
    waiting = {str(t.id): (t, due) for t, due in timers}
    covered: set[Any] = set()  # ready tasks whose work an escalated row still stands for
    for timer_id, row in open_rows.items():
        if timer_id in waiting:
            continue
        fired = task_by_id(workflow, timer_id)
        if row.escalated_at is None and fired is not None and escalated(fired):
            # The service level was missed and a manager alerted: the deadline stays open (and overdue)
            # until the work it guarded is done, whatever fresh clock the process starts meanwhile.
            row.escalated_at = now
        pending = work_pending(fired) if row.escalated_at is not None and fired is not None else []
        if pending:
            covered.update(t.id for t in pending)
            continue
        # The clock stopped (the work was done, an answer came, the timer fired without an alert, the case
        # ended): it was beaten only if that happened before the due time.
        row.state = DeadlineState.MISSED if row.overdue(now) else DeadlineState.MET
        row.closed_at = now
    for timer_id, (timer, due) in waiting.items():
        row = open_rows.get(timer_id)
        guarded = guarded_task(timer)
        if row is None:
            if guarded is not None and guarded.id in covered:
                continue  # the fresh clock of work a missed, still open deadline already stands for
            subject = guarded if guarded is not None else timer
            row = Deadline(instance_id=instance.id, case_id=instance.case_id, timer_task_id=timer_id,
                           source="bpmn_timer", state=DeadlineState.OPEN, label=timer_label(timer, subject),
                           owner_role=subject.task_spec.lane or timer.task_spec.lane)
            session.add(row)
        row.filing_id = filing_id_of(timer)
        row.due_at = due
