"""One appeal (docs/INTERFACES.md §3), validated the same way for the CSV/XLSX import, the API and the pages.

``AppealSchema`` is the one owner of the rules; ``known`` hands it the episode and incident-type keys that
exist now (loaded from the database by the caller, lazily). Its errors are ``Problem``s per field, and a valid
load becomes an ``Appeal``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Set
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Protocol

from marshmallow import validates

from workflow.problems import Problem
from workflow.schemas.base import Day, InputSchema, KeyList, Text, YesNo
from workflow.schemas.validators import fail, one_of
from workflow.states import Gender

# The facts the bodies ask for beyond the original format (issue 13), all optional so that older files keep
# working. The import only fills them: an empty cell leaves what the case holds (``services/import_facts.py``).
PERSON_FILLED = ("nationality", "age", "activity", "situation")
INCIDENT_FILLED = ("incident_city", "incident_place", "perpetrator_agencies")
ARREST_FILLED = ("arrest_date", "arrest_place", "arrest_forces", "legal_provision")
FILLED = PERSON_FILLED + INCIDENT_FILLED + ARREST_FILLED
REQUIRED = ("ref", "full_name", "city", "incident_types", "incident_date", "description",
            "form_of_appeal", "power_of_attorney", "consent_publish_name", "received_on")
# `episodes` may be left out or empty: an appeal can arrive before anyone has named the event it belongs to.
OPTIONAL = ("episodes", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number", "occupation",
            "organisation", "detained_now", *FILLED)
COLUMNS = REQUIRED + OPTIONAL
DOCUMENT_FIELDS = ("form_of_appeal", "power_of_attorney")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 20000
MAX_SHORT = 300  # a nationality, an age, a place name
MAX_CITY = 120  # the incident's city column (``models.Incident.city``)


@dataclass(frozen=True)
class Appeal:
    ref: str
    full_name: str
    city: str
    episodes: tuple[str, ...]
    incident_types: tuple[str, ...]
    incident_date: date
    description: str
    form_of_appeal: str | None  # file name in the documents folder, or None
    power_of_attorney: str | None
    consent_publish_name: bool
    received_on: date
    full_name_native: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    email: str | None = None
    passport_number: str | None = None
    occupation: str | None = None
    organisation: str | None = None
    detained_now: bool = False
    nationality: str | None = None
    age: str | None = None
    activity: str | None = None
    situation: str | None = None
    incident_city: str | None = None  # None: the person's city
    incident_place: str | None = None
    perpetrator_agencies: tuple[str, ...] = ()
    arrest_date: date | None = None
    arrest_place: str | None = None
    arrest_forces: str | None = None
    legal_provision: str | None = None

    def fingerprint(self) -> str:
        """A hash of every field, to tell an unchanged re-import from an updated row. The columns added later
        count only when they hold a value, so a row of an older file keeps the hash it was imported with."""
        values = {k: v for k, v in asdict(self).items() if k not in FILLED or v not in (None, ())}
        return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()

    @property
    def has_arrest(self) -> bool:
        return any(getattr(self, name) is not None for name in ARREST_FILLED)


class KnownKeys(Protocol):
    episodes: Set[str]
    incident_types: Set[str]
    perpetrator_agencies: Set[str]


def _optional(max_length: int = MAX_TEXT, *, multiline: bool = False, **kwargs: Any) -> Text:
    """An optional text, one line unless said (a line break pasted into a name or a phone number becomes a space)."""
    return Text(max_length=max_length, allow_none=True, load_default=None, multiline=multiline, **kwargs)


class AppealSchema(InputSchema):
    """The fields of the import format. ``documents``: ``"names"`` (file names in a documents folder, the import)
    or ``"refused"`` (always null: the API and the pages upload documents to the case afterwards)."""

    ref = Text(required=True, multiline=False, metadata={"description": "up to 40 letters, digits, - or _"})
    full_name = Text(required=True, max_length=MAX_TEXT, multiline=False)
    city = Text(required=True, max_length=MAX_TEXT, multiline=False)
    episodes = KeyList(allow_none=True, load_default=list, metadata={
        "description": "episode keys (or one `;`-separated text); may be empty"})
    incident_types = KeyList(required=True, metadata={"minItems": 1,  # the validator's no_incident_type
        "description": "keys of the incident_type vocabulary (or one `;`-separated text)"})
    incident_date = Day(required=True, past_only=True)
    description = Text(required=True, max_length=MAX_TEXT)  # the one multi-line text of an appeal
    form_of_appeal = _optional(metadata={"description": "import: a file name; API: null (upload it afterwards)"})
    power_of_attorney = _optional(metadata={"description": "import: a file name; API: null (upload it afterwards)"})
    consent_publish_name = YesNo(required=True)
    received_on = Day(required=True, past_only=True)
    full_name_native = _optional()
    gender = Text(allow_none=True, load_default=None, validate=one_of(Gender.codes()))
    birth_date = Day(allow_none=True, load_default=None, past_only=True)
    phone = _optional()
    email = _optional()
    passport_number = _optional()
    occupation = _optional()
    organisation = _optional()
    detained_now = YesNo(allow_none=True, load_default=False)
    nationality = _optional(MAX_SHORT)
    age = _optional(MAX_SHORT, metadata={"description": "years, when the birth date is not known"})
    activity = _optional(multiline=True, metadata={"description": "human-rights or political activity"})
    situation = _optional(multiline=True, metadata={"description": "current situation and risk"})
    incident_city = _optional(MAX_CITY, metadata={"description": "where the incident happened; empty: `city`"})
    incident_place = _optional(MAX_SHORT, metadata={"description": "the exact place in that city"})
    perpetrator_agencies = KeyList(allow_none=True, load_default=list, metadata={
        "description": "keys of the perpetrator_agency vocabulary (or one `;`-separated text); may be empty"})
    arrest_date = Day(allow_none=True, load_default=None, past_only=True)
    arrest_place = _optional(MAX_SHORT)
    arrest_forces = _optional(multiline=True, metadata={"description": "who carried out the arrest"})
    legal_provision = _optional(MAX_SHORT, metadata={"description": "article and code invoked"})

    def __init__(self, *, known: Callable[[], KnownKeys] | None = None, documents: str = "refused",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.known = known
        self.documents = documents

    @validates("ref")
    def _ref(self, value: str, **kwargs: Any) -> None:
        if not REF.match(value):
            raise fail(Problem("bad_reference"))

    @validates("email")
    def _email(self, value: str | None, **kwargs: Any) -> None:
        if value and not EMAIL.match(value):
            raise fail(Problem("not_email"))

    @validates("episodes")
    def _episodes(self, value: list[str] | None, **kwargs: Any) -> None:
        self._keys(value or [], None, "unknown_episodes", lambda k: k.episodes)

    @validates("incident_types")
    def _incident_types(self, value: list[str], **kwargs: Any) -> None:
        self._keys(value, "no_incident_type", "unknown_incident_types", lambda k: k.incident_types)

    @validates("perpetrator_agencies")
    def _perpetrator_agencies(self, value: list[str] | None, **kwargs: Any) -> None:
        self._keys(value or [], None, "unknown_perpetrator_agencies", lambda k: k.perpetrator_agencies)

    def _keys(self, value: list[str], empty: str | None, unknown: str, of: Callable[[KnownKeys], Set[str]]) -> None:
        if not value and empty is not None:
            raise fail(Problem(empty))
        if self.known is not None and (missing := [k for k in value if k not in of(self.known())]):
            raise fail(Problem(unknown, {"keys": [repr(k) for k in missing]}))

    @validates("form_of_appeal", "power_of_attorney")
    def _document(self, value: str | None, **kwargs: Any) -> None:
        if value and self.documents == "refused":
            raise fail(Problem("upload_separately"))

    def appeal(self, data: Any) -> Appeal:
        """``data`` loaded into an Appeal; raises ValidationFailed with a problem per field."""
        return self.to_appeal(self.load_or_fail(data, "the appeal has errors"))

    @staticmethod
    def to_appeal(values: dict[str, Any]) -> Appeal:
        """What ``load`` gave, as an Appeal."""
        return Appeal(**{**values, "episodes": tuple(values.get("episodes") or ()),
                         "incident_types": tuple(values["incident_types"]),
                         "perpetrator_agencies": tuple(values.get("perpetrator_agencies") or ()),
                         "detained_now": bool(values.get("detained_now"))})
