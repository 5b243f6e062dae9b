"""Deadlines that no BPMN timer keeps: legal limits (``rule``) and what a body asked of us (``response``).

Timer deadlines (``bpmn_timer``) are rewritten by ``instances.save`` whenever their instance is saved,
and the process closes them. The other two kinds are kept here:

- The HRC time bar: the last day an HRC communication is admissible, N years after domestic remedies were
  exhausted (N from the catalogue's ``un_hrc`` entry when the date is recorded; the anniversary is the last
  admissible day, as in ``admissibility``). One per case, replaced whenever ``review.update_legal_facts``
  changes the exhaustion date. The worker closes it (``settle``): met once an HRC filing of the case was
  submitted by that day, missed once the day has passed without one.
- A body's request for information: our reply is due within a window (``services/responses.py``). It is
  closed by hand once answered (``close_deadline``), or when the body's next response shows that the
  exchange has moved on.

Who answers for a deadline: its ``owner_role``; managers also answer for every overdue one (``owned_by``).
The digest and the calendar feed show the same deadlines through ``owned_by`` and ``items``, and every page,
mail and calendar names a deadline through ``label_template`` (translated there, in the reader's language).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from workflow.admissibility import add_years, exhaustion, final_remedy_on
from workflow.audit import audit
from workflow.bodies import get_body
from workflow.errors import Conflict, Forbidden, NotFound
from workflow.models import AuditEvent, Case, CollectiveComplaint, Deadline, Filing, User, past_due, utcnow
from workflow.paging import paginate
from workflow.problems import N_
from workflow.roles import DEADLINE_CLOSERS, Role
from workflow.states import ENDED_STAGES, DeadlineState

TIMER, RULE, RESPONSE = "bpmn_timer", "rule", "response"
TIME_BAR = "time_bar"
RFI = "request_for_information"  # a body asked us something: the reply is our deadline
HRC = "un_hrc"
DEFAULT_TIME_BAR_YEARS = 5  # what admissibility's time_bar rule assumes when the catalogue gives no figure
# The anniversary is still admissible: the clock runs out at the end of that day (UTC, like every clock here).
END_OF_DAY = time(23, 59, 59)

# A timer deadline's label is its BPMN timer event's name: `make i18n` extracts those from bpmn/*.bpmn
# (workflow/babel_extract.py), so the catalog translates them like the labels below.
RFI_LABEL = N_("Reply to the request for information")
TIME_BAR_LABEL = N_("HRC time bar (%(years)s years after exhaustion)")
# Labels made from a template: the template, by the deadline's kind (its parameters are on the row).
LABEL_TEMPLATES = {TIME_BAR: TIME_BAR_LABEL}


def label_template(kind: str | None, label: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """What to translate to name a deadline: the template and its parameters (the stored label is English)."""
    template = LABEL_TEMPLATES.get(kind or "")
    return (template, dict(params)) if template is not None and params else (label, {})


@dataclass(frozen=True)
class Item:
    """A deadline as the digest and the calendar show it: a case or filing reference, never a name."""

    id: int
    subject: str
    label: str
    due_at: datetime
    state: str
    closed_at: datetime | None
    overdue: bool = False  # when it was read
    kind: str | None = None
    label_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label_template(self) -> tuple[str, dict[str, Any]]:
        return label_template(self.kind, self.label, self.label_params)


# -- the HRC time bar ----------------------------------------------------------------------------------------

def sync_time_bar(session: Session, case: Case) -> Deadline | None:
    """Replace the case's time bar after its exhaustion date changed (``review.update_legal_facts``; whatever
    adds, changes or removes a remedy step must call it too).

    Once an HRC filing of the case was submitted the clock has stopped: a later correction of the date
    no longer moves it.
    """
    if _hrc_submitted_on(session, case.id) is not None:
        return None
    # Open or lapsed, the old rows were computed from a date that is no longer the case's.
    for row in session.scalars(_time_bars().where(Deadline.case_id == case.id)):
        session.delete(row)
    # The same date the time-bar rule reads: the legal facts' own, else the latest final remedy step.
    done = exhaustion(case.legal_facts.remedies_exhausted_on if case.legal_facts else None,
                      final_remedy_on(case.remedy_steps))
    exhausted = done.on if done is not None else None
    years = _time_bar_years(session) if exhausted else None
    row = None
    if exhausted is not None and years is not None:
        row = Deadline(case_id=case.id, source=RULE, kind=TIME_BAR, label=TIME_BAR_LABEL % {"years": years},
                       label_params={"years": years}, owner_role=Role.LEGAL.value, state=DeadlineState.OPEN,
                       due_at=datetime.combine(add_years(exhausted, years), END_OF_DAY, tzinfo=UTC))
        session.add(row)
    session.flush()
    return row


def settle(session: Session, now: datetime) -> int:
    """Close the time bars whose clock stopped: met by an HRC submission in time, missed once lapsed.

    Run by the worker on every loop; rows another worker holds are skipped, as in the timer sweep.
    """
    submitted_on = (select(func.min(Filing.submitted_on))
                    .where(Filing.case_id == Deadline.case_id, Filing.body == HRC).scalar_subquery())
    rows = session.execute(
        select(Deadline, submitted_on)
        .where(Deadline.source == RULE, Deadline.kind == TIME_BAR, Deadline.state == DeadlineState.OPEN,
               or_(past_due(Deadline.due_at, now), submitted_on.is_not(None)))
        .order_by(Deadline.id)
        .with_for_update(of=Deadline, skip_locked=True)
    ).all()
    for row, on in rows:
        row.state = DeadlineState.MET if on is not None and on <= row.due_at.date() else DeadlineState.MISSED
        row.closed_at = now
    session.flush()
    return len(rows)


def _time_bars() -> Select[tuple[Deadline]]:
    return select(Deadline).where(Deadline.source == RULE, Deadline.kind == TIME_BAR)


def _time_bar_years(session: Session) -> int | None:
    """Years after exhaustion from the catalogue's HRC entry; None when the entry applies no time bar."""
    params = get_body(session, HRC).rules.get(TIME_BAR)
    return None if params is None else int(params.get("years_after_exhaustion", DEFAULT_TIME_BAR_YEARS))


def _hrc_submitted_on(session: Session, case_id: int) -> date | None:
    return session.scalar(select(func.min(Filing.submitted_on)).where(Filing.case_id == case_id, Filing.body == HRC))


# -- what a body asked of us ---------------------------------------------------------------------------------

def open_response_deadline(session: Session, filing: Filing, *, instance_id: int | None, kind: str, label: str,
                           due_at: datetime) -> Deadline:
    row = Deadline(instance_id=instance_id, case_id=filing.case_id, filing_id=filing.id, source=RESPONSE, kind=kind,
                   label=label, owner_role=Role.LEGAL.value, due_at=due_at, state=DeadlineState.OPEN)
    session.add(row)
    session.flush()
    return row


def close_response_deadlines(session: Session, filing_id: int, now: datetime) -> None:
    """The body answered again: whatever it had asked of us before is behind us."""
    for row in session.scalars(select(Deadline).where(Deadline.filing_id == filing_id, Deadline.source == RESPONSE,
                                                      Deadline.state == DeadlineState.OPEN)):
        _close(row, now)


def close_deadline(session: Session, actor: User, deadline_id: int, now: datetime | None = None) -> Deadline:
    """Mark a response deadline done, e.g. the information a body asked for was sent."""
    if actor.role not in DEADLINE_CLOSERS:
        raise Forbidden("only legal officers and managers close deadlines")
    row = session.scalar(select(Deadline).where(Deadline.id == deadline_id).with_for_update())
    if row is None:
        raise NotFound(f"no deadline {deadline_id}")
    if row.source != RESPONSE:
        raise Conflict(f"deadline {deadline_id} is kept by its {'process' if row.source == TIMER else 'rule'} "
                       "and closes by itself")
    if row.state != DeadlineState.OPEN:
        raise Conflict(f"deadline {deadline_id} is already closed ({row.state})")
    _close(row, now or utcnow())
    audit(session, actor, "deadline_closed", "deadline", row.id, row.case_id,
          {"kind": row.kind, "filing_id": row.filing_id, "state": row.state})
    session.flush()
    return row


def _close(row: Deadline, now: datetime) -> None:
    row.state = DeadlineState.MISSED if row.overdue(now) else DeadlineState.MET
    row.closed_at = now


# -- who sees what -------------------------------------------------------------------------------------------

def owned_by(role: str, now: datetime) -> ColumnElement[bool]:
    """The deadlines a role answers for; managers also answer for every one past its due time (still open or
    missed), whoever owns it."""
    mine = Deadline.owner_role == role
    return or_(mine, past_due(Deadline.due_at, now)) if role == Role.MANAGER else mine


def open_items(session: Session, role: str, now: datetime) -> list[Item]:
    return items(session, now, and_(Deadline.state == DeadlineState.OPEN, owned_by(role, now)))


def items(session: Session, now: datetime, condition: ColumnElement[bool]) -> list[Item]:
    """Deadlines matching ``condition``, soonest first, each with the reference it belongs to."""
    rows = session.execute(
        select(Deadline.id, Deadline.label, Deadline.due_at, Deadline.state, Deadline.closed_at,
               Deadline.overdue(now), Deadline.kind,
               Deadline.label_params, Deadline.instance_id, Case.ref, Filing.body,
               func.coalesce(Filing.collective_id, CollectiveComplaint.id))
        .outerjoin(Case, Case.id == Deadline.case_id)
        .outerjoin(Filing, Filing.id == Deadline.filing_id)
        .outerjoin(CollectiveComplaint, CollectiveComplaint.instance_id == Deadline.instance_id)
        .where(condition)
        .order_by(Deadline.due_at, Deadline.id))
    return [Item(id=id_, subject=_subject(ref, body, collective_id, instance_id), label=label, due_at=due_at,
                 state=state, closed_at=closed_at, overdue=bool(overdue), kind=kind, label_params=params or {})
            for id_, label, due_at, state, closed_at, overdue, kind, params, instance_id, ref, body, collective_id
            in rows]


def _subject(ref: str | None, body: str | None, collective_id: int | None, instance_id: int | None) -> str:
    # The collective complaint's own reference, as its filing document prints it (COL-001).
    base = ref or (f"COL-{collective_id:03d}" if collective_id else f"process {instance_id}")
    return f"{base} ({body})" if body else base


def open_reply_deadlines(session: Session, case_id: int) -> list[Deadline]:
    """The case's open deadlines for replying to a body's request for information, soonest first."""
    return list(session.scalars(select(Deadline).where(
        Deadline.case_id == case_id, Deadline.source == RESPONSE, Deadline.kind == RFI,
        Deadline.state == DeadlineState.OPEN).order_by(Deadline.due_at)))


# -- lists ---------------------------------------------------------------------------------------------------

STATUSES = ("open", "due_soon", "overdue")


@dataclass(frozen=True)
class DeadlineRow:
    """A deadline in a list, with its case's reference and whether it was overdue when read."""

    deadline: Deadline
    case: str | None
    overdue: bool

    @property
    def manager_alerted(self) -> bool:
        return self.deadline.escalated_at is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.deadline, name)


def deadline_list(session: Session, status: str, *, now: datetime | None = None, page: int = 1,
                  per_page: int = 100) -> tuple[list[DeadlineRow], int]:
    """Open deadlines with their case reference, earliest first: all (``open``), due within a week (``due_soon``)
    or past due (``overdue``); and how many there are."""
    now = now or utcnow()
    query = select(Deadline, Case.ref).outerjoin(Case, Deadline.case_id == Case.id)
    if status == "overdue":
        query = query.where(Deadline.overdue(now))
    elif status == "due_soon":
        query = query.where(Deadline.due_soon(now))
    elif status == "open":
        query = query.where(Deadline.state == DeadlineState.OPEN)
    else:
        raise ValueError(f"unknown deadline status {status!r}")
    rows, total = paginate(session, query.order_by(Deadline.due_at, Deadline.id), page=page, per_page=per_page)
    return [DeadlineRow(d, ref, bool(d.overdue(now))) for d, ref in rows], total


# -- alerts for managers -------------------------------------------------------------------------------------

ALERT_DAYS = 30


@dataclass(frozen=True)
class Alert:
    ref: str
    task: str  # the bpmn id of the step the alert is about
    reason: str  # late | urgent
    at: datetime


def manager_alerts(session: Session, *, now: datetime | None = None, days: int = ALERT_DAYS) -> list[Alert]:
    """Escalations addressed to managers in the last ``days`` days, newest first, for cases still open: the
    urgent track and missed service levels (``escalate`` in services/operations.py)."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.data, Case.ref).join(Case, AuditEvent.case_id == Case.id)
        .where(AuditEvent.action == "escalated", AuditEvent.at >= since, Case.stage.not_in(ENDED_STAGES),
               AuditEvent.data["role"].as_string() == Role.MANAGER.value)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    # Escalations written before the urgent track existed carry no reason: they were all about lateness.
    return [Alert(ref, str(data.get("task", "")), str(data.get("reason") or "late"), at) for at, data, ref in rows]
