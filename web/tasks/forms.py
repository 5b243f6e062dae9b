"""Task forms rendered from the JSON Schema a user task names, and the form data turned back into JSON.

The schema is the one the service validates with, so the page and the service cannot disagree about
fields: ``fields_of`` describes one HTML control per property, ``convert`` reads the posted fields into
JSON of the declared types, and what the service refused comes back next to its field (``web/messages.py``
words it).

Widgets: boolean -> checkbox; string enum -> radio buttons (up to 3 choices) or a select; array of enum
-> checkboxes; ``format: date`` -> date input; a string longer than 200 characters or named ``notes`` ->
textarea; integer/number -> number input; any other string -> text input. A property bound to a vocabulary
(``x-vocabulary``) counts as an enum: ``task_forms.fill_enums`` lists its active keys before the form is drawn. An
object whose properties are enums (the legal review's filing language per body, once filled) -> one select per
property, posted as ``NAME.KEY``; a select left empty is left out (the service's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from web.labels import label

RADIO_MAX = 3
LONG_TEXT = 200
TRUE_VALUES = frozenset({"true", "on", "1", "yes"})

# The titles and descriptions of bpmn/forms/*.json, marked here so that `make i18n` extracts them; the
# pages translate a schema's text with gettext at render time (tests/web/test_task_forms.py keeps this
# list complete).
FORM_TEXTS = (
    _l("Approve the filing"), _l("A manager approves a collective complaint before it is submitted."),
    _l("Approve the review"),
    _l("Four eyes: a manager who did not do the review approves it or returns it to the reviewer."),
    _l("Check the filing"), _l("Read the generated document; approve it or have it regenerated."),
    _l("Complete intake"),
    _l("The appeal's fields are edited on the case page; this step confirms the file is complete."),
    _l("Follow up"), _l("The body has not answered within its window."),
    _l("Inform the body of the withdrawal"),
    _l("Consent was withdrawn after this filing was submitted: tell the body."),
    _l("Legal review"), _l("Decide where the case goes and on what grounds."),
    _l("Record the outcome"), _l("What the body decided, and the end of this filing."),
    _l("Request missing documents"), _l("Ask the complainant for the missing form of appeal or power of attorney."),
    _l("Record the submission"), _l("When, how and under which reference the filing was sent to the body."),
    _l("Verify consent"),
    _l("Confirm the signed form of appeal and the power of attorney. Both are needed before anything is filed."),
    _l("Decision"), _l("Notes"), _l("Action"), _l("Informed on"), _l("Channel"), _l("Bodies"),
    _l("Special Procedures mandates"), _l("Legal grounds"), _l("Urgent (detained now, risk of torture)"),
    _l("Outcome"), _l("Documents received"), _l("No documents will come: close the case"), _l("Submitted on"),
    _l("Reference"), _l("Form of appeal verified"), _l("Power of attorney verified"), _l("Kind of communication"),
    _l("Special Procedures and WGAD: an urgent appeal for ongoing or imminent violations, a letter of allegation "
       "otherwise. Left empty, urgent cases go as urgent appeals."),
    _l("Categories of arbitrary detention (WGAD)"), _l("Filing languages"),
    _l("The language of each chosen body's filing, among those the body accepts and that have a template. Left as "
       "offered: the body's first language."),
)
@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass
class Field:
    """One control of a task form, ready for the ``macros/forms.html`` macros."""

    name: str
    widget: str  # checkbox | radio | select | checkboxes | date | textarea | text | number
    label: str
    id: str
    required: bool = False
    value: Any = None  # str for inputs, bool for a checkbox, list[str] for checkboxes
    options: list[Option] = field(default_factory=list)
    error: str | None = None
    max_length: int | None = None
    description: str | None = None
    parts: list[Field] = field(default_factory=list)  # the selects of a "selects" group

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


def widget_of(name: str, prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "object":
        return "selects"
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        items = prop.get("items", {})
        return "checkboxes" if "enum" in items or "x-vocabulary" in items else "textarea"
    if kind in ("integer", "number"):
        return "number"
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= RADIO_MAX else "select"
    if "x-vocabulary" in prop:  # terms come and go: a select never outgrows the page
        return "select"
    if prop.get("format") == "date":
        return "date"
    if name == "notes" or (prop.get("maxLength") or 0) > LONG_TEXT:
        return "textarea"
    return "text"


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    return dict(schema.get("properties", {}))


def _initial(prop: Mapping[str, Any], widget: str) -> Any:
    default = prop.get("default")
    if widget == "checkbox":
        return bool(default)
    if widget == "checkboxes":
        return [str(v) for v in default or []]
    if widget == "selects":
        return dict(default or {})
    if widget == "textarea" and prop.get("type") == "array":
        return "\n".join(str(v) for v in default or [])
    return "" if default is None else str(default)


def typed_values(schema: Mapping[str, Any], formdata: MultiDict[str, str]) -> dict[str, Any]:
    """What the user typed, per field, in the shape the controls show (to re-render after an error)."""
    values: dict[str, Any] = {}
    for name, prop in _properties(schema).items():
        widget = widget_of(name, prop)
        if widget == "checkbox":
            values[name] = formdata.get(name, "").lower() in TRUE_VALUES
        elif widget == "checkboxes":
            values[name] = formdata.getlist(name)
        elif widget == "selects":
            values[name] = {key: formdata.get(f"{name}.{key}", "") for key in prop.get("properties", {})}
        else:
            values[name] = formdata.get(name, "")
    return values


def _options(prop: Mapping[str, Any], widget: str, value: Any,
             labels: Mapping[str, Mapping[str, str]]) -> list[Option]:
    source = prop.get("items", {}) if widget == "checkboxes" else prop
    named = labels.get(source.get("x-vocabulary", ""), {})
    chosen = set(value or []) if widget == "checkboxes" else {value}
    return [Option(str(v), named.get(str(v)) or label("option", v), str(v) in chosen)
            for v in source.get("enum", [])]


def fields_of(schema: Mapping[str, Any], *, prefix: str, values: Mapping[str, Any] | None = None,
              errors: Mapping[str, str] | None = None,
              labels: Mapping[str, Mapping[str, str]] | None = None) -> list[Field]:
    """The controls of a form: ``values`` are typed values (else the schema's defaults), ``errors`` the sentences
    to show per field.

    ``labels``: vocabulary -> key -> label, for the options of properties bound to a vocabulary (``x-vocabulary``:
    body, mandate, legal_ground); other options are labelled from the "option" labels (``web/labels.py``).
    """
    required = set(schema.get("required", []))
    errors = errors or {}
    fields = []
    for name, prop in _properties(schema).items():
        widget = widget_of(name, prop)
        value = values[name] if values is not None and name in values else _initial(prop, widget)
        options: list[Option] = []
        if widget in ("radio", "select", "checkboxes"):
            options = _options(prop, widget, value, labels or {})
        message = errors.get(name)
        if widget == "selects":
            fields.append(_selects(name, prop, prefix, value, errors, labels or {}))
            continue
        fields.append(Field(
            name=name, widget=widget, label=_(prop.get("title") or name.replace("_", " ").capitalize()),
            id=f"{prefix}-{name}",
            # An unchecked box is a valid "no": a boolean is never marked as something to fill in.
            required=name in required and widget != "checkbox",
            value=value, options=options, error=message or None,
            max_length=prop.get("maxLength") if widget in ("text", "textarea") else None,
            description=_(prop["description"]) if prop.get("description") else None,
        ))
    return fields


def _selects(name: str, prop: Mapping[str, Any], prefix: str, value: Any, errors: Mapping[str, str],
             labels: Mapping[str, Mapping[str, str]]) -> Field:
    """An object of enums as a group of selects: one per property, labelled by the body it names."""
    chosen = value if isinstance(value, Mapping) else {}
    bodies = labels.get("body", {})
    parts = [Field(name=f"{name}.{key}", widget="select", label=bodies.get(key) or key.replace("_", " "),
                   id=f"{prefix}-{name}-{key}", value=str(chosen.get(key, "")), error=errors.get(f"{name}.{key}"),
                   options=[Option(str(v), label("locale", v), str(v) == str(chosen.get(key, "")))
                            for v in sub.get("enum", [])])
             for key, sub in prop.get("properties", {}).items()]
    # One message for the group (the summary above the form lists fields, not their parts).
    messages = ([errors[name]] if errors.get(name) else []) + [f"{p.label}: {p.error}" for p in parts if p.error]
    message = "; ".join(messages)
    return Field(name=name, widget="selects", label=_(prop.get("title") or name), id=f"{prefix}-{name}",
                 value=chosen, error=message or None, parts=parts,
                 description=_(prop["description"]) if prop.get("description") else None)


def other_errors(schema: Mapping[str, Any], errors: Mapping[str, str] | None) -> list[str]:
    """Errors that belong to no field of the form (shown above it)."""
    names = set(_properties(schema))
    return [f"{key}: {message}" for key, message in (errors or {}).items() if key.split(".")[0] not in names]


def convert(schema: Mapping[str, Any], formdata: MultiDict[str, str]) -> dict[str, Any]:
    """Posted form fields -> task data of the schema's types.

    An unchecked checkbox is ``false``; an empty optional string is left out (an empty required one too,
    so that the service answers "is required"); a number that does not parse is passed on as typed, for
    the schema to refuse with its own message. Fields the schema does not name are ignored.
    """
    data: dict[str, Any] = {}
    for name, prop in _properties(schema).items():
        widget = widget_of(name, prop)
        if widget == "checkbox":
            data[name] = formdata.get(name, "").lower() in TRUE_VALUES
        elif widget == "checkboxes":
            data[name] = [v for v in formdata.getlist(name) if v != ""]
        elif widget == "selects":  # nothing chosen is left out, as an empty string is
            chosen = {key: formdata[f"{name}.{key}"].strip() for key in prop.get("properties", {})
                      if formdata.get(f"{name}.{key}", "").strip()}
            if chosen:
                data[name] = chosen
        elif prop.get("type") == "array":
            data[name] = [line.strip() for line in formdata.get(name, "").splitlines() if line.strip()]
        else:
            raw = formdata.get(name, "").strip()
            if raw == "":
                continue
            if widget == "number":
                try:
                    data[name] = int(raw) if prop.get("type") == "integer" else float(raw)
                except ValueError:
                    data[name] = raw
            else:
                data[name] = raw
    return data
