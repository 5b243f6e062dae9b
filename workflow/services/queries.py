"""Read queries shared by the pages, the API and the CLI: case lists, inboxes, deadlines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from workflow.models import Case, Deadline, Episode, HumanTask, Incident, Person, case_episodes, utcnow

MAX_PER_PAGE = 500
DUE_SOON = timedelta(days=7)


@dataclass(frozen=True)
class CaseFilters:
    stage: str | None = None
    episode: str | None = None
    city: str | None = None
    incident_type: str | None = None
    overdue: bool = False
    q: str | None = None  # search by reference (prefix or substring, case-insensitive)


def _overdue_clause(now: datetime):  # type: ignore[no-untyped-def]
    return exists().where(Deadline.case_id == Case.id, Deadline.state == "open", Deadline.due_at < now)


def list_cases(session: Session, filters: CaseFilters, *, page: int = 1, per_page: int = 50,
               now: datetime | None = None) -> tuple[list[Case], int]:
    """A page of cases matching the filters (newest reference last), and the total count."""
    now = now or utcnow()
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    query = select(Case)
    if filters.stage:
        query = query.where(Case.stage == filters.stage)
    if filters.episode:
        query = query.where(exists().where(case_episodes.c.case_id == Case.id,
                                           case_episodes.c.episode_id == Episode.id, Episode.key == filters.episode))
    if filters.city:
        query = query.where(Case.person_id.in_(select(Person.id).where(Person.city == filters.city)))
    if filters.incident_type:
        # Incident types are a JSON list; match the quoted key inside its text form on both databases.
        query = query.where(exists().where(Incident.case_id == Case.id,
                                           cast(Incident.types, String).contains(f'"{filters.incident_type}"')))
    if filters.overdue:
        query = query.where(_overdue_clause(now))
    if filters.q:
        query = query.where(func.lower(Case.ref).contains(filters.q.strip().lower()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Case.ref).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def overdue_case_ids(session: Session, case_ids: list[int], now: datetime | None = None) -> set[int]:
    if not case_ids:
        return set()
    now = now or utcnow()
    return set(session.scalars(select(Deadline.case_id).where(
        Deadline.case_id.in_(case_ids), Deadline.state == "open", Deadline.due_at < now)))


def inbox(session: Session, role: str) -> list[tuple[HumanTask, str]]:
    """Ready tasks for a role with their case reference: overdue first, then by due date, then oldest."""
    now = utcnow()
    overdue_first = or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now)
    rows = session.execute(
        select(HumanTask, Case.ref).join(Case, HumanTask.case_id == Case.id)
        .where(HumanTask.state == "ready", HumanTask.lane == role)
        .order_by(overdue_first, HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    ).all()
    return [(task, ref) for task, ref in rows]


def deadlines(session: Session, status: str, *, now: datetime | None = None, page: int = 1,
              per_page: int = 100) -> tuple[list[tuple[Deadline, str | None]], int]:
    """Open deadlines: all ('open'), due within 7 days ('due_soon') or past due ('overdue')."""
    now = now or utcnow()
    query = select(Deadline, Case.ref).outerjoin(Case, Deadline.case_id == Case.id).where(Deadline.state == "open")
    if status == "overdue":
        query = query.where(Deadline.due_at < now)
    elif status == "due_soon":
        query = query.where(Deadline.due_at >= now, Deadline.due_at < now + DUE_SOON)
    elif status != "open":
        raise ValueError(f"unknown deadline status {status!r}")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    rows = session.execute(query.order_by(Deadline.due_at).offset((max(page, 1) - 1) * per_page).limit(per_page))
    return [(d, ref) for d, ref in rows.all()], total


@dataclass(frozen=True)
class CaseRow:
    """The list columns of one case: never an identity field (the city is the only person field)."""

    case: Case
    city: str | None
    overdue: bool
    tasks: tuple[HumanTask, ...]


def case_rows(session: Session, cases: list[Case], *, now: datetime | None = None) -> list[CaseRow]:
    """The list columns of a page of cases in three queries: cities, overdue cases, ready tasks."""
    if not cases:
        return []
    now = now or utcnow()
    ids = [c.id for c in cases]
    person_ids = {c.person_id for c in cases}
    city_of = dict(session.execute(select(Person.id, Person.city).where(Person.id.in_(person_ids))).all())
    overdue = overdue_case_ids(session, ids, now)
    tasks: dict[int, list[HumanTask]] = defaultdict(list)
    for task in session.scalars(select(HumanTask).where(HumanTask.case_id.in_(ids), HumanTask.state == "ready")
                                .order_by(HumanTask.created_at)):
        tasks[task.case_id or 0].append(task)
    return [CaseRow(c, city_of.get(c.person_id), c.id in overdue, tuple(tasks[c.id])) for c in cases]


def cities(session: Session) -> list[str]:
    return sorted(c for c in session.scalars(select(Person.city).distinct()) if c)


def find_by_name(session: Session, name: str) -> list[Person]:
    """Persons whose full name or native-script name is exactly ``name`` (ignoring case, Unicode form
    and spacing), through the keyed blind indexes: the names themselves are encrypted and not searchable.
    Matched under every key in the ring, so rows a running key rotation has not reached are found too."""
    from workflow import crypto

    digests = crypto.blind_indexes(name)
    if not digests:
        return []
    query = select(Person).where(or_(Person.full_name_index.in_(digests), Person.full_name_native_index.in_(digests)))
    return list(session.scalars(query.order_by(Person.id)))
