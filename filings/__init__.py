"""Pure document generation for filings: snapshots in, .docx bytes out (no web, no database)."""

from filings.consent_forms import ConsentFormData, form_of_appeal, power_of_attorney
from filings.render import BODY_LABELS, render
from filings.snapshot import CaseSnapshot, EpisodeSnapshot, IncidentSnapshot, PersonSnapshot

__all__ = [
    "BODY_LABELS",
    "CaseSnapshot",
    "ConsentFormData",
    "EpisodeSnapshot",
    "IncidentSnapshot",
    "PersonSnapshot",
    "form_of_appeal",
    "power_of_attorney",
    "render",
]
