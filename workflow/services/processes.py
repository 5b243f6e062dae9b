"""The process runtime as the services use it: with Petitio's service operations attached.

``workflow.runtime`` knows no service operation of its own (it sits below the services); this is where the
registry (``services/operations.OPERATIONS``) is handed to it, for every start and load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.models import Case, ProcessInstance, User
from workflow.runtime import instances
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
           "flow_node_names", "load", "load_locked", "reset_to", "run_task", "save", "start", "start_many",
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
