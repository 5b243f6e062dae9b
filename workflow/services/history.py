"""What happened, read from the audit log: a case's history, a collective complaint's, and the change history
of objects outside cases (a catalogue entry, a vocabulary term).

Reads only. Events come back newest first, with their actors loaded. Reads of identity fields are audited too
but are not events in the life of a case: histories leave them out.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from workflow.models import AuditEvent, CollectiveComplaint, Document, Review

HISTORY_HIDDEN = frozenset({"identity_read", "facts_read"})
HISTORY_LIMIT = 300
CHANGE_HISTORY_LIMIT = 500


def _newest_first(session: Session, condition: object, limit: int) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(condition, AuditEvent.action.not_in(HISTORY_HIDDEN))  # type: ignore[arg-type]
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


def case_history(session: Session, case_id: int, *, limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """The case's audit events (reads left out)."""
    return _newest_first(session, AuditEvent.case_id == case_id, limit)


def collective_history(session: Session, collective: CollectiveComplaint, *,
                       limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """What happened to the complaint: its process (tasks, timers), its filing (versions, states, responses) and
    the downloads of its documents. A collective belongs to no case, so these are found by object."""
    filing = collective.filing
    mine = [and_(AuditEvent.object_type == "collective", AuditEvent.object_id == str(collective.id))]
    if collective.instance_id is not None:
        mine.append(and_(AuditEvent.object_type == "process_instance",
                         AuditEvent.object_id == str(collective.instance_id)))
    if filing is not None:
        document_ids = [str(i) for i in session.scalars(select(Document.id).where(Document.filing_id == filing.id))]
        mine += [and_(AuditEvent.object_type == "filing", AuditEvent.object_id == str(filing.id)),
                 and_(AuditEvent.object_type == "document", AuditEvent.object_id.in_(document_ids))]
    return _newest_first(session, or_(*mine), limit) if mine else []


def object_history(session: Session, object_type: str, object_ids: Collection[str], *,
                   limit: int = CHANGE_HISTORY_LIMIT) -> list[AuditEvent]:
    """The audit events of the given objects of one type (the services that edit them record each change with
    the fields changed and their old and new values)."""
    if not object_ids:
        return []
    return _newest_first(session, and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(object_ids)),
                         limit)


def review_reasons(session: Session, events: Collection[AuditEvent]) -> dict[int, str]:
    """audit event id -> the reason typed with a review's return or rejection (the review's notes, the approval's
    notes). The audit log keeps only the review's id (workflow/audit.py: never values); the text stays with
    the review."""
    wanted = {e.id: e.data.get("review_id") for e in events if e.action == "task_completed"
              and e.data.get("task") in ("legal_review", "approve_review") and isinstance(e.data.get("review_id"), int)}
    if not wanted:
        return {}
    reviews = {r.id: r for r in session.scalars(select(Review).where(Review.id.in_(set(wanted.values()))))}
    reasons = {}
    for event in events:
        review = reviews.get(wanted.get(event.id))  # type: ignore[arg-type]
        if review is not None:
            reasons[event.id] = review.approval_notes if event.data.get("task") == "approve_review" else review.notes
    return reasons
