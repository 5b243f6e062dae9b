"""Consent: what the complainant allows (audited changes), withdrawal (pending filings stop, bodies already
filed with are to be informed), and the pre-filled forms the complainant signs (audited identity reads)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from filings.consent_forms import FORMS, ConsentFormData
from filings.consent_forms import languages as form_languages
from filings.wording import TemplateError
from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import Case, ConsentRecord, User, utcnow
from workflow.problems import Problem
from workflow.roles import CONSENT_EDITORS, CONSENT_WITHDRAWERS, SIGNATURE_FORM_MAKERS
from workflow.runtime import instances
from workflow.schemas.consent import PERMISSION_FLAGS, ConsentChoicesSchema, WithdrawalSchema
from workflow.services import repair
from workflow.states import ConsentStatus

log = logging.getLogger(__name__)


def withdraw_consent(session: Session, settings: Settings, actor: User, case: Case, reason: Any) -> bool:
    """Record the withdrawal and stop the case's process; False when the process could not stop (it is then in
    error and learns of the withdrawal once an administrator repairs it: ``services/repair.py``)."""
    if actor.role not in CONSENT_WITHDRAWERS:
        raise Forbidden("your role cannot record a withdrawal of consent")
    reason = WithdrawalSchema().load_or_fail({"reason": reason}, "say why consent was withdrawn")["reason"]
    consent = case.consent or ConsentRecord(case=case)
    session.add(consent)
    if consent.status == ConsentStatus.WITHDRAWN:
        raise Conflict(f"consent for {case.ref} was already withdrawn")
    instance = instances.of_case(session, case.id)
    consent.status = ConsentStatus.WITHDRAWN
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_reason = reason
    audit(session, actor, "consent_withdrawn", "case", case.ref, case.id, {})
    session.flush()
    if instance is None or instance.status != "running":
        return instance is None or instance.status == "complete"
    return repair.deliver_withdrawal(session, settings, actor, instance.id)


# -- what the complainant allows -------------------------------------------------------------------------

def _anonymity_problems(wanted: dict[str, Any]) -> dict[str, Problem]:
    """Fully anonymous excludes every other way of naming the person."""
    if not wanted["anonymous"]:
        return {}
    errors: dict[str, Problem] = {}
    if others := [f for f in PERMISSION_FLAGS if f != "anonymous" and wanted[f]]:
        errors["anonymous"] = Problem("anonymous_excludes", {"flags": others})
    if allowed := sorted(code for code, choice in wanted["body_overrides"].items() if choice == "allow"):
        errors["body_overrides"] = Problem("anonymous_excludes_naming", {"bodies": allowed})
    return errors


def update_consent_permissions(session: Session, actor: User, case: Case, **fields: Any) -> ConsentRecord:
    """Change what the complainant allows; fields not given keep their value.

    ``fields``: share_name_with_government, publish_name, initials_only, anonymous (booleans),
    body_overrides ({body code: "allow" | "deny"}, replacing the whole map), risk_note (text or None).
    Anonymous excludes every other way of naming the person. The audit event names the changed fields, never
    their values (workflow/audit.py). Refused after a
    withdrawal (Conflict): the record then only documents what was allowed until then.
    """
    if actor.role not in CONSENT_EDITORS:
        raise Forbidden("your role cannot change what the complainant allows")
    fields = ConsentChoicesSchema().load_or_fail(fields, "these consent choices are not valid")
    consent = case.consent
    if consent is not None and consent.status == ConsentStatus.WITHDRAWN:
        raise Conflict(f"consent for {case.ref} was withdrawn; what it allowed can no longer change")
    if consent is None:
        consent = ConsentRecord(case=case, status=ConsentStatus.PENDING, publish_name=False,
                                share_name_with_government=True,
                                initials_only=False, anonymous=False, body_overrides={})
        session.add(consent)
    current: dict[str, Any] = {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS}
    current["body_overrides"] = dict(consent.body_overrides or {})
    current["risk_note"] = consent.risk_note
    wanted = {**current, **fields}
    if errors := _anonymity_problems(wanted):
        raise ValidationFailed("these consent choices do not fit together", errors=errors)

    changed: list[str] = []
    for flag in PERMISSION_FLAGS:
        if wanted[flag] != current[flag]:
            changed.append(flag)
            setattr(consent, flag, wanted[flag])
    for code in sorted(set(current["body_overrides"]) | set(wanted["body_overrides"])):
        before, after = current["body_overrides"].get(code), wanted["body_overrides"].get(code)
        if before != after:
            changed.append(f"body_overrides.{code}")
    if wanted["body_overrides"] != current["body_overrides"]:
        consent.body_overrides = dict(wanted["body_overrides"])  # a new object: JSON columns track assignment
    if wanted["risk_note"] != current["risk_note"]:
        changed.append("risk_note")  # the text itself stays out of the audit log
        consent.risk_note = wanted["risk_note"]
    if changed:
        session.flush()
        audit(session, actor, "consent_updated", "case", case.ref, case.id,
              {"changed": changed})  # names only (workflow/audit.py): a risk note never reaches the log
    return consent


# -- forms for the complainant to sign -------------------------------------------------------------------

FORM_IDENTITY_FIELDS = ("full_name", "full_name_native", "birth_date", "passport_number", "address", "phone",
                        "email")


def consent_form_data(case: Case, organisation: str, *, today: date | None = None) -> ConsentFormData:
    """What the form of appeal and the power of attorney are pre-filled with (identity fields included)."""
    person = case.person
    consent = case.consent
    summary = "\n".join(i.description.strip() for i in case.incidents if i.description and i.description.strip())
    withdrawn = consent is None or consent.status == ConsentStatus.WITHDRAWN
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
                 channel: str, templates_dir: Path | None = None) -> bytes:
    """A pre-filled form as .docx bytes, never stored; the download is audited as an identity read.

    The wording is ``templates_dir``'s (``Settings.templates_dir``; default the project's ``templates/``)."""
    if actor.role not in SIGNATURE_FORM_MAKERS:
        raise Forbidden("only intake prepares the forms the complainant signs")
    errors = {}
    if form not in FORMS:
        errors["form"] = Problem("not_one_of", {"choices": list(FORMS)})
    languages = form_languages(templates_dir)
    if language not in languages:
        errors["lang"] = Problem("not_one_of", {"choices": list(languages)})
    if errors:
        raise ValidationFailed("no such form", errors=errors)
    try:
        content = FORMS[form](consent_form_data(case, organisation), language, root=templates_dir)
    except TemplateError as error:  # an edited wording file deployed without `petitio templates check`
        log.error("consent form wording unusable: %s", error)
        raise Conflict(f"the {language} wording of the forms to sign is broken; an administrator must run "
                       "`petitio templates check`") from None
    audit(session, actor, "consent_form_downloaded", "case", case.ref, case.id,
          {"form": form, "language": language, "fields": list(FORM_IDENTITY_FIELDS), "channel": channel})
    return content
