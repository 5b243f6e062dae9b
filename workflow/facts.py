"""The facts the filing bodies ask for, by name: the one owner of the keys a person can mark "not known".

A fact is recorded (a value), marked not known by a person (its key in ``Case.unknown_facts`` or in a row's
``unknown`` list), or missing. Filings print "not known" for the second and report the third; the pages and
the API offer exactly these keys for marking, and ``docs/FILING-FIELDS.md`` maps each body's questionnaire
onto them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# Case-level facts (``Case.unknown_facts``). The person's facts, and "is there any" for each kind of row:
# "perpetrators" marked not known says nobody could identify who acted, "arrests" that no arrest is known
# of, and so on.
PERSON_FACTS: Final = ("nationality", "gender", "birth_date", "age", "occupation", "organisation", "activity",
                       "situation")
ROW_KINDS: Final = ("perpetrators", "arrests", "ill_treatments", "remedy_steps")
CASE_FACTS: Final = tuple(f"person.{name}" for name in PERSON_FACTS) + ROW_KINDS

# Fields of each kind of row that may be marked not known on that row (its ``unknown`` list).
ROW_FACTS: Final = MappingProxyType({
    "incidents": ("occurred_on", "city", "place", "perpetrators"),
    "perpetrators": ("unit", "position", "name", "actions"),
    "arrests": ("arrested_on", "place", "forces", "warrant_shown", "warrant_issued_by", "reasons_given",
                "legal_provision", "duration", "lawyer_access", "family_access", "released_on", "release"),
    "ill_treatments": ("methods", "duration", "effects", "medical_evidence", "complaints", "outcome"),
    "remedy_steps": ("taken_on", "outcome", "decided_on"),
})
