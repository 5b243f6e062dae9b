"""Read helpers for the server-rendered pages: inbox rows, case-list columns, history, task forms, alerts,
filing versions and collective complaints.

Reads only; nothing here writes except through the services it names. Kept apart from ``queries`` so
the pages can batch exactly the columns they show (a case list never loads identity fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from workflow import vocab
from workflow.admissibility import Choices, Finding
from workflow.bodies import all_bodies, body_name
from workflow.models import (
    ApiToken,
    AuditEvent,
    Case,
    CollectiveComplaint,
    ConsentRecord,
    Document,
    Episode,
    Filing,
    HumanTask,
    Person,
    ProcessInstance,
    Review,
    Role,
    User,
    collective_cases,
    utcnow,
)
from workflow.runtime.specs import form_schema
from workflow.services import review
from workflow.services.tasks import did_last, four_eyes_partner

# Reads are audited but are not events in the life of a case: the timeline leaves them out.
HISTORY_HIDDEN = frozenset({"identity_read"})
HISTORY_LIMIT = 300
ALERT_DAYS = 30
# Cases whose process has ended: an alert about them needs nobody any more.
ENDED_STAGES = ("approved", "closed", "rejected", "withdrawn")


@dataclass(frozen=True)
class InboxRow:
    task: HumanTask
    ref: str | None  # the case; None for a collective complaint's task
    overdue: bool
    body: str | None  # the filing's body for tasks of a filing subprocess
    collective_id: int | None = None  # a collective complaint's task: its page, named by its title
    title: str | None = None


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now


def inbox_rows(session: Session, role: str, *, now: datetime | None = None) -> list[InboxRow]:
    """The role's ready tasks, overdue first, then by due date, then oldest (the order of ``queries.inbox``).

    Unlike ``queries.inbox`` it keeps the tasks of collective complaints, which belong to no case: a row
    names either a case or a complaint.
    """
    now = now or utcnow()
    not_overdue = or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now)
    rows = session.execute(
        select(HumanTask, Case.ref, Filing.body, CollectiveComplaint.id, CollectiveComplaint.title)
        .outerjoin(Case, HumanTask.case_id == Case.id)
        .outerjoin(Filing, HumanTask.filing_id == Filing.id)
        .outerjoin(CollectiveComplaint, Filing.collective_id == CollectiveComplaint.id)
        .where(HumanTask.state == "ready", HumanTask.lane == role,
               or_(Case.id.is_not(None), CollectiveComplaint.id.is_not(None)))
        .order_by(not_overdue, HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).all()
    return [InboxRow(task, ref, is_overdue(task.due_at, now), body, collective_id, title)
            for task, ref, body, collective_id, title in rows]


def episode_choices(session: Session) -> list[tuple[str, str]]:
    return [(key, title) for key, title in session.execute(select(Episode.key, Episode.title).order_by(Episode.key))]


def case_id_of(session: Session, ref: str) -> int | None:
    return session.scalar(select(Case.id).where(Case.ref == ref))


def case_history(session: Session, case_id: int, *, limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """The case's audit events, newest first, with their actors loaded (reads left out)."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action.not_in(HISTORY_HIDDEN))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name, User.username).where(User.id.in_(ids)))
    return {uid: full_name or username for uid, full_name, username in rows}


@dataclass(frozen=True)
class TaskHome:
    """A task of the inbox in any state, and the page it belongs to: its case's or its collective complaint's."""

    task: HumanTask
    ref: str | None
    collective_id: int | None


def task_row(session: Session, task_id: str) -> TaskHome | None:
    row = session.execute(select(HumanTask, Case.ref, Filing.collective_id)
                          .outerjoin(Case, HumanTask.case_id == Case.id)
                          .outerjoin(Filing, HumanTask.filing_id == Filing.id)
                          .where(HumanTask.id == task_id)).first()
    return None if row is None else TaskHome(row[0], row[1], row[2])


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    assert instance is not None
    return instance


def task_schema(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """The JSON Schema of the task's form, as deployed with its instance's definition version.

    Properties bound to a vocabulary (``x-vocabulary``) get the active keys as their ``enum``, exactly as
    the service validates them, so the page offers what will be accepted.
    """
    if not task.form:
        return None
    return vocab.fill_enums(session, form_schema(_instance(session, task.instance_id).definition, task.form))


@dataclass(frozen=True)
class DataLabels:
    """Labels that are data rather than code, in one language: key -> label (retired and inactive included,
    so that old records still show words)."""

    body: dict[str, str]
    incident_type: dict[str, str]
    mandate: dict[str, str]
    legal_ground: dict[str, str]
    udhr: dict[str, str]  # legal ground -> the UDHR articles that carry the same right


def data_labels(session: Session, language: str) -> DataLabels:
    grounds = vocab.terms(session, "legal_ground", include_retired=True)
    return DataLabels(
        body={b.code: body_name(b, language) for b in all_bodies(session, include_inactive=True)},
        incident_type=vocab.labels(session, "incident_type", language),
        mandate=vocab.labels(session, "mandate", language),
        legal_ground={t.key: vocab.label_of(t, language) for t in grounds},
        udhr={t.key: str(t.extra["udhr"]) for t in grounds if t.extra.get("udhr")},
    )


# -- legal review ----------------------------------------------------------------------------------------

def admissibility_now(session: Session, case: Case, under: Review | None = None) -> dict[str, list[Finding]]:
    """Every active body -> its findings today; ``under`` a review, with that review's choices (urgency, kind of
    communication, WGAD categories), which is how the manager's approval checks again."""
    if under is None:
        return review.check_case(session, case)
    choices = Choices(urgent=under.urgent, communication_type=under.communication_type,
                      wgad_categories=tuple(under.wgad_categories))
    return review.check_case(session, case, choices=choices)


# -- alerts for managers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    ref: str
    task: str  # the bpmn id of the step the alert is about
    reason: str  # late | urgent
    at: datetime


def manager_alerts(session: Session, *, now: datetime | None = None, days: int = ALERT_DAYS) -> list[Alert]:
    """Escalations addressed to managers in the last ``days`` days, newest first, for cases still open."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.data, Case.ref).join(Case, AuditEvent.case_id == Case.id)
        .where(AuditEvent.action == "escalated", AuditEvent.at >= since, Case.stage.not_in(ENDED_STAGES),
               AuditEvent.data["role"].as_string() == Role.MANAGER.value)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    # Escalations written before the urgent track existed carry no reason: they were all about lateness.
    return [Alert(ref, str(data.get("task", "")), str(data.get("reason") or "late"), at) for at, data, ref in rows]


def four_eyes_blocks(session: Session, task: HumanTask, user: User) -> str | None:
    """The bpmn id of the step ``user`` did that bars them from ``task`` (four eyes), or None.

    The same rule the service enforces (``tasks.four_eyes_partner``/``did_last``); the page only uses
    it to avoid offering a form that would be refused.
    """
    other = four_eyes_partner(_instance(session, task.instance_id).definition, task.bpmn_id)
    return other if other and did_last(session, task.instance_id, other, user) else None


def active_token_counts(session: Session) -> dict[int, int]:
    """user id -> API tokens not revoked (the admin page shows counts, never tokens or hashes)."""
    rows = session.execute(select(ApiToken.user_id, func.count()).where(ApiToken.revoked_at.is_(None))
                           .group_by(ApiToken.user_id))
    return {user_id: count for user_id, count in rows}


# -- filings and collective complaints ---------------------------------------------------------------------

def filing_versions(session: Session, filing_ids: list[int]) -> dict[int, list[Document]]:
    """filing id -> its generated documents, oldest version first."""
    found: dict[int, list[Document]] = {filing_id: [] for filing_id in filing_ids}
    if filing_ids:
        query = select(Document).where(Document.filing_id.in_(filing_ids), Document.kind == "filing")
        for document in session.scalars(query.order_by(Document.filing_id, Document.version)):
            found[document.filing_id or 0].append(document)
    return found


@dataclass(frozen=True)
class EligibleCase:
    ref: str
    city: str | None


def eligible_cases(session: Session) -> list[EligibleCase]:
    """Cases a collective complaint may include, as ``collective.create_collective`` checks them: consent
    verified (not withdrawn) and a review a manager approved."""
    approved = exists().where(Review.case_id == Case.id, Review.approval == "approve")
    rows = session.execute(
        select(Case.ref, Person.city).join(ConsentRecord, ConsentRecord.case_id == Case.id)
        .join(Person, Case.person_id == Person.id)
        .where(ConsentRecord.status == "verified", approved).order_by(Case.ref))
    return [EligibleCase(ref, city) for ref, city in rows]


@dataclass(frozen=True)
class CollectiveRow:
    id: int
    title: str
    body: str
    state: str | None  # its filing's
    cases: int
    created_at: datetime


def collective_rows(session: Session) -> list[CollectiveRow]:
    """Every collective complaint, newest first, with its filing's state and how many cases it includes."""
    counts = (select(collective_cases.c.collective_id, func.count().label("cases"))
              .group_by(collective_cases.c.collective_id).subquery())
    rows = session.execute(
        select(CollectiveComplaint.id, CollectiveComplaint.title, CollectiveComplaint.body, Filing.state,
               func.coalesce(counts.c.cases, 0), CollectiveComplaint.created_at)
        .outerjoin(Filing, Filing.collective_id == CollectiveComplaint.id)
        .outerjoin(counts, counts.c.collective_id == CollectiveComplaint.id)
        .order_by(CollectiveComplaint.created_at.desc(), CollectiveComplaint.id.desc()))
    return [CollectiveRow(*row) for row in rows]


def city_count(session: Session, collective: CollectiveComplaint) -> int:
    """How many cities the complaint's cases come from (the city is stored in clear; names are not)."""
    return session.scalar(
        select(func.count(func.distinct(Person.city))).select_from(collective_cases)
        .join(Case, collective_cases.c.case_id == Case.id).join(Person, Case.person_id == Person.id)
        .where(collective_cases.c.collective_id == collective.id, Person.city.is_not(None))) or 0


def collective_tasks(session: Session, collective: CollectiveComplaint) -> list[HumanTask]:
    if collective.instance_id is None:
        return []
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == collective.instance_id,
                                                        HumanTask.state == "ready")
                                .order_by(HumanTask.created_at)))


def collective_history(session: Session, collective: CollectiveComplaint, *,
                       limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """What happened to the complaint, newest first: its process (tasks, timers), its filing (versions, states,
    responses) and the downloads of its documents. A collective belongs to no case, so these are found by object."""
    filing = collective.filing
    mine = []
    if collective.instance_id is not None:
        mine.append(and_(AuditEvent.object_type == "process_instance",
                         AuditEvent.object_id == str(collective.instance_id)))
    if filing is not None:
        document_ids = [str(i) for i in session.scalars(select(Document.id).where(Document.filing_id == filing.id))]
        mine += [and_(AuditEvent.object_type == "filing", AuditEvent.object_id == str(filing.id)),
                 and_(AuditEvent.object_type == "document", AuditEvent.object_id.in_(document_ids))]
    if not mine:
        return []
    return list(session.scalars(
        select(AuditEvent).where(or_(*mine), AuditEvent.action.not_in(HISTORY_HIDDEN))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
