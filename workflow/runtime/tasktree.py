"""The task tree read for the projections: which task a timer guards, and whether a missed service level's
work is still pending (``projections.sync_deadlines``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

STAGE_PROPERTY = "stage"
ESCALATE_OPERATION = "escalate"  # the service operation that alerts a manager (services/operations.py)


def guarded_task(timer_task: Any) -> Any | None:
    """The user task a boundary timer is attached to (its sibling under the boundary-event parent)."""
    parent = timer_task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    return next((c for c in parent.children if not isinstance(c.task_spec, BoundaryEvent)), None)


def filing_id_of(task: Any) -> int | None:
    filing = task.data.get("filing")
    return filing.get("filing_id") if isinstance(filing, dict) else None


def properties(task: Any) -> dict[str, str]:
    return getattr(task.task_spec, "extensions", {}).get("properties", {})


def task_by_id(workflow: BpmnWorkflow, task_id: str | None) -> Any | None:
    try:
        return workflow.get_task_from_id(UUID(task_id)) if task_id else None
    except (TaskNotFoundException, ValueError):
        return None


def descendants(task: Any) -> Iterable[Any]:
    stack = list(task.children)
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def escalated(timer: Any) -> bool:
    """The timer fired and the path it started alerted someone (a service task calling ``escalate``)."""
    if timer.state != TaskState.COMPLETED:
        return False
    return any(getattr(t.task_spec, "operation_name", None) == ESCALATE_OPERATION and t.state == TaskState.COMPLETED
               for t in descendants(timer))


def work_pending(timer: Any) -> list[Any]:
    """The ready tasks that still carry the work an escalated timer guarded; empty once it is done.

    A non-interrupting timer leaves its task where it was: the work is pending while that task is ready.
    An interrupting one cancels it and loops back (``request_documents`` -> ``verify_consent`` -> ...):
    the work is pending while a ready task on the path from the timer is in the guarded task's stage, and
    done once a task of the guarded kind on that path was completed (e.g. the documents were received).
    """
    guarded = guarded_task(timer)
    if guarded is None:
        return []
    if guarded.state == TaskState.READY:
        return [guarded]
    kind, stage = guarded.task_spec.bpmn_id, properties(guarded).get(STAGE_PROPERTY)
    later = [t for t in descendants(timer) if t.state in (TaskState.READY, TaskState.COMPLETED)]
    if any(t.state == TaskState.COMPLETED and t.task_spec.bpmn_id == kind for t in later):
        return []
    return [t for t in later if t.state == TaskState.READY and t.task_spec.manual and stage is not None
            and properties(t).get(STAGE_PROPERTY) == stage and filing_id_of(t) == filing_id_of(guarded)]
