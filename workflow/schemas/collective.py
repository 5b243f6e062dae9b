"""A collective complaint as a legal officer opens it (its page and the API alike).

The values that depend on the database (active bodies, vocabularies) are checked against what ``known`` gives
when the schema loads; which cases may be included is the service's rule (``services/collective``).
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any, Protocol

from marshmallow import ValidationError, validates, validates_schema

import filings
from workflow.problems import Problem
from workflow.schemas.base import Dict, InputSchema, List, Nested, Text, WholeNumber, clean_text, problems_of
from workflow.schemas.catalogue import Codes
from workflow.schemas.validators import fail, in_range

NARRATIVE_SECTIONS = ("summary", "legal_basis", "context", "methods", "patterns", "pressure_on_defenders",
                      "requests")
OFFICIAL_FIELDS = ("position", "agency", "name", "role")
TITLE_MAX = 300
SECTION_MAX = 20000
FIELD_MAX = 300
MAX_CASES = 5000
MAX_OFFICIALS = 200
MAX_APPEALS = 10_000_000


class KnownTerms(Protocol):
    bodies: Set[str]
    mandates: Set[str]
    legal_grounds: Set[str]


class OfficialInputSchema(InputSchema):
    """An official held responsible, named by position (the name may be unknown)."""

    position = Text(required=True, max_length=FIELD_MAX, error_messages={"required": Problem(
        "official_position_missing")})
    agency = Text(max_length=FIELD_MAX, load_default="")
    name = Text(max_length=FIELD_MAX, load_default="")
    role = Text(max_length=FIELD_MAX, load_default="", metadata={"description": "what they did"})


class Narrative(Dict):
    """section -> the legal officer's text; empty sections are dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        problems: dict[str, Problem] = {}
        cleaned: dict[str, str] = {}
        for key, text in value.items():
            if key not in NARRATIVE_SECTIONS:
                problems[key] = Problem("not_a_section", {"sections": list(NARRATIVE_SECTIONS)})
            elif not isinstance(text, str):
                problems[key] = Problem("not_text")
            else:
                try:  # the character rule of every text field (schemas/base.py)
                    cleaned[key] = clean_text(text)
                except ValidationError as err:
                    problems[key] = problems_of(err.messages)["_body"]
                    continue
                if len(cleaned[key]) > SECTION_MAX:
                    problems[key] = Problem("too_long", {"max": SECTION_MAX})
        if problems:
            raise ValidationError(problems)  # type: ignore[arg-type]
        return {k: v for k, v in cleaned.items() if v}


class CollectiveInputSchema(InputSchema):
    body = Text(required=True, metadata={"description": "body code, e.g. un_sp"})
    language = Text(required=True, metadata={"description": "a language with a collective template, e.g. en"})
    title = Text(required=True, max_length=TITLE_MAX)
    cases = List(Text(max_length=40), required=True, metadata={
        "minItems": 1, "maxItems": MAX_CASES,  # the validator's no_cases and too_many
        "description": "references of the cases to include; each needs verified consent and an approved review"})
    mandates = Codes(None, load_default=list, metadata={"description": "mandate keys (un_sp only)"})
    grounds = Codes(None, load_default=list, metadata={"description": "legal_ground keys, e.g. iccpr_21"})
    narrative = Narrative(load_default=dict, metadata={
        "description": f"section -> text; sections: {', '.join(NARRATIVE_SECTIONS)}"})
    officials = List(Nested(OfficialInputSchema), load_default=list)
    appeals_received = WholeNumber(allow_none=True, load_default=None, validate=in_range(0, MAX_APPEALS), metadata={
        "description": "every appeal received about the same matter (default: counted over the cases' episodes)"})

    def __init__(self, *, known: Callable[[], KnownTerms] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.known = known
        if known is not None:
            self.fields["mandates"].allowed = lambda: known().mandates  # type: ignore[attr-defined]
            self.fields["grounds"].allowed = lambda: known().legal_grounds  # type: ignore[attr-defined]

    @validates("body")
    def _body(self, value: str, **kwargs: Any) -> None:
        if self.known is not None and value not in self.known().bodies:
            raise fail(Problem("not_one_of", {"choices": sorted(self.known().bodies)}))

    @validates("language")
    def _language(self, value: str, **kwargs: Any) -> None:
        available = filings.available_collective()
        if value not in available:
            raise fail(Problem("no_collective_template", {"language": value, "available": list(available)}))

    @validates("cases")
    def _cases(self, value: list[str], **kwargs: Any) -> None:
        if not value:
            raise fail(Problem("no_cases"))
        if len(value) > MAX_CASES:
            raise fail(Problem("too_many", {"max": MAX_CASES}))

    @validates("officials")
    def _officials(self, value: list[Any], **kwargs: Any) -> None:
        if len(value) > MAX_OFFICIALS:
            raise fail(Problem("too_many", {"max": MAX_OFFICIALS}))

    @validates_schema
    def _mandates_for_un_sp(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("mandates") and data.get("body") not in (None, "un_sp"):
            raise ValidationError({"mandates": Problem("mandates_need_un_sp_body")})  # type: ignore[dict-item]


class CollectiveTextSchema(InputSchema):
    """The narrative of a collective complaint as the legal officer rewrites it (before the check)."""

    narrative = Narrative(required=True, metadata={
        "description": f"section -> text, every section as it should now read (an absent or empty one is "
                       f"emptied); sections: {', '.join(NARRATIVE_SECTIONS)}"})
