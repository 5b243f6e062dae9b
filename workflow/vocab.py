"""Controlled vocabularies (DESIGN.md §3). Admin-editable, translated vocabularies come with issue 5."""

from __future__ import annotations

INCIDENT_TYPES = (
    "detention_at_rally",
    "preventive_detention",
    "interrogation",
    "symbol_confiscation",
    "criminal_prosecution_online_speech",
    "torture_ill_treatment",
    "punitive_psychiatry",
    "surveillance_threats",
    "forced_renunciation",
    "search_and_seizure",
)
LEGAL_GROUNDS = tuple(f"iccpr_{n}" for n in (7, 9, 10, 14, 17, 19, 21, 22, 25, 26))
GENDERS = ("female", "male", "other", "undisclosed")
