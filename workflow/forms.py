"""Validation of task form data against the JSON Schema a user task names (``bpmn/forms/*.json``)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from workflow.errors import ValidationFailed

_FORMATS = FormatChecker()


def validate_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Return the data if it fits the schema; otherwise raise with one message per field."""
    if not isinstance(data, dict):
        raise ValidationFailed("form data must be a JSON object", errors={"data": "must be an object"})
    validator = Draft202012Validator(schema, format_checker=_FORMATS)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            field = error.message.split("'")[1]
            errors.setdefault(field, "is required")
        elif error.validator == "additionalProperties":
            for field in sorted(set(data) - set(schema.get("properties", {}))):
                errors.setdefault(field, "is not a field of this form")
        else:
            field = ".".join(str(p) for p in error.path) or "data"
            errors.setdefault(field, error.message)
    if errors:
        raise ValidationFailed("the form has errors", errors=errors)
    # Gateways read every field, so optional fields get their declared default instead of going missing.
    defaults = {name: prop["default"] for name, prop in schema.get("properties", {}).items() if "default" in prop}
    return {**defaults, **data}
