"""Opening and updating cases from an appeal, and starting each case's process."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.appeals import Appeal
from workflow.audit import audit
from workflow.bodies import SERVICE_LEVELS
from workflow.config import Settings
from workflow.errors import NotFound
from workflow.models import Case, ConsentRecord, Episode, Incident, Person, User
from workflow.runtime import instances
from workflow.services.documents import attach_document

PERSON_FIELDS = ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
                 "occupation", "organisation", "city")


def get_case(session: Session, ref: str) -> Case:
    case = session.scalar(
        select(Case).where(Case.ref == ref).options(
            selectinload(Case.episodes), selectinload(Case.incidents), selectinload(Case.documents),
            selectinload(Case.filings),
        )
    )
    if case is None:
        raise NotFound(f"no case {ref!r}")
    return case


def _apply(session: Session, case: Case, appeal: Appeal) -> None:
    for field in PERSON_FIELDS:
        setattr(case.person, field, getattr(appeal, field))
    case.received_on = appeal.received_on
    case.detained_now = appeal.detained_now
    case.urgent = case.urgent or appeal.detained_now
    case.source_hash = appeal.fingerprint()
    episodes = list(session.scalars(select(Episode).where(Episode.key.in_(appeal.episodes))))
    case.episodes = sorted(episodes, key=lambda e: e.key)
    incident = case.incidents[0] if case.incidents else Incident(case=case)
    incident.types = list(appeal.incident_types)
    incident.occurred_on = appeal.incident_date
    incident.description = appeal.description
    incident.place = appeal.city
    incident.episode_id = case.episodes[0].id if len(case.episodes) == 1 else None
    session.add(incident)
    consent = case.consent or ConsentRecord(case=case)
    consent.publish_name = appeal.consent_publish_name
    session.add(consent)


def open_case(session: Session, settings: Settings, actor: User | None, appeal: Appeal,
              documents: Mapping[str, tuple[bytes, str]], *, imported: bool) -> Case:
    """Create the person, case, incident and consent record, attach documents, start the process.

    ``imported`` cases start at ``verify_consent``; others at ``complete_intake``.
    """
    case = Case(ref=appeal.ref, person=Person(full_name=appeal.full_name), stage="intake")
    session.add(case)
    _apply(session, case, appeal)
    session.flush()
    for kind, (content, filename) in documents.items():
        attach_document(session, settings, actor, case, kind, content, filename)
    audit(session, actor, "case_opened", "case", case.ref, case.id, {"imported": imported})
    instances.start(session, settings, "case", case=case, actor=actor, data={
        "case_ref": case.ref,
        "imported": imported,
        "consent_verified": False,
        "detained_now": case.detained_now,
        "urgent": case.urgent,
        "filing_kind": "individual",  # filing.bpmn's collective path is for collective complaints
        **SERVICE_LEVELS,
    })
    return case


def update_case(session: Session, actor: User | None, case: Case, appeal: Appeal) -> bool:
    """Apply a changed appeal to an existing case; False when nothing changed (idempotent re-import)."""
    if case.source_hash == appeal.fingerprint():
        return False
    _apply(session, case, appeal)
    session.flush()
    # Field names only: the values are identity data and do not belong in the log.
    audit(session, actor, "case_updated", "case", case.ref, case.id, {"source": "import"})
    return True
