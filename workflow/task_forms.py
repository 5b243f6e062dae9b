"""Task forms: the JSON Schema a user task names (``bpmn/forms/*.json``), its choices, and the data checked against it.

A form property (or array item) may name a vocabulary with ``x-vocabulary`` (``body``, ``mandate``,
``legal_ground``) instead of listing an ``enum``: ``fill_enums`` gives it the active keys when the form is drawn
and when it is checked, so a term an admin adds is offered at once and a retired one is refused. An object property
marked ``x-filing-languages`` (the legal review's ``languages``) gets one property per active body whose ``enum`` is
the body's filing languages (``bodies.filing_languages``), so an unknown body or a language the body does not accept
or has no template for is refused by the schema itself.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from workflow import vocab
from workflow.bodies import active_codes, language_choices
from workflow.errors import ValidationFailed
from workflow.problems import Problem
from workflow.schemas.base import clean_text, clean_tree, problems_of

_FORMATS = FormatChecker()
# The catalogue of bodies is the "vocabulary" of fields bound to ``body``.
_CATALOGUES = {"body": active_codes}
FILING_LANGUAGES = "x-filing-languages"


def choices(session: Session, vocabulary: str) -> tuple[str, ...]:
    """The keys a form field bound to ``vocabulary`` offers: a vocabulary's active terms, or the active bodies."""
    catalogue = _CATALOGUES.get(vocabulary)
    return catalogue(session) if catalogue is not None else vocab.keys(session, vocabulary)


def fill_enums(session: Session, schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a form schema in which each ``x-vocabulary`` property (or array item) gets its ``enum``."""
    properties = schema.get("properties", {})
    if not any("x-vocabulary" in p or "x-vocabulary" in p.get("items", {}) or FILING_LANGUAGES in p
               for p in properties.values()):
        return schema
    filled = dict(schema)
    filled["properties"] = {}
    for name, prop in properties.items():
        if "x-vocabulary" in prop:
            prop = {**prop, "enum": list(choices(session, prop["x-vocabulary"]))}
        elif "x-vocabulary" in prop.get("items", {}):
            items = prop["items"]
            prop = {**prop, "items": {**items, "enum": list(choices(session, items["x-vocabulary"]))}}
        elif FILING_LANGUAGES in prop:
            prop = {**prop, "additionalProperties": False, "properties": {
                code: {"type": "string", "title": code, "enum": list(languages)}
                for code, languages in language_choices(session).items() if languages}}
        filled["properties"][name] = prop
    return filled


def _problem(error: SchemaError) -> Problem:
    """jsonschema's finding as a code (its English message is never shown or parsed)."""
    kind, limit = error.validator, error.validator_value
    if kind == "enum":
        return Problem("not_one_of", {"choices": [str(v) for v in limit]})
    if kind == "type":
        names = {"string": "not_text", "boolean": "not_boolean", "integer": "not_whole_number",
                 "number": "not_number", "array": "not_list", "object": "not_object"}
        return Problem(names.get(limit, "invalid")) if isinstance(limit, str) else Problem("invalid")
    if kind == "maxLength":
        return Problem("too_long", {"max": limit})
    if kind == "minLength":
        return Problem("too_short", {"min": limit})
    if kind == "maxItems":
        return Problem("too_many", {"max": limit})
    if kind == "minItems":
        return Problem("too_few", {"min": limit})
    if kind == "format" and limit == "date":
        return Problem("not_date")
    if kind in ("minimum", "maximum"):
        return Problem("out_of_range", {"min": error.schema.get("minimum", "-"),
                                        "max": error.schema.get("maximum", "-")})
    return Problem("invalid")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """The texts of the form data by the character rule (``schemas/base.py`` ``clean_text``: line breaks as
    ``\n``, control characters and lone surrogates refused), before the schema counts their length: task data
    is stored with the process and read into documents, so nothing enters it that the text fields refuse."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, Problem] = {}
    for name, value in data.items():
        try:
            field = clean_text(name)
        except ValidationError:
            errors["data"] = Problem("invalid_text")
            continue
        try:
            cleaned[field] = clean_tree(value)
        except ValidationError as err:
            errors.update(problems_of(err.messages, field))
    if errors:
        raise ValidationFailed("the form has errors", errors=errors)
    return cleaned


def validate_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Return the data if it fits the schema (optional fields get their defaults); otherwise raise with one problem
    per field."""
    if not isinstance(data, dict):
        raise ValidationFailed("form data must be a JSON object", errors={"data": Problem("not_object")})
    data = _clean(data)
    validator = Draft202012Validator(schema, format_checker=_FORMATS)
    errors: dict[str, Problem] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            for field in error.validator_value:
                if field not in error.instance:
                    errors.setdefault(field, Problem("required"))
        elif error.validator == "additionalProperties":
            # The offending object may be nested (a language for an unknown body): name the field by its path.
            prefix = "".join(f"{p}." for p in error.path)
            for field in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                errors.setdefault(f"{prefix}{field}", Problem("unknown_field"))
        else:
            field = ".".join(str(p) for p in error.path) or "data"
            errors.setdefault(field, _problem(error))
    if errors:
        raise ValidationFailed("the form has errors", errors=errors)
    # Gateways read every field, so optional fields get their declared default instead of going missing.
    defaults = {name: prop["default"] for name, prop in schema.get("properties", {}).items() if "default" in prop}
    return {**defaults, **data}
