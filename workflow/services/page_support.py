"""Read helpers for the server-rendered pages: inbox rows, case-list columns, history, task forms, alerts.

Reads only; nothing here writes except through the services it names. Kept apart from ``queries`` so
the pages can batch exactly the columns they show (a case list never loads identity fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workflow import vocab
from workflow.admissibility import Choices, Finding
from workflow.bodies import all_bodies, body_name
from workflow.models import (
    ApiToken,
    AuditEvent,
    Case,
    Episode,
    Filing,
    HumanTask,
    ProcessInstance,
    Review,
    Role,
    User,
    utcnow,
)
from workflow.runtime.specs import form_schema
from workflow.services import queries, review
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
    ref: str
    overdue: bool
    body: str | None  # the filing's body for tasks of a filing subprocess


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at < now


def _bodies(session: Session, filing_ids: set[int]) -> dict[int, str]:
    if not filing_ids:
        return {}
    rows = session.execute(select(Filing.id, Filing.body).where(Filing.id.in_(filing_ids)))
    return {filing_id: body for filing_id, body in rows}


def inbox_rows(session: Session, role: str, *, now: datetime | None = None) -> list[InboxRow]:
    """The role's ready tasks (overdue first, as ``queries.inbox`` orders them) with what a row shows."""
    now = now or utcnow()
    rows = queries.inbox(session, role)
    bodies = _bodies(session, {t.filing_id for t, _ in rows if t.filing_id})
    return [InboxRow(task, ref, is_overdue(task.due_at, now), bodies.get(task.filing_id or 0)) for task, ref in rows]


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


def task_row(session: Session, task_id: str) -> tuple[HumanTask, str | None] | None:
    """A task of the inbox in any state, with its case reference (for redirects and messages)."""
    row = session.execute(select(HumanTask, Case.ref).outerjoin(Case, HumanTask.case_id == Case.id)
                          .where(HumanTask.id == task_id)).first()
    return None if row is None else (row[0], row[1])


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
