"""Pure document generation for filings: snapshots in, .docx bytes out (no web, no database).

The wording comes from a folder of TOML files (``root``: the project's ``templates/`` unless the caller
passes another, e.g. ``workflow.config.Settings.templates_dir``; see ``templates/README.md``):

    render(CaseSnapshot, *, letterhead=None, root=None) -> bytes     an individual filing to one body
    missing(CaseSnapshot, *, root=None) -> tuple[str, ...]          facts it prints as "[To be completed: ...]"
    render_collective(CollectiveSnapshot, *, letterhead=None, root=None) -> bytes
    wording_sha256(body, language, *, root=None) -> str             the hash of the template file rendered
    available(body, *, root=None) / available_collective(*, root=None) -> languages with a template
    form_of_appeal / power_of_attorney(ConsentFormData, language, *, root=None) -> bytes   forms to sign
    consent_languages(root=None) -> languages of the forms to sign
    check_wording(root=None) -> [TemplateError]                     filing and consent files, each checked
    to_pdf(docx) -> bytes | None                                     None when LibreOffice is absent
    to_pdfs([docx, ...]) -> list[bytes] | None                        several in one LibreOffice run
"""

from pathlib import Path

from filings import consent_forms, wording
from filings.consent_forms import ConsentFormData, form_of_appeal, power_of_attorney
from filings.consent_forms import languages as consent_languages
from filings.pdf import PdfError, to_pdf, to_pdfs
from filings.render import available, available_collective, missing, render, render_collective, wording_sha256
from filings.schema import COLLECTIVE
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
from filings.wording import DEFAULT_ROOT, TemplateError


def check_wording(root: Path | str | None = None) -> list[TemplateError]:
    """Every problem of the filing templates and consent forms under ``root``, one per broken file."""
    return [*wording.check_folder(root), *consent_forms.check_folder(root)]


__all__ = [
    "COLLECTIVE",
    "DEFAULT_ROOT",
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
    "check_wording",
    "consent_languages",
    "form_of_appeal",
    "missing",
    "power_of_attorney",
    "render",
    "render_collective",
    "to_pdf",
    "to_pdfs",
    "wording_sha256",
]
