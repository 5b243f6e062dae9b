"""The catalogue of bodies and the vocabularies as admins edit them (admin pages and the API alike).

``workflow.bodies.update_body`` and ``workflow.vocab.add_term``/``update_term`` load their input through these
schemas; the API declares the same classes for its documentation and its type checks. What needs the database
(the active mandates, whether a key is taken) is handed in as a callable or checked by the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import ValidationError, validates

from workflow.admissibility import validate_rules
from workflow.i18n import UI_LANGUAGES
from workflow.problems import Problem
from workflow.schemas.base import Dict, Flag, InputSchema, List, Text, WholeNumber, clean_text, is_slug, problems_of
from workflow.schemas.validators import fail, in_range

# The codes of the bodies (docs/INTERFACES.md §5): stable, stored on filings and reviews.
BODY_CODES = ("un_sp", "un_wgad", "un_hrc", "osce_odihr", "ep_droi", "ep_peti")
FILING_LANGUAGES = ("en", "fr", "es", "ru", "de", "it", "pl", "lt", "lv", "et")
CHANNELS = ("online_form", "email", "post", "in_person")
COMMUNICATION_TYPES = ("urgent_appeal", "letter_of_allegation")
# What a body needs the complainant to have allowed (checked by the ``consent`` rule of admissibility).
CONSENT_REQUIREMENTS = ("verified", "share_name_with_government", "publish_name", "not_anonymous")
MAX_DAYS = 3660
NOTES_MAX = 5000
NAME_MAX = 200
LABEL_MAX = 200
UDHR_MAX = 40
# The extra fields a vocabulary's terms carry, and their kind.
EXTRA_FIELDS: dict[str, dict[str, str]] = {"incident_type": {"deprivation_of_liberty": "flag"},
                                           "legal_ground": {"udhr": "text"}}


class LabelMap(Dict):
    """UI language -> text, trimmed, empty ones dropped; English is required.

    ``per_language``: a problem is reported under ``field.<language>`` (else under the field itself).
    """

    def __init__(self, *, max_length: int, per_language: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.per_language = per_language

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        problems: dict[str, Problem] = {}
        clean: dict[str, str] = {}
        for language, text in value.items():
            if language not in UI_LANGUAGES:
                problems[language] = Problem("not_ui_language", {"languages": list(UI_LANGUAGES)})
            elif not isinstance(text, str):
                problems[language] = Problem("not_text")
            else:
                try:  # the character rule of every text (schemas/base.py); a name or label is one line
                    text = clean_text(text, multiline=False)
                except ValidationError as err:
                    problems[language] = problems_of(err.messages)["_body"]
                    continue
                if len(text) > self.max_length:
                    problems[language] = Problem("too_long", {"max": self.max_length})
                elif text:
                    clean[language] = text
        if "en" not in clean and "en" not in problems:
            problems["en"] = Problem("english_label_missing" if self.per_language else "english_name_missing")
        if problems and self.per_language:
            raise ValidationError(problems)  # type: ignore[arg-type]
        if problems:
            raise fail(next(iter(problems.values())))
        return clean


class Codes(List):
    """A list of codes, each among ``allowed`` (a callable is asked when the value is checked), duplicates dropped."""

    def __init__(self, allowed: Iterable[str] | Callable[[], Iterable[str]] | None, *, code: str = "unknown_keys",
                 **kwargs: Any) -> None:
        super().__init__(Text(max_length=80), **kwargs)
        self.allowed = allowed
        self.code = code

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        codes = list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))
        if self.allowed is not None:
            allowed = tuple(self.allowed() if callable(self.allowed) else self.allowed)
            if unknown := [c for c in codes if c not in allowed]:
                raise fail(Problem(self.code, {"keys": unknown}))
        return codes


class BodyChangeSchema(InputSchema):
    """A change to a catalogue entry: any of the editable fields; those left out keep their value."""

    names = LabelMap(max_length=NAME_MAX, per_language=False,
                     metadata={"description": "UI language -> name; English is required"})
    languages = Codes(FILING_LANGUAGES, metadata={"description": f"at least one of: {', '.join(FILING_LANGUAGES)}"})
    channels = Codes(CHANNELS, metadata={"description": f"of: {', '.join(CHANNELS)}"})
    mandates = Codes(None, code="inactive_mandates", metadata={"description": "active keys of the mandate vocabulary"})
    communication_types = Codes(COMMUNICATION_TYPES, metadata={"description": f"of: {', '.join(COMMUNICATION_TYPES)}"})
    required_consent = Codes(CONSENT_REQUIREMENTS, metadata={"description": f"of: {', '.join(CONSENT_REQUIREMENTS)}"})
    rules = Dict(keys=Text(), values=Dict(), metadata={
        "description": "admissibility rule -> its parameters; each may set level: error or warning"})
    response_days = WholeNumber(validate=in_range(1, MAX_DAYS, "days_out_of_range"),
                                metadata={"description": f"whole days, 1 to {MAX_DAYS}"})
    follow_up_days = WholeNumber(validate=in_range(1, MAX_DAYS, "days_out_of_range"),
                                 metadata={"description": f"whole days, 1 to {MAX_DAYS}"})
    notes = Text(max_length=NOTES_MAX)
    active = Flag()

    def __init__(self, *, known_mandates: Callable[[], Iterable[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["mandates"].allowed = known_mandates  # type: ignore[attr-defined]

    @validates("languages")
    def _some_language(self, value: list[str], **kwargs: Any) -> None:
        if not value:
            raise fail(Problem("no_language"))

    @validates("rules")
    def _known_rules(self, value: dict[str, Any], **kwargs: Any) -> None:
        if problems := validate_rules(value):
            raise ValidationError(_nested(problems))  # type: ignore[arg-type]


def _nested(flat: dict[str, Problem]) -> dict[str, Any]:
    """{"a.b": problem} -> {"a": {"b": problem}}, the shape marshmallow keeps nested errors in."""
    tree: dict[str, Any] = {}
    for key, problem in flat.items():
        *path, last = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[last] = problem
    return tree


class TermInputSchema(InputSchema):
    """A term of a vocabulary: its key (never changed once created), labels per UI language, extra fields.

    ``vocabulary`` names the extra fields allowed; without it, ``extra`` is only checked to be an object.
    """

    key = Text(required=True, metadata={"description": "1 to 80 of a-z, 0-9, - and _, starting with a letter or digit"})
    labels = LabelMap(max_length=LABEL_MAX, per_language=True, required=True,
                      metadata={"description": "UI language -> label; English is required"})
    extra = Dict(keys=Text(), metadata={"description": "incident_type: deprivation_of_liberty; legal_ground: udhr"})
    active = Flag(metadata={"description": "false retires the term, true restores it"})

    def __init__(self, *, vocabulary: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocabulary = vocabulary

    @validates("key")
    def _key(self, value: str, **kwargs: Any) -> None:
        if not is_slug(value):
            raise fail(Problem("bad_key"))

    @validates("extra")
    def _extra(self, value: dict[str, Any], **kwargs: Any) -> None:
        if self.vocabulary is None:
            return
        allowed = EXTRA_FIELDS.get(self.vocabulary, {})
        problems: dict[str, Problem] = {}
        for name, item in value.items():
            kind = allowed.get(name)
            if kind is None:
                problems[name] = Problem("unknown_field")
            elif kind == "flag" and not isinstance(item, bool):
                problems[name] = Problem("not_boolean")
            elif kind == "text" and (not isinstance(item, str) or len(item) > UDHR_MAX):
                problems[name] = Problem("too_long", {"max": UDHR_MAX})
        if problems:
            raise ValidationError(problems)  # type: ignore[arg-type]


def term_input(vocabulary: str, data: Any, *, new: bool) -> dict[str, Any]:
    """A new term (``new``: key and labels required) or a change to one, loaded; raises ValidationFailed."""
    schema = TermInputSchema(vocabulary=vocabulary, partial=not new,
                        **({} if new else {"exclude": ("key",)}))
    return schema.load_or_fail(data, "the term has errors")


__all__ = ["BodyChangeSchema", "TermInputSchema", "problems_of", "term_input"]
