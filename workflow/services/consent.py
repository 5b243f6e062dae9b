"""Consent: what the complainant allows (audited changes), withdrawal (pending filings stop, bodies already
filed with are to be informed), and the pre-filled forms the complainant signs (audited identity reads)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.consent_forms import FORMS, LANGUAGES, ConsentFormData
from workflow.audit import audit
from workflow.bodies import CODES
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


# -- what the complainant allows -------------------------------------------------------------------------

PERMISSION_FLAGS = ("share_name_with_government", "publish_name", "initials_only", "anonymous")
OVERRIDE_VALUES = ("allow", "deny")
RISK_NOTE_MAX = 5000
CONSENT_EDITORS = (Role.INTAKE, Role.LEGAL)


def _validate_permissions(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for flag in PERMISSION_FLAGS:
        if not isinstance(values[flag], bool):
            errors[flag] = "must be true or false"
    overrides = values["body_overrides"]
    if not isinstance(overrides, dict):
        errors["body_overrides"] = "must map body codes to allow or deny"
    else:
        for code, choice in overrides.items():
            if code not in CODES:
                errors[f"body_overrides.{code}"] = "unknown body"
            elif choice not in OVERRIDE_VALUES:
                errors[f"body_overrides.{code}"] = "must be allow or deny"
    note = values["risk_note"]
    if note is not None and (not isinstance(note, str) or len(note) > RISK_NOTE_MAX):
        errors["risk_note"] = f"must be text of at most {RISK_NOTE_MAX} characters"
    if errors:
        return errors
    if values["anonymous"]:
        others = [f for f in PERMISSION_FLAGS if f != "anonymous" and values[f]]
        if others:
            errors["anonymous"] = "excludes " + ", ".join(others)
        allowed = sorted(code for code, choice in overrides.items() if choice == "allow")
        if allowed:
            errors["body_overrides"] = "anonymous excludes naming the person to " + ", ".join(allowed)
    return errors


def update_consent_permissions(session: Session, actor: User, case: Case, **fields: Any) -> ConsentRecord:
    """Change what the complainant allows; fields not given keep their value.

    ``fields``: share_name_with_government, publish_name, initials_only, anonymous (booleans),
    body_overrides ({body code: "allow" | "deny"}, replacing the whole map), risk_note (text or None).
    Anonymous excludes every other way of naming the person. The audit event names the changed fields with
    their old and new values (booleans, override choices), but never the risk note's text. Refused after a
    withdrawal (Conflict): the record then only documents what was allowed until then.
    """
    if actor.role not in CONSENT_EDITORS:
        raise Forbidden("your role cannot change what the complainant allows")
    unknown = sorted(set(fields) - {*PERMISSION_FLAGS, "body_overrides", "risk_note"})
    if unknown:
        raise ValidationFailed("unknown consent fields", errors={name: "unknown field" for name in unknown})
    consent = case.consent
    if consent is not None and consent.status == "withdrawn":
        raise Conflict(f"consent for {case.ref} was withdrawn; what it allowed can no longer change")
    if consent is None:
        consent = ConsentRecord(case=case, status="pending", publish_name=False, share_name_with_government=True,
                                initials_only=False, anonymous=False, body_overrides={})
        session.add(consent)
    current: dict[str, Any] = {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS}
    current["body_overrides"] = dict(consent.body_overrides or {})
    current["risk_note"] = consent.risk_note
    wanted = {**current, **fields}
    if isinstance(wanted["risk_note"], str):
        wanted["risk_note"] = wanted["risk_note"].strip() or None
    errors = _validate_permissions(wanted)
    if errors:
        raise ValidationFailed("these consent choices do not fit together", errors=errors)

    changed: list[str] = []
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for flag in PERMISSION_FLAGS:
        if wanted[flag] != current[flag]:
            changed.append(flag)
            old[flag], new[flag] = current[flag], wanted[flag]
            setattr(consent, flag, wanted[flag])
    for code in sorted(set(current["body_overrides"]) | set(wanted["body_overrides"])):
        before, after = current["body_overrides"].get(code), wanted["body_overrides"].get(code)
        if before != after:
            changed.append(f"body_overrides.{code}")
            old[f"body_overrides.{code}"], new[f"body_overrides.{code}"] = before, after
    if wanted["body_overrides"] != current["body_overrides"]:
        consent.body_overrides = dict(wanted["body_overrides"])  # a new object: JSON columns track assignment
    if wanted["risk_note"] != current["risk_note"]:
        changed.append("risk_note")  # the text itself stays out of the audit log
        consent.risk_note = wanted["risk_note"]
    if changed:
        session.flush()
        audit(session, actor, "consent_updated", "case", case.ref, case.id,
              {"changed": changed, "old": old, "new": new})
    return consent


# -- forms for the complainant to sign -------------------------------------------------------------------

FORM_IDENTITY_FIELDS = ("full_name", "full_name_native", "birth_date", "passport_number", "address", "phone",
                        "email")
FORM_ROLES = (Role.INTAKE,)


def consent_form_data(case: Case, organisation: str, *, today: date | None = None) -> ConsentFormData:
    """What the form of appeal and the power of attorney are pre-filled with (identity fields included)."""
    person = case.person
    consent = case.consent
    summary = "\n".join(i.description.strip() for i in case.incidents if i.description and i.description.strip())
    withdrawn = consent is None or consent.status == "withdrawn"
    return ConsentFormData(
        organisation=organisation, ref=case.ref, full_name=person.full_name, full_name_native=person.full_name_native,
        birth_date=person.birth_date, city=person.city, passport_number=person.passport_number,
        address=person.address, phone=person.phone, email=person.email, incident_summary=summary,
        date=today or utcnow().date(),
        share_name_with_government=not withdrawn and bool(consent.share_name_with_government),  # type: ignore[union-attr]
        publish_name=not withdrawn and bool(consent.publish_name),  # type: ignore[union-attr]
        initials_only=not withdrawn and bool(consent.initials_only),  # type: ignore[union-attr]
        anonymous=not withdrawn and bool(consent.anonymous),  # type: ignore[union-attr]
    )


def consent_form(session: Session, actor: User, case: Case, form: str, language: str, organisation: str, *,
                 channel: str) -> bytes:
    """A pre-filled form as .docx bytes, never stored; the download is audited as an identity read."""
    if actor.role not in FORM_ROLES:
        raise Forbidden("only intake prepares the forms the complainant signs")
    errors = {}
    if form not in FORMS:
        errors["form"] = f"must be one of {', '.join(FORMS)}"
    if language not in LANGUAGES:
        errors["lang"] = f"must be one of {', '.join(LANGUAGES)}"
    if errors:
        raise ValidationFailed("no such form", errors=errors)
    content = FORMS[form](consent_form_data(case, organisation), language)
    audit(session, actor, "consent_form_downloaded", "case", case.ref, case.id,
          {"form": form, "language": language, "fields": list(FORM_IDENTITY_FIELDS), "channel": channel})
    return content
