"""The process runtime as the services use it: with Petitio's service operations attached.

``workflow.runtime`` knows no service operation of its own (it sits below the services); this is where the
registry (``services/operations.OPERATIONS``) is handed to it, for every start and load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import NotFound
from workflow.models import Case, HumanTask, ProcessInstance, User
from workflow.runtime import instances, projections
from workflow.runtime.instances import (
    Loaded,
    deliver_message,
    fire_timers,
    reset_to,
    run_task,
    save,
    waiting_catchers,
)
from workflow.runtime.names import flow_node_names
from workflow.services.operations import OPERATIONS

__all__ = ["CASE_PROCESS", "COLLECTIVE_PROCESS", "FILING_PROCESS", "Loaded", "deliver_message", "fire_timers",
           "flow_node_names", "load", "load_locked", "lock_task", "reset_to", "run_task", "save", "start", "start_many",
           "waiting_catchers"]

# The ids of the shipped processes (bpmn/*.bpmn): a case's, a collective complaint's, and the filing both call.
CASE_PROCESS, COLLECTIVE_PROCESS, FILING_PROCESS = "case", "collective_complaint", "filing"


def start(session: Session, settings: Settings, process_id: str, *, case: Case | None, actor: User | None,
          data: dict[str, Any]) -> Loaded:
    return instances.start(session, settings, process_id, case=case, actor=actor, data=data, operations=OPERATIONS)


def start_many(session: Session, settings: Settings, process_id: str,
               starts: Sequence[tuple[Case | None, dict[str, Any]]], *, actor: User | None) -> list[Loaded]:
    return instances.start_many(session, settings, process_id, starts, actor=actor, operations=OPERATIONS)


def load(session: Session, settings: Settings, instance: ProcessInstance, actor: User | None) -> Loaded:
    return instances.load(session, settings, instance, actor, OPERATIONS)


def load_locked(session: Session, settings: Settings, instance_id: int, actor: User | None, *,
                nowait: bool = False) -> Loaded:
    """Lock the instance row (``FOR UPDATE`` on PostgreSQL, ``NOWAIT``: a held row is a Conflict), re-read it,
    and load it."""
    return load(session, settings, instances.lock(session, instance_id, nowait=nowait), actor)


# Built once (building it costs more than running it from SQLAlchemy's compiled cache).
_LOCK_TASK = (select(HumanTask, ProcessInstance).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
              .where(HumanTask.id == bindparam("task_id")).options(*instances.LOCKED_WITH)
              .with_for_update(of=(HumanTask, ProcessInstance)).execution_options(populate_existing=True))


def lock_task(session: Session, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    """A ready task's inbox row and its instance, re-read and locked ``FOR UPDATE`` in one round trip (what
    ``require_ready_row(lock=True)`` and ``load_locked`` read in two). Two people completing one task queue up
    on PostgreSQL; the second then reads the row as completed. (SQLite has one writer; the instance's version
    column catches a stale write.) NotFound, or Conflict when the task is no longer ready."""
    found = session.execute(_LOCK_TASK, {"task_id": task_id}).unique().one_or_none()
    if found is None:
        raise NotFound(f"task {task_id} not found")
    projections.note_locked(session, found[1])
    return instances.ready_or_refused(found[0], task_id), found[1]
