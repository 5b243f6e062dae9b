"""Withdrawal of consent: pending filings stop, bodies already filed with are to be informed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import Case, ConsentRecord, ProcessInstance, Role, User, utcnow
from workflow.runtime import instances


def withdraw_consent(session: Session, settings: Settings, actor: User, case: Case, reason: str) -> None:
    if actor.role not in (Role.INTAKE, Role.LEGAL, Role.MANAGER):
        raise Forbidden("your role cannot record a withdrawal of consent")
    if not reason.strip():
        raise ValidationFailed("say why consent was withdrawn", errors={"reason": "is required"})
    consent = case.consent or ConsentRecord(case=case)
    session.add(consent)
    if consent.status == "withdrawn":
        raise Conflict(f"consent for {case.ref} was already withdrawn")
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
    consent.status = "withdrawn"
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_reason = reason
    audit(session, actor, "consent_withdrawn", "case", case.ref, case.id, {})
    if instance is None or instance.status != "running":
        return
    instance = instances.lock(session, instance.id)
    loaded = instances.load(session, settings, instance, actor)
    if not instances.waiting_catchers(loaded.workflow, "consent_withdrawn"):
        return
    instances.deliver_message(loaded, "consent_withdrawn", {"by": actor.username})
    instances.save(loaded, action="consent_withdrawn")
