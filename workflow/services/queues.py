"""Work queues: the ready tasks of a role, filtered the way staff ask for them.

``TaskFilter`` is the one description of "which tasks": My tasks, the bulk pages, the API's complete-many and
``petitio tasks complete-many`` all select by it, so "all N matching this filter" means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from workflow.models import Case, CollectiveComplaint, Episode, Filing, HumanTask, Person, case_episodes, utcnow


@dataclass(frozen=True)
class TaskFilter:
    """Every field narrows the queue; None (or empty) leaves it open."""

    task: str | None = None  # the BPMN id of the task kind ("legal_review")
    episode: str | None = None  # an episode key
    city: str | None = None
    body: str | None = None  # a filing's body code (tasks of a filing), or a body the case is reviewed for
    urgent: bool | None = None
    overdue: bool | None = None
    assignee: int | None = None  # a user id; 0 stands for "nobody"
    ref: str | None = None  # a case reference, exactly

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def as_params(self) -> dict[str, Any]:
        """The filter as query parameters (only the fields that are set)."""
        return {f: v for f in self.names() if (v := getattr(self, f)) is not None and v != ""}


def task_query(role: str, flt: TaskFilter, *, now: datetime | None = None) -> Select[Any]:
    """SELECT HumanTask, Case.ref, Filing.body, CollectiveComplaint.id, CollectiveComplaint.title for the ready
    tasks of ``role`` matching ``flt``, overdue first, then by due date, then oldest."""
    now = now or utcnow()
    query = (
        select(HumanTask, Case.ref, Filing.body, CollectiveComplaint.id, CollectiveComplaint.title)
        .outerjoin(Case, HumanTask.case_id == Case.id)
        .outerjoin(Filing, HumanTask.filing_id == Filing.id)
        .outerjoin(CollectiveComplaint, Filing.collective_id == CollectiveComplaint.id)
        .where(HumanTask.state == "ready", HumanTask.lane == role,
               or_(Case.id.is_not(None), CollectiveComplaint.id.is_not(None))))
    if flt.task:
        query = query.where(HumanTask.bpmn_id == flt.task)
    if flt.ref:
        query = query.where(Case.ref == flt.ref)
    if flt.episode:
        query = query.where(Case.id.in_(select(case_episodes.c.case_id).join(Episode)
                                        .where(Episode.key == flt.episode)))
    if flt.city:
        query = query.where(Case.person_id.in_(select(Person.id).where(Person.city == flt.city)))
    if flt.body:
        query = query.where(Filing.body == flt.body)
    if flt.urgent is not None:
        query = query.where(Case.urgent.is_(flt.urgent))
    if flt.overdue is not None:
        overdue = func.coalesce(HumanTask.overdue(now), False)
        query = query.where(overdue if flt.overdue else ~overdue)
    if flt.assignee is not None:
        query = query.where(HumanTask.assignee_id.is_(None) if flt.assignee == 0
                            else HumanTask.assignee_id == flt.assignee)
    return query.order_by(~func.coalesce(HumanTask.overdue(now), False), HumanTask.due_at.is_(None),
                          HumanTask.due_at, HumanTask.created_at)


def matching_task_ids(session: Session, role: str, flt: TaskFilter, *, limit: int | None = None) -> list[str]:
    """The ids of the ready tasks of ``role`` matching ``flt``, in queue order."""
    query = task_query(role, flt).with_only_columns(HumanTask.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
