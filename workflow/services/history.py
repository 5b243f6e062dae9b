"""The change history of objects outside cases (a catalogue entry, a vocabulary term), read from the audit log.

Reads only. The services that edit these objects record each change as an audit event naming the object
(``object_type``, ``object_id``) with the fields changed and their old and new values; this module hands
those events back newest first, with their actors loaded, for the admin pages.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.models import AuditEvent

HISTORY_LIMIT = 500


def object_history(session: Session, object_type: str, object_ids: Collection[str], *,
                   limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """The audit events of the given objects of one type, newest first (at most ``limit``)."""
    if not object_ids:
        return []
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(object_ids))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
