"""One appeal's fields (INTERFACES.md §3), validated the same way for the CSV/XLSX import and the API."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Set
from dataclasses import asdict, dataclass
from datetime import date, datetime

from workflow.vocab import GENDERS

REQUIRED = ("ref", "full_name", "city", "episodes", "incident_types", "incident_date", "description",
            "form_of_appeal", "power_of_attorney", "consent_publish_name", "received_on")
OPTIONAL = ("full_name_native", "gender", "birth_date", "phone", "email", "passport_number", "occupation",
            "organisation", "detained_now")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 20000


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

    def fingerprint(self) -> str:
        """A hash of every field, to tell an unchanged re-import from an updated row."""
        return hashlib.sha256(json.dumps(asdict(self), default=str, sort_keys=True).encode()).hexdigest()


class AppealErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # spreadsheets turn "12345" into 12345.0
        value = int(value)
    return str(value).strip()


def _date(value: object) -> date:
    if isinstance(value, datetime):  # spreadsheet date cells arrive as datetimes at midnight
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


def _yes_no(value: object) -> bool:
    text = _text(value).lower()
    if text in ("yes", "true"):
        return True
    if text in ("no", "false"):
        return False
    raise ValueError("must be yes or no")


def _keys(value: object, known: Set[str], what: str) -> tuple[str, ...]:
    keys = tuple(dict.fromkeys(k.strip() for k in _text(value).split(";") if k.strip()))
    if not keys:
        raise ValueError(f"give at least one {what}")
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(repr(k) for k in unknown)}")
    return keys


def parse_appeal(row: Mapping[str, object], episode_keys: Set[str], incident_types: Set[str]) -> Appeal:
    """Validate one row; raise AppealErrors naming every bad column at once.

    ``incident_types``: the active keys of the incident-type vocabulary (a retired or unknown key is an error).
    """
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    for column in REQUIRED:
        if column not in row:
            errors[column] = "column is missing"
        elif column not in ("form_of_appeal", "power_of_attorney") and not _text(row[column]):
            errors[column] = "is required"
    converters = {
        "episodes": lambda v: _keys(v, episode_keys, "episode"),
        "incident_types": lambda v: _keys(v, incident_types, "incident type"),
        "incident_date": _date,
        "received_on": _date,
        "birth_date": _date,
        "consent_publish_name": _yes_no,
        "detained_now": _yes_no,
    }
    for column in REQUIRED + OPTIONAL:
        if column in errors:
            continue
        raw = row.get(column)
        text = _text(raw)
        if not text:
            values[column] = None
            continue
        if len(text) > MAX_TEXT:
            errors[column] = f"longer than {MAX_TEXT} characters"
            continue
        try:
            values[column] = converters[column](raw) if column in converters else text
        except ValueError as err:
            errors[column] = str(err)
    if "ref" not in errors and values.get("ref") and not REF.match(str(values["ref"])):
        errors["ref"] = "use up to 40 letters, digits, dashes or underscores"
    if values.get("gender") and values["gender"] not in GENDERS:
        errors["gender"] = f"must be one of {', '.join(GENDERS)}"
    if values.get("email") and not EMAIL.match(str(values["email"])):
        errors["email"] = "is not an e-mail address"
    for column in ("incident_date", "received_on", "birth_date"):
        if isinstance(values.get(column), date) and values[column] > date.today():
            errors[column] = "is in the future"
    if errors:
        raise AppealErrors(errors)
    values["detained_now"] = bool(values.get("detained_now"))
    return Appeal(**values)  # type: ignore[arg-type]
