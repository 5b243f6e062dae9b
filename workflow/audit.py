"""The append-only audit log: who did or read what, when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflow.models import AuditEvent, User


def audit(session: Session, actor: User | None, action: str, object_type: str, object_id: object,
          case_id: int | None, data: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(actor_id=actor.id if actor else None, action=action, object_type=object_type,
                       object_id=None if object_id is None else str(object_id), case_id=case_id,
                       data=data or {})
    session.add(event)
    return event
