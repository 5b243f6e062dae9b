"""Pure document generation for filings: snapshots in, .docx bytes out (no web, no database).

    render(CaseSnapshot, *, letterhead=None) -> bytes               an individual filing to one body
    missing(CaseSnapshot) -> tuple[str, ...]                         facts it prints as "[To be completed: ...]"
    render_collective(CollectiveSnapshot, *, letterhead=None) -> bytes
    available(body) / available_collective() -> languages with a template
    to_pdf(docx) -> bytes | None                                     None when LibreOffice is absent
    to_pdfs([docx, ...]) -> list[bytes] | None                        several in one LibreOffice run
"""

from filings.consent_forms import ConsentFormData, form_of_appeal, power_of_attorney
from filings.pdf import PdfError, to_pdf, to_pdfs
from filings.render import available, available_collective, missing, render, render_collective
from filings.snapshot import (
    NOT_KNOWN,
    ArrestSnapshot,
    CaseSnapshot,
    CollectiveSnapshot,
    ConsentSnapshot,
    CountedEpisode,
    CustodySnapshot,
    EpisodeSnapshot,
    GroundSnapshot,
    IllTreatmentSnapshot,
    IncidentSnapshot,
    NotKnown,
    Official,
    OrganisationSnapshot,
    PerpetratorSnapshot,
    PersonSnapshot,
    RemediesSnapshot,
    RemedyStepSnapshot,
)
from filings.wording import TemplateError

__all__ = [
    "NOT_KNOWN",
    "ArrestSnapshot",
    "CaseSnapshot",
    "CollectiveSnapshot",
    "ConsentFormData",
    "ConsentSnapshot",
    "CountedEpisode",
    "CustodySnapshot",
    "EpisodeSnapshot",
    "GroundSnapshot",
    "IllTreatmentSnapshot",
    "IncidentSnapshot",
    "NotKnown",
    "Official",
    "OrganisationSnapshot",
    "PdfError",
    "PerpetratorSnapshot",
    "PersonSnapshot",
    "RemediesSnapshot",
    "RemedyStepSnapshot",
    "TemplateError",
    "available",
    "available_collective",
    "form_of_appeal",
    "missing",
    "power_of_attorney",
    "render",
    "render_collective",
    "to_pdf",
    "to_pdfs",
]
