"""Intake in the browser: a new appeal with its two consent documents, and correcting a case afterwards.

What is valid is the appeal's rule (``schemas.appeal.AppealSchema``): a correction loads only the fields its form
edits (``only=``), so a change to the schema changes these forms too. A correction is applied through the same
mapping as an import (``services.cases._apply``), keeps the import's fingerprint (so re-importing the old row
leaves the correction alone: the row itself did not change) and is audited by field NAME only.

Decisions: a case that has ended (approved for a complaint, closed, rejected, consent withdrawn) is not edited:
its record stays as it was when the work on it ended. Stale forms are refused: each form carries the id of the
latest audit event that changed what it shows (``edit_version``), which moves with every edit and import and
does not depend on the clock; the case row is locked while it is compared (PostgreSQL; SQLite writers queue).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import AuditEvent, Case, User
from workflow.problems import Problem
from workflow.roles import APPEAL_EDITORS, APPEAL_REGISTRARS, CASE_FACT_EDITORS, IDENTITY_FIELDS
from workflow.schemas.appeal import DOCUMENT_FIELDS, Appeal, AppealSchema
from workflow.services import fact_access
from workflow.services.cases import KnownKeys, _apply, open_appeal
from workflow.states import ENDED_STAGES
from workflow.uploads import DocumentRejected, check_document

# The complainant's details (identity and contact) and the facts of the appeal, as fields of the appeal.
PERSON_EDIT_FIELDS = ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
                      "occupation", "organisation")
FACT_EDIT_FIELDS = ("city", "episodes", "incident_types", "incident_date", "description", "detained_now",
                    "received_on")
# The audit events that change what each form shows: a form opened before the latest of them is stale.
PERSON_CHANGES = fact_access.PERSON_CHANGES  # the person's facts (services/facts.py) share the gender, birth date...
FACT_CHANGES = (*fact_access.INCIDENT_CHANGES, "incident_updated")  # ... and the first incident is the intake's


def appeal_schema(session: Session, fields: Sequence[str] | None = None) -> AppealSchema:
    """The appeal's schema for a page: every field, or ``fields`` only; documents are uploaded, never named."""
    known = KnownKeys(session)
    return AppealSchema(known=lambda: known, only=fields) if fields is not None else AppealSchema(known=lambda: known)


def document_problems(settings: Settings, documents: Mapping[str, tuple[bytes, str]]) -> dict[str, Problem]:
    """Each uploaded consent document checked as every upload is (content, size, name), by its field."""
    problems: dict[str, Problem] = {}
    for kind, (content, filename) in documents.items():
        if kind not in DOCUMENT_FIELDS:
            problems[kind] = Problem("unknown_field")
            continue
        try:
            check_document(content, filename, settings.max_document_bytes)
        except DocumentRejected as err:
            problems[kind] = err.problem
    return problems


def register_appeal(session: Session, settings: Settings, actor: User, data: Mapping[str, Any],
                    documents: Mapping[str, tuple[bytes, str]]) -> Case:
    """A new appeal typed in with its consent documents: every problem of the fields and the files at once, a
    reference already taken among them; then the case is opened as the API opens one, documents attached, at
    ``complete_intake``. Raises ValidationFailed, or Conflict when the reference was taken meanwhile."""
    if actor.role not in APPEAL_REGISTRARS:
        raise Forbidden("your role may not register appeals")
    errors: dict[str, Problem] = {}
    appeal = None
    try:
        appeal = appeal_schema(session).appeal(dict(data))
    except ValidationFailed as err:
        errors.update(err.errors)
    ref = str(data.get("ref") or "").strip()
    if "ref" not in errors and session.scalar(select(Case.id).where(Case.ref == ref)) is not None:
        errors["ref"] = Problem("already_exists")
    errors.update(document_problems(settings, documents))
    if errors or appeal is None:
        raise ValidationFailed("the appeal has errors", errors=errors)
    return open_appeal(session, settings, actor, appeal, documents)


def may_edit_person(actor: User, case: Case) -> bool:
    return actor.role in APPEAL_EDITORS and case.stage not in ENDED_STAGES


def may_edit_facts(actor: User, case: Case) -> bool:
    return actor.role in CASE_FACT_EDITORS and case.stage not in ENDED_STAGES


def edit_version(session: Session, case: Case, changes: Sequence[str]) -> str:
    """The id of the latest audit event that changed what a form shows ("0" when none did)."""
    latest = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.case_id == case.id,
                                                                  AuditEvent.action.in_(changes)))
    return str(latest or 0)


def person_for_edit(session: Session, actor: User, case: Case) -> dict[str, Any]:
    """The complainant's details to correct; the read of the identity fields is audited (names only)."""
    _may(actor, case, APPEAL_EDITORS)
    audit(session, actor, "identity_read", "case", case.ref, case.id,
          {"fields": sorted(IDENTITY_FIELDS.intersection(PERSON_EDIT_FIELDS)), "channel": "web"})
    return {field: getattr(case.person, field) for field in PERSON_EDIT_FIELDS}


def facts_for_edit(actor: User, case: Case) -> dict[str, Any]:
    _may(actor, case, CASE_FACT_EDITORS)
    current = _current_appeal(case)
    return {field: getattr(current, field) for field in FACT_EDIT_FIELDS}


def edit_person(session: Session, actor: User, case: Case, data: Mapping[str, Any], *, version: str) -> list[str]:
    """Correct the complainant's details. ``data``: every field of the form (an absent optional one is cleared).
    The names stay encrypted and their blind indexes follow (``models.Person`` set events). Returns the names
    of the fields changed (audited as ``person_edited``); raises ValidationFailed, Conflict (stale or ended)."""
    return _edit(session, actor, case, data, version, PERSON_EDIT_FIELDS, PERSON_CHANGES, APPEAL_EDITORS,
                 "person_edited", "the complainant's details have errors")


def edit_facts(session: Session, actor: User, case: Case, data: Mapping[str, Any], *, version: str) -> list[str]:
    """Correct the facts of the appeal (city, episodes, incident types and date, description, detained now,
    received on). Detained now makes the case urgent as on intake; triage reads the case as it is when it runs."""
    return _edit(session, actor, case, data, version, FACT_EDIT_FIELDS, FACT_CHANGES, CASE_FACT_EDITORS,
                 "facts_edited", "the facts have errors")


def _edit(session: Session, actor: User, case: Case, data: Mapping[str, Any], version: str, fields: Sequence[str],
          changes: Sequence[str], allowed: Sequence[str], action: str, message: str) -> list[str]:
    _may(actor, case, allowed)
    values = appeal_schema(session, fields).load_or_fail(dict(data), message)
    # Lock the case so that two corrections cannot both pass the comparison (PostgreSQL; SQLite serialises writers).
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    if edit_version(session, case, changes) != str(version):
        raise Conflict("the case changed since the form was opened",
                       errors={"version": Problem("changed_since_opened")})
    current = _current_appeal(case)
    wanted: dict[str, Any] = {}
    for field in fields:
        value = values.get(field, getattr(current, field))  # a field the schema did not load keeps its value
        wanted[field] = tuple(value) if isinstance(value, list) else value
    changed = [field for field in fields if getattr(current, field) != wanted[field]]
    if not changed:
        return []
    fingerprint = case.source_hash
    incident = case.incidents[0] if case.incidents else None
    if "city" in changed and incident is not None and incident.city in (None, "", current.city):
        incident.city = wanted["city"]  # the incident's city follows the person's unless it was given its own
    _apply(session, case, dataclasses.replace(current, **{field: wanted[field] for field in changed}))
    case.source_hash = fingerprint  # the imported row did not change: re-importing it must not undo this
    session.flush()
    audit(session, actor, action, "case", case.ref, case.id, {"fields": changed, "channel": "web"})
    return changed


def _may(actor: User, case: Case, allowed: Sequence[str]) -> None:
    if actor.role not in allowed:
        raise Forbidden("your role may not change this")
    if case.stage in ENDED_STAGES:
        raise Conflict("the case has ended; its record stays as it was", errors={"_case": Problem("case_ended")})


def _current_appeal(case: Case) -> Appeal:
    """The case as the appeal it now stands for (documents are the case's own and not part of it)."""
    person, incident = case.person, (case.incidents[0] if case.incidents else None)
    return Appeal(
        ref=case.ref, full_name=person.full_name, city=person.city or "",
        episodes=tuple(e.key for e in case.episodes),
        incident_types=tuple(incident.types) if incident else (),
        incident_date=incident.occurred_on if incident else None,  # type: ignore[arg-type]
        description=incident.description if incident else "",
        form_of_appeal=None, power_of_attorney=None,
        consent_publish_name=bool(case.consent and case.consent.publish_name),
        received_on=case.received_on,  # type: ignore[arg-type]
        full_name_native=person.full_name_native, gender=person.gender, birth_date=person.birth_date,
        phone=person.phone, email=person.email, passport_number=person.passport_number,
        occupation=person.occupation, organisation=person.organisation, detained_now=case.detained_now,
    )
