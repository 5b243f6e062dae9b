"""Read helpers for the server-rendered pages: inbox rows, case-list columns, history, task forms.

Reads only; nothing here writes except through the services it names. Kept apart from ``queries`` so
the pages can batch exactly the columns they show (a case list never loads identity fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workflow.models import (
    ApiToken,
    AuditEvent,
    Case,
    Episode,
    Filing,
    HumanTask,
    ProcessInstance,
    User,
    utcnow,
)
from workflow.runtime.specs import form_schema
from workflow.services import queries
from workflow.services.tasks import did_last, four_eyes_partner

# Reads are audited but are not events in the life of a case: the timeline leaves them out.
HISTORY_HIDDEN = frozenset({"identity_read"})
HISTORY_LIMIT = 300


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
    """The JSON Schema of the task's form, as deployed with its instance's definition version."""
    if not task.form:
        return None
    return form_schema(_instance(session, task.instance_id).definition, task.form)


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
