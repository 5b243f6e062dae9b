"""Work queues: the ready tasks of a role, filtered the way staff ask for them.

``TaskFilter`` is the one description of "which tasks": My tasks, the bulk pages, the API's complete-many and
``petitio tasks complete-many`` all select by it, so "all N matching this filter" means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import (
    Case,
    CollectiveComplaint,
    Episode,
    Filing,
    HumanTask,
    Person,
    Review,
    User,
    case_episodes,
    utcnow,
)
from workflow.paging import paginate
from workflow.problems import Problem
from workflow.roles import Role, sees_names
from workflow.runtime import instances
from workflow.schemas.queues import TaskFilterSchema
from workflow.services.cases import find_by_name
from workflow.services.tasks import four_eyes_blocks, held_by_other


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

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TaskFilter:
        """The filter from query parameters (other parameters are ignored); ValidationFailed for a bad value."""
        given = {name: params[name] for name in cls.names() if name in params}
        return cls(**TaskFilterSchema().load_or_fail(given, "the filter has errors"))

    def but(self, **changes: Any) -> TaskFilter:
        return TaskFilter(**{**{f: getattr(self, f) for f in self.names()}, **changes})


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
        # A filing's task names its body; a review step's case is about the bodies of its latest review.
        reviewed_for = select(Review.case_id).where(cast(Review.bodies, String).contains(f'"{flt.body}"',
                                                                                         autoescape=True))
        query = query.where(or_(Filing.body == flt.body, Case.id.in_(reviewed_for)))
    if flt.urgent is not None:
        query = query.where(Case.urgent.is_(flt.urgent))
    if flt.overdue is not None:
        overdue = func.coalesce(HumanTask.overdue(now), False)
        query = query.where(overdue if flt.overdue else ~overdue)
    if flt.assignee is not None:
        query = query.where(HumanTask.assignee_id.is_(None) if flt.assignee == 0
                            else HumanTask.assignee_id == flt.assignee)
    # The id last: tasks created together tie on the rest, and a page boundary between ties must not show one
    # task on two pages (or on none).
    return query.order_by(~func.coalesce(HumanTask.overdue(now), False), HumanTask.due_at.is_(None),
                          HumanTask.due_at, HumanTask.created_at, HumanTask.id)


def matching_task_ids(session: Session, role: str, flt: TaskFilter, *, limit: int | None = None) -> list[str]:
    """The ids of the ready tasks of ``role`` matching ``flt``, in queue order."""
    query = task_query(role, flt).with_only_columns(HumanTask.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# -- one page of a queue, and its counts ---------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    """One ready task as My tasks lists it: never an identity field."""

    task: HumanTask
    ref: str | None  # the case; None for a collective complaint's task
    body: str | None
    collective_id: int | None
    title: str | None
    overdue: bool
    urgent: bool
    detained: bool
    holder: str | None  # who claimed it or was given it (or the reviewer a returned review went back to)
    held: bool  # claimed or assigned: only the holder may complete it


def queue_page(session: Session, role: str, flt: TaskFilter, *, page: int, per_page: int,
               now: datetime | None = None) -> tuple[list[QueueRow], int]:
    """Page ``page`` of the role's queue, and how many tasks match the filter."""
    now = now or utcnow()
    query = task_query(role, flt, now=now).add_columns(Case.urgent, Case.detained_now)
    rows, total = paginate(session, query, page=page, per_page=per_page)
    names = user_names(session, {row[0].assignee_id for row in rows if row[0].assignee_id})
    return [QueueRow(task, ref, body, collective_id, title, task.overdue(now), bool(urgent), bool(detained),
                     names.get(task.assignee_id or 0), task.assigned_at is not None and task.assignee_id is not None)
            for task, ref, body, collective_id, title, urgent, detained in rows], total


@dataclass(frozen=True)
class KindCount:
    task: str  # bpmn id
    name: str
    count: int


def task_counts(session: Session, role: str, flt: TaskFilter, *, now: datetime | None = None) -> list[KindCount]:
    """How many tasks of each kind match the filter's other fields (the chips above the queue), most first."""
    inner = task_query(role, flt.but(task=None), now=now).order_by(None).subquery()
    rows = session.execute(select(inner.c.bpmn_id, func.min(inner.c.name), func.count())
                           .group_by(inner.c.bpmn_id).order_by(func.count().desc(), inner.c.bpmn_id)).all()
    return [KindCount(bpmn_id, name, count) for bpmn_id, name, count in rows]


def next_task(session: Session, actor: User, flt: TaskFilter, *, scan: int = 50) -> str | None:
    """The first task of the filtered queue ``actor`` can do now: not held by someone else, not barred by four
    eyes ("Complete and next"). Looks at the first ``scan`` matches only, so a queue full of others' work ends."""
    for task in session.scalars(task_query(actor.role, flt).limit(scan)):
        if held_by_other(task, actor) is None and four_eyes_blocks(session, task, actor) is None:
            return task.id
    return None


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(ids)))}


def lane_members(session: Session, lane: str) -> list[User]:
    """The active users who work in ``lane`` (a manager assigns a task to one of them)."""
    return list(session.scalars(select(User).where(User.role == lane, User.active.is_(True))
                                .order_by(User.full_name, User.username)))


# -- claim, assign, release ----------------------------------------------------------------------------------

def _row(session: Session, task_id: str, actor: User) -> HumanTask:
    row = instances.require_ready_row(session, task_id, lock=True)  # NotFound / Conflict
    if not actor.active:
        raise Forbidden("this account is deactivated")
    return row


def _record(session: Session, actor: User, action: str, row: HumanTask, **data: Any) -> None:
    # Ids and the task kind only: who holds a task is work data, not identity data.
    audit(session, actor, action, "task", row.id, row.case_id, {"task": row.bpmn_id, **data})


def claim_task(session: Session, actor: User, task_id: str) -> HumanTask:
    """``actor`` takes a ready task of their lane: the rest of the lane sees who holds it and cannot complete it.
    Claiming one's own task again changes nothing."""
    row = _row(session, task_id, actor)
    if row.lane != actor.role:
        raise Forbidden(f"task {row.bpmn_id!r} is for the {row.lane} role",
                        errors={"task": Problem("task_other_lane", {"lane": row.lane})})
    if held_by_other(row, actor) is not None:
        holder = session.get(User, row.assignee_id)
        raise Conflict("another user holds this task", errors={"task": Problem(
            "task_held", {"user": holder.display_name if holder else "?"})})
    if (other := four_eyes_blocks(session, row, actor)):
        raise Forbidden("four eyes: another person must do this step",
                        errors={"task": Problem("four_eyes", {"task": other})})
    if row.assignee_id == actor.id and row.assigned_at is not None:
        return row
    row.assignee_id, row.assigned_at = actor.id, utcnow()
    _record(session, actor, "task_claimed", row)
    session.flush()
    return row


def assign_task(session: Session, actor: User, task_id: str, assignee_id: int) -> HumanTask:
    """A manager gives a ready task to an active member of its lane (replacing whoever held it)."""
    row = _row(session, task_id, actor)
    if actor.role != Role.MANAGER:
        raise Forbidden("only managers assign tasks")
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active or assignee.role != row.lane:
        raise ValidationFailed("the assignee is not in the task's lane",
                               errors={"assignee": Problem("assignee_not_in_lane", {"lane": row.lane})})
    if four_eyes_blocks(session, row, assignee):
        raise ValidationFailed("four eyes: the assignee did the step this one checks",
                               errors={"assignee": Problem("assignee_four_eyes")})
    previous = row.assignee_id if row.assigned_at is not None else None
    row.assignee_id, row.assigned_at = assignee.id, utcnow()
    _record(session, actor, "task_assigned", row, assignee_id=assignee.id, previous_assignee_id=previous)
    session.flush()
    return row


def release_task(session: Session, actor: User, task_id: str) -> HumanTask:
    """The holder or a manager gives a held task back to the whole lane; a task nobody holds is left as it is."""
    row = _row(session, task_id, actor)
    if row.assigned_at is None:
        return row
    if row.assignee_id != actor.id and actor.role != Role.MANAGER:
        raise Forbidden("only the holder or a manager can release this task",
                        errors={"task": Problem("release_not_holder")})
    previous = row.assignee_id
    row.assignee_id, row.assigned_at = None, None
    _record(session, actor, "task_released", row, previous_assignee_id=previous)
    session.flush()
    return row


# -- search from every page ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    ref: str | None  # an exact reference: the page goes straight to the case
    cases: list[Case]  # otherwise the cases of the people with exactly that name
    by_name: bool  # whether a name search ran (roles that do not read names search references only)


def search(session: Session, actor: User, text: str, *, channel: str = "web", names: bool = True) -> SearchResult:
    """An exact case reference (ignoring case), else (with ``names``) an exact name through the blind index.

    A name search is a read of identity data: it is audited (once per case found, or once when none is), with
    the field searched and never the text. Roles that may not read names search references only."""
    text = " ".join(text.split())
    if not text:
        return SearchResult(None, [], False)
    ref = session.scalar(select(Case.ref).where(func.lower(Case.ref) == text.lower()))
    if ref is not None:
        return SearchResult(ref, [], False)
    if not names or not sees_names(actor.role):
        return SearchResult(None, [], False)
    people = [person.id for person in find_by_name(session, text)]
    cases = list(session.scalars(select(Case).where(Case.person_id.in_(people)).order_by(Case.ref))) if people else []
    data = {"fields": ["full_name", "full_name_native"], "channel": channel, "matches": len(cases)}
    for case in cases:
        audit(session, actor, "identity_search", "case", case.ref, case.id, data)
    if not cases:
        audit(session, actor, "identity_search", "case", None, None, data)
    return SearchResult(None, cases, True)
