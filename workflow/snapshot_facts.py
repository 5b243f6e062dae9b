"""The facts of an individual filing beyond the person and the incidents, copied into snapshot objects:
perpetrators, arrests with their custody places, ill-treatment, remedy steps, the organisation profile,
the annexes. ``workflow/snapshots.py`` calls these; the redaction rules are the same as there.

Each fact arrives as its value, ``NOT_KNOWN`` when a person marked it (``Case.unknown_facts`` or the row's
``unknown`` list, keys in ``workflow/facts.py``), or None when nobody recorded it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

from sqlalchemy.orm import Session

from filings.snapshot import (
    NOT_KNOWN,
    ArrestSnapshot,
    CustodySnapshot,
    IllTreatmentSnapshot,
    NotKnown,
    OrganisationSnapshot,
    PerpetratorSnapshot,
    RemedyStepSnapshot,
)
from workflow import vocab
from workflow.facts import ROW_KINDS
from workflow.i18n import translate
from workflow.models import Arrest, Case, Document, OrganisationProfile
from workflow.states import ConsentStatus, DocumentKind

V = TypeVar("V")
Scrub = Callable[[str], str]  # cuts the complainant's names out of staff-written text when not named
# The evidence a filing annexes once consent is verified; the power of attorney goes only to the bodies that
# require the author's written authorisation; the form of appeal never (it is the NGO's own record).
EVIDENCE_KINDS = (DocumentKind.COURT_DECISION, DocumentKind.MEDICAL, DocumentKind.EVIDENCE)
AUTHORISATION_BODIES = frozenset({"un_hrc"})


def fact(value: V | None, key: str, unknown: Iterable[str]) -> V | NotKnown | None:
    """A recorded value; NOT_KNOWN when a person marked ``key`` as not known; None when nothing is recorded."""
    if value is not None and value != "":
        return value
    return NOT_KNOWN if key in unknown else None


def _text(value: str | None, key: str, unknown: Iterable[str], scrub: Scrub) -> str | NotKnown | None:
    return fact(scrub(value) if value else value, key, unknown)


def not_known_kinds(case: Case) -> frozenset[str]:
    """The kinds of rows a person recorded as not known at all ("perpetrators", "arrests", ...)."""
    return frozenset(ROW_KINDS).intersection(case.unknown_facts or ())


def perpetrators(session: Session, case: Case, language: str, scrub: Scrub) -> tuple[PerpetratorSnapshot, ...]:
    agencies = vocab.labels(session, "perpetrator_agency", language)
    return tuple(
        PerpetratorSnapshot(
            number=n, agency=agencies.get(p.agency, p.agency),
            unit=fact(p.unit, "unit", p.unknown or ()), position=fact(p.position, "position", p.unknown or ()),
            # Officials may be named: the consent rules protect the complainant, not those who acted.
            name=fact(p.name, "name", p.unknown or ()),
            actions=_text(p.actions, "actions", p.unknown or (), scrub))
        for n, p in enumerate(case.perpetrators, 1))


def perpetrator_numbers(case: Case) -> dict[int, int]:
    """Perpetrator row id -> its number in the filing (the order of ``Case.perpetrators``)."""
    return {p.id: n for n, p in enumerate(case.perpetrators, 1)}


def _warrant(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _arrest(arrest: Arrest, scrub: Scrub) -> ArrestSnapshot:
    unknown = arrest.unknown or ()

    def text(field: str) -> str | NotKnown | None:
        return _text(getattr(arrest, field), field, unknown, scrub)

    return ArrestSnapshot(
        arrested_on=fact(arrest.arrested_on, "arrested_on", unknown), place=text("place"), forces=text("forces"),
        warrant_shown=fact(_warrant(arrest.warrant_shown), "warrant_shown", unknown),
        warrant_issued_by=text("warrant_issued_by"), reasons_given=text("reasons_given"),
        legal_provision=text("legal_provision"), duration=text("duration"), lawyer_access=text("lawyer_access"),
        family_access=text("family_access"), released_on=fact(arrest.released_on, "released_on", unknown),
        release=text("release"),
        custody=tuple(CustodySnapshot(scrub(c.place), scrub(c.authority) if c.authority else None, c.from_on, c.to_on)
                      for c in sorted(arrest.custody, key=lambda c: (c.position, c.id))))


def arrests(case: Case, scrub: Scrub) -> tuple[ArrestSnapshot, ...]:
    # Undated arrests last; the database's own NULL ordering differs between SQLite and PostgreSQL.
    ordered = sorted(case.arrests, key=lambda a: (a.arrested_on is None, a.arrested_on or date.min, a.id))
    return tuple(_arrest(arrest, scrub) for arrest in ordered)


def ill_treatments(case: Case, scrub: Scrub) -> tuple[IllTreatmentSnapshot, ...]:
    dates = {i.id: i.occurred_on for i in case.incidents}
    out = []
    for record in case.ill_treatments:
        unknown = record.unknown or ()
        out.append(IllTreatmentSnapshot(
            **{field: _text(getattr(record, field), field, unknown, scrub)
               for field in ("methods", "duration", "effects", "medical_evidence", "complaints", "outcome")},
            occurred_on=dates.get(record.incident_id) if record.incident_id else None))
    return tuple(out)


def remedy_steps(case: Case, scrub: Scrub) -> tuple[RemedyStepSnapshot, ...]:
    ordered = sorted(case.remedy_steps, key=lambda s: (s.taken_on is None, s.taken_on or date.min, s.id))
    return tuple(
        RemedyStepSnapshot(authority=scrub(step.authority),
                           taken_on=fact(step.taken_on, "taken_on", step.unknown or ()),
                           outcome=_text(step.outcome, "outcome", step.unknown or (), scrub),
                           decided_on=fact(step.decided_on, "decided_on", step.unknown or ()), final=step.final)
        for step in ordered)


def organisation_profile(session: Session) -> OrganisationSnapshot | None:
    """The organisation profile row, when an admin has filled it in."""
    row = OrganisationProfile.stored(session)
    if row is None:
        return None
    return OrganisationSnapshot(name=row.name, address=row.address or None, email=row.email or None,
                                phone=row.phone or None, representative=row.representative or None,
                                representative_title=row.representative_title or None)


def annexed_documents(case: Case, bodies: Iterable[str]) -> list[Document]:
    """The case's documents that go with its filings to ``bodies`` (the latest version of each file), the
    one rule for both the bundle of filings and the annex list each filing prints."""
    consent = case.consent
    if consent is None or consent.status != ConsentStatus.VERIFIED:
        return []
    kinds: set[str] = {str(k) for k in EVIDENCE_KINDS}
    if AUTHORISATION_BODIES.intersection(bodies):
        kinds.add(str(DocumentKind.POWER_OF_ATTORNEY))
    latest: dict[tuple[str, str], Document] = {}
    for document in case.documents:
        if document.kind in kinds and document.filing_id is None:
            key = (document.kind, document.filename)
            if key not in latest or latest[key].version < document.version:
                latest[key] = document
    return sorted(latest.values(), key=lambda d: d.id)


def annexes(case: Case, body: str, language: str) -> tuple[str, ...]:
    """The annexes of a filing to ``body`` by kind, in the document's language ("Court decision (2)"), never
    by file name (a file name may carry the complainant's name)."""
    counts = Counter(d.kind for d in annexed_documents(case, (body,)))
    order = (DocumentKind.POWER_OF_ATTORNEY, *EVIDENCE_KINDS)
    return tuple(translate(language, kind.label) + (f" ({counts[kind]})" if counts[kind] > 1 else "")
                 for kind in order if counts[kind])
