"""Pure document generation for filings: snapshots in, .docx bytes out (no web, no database)."""

from filings.render import BODY_LABELS, render
from filings.snapshot import CaseSnapshot, EpisodeSnapshot, IncidentSnapshot, PersonSnapshot

__all__ = [
    "BODY_LABELS",
    "CaseSnapshot",
    "EpisodeSnapshot",
    "IncidentSnapshot",
    "PersonSnapshot",
    "render",
]
