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

from sqlalchemy import select
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
from workflow.models import Arrest, Case, OrganisationProfile
from workflow.states import CONSENT_DOCUMENTS, DocumentKind

V = TypeVar("V")
Scrub = Callable[[str], str]  # cuts the complainant's names out of staff-written text when not named
# What a filing annexes: the consent documents and the evidence, never another filing or a body's letter.
ANNEXED_KINDS = (*CONSENT_DOCUMENTS, DocumentKind.COURT_DECISION, DocumentKind.MEDICAL, DocumentKind.EVIDENCE)


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
    row = session.scalar(select(OrganisationProfile).order_by(OrganisationProfile.id).limit(1))
    if row is None:
        return None
    return OrganisationSnapshot(name=row.name, address=row.address or None, email=row.email or None,
                                phone=row.phone or None, representative=row.representative or None,
                                representative_title=row.representative_title or None)


def annexes(case: Case, language: str) -> tuple[str, ...]:
    """The annexed documents by kind, in the document's language ("Court decision (2)"); never file names."""
    counts = Counter(d.kind for d in case.documents if d.kind in ANNEXED_KINDS)
    for kind in CONSENT_DOCUMENTS:  # a new upload of a consent document replaces the earlier one
        counts[kind] = min(counts[kind], 1)
    out = []
    for kind in ANNEXED_KINDS:
        if counts[kind]:
            label = translate(language, kind.label)
            out.append(label if counts[kind] == 1 else f"{label} ({counts[kind]})")
    return tuple(out)
