"""The managers' dashboard, a case's timeline and the statistics page: counts computed by the database.

Every figure is a GROUP BY in SQL; Python only adds up groups, never rows. Nothing here reads an identity
field: the person's city is the only person column used, and staff appear by name.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Subquery, and_, cast, distinct, func, select
from sqlalchemy.orm import Session

from workflow.models import (
    DUE_SOON,
    Case,
    Deadline,
    Episode,
    Filing,
    HumanTask,
    Person,
    Response,
    User,
    case_episodes,
    case_incident_types,
)
from workflow.paging import paginate
from workflow.services.users import display_names
from workflow.states import DeadlineState

# Keys of the groups that have no natural value; they are never a body code, a stage, a role or a user id.
INTERNAL = "internal"  # a deadline of no filing: the organisation's own service levels
UNASSIGNED = "unassigned"  # neither the guarded task nor the case names an officer
NO_CASE = "no_case"  # a collective complaint's deadline: it belongs to no case, so it has no stage
NO_ROLE = "no_role"
BOARD_DIMENSIONS = ("body", "officer", "stage", "role")
STATUSES = ("overdue", "due_soon")


# -- the deadline board ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCount:
    """One group of open deadlines. ``key`` is what ``board_deadlines(by=..., key=...)`` filters by."""

    key: str
    label: str  # the officer's name for the officer dimension; the key itself elsewhere (pages translate)
    overdue: int
    due_soon: int


@dataclass(frozen=True)
class DeadlineBoard:
    now: datetime
    overdue: int
    due_soon: int
    by_body: tuple[BoardCount, ...]
    by_officer: tuple[BoardCount, ...]
    by_stage: tuple[BoardCount, ...]
    by_role: tuple[BoardCount, ...]


def _guarded_task_assignees() -> Subquery:
    """The assignee of the ready task each deadline guards, keyed as the deadline can be matched.

    No column links a deadline to the task its timer guards; the inbox row's ``due_at`` is the earliest
    of its guarding timers, in the same instance and lane, which identifies it. Grouped, so a deadline
    matches one row at most and no count is doubled.
    """
    return (select(HumanTask.instance_id, HumanTask.lane, HumanTask.due_at,
                   func.max(HumanTask.assignee_id).label("assignee_id"))
            .where(HumanTask.state == "ready", HumanTask.assignee_id.is_not(None))
            .group_by(HumanTask.instance_id, HumanTask.lane, HumanTask.due_at)
            .subquery("assignees"))


def _joined(query: Select) -> tuple[Select, dict[str, ColumnElement[str]]]:
    """The deadline query joined to its filing, case and guarded task, and each dimension's key as SQL text.

    The board and the lists it links to both go through here, so a count and its list cannot disagree.
    """
    tasks = _guarded_task_assignees()
    query = (query.outerjoin(Filing, Deadline.filing_id == Filing.id).outerjoin(Case, Deadline.case_id == Case.id)
             .outerjoin(tasks, and_(tasks.c.instance_id == Deadline.instance_id,
                                    tasks.c.lane == Deadline.owner_role, tasks.c.due_at == Deadline.due_at)))
    officer = func.coalesce(tasks.c.assignee_id, Case.assigned_officer_id)
    return query, {"body": func.coalesce(Filing.body, INTERNAL),
                   "officer": func.coalesce(cast(officer, String), UNASSIGNED),
                   "stage": func.coalesce(Case.stage, NO_CASE),
                   "role": func.coalesce(Deadline.owner_role, NO_ROLE)}


def _window(now: datetime, status: str | None = None) -> tuple[ColumnElement[bool], ...]:
    """Open deadlines overdue, due within 7 days (``models.DUE_SOON``), or either (None)."""
    if status == "overdue":
        return (Deadline.overdue(now),)
    if status == "due_soon":
        return (Deadline.due_soon(now),)
    if status is None:
        return Deadline.state == DeadlineState.OPEN, Deadline.due_at < now + DUE_SOON
    raise ValueError(f"unknown deadline status {status!r}")


def _board_groups(session: Session, now: datetime) -> dict[str, dict[str, tuple[int, int]]]:
    """dimension -> key -> (overdue, due soon).

    One GROUP BY over all four keys reads the deadlines and joins each table once (four queries, one per
    dimension, took half as long again); its groups, a few hundred at most, are then summed per dimension.
    """
    query, keys = _joined(select(Deadline.id).where(*_window(now)))
    overdue = func.count().filter(Deadline.overdue(now))
    columns = [keys[by] for by in BOARD_DIMENSIONS]
    groups = session.execute(query.with_only_columns(*columns, overdue, func.count() - overdue).group_by(*columns))
    sums: dict[str, dict[str, tuple[int, int]]] = {by: {} for by in BOARD_DIMENSIONS}
    for *group_keys, late, soon in groups:
        for by, key in zip(BOARD_DIMENSIONS, group_keys, strict=True):
            before = sums[by].get(key, (0, 0))
            sums[by][key] = (before[0] + late, before[1] + soon)
    return sums


def _officer_names(session: Session, keys: Iterable[str]) -> dict[str, str]:
    return {str(uid): name for uid, name in display_names(session, {int(k) for k in keys if k != UNASSIGNED}).items()}


def _sorted(counts: Iterable[BoardCount]) -> tuple[BoardCount, ...]:
    # Worst first: most overdue, then most due soon; the key keeps the order stable between reloads.
    return tuple(sorted(counts, key=lambda c: (-c.overdue, -c.due_soon, c.key)))


def deadline_board(session: Session, now: datetime) -> DeadlineBoard:
    """Open deadlines overdue and due within 7 days, by body, officer, stage and owner role.

    Body: the deadline's filing's body, ``INTERNAL`` without a filing. Officer (a user id as text): the
    assignee of the ready task the deadline guards, else the case's assigned officer, else
    ``UNASSIGNED``. Stage: the case's, ``NO_CASE`` for a collective complaint. Each dimension partitions
    the same deadlines, so each sums to the totals.
    """
    groups = _board_groups(session, now)
    names = _officer_names(session, groups["officer"])
    counts = {by: _sorted(BoardCount(k, names.get(k, k) if by == "officer" else k, late, soon)
                          for k, (late, soon) in sums.items())
              for by, sums in groups.items()}
    return DeadlineBoard(now=now, overdue=sum(c.overdue for c in counts["role"]),
                         due_soon=sum(c.due_soon for c in counts["role"]), by_body=counts["body"],
                         by_officer=counts["officer"], by_stage=counts["stage"], by_role=counts["role"])


def board_deadlines(session: Session, now: datetime, status: str, *, by: str | None = None, key: str | None = None,
                    page: int = 1, per_page: int = 100) -> tuple[list[tuple[Deadline, str | None]], int]:
    """The deadlines behind one board count (``status`` overdue or due_soon; ``by``/``key`` a group), with
    their case reference, earliest first, and how many there are."""
    query, keys = _joined(select(Deadline, Case.ref).where(*_window(now, status)))
    if by is not None:
        if by not in keys:
            raise ValueError(f"unknown board dimension {by!r}")
        query = query.where(keys[by] == key)
    rows, total = paginate(session, query.order_by(Deadline.due_at, Deadline.id), page=page, per_page=per_page)
    return [(deadline, ref) for deadline, ref in rows], total


# -- a case's timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """A dated event in the life of a case, from the tables (not the audit log).

    ``kind``: received, task_created, task_completed, task_cancelled, deadline (dated by its due time,
    with its state open, met or missed), filing_submitted, response_received. ``date_only`` entries come
    from date columns and sort at the start of their day (UTC).
    """

    at: datetime
    kind: str
    label: str  # task name, deadline label, filing body, response kind
    state: str | None = None  # deadline or filing state
    body: str | None = None  # the filing's body, for filing tasks, deadlines and responses
    actor: str | None = None  # the staff member who completed a task (username)
    closed_at: datetime | None = None  # when a deadline was met or missed
    date_only: bool = False
    deadline_kind: str | None = None  # a deadline's: with label_params, what names it (deadlines.label_template)
    label_params: dict[str, Any] | None = None


_KIND_ORDER = ("received", "task_created", "filing_submitted", "response_received", "task_completed",
               "task_cancelled", "deadline")


def _day(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


def _received(session: Session, case_id: int) -> list[TimelineEntry]:
    row = session.execute(select(Case.received_on, Case.created_at).where(Case.id == case_id)).one_or_none()
    if row is None:
        return []
    received_on, created_at = row
    if received_on is None:
        return [TimelineEntry(created_at, "received", "received")]
    return [TimelineEntry(_day(received_on), "received", "received", date_only=True)]


def _task_entries(session: Session, case_id: int) -> list[TimelineEntry]:
    rows = session.execute(
        select(HumanTask.name, HumanTask.state, HumanTask.created_at, HumanTask.completed_at, User.username,
               Filing.body)
        .outerjoin(User, HumanTask.completed_by_id == User.id)
        .outerjoin(Filing, HumanTask.filing_id == Filing.id)
        .where(HumanTask.case_id == case_id))
    entries = []
    for name, state, created_at, completed_at, username, body in rows:
        entries.append(TimelineEntry(created_at, "task_created", name, body=body))
        if completed_at is not None and state in ("completed", "cancelled"):
            entries.append(TimelineEntry(completed_at, f"task_{state}", name, body=body, actor=username))
    return entries


def _deadline_entries(session: Session, case_id: int) -> list[TimelineEntry]:
    rows = session.execute(select(Deadline.label, Deadline.state, Deadline.due_at, Deadline.closed_at, Filing.body,
                                  Deadline.kind, Deadline.label_params)
                           .outerjoin(Filing, Deadline.filing_id == Filing.id).where(Deadline.case_id == case_id))
    return [TimelineEntry(due_at, "deadline", label, state=state, body=body, closed_at=closed_at, deadline_kind=kind,
                          label_params=params)
            for label, state, due_at, closed_at, body, kind, params in rows]


def _filing_entries(session: Session, case_id: int) -> list[TimelineEntry]:
    filings = session.execute(select(Filing.body, Filing.state, Filing.submitted_on)
                              .where(Filing.case_id == case_id, Filing.submitted_on.is_not(None)))
    responses = session.execute(select(Response.kind, Response.received_on, Filing.body)
                                .join(Filing, Response.filing_id == Filing.id).where(Filing.case_id == case_id))
    return ([TimelineEntry(_day(on), "filing_submitted", body, state=state, body=body, date_only=True)
             for body, state, on in filings]
            + [TimelineEntry(_day(on), "response_received", kind, body=body, date_only=True)
               for kind, on, body in responses])


def case_timeline(session: Session, case_id: int) -> list[TimelineEntry]:
    """The case's dated events in time order (an unknown case has none)."""
    entries = (_received(session, case_id) + _task_entries(session, case_id) + _deadline_entries(session, case_id)
               + _filing_entries(session, case_id))
    return sorted(entries, key=lambda e: (e.at, _KIND_ORDER.index(e.kind), e.label))


# -- statistics -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    key: str | None  # None: cases without a city or an episode
    count: int
    label: str | None = None  # an episode's title; other keys are codes the pages translate


@dataclass(frozen=True)
class FilingCount:
    body: str
    state: str
    count: int


@dataclass(frozen=True)
class Statistics:
    cases: int
    filings: int
    responses: int
    cases_by_stage: tuple[Count, ...]
    cases_by_episode: tuple[Count, ...]  # a case in two episodes counts in both
    cases_by_city: tuple[Count, ...]
    cases_by_incident_type: tuple[Count, ...]  # a case counts once per type any of its incidents has
    filings_by_body_and_state: tuple[FilingCount, ...]
    responses_by_kind: tuple[Count, ...]

    @property
    def filings_by_body(self) -> tuple[Count, ...]:
        return _totals((f.body, f.count) for f in self.filings_by_body_and_state)

    @property
    def filings_by_state(self) -> tuple[Count, ...]:
        return _totals((f.state, f.count) for f in self.filings_by_body_and_state)


def _totals(pairs: Iterable[tuple[str, int]]) -> tuple[Count, ...]:
    totals: Counter[str] = Counter()
    for key, count in pairs:
        totals[key] += count
    return _by_count(Count(k, n) for k, n in totals.items())


def _by_count(counts: Iterable[Count]) -> tuple[Count, ...]:
    return tuple(sorted(counts, key=lambda c: (-c.count, c.key is None, c.key or "")))


def _counts(session: Session, query: Select) -> tuple[Count, ...]:
    return _by_count(Count(key, int(n)) for key, n in session.execute(query))


def _incident_type_counts(session: Session) -> tuple[Count, ...]:
    # One row per case and type (models.case_incident_types): a count per type reads the primary key alone.
    return _counts(session, select(case_incident_types.c.incident_type, func.count())
                   .group_by(case_incident_types.c.incident_type))


def _episode_counts(session: Session, cases: int) -> tuple[Count, ...]:
    # Counting the links and subtracting the cases that have one reads case_episodes alone; an outer join
    # from every case to the episodes took three times as long.
    links = (select(case_episodes.c.episode_id, func.count().label("n"))
             .group_by(case_episodes.c.episode_id).subquery())
    rows = session.execute(select(Episode.key, Episode.title, links.c.n).join(links, links.c.episode_id == Episode.id))
    with_episode = session.scalar(select(func.count(distinct(case_episodes.c.case_id)))) or 0
    without = [Count(None, cases - with_episode)] if cases > with_episode else []
    return _by_count([*(Count(key, int(n), title) for key, title, n in rows), *without])


def statistics(session: Session) -> Statistics:
    """Cases by stage, episode, city and incident type; filings by body and state; responses by kind."""
    filings = tuple(FilingCount(body, state, int(n)) for body, state, n in session.execute(
        select(Filing.body, Filing.state, func.count()).group_by(Filing.body, Filing.state)
        .order_by(Filing.body, Filing.state)))
    by_kind = _counts(session, select(Response.kind, func.count()).group_by(Response.kind))
    by_stage = _counts(session, select(Case.stage, func.count()).group_by(Case.stage))
    cases = sum(c.count for c in by_stage)
    by_city = _counts(session, select(Person.city, func.count()).select_from(Case)
                      .join(Person, Case.person_id == Person.id).group_by(Person.city))
    return Statistics(cases=cases, filings=sum(f.count for f in filings), responses=sum(c.count for c in by_kind),
                      cases_by_stage=by_stage, cases_by_episode=_episode_counts(session, cases), cases_by_city=by_city,
                      cases_by_incident_type=_incident_type_counts(session), filings_by_body_and_state=filings,
                      responses_by_kind=by_kind)


# -- CSV export -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("table", "key", "label", "count")
# A cell starting with one of these is a formula to a spreadsheet; city and episode titles are typed by staff.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    cell = value or ""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv_rows(stats: Statistics) -> Iterable[tuple[str, str | None, str | None, int]]:
    yield from (("totals", key, None, n)
                for key, n in (("cases", stats.cases), ("filings", stats.filings), ("responses", stats.responses)))
    tables = {"cases_by_stage": stats.cases_by_stage, "cases_by_episode": stats.cases_by_episode,
              "cases_by_city": stats.cases_by_city, "cases_by_incident_type": stats.cases_by_incident_type,
              "filings_by_body": stats.filings_by_body, "filings_by_state": stats.filings_by_state,
              "responses_by_kind": stats.responses_by_kind}
    for table, counts in tables.items():
        yield from ((table, c.key, c.label, c.count) for c in counts)
    yield from (("filings_by_body_and_state", f"{f.body}/{f.state}", None, f.count)
                for f in stats.filings_by_body_and_state)


def statistics_csv(stats: Statistics) -> str:
    """One CSV, ``table,key,label,count``: a row per figure of every table of the statistics page.

    ``key`` is the code (stage, body, kind, city, episode key; ``body/state`` for the body-by-state
    table; empty for cases without a city or episode), ``label`` the episode's title where there is one.
    Counts only, so no personal data; text that a spreadsheet would run as a formula is prefixed with '.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows((table, _cell(key), _cell(label), count) for table, key, label, count in _csv_rows(stats))
    return out.getvalue()
