"""Task forms rendered from the JSON Schema a user task names, and the form data turned back into JSON.

The schema is the one the service validates with, so the page and the service cannot disagree about
fields: ``fields_of`` describes one HTML control per property, ``convert`` reads the posted fields into
JSON of the declared types, and the service's error messages come back next to their fields.

Widgets: boolean -> checkbox; string enum -> radio buttons (up to 3 choices) or a select; array of enum
-> checkboxes; ``format: date`` -> date input; a string longer than 200 characters or named ``notes`` ->
textarea; integer/number -> number input; any other string -> text input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

RADIO_MAX = 3
LONG_TEXT = 200
TRUE_VALUES = frozenset({"true", "on", "1", "yes"})

# Labels of the enum values the forms use (the values themselves are stable codes, INTERFACES.md §5).
OPTION_LABELS: dict[str, Any] = {
    "approve": _l("Approve"),
    "return": _l("Return"),
    "reject": _l("Reject"),
    "revise": _l("Revise"),
    "un_sp": _l("UN Special Procedures"),
    "un_wgad": _l("UN Working Group on Arbitrary Detention"),
    "un_hrc": _l("UN Human Rights Committee"),
    "osce_odihr": _l("OSCE/ODIHR"),
    "ep_droi": _l("European Parliament, Subcommittee on Human Rights"),
    "ep_peti": _l("European Parliament, Committee on Petitions"),
    "assembly": _l("Freedom of peaceful assembly"),
    "expression": _l("Freedom of expression"),
    "torture": _l("Torture"),
    "defenders": _l("Human rights defenders"),
    "iccpr_7": _l("ICCPR art. 7 (torture, ill-treatment)"),
    "iccpr_9": _l("ICCPR art. 9 (liberty)"),
    "iccpr_10": _l("ICCPR art. 10 (treatment in detention)"),
    "iccpr_14": _l("ICCPR art. 14 (fair trial)"),
    "iccpr_17": _l("ICCPR art. 17 (privacy)"),
    "iccpr_19": _l("ICCPR art. 19 (expression)"),
    "iccpr_21": _l("ICCPR art. 21 (assembly)"),
    "iccpr_22": _l("ICCPR art. 22 (association)"),
    "iccpr_25": _l("ICCPR art. 25 (public affairs)"),
    "iccpr_26": _l("ICCPR art. 26 (equality)"),
    "online_form": _l("Online form"),
    "email": _l("E-mail"),
    "post": _l("Post"),
    "in_person": _l("In person"),
    "reminder_sent": _l("Reminder sent"),
    "update_sent": _l("Update sent"),
    "none": _l("Nothing for now"),
    "close": _l("Close the filing"),
}

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
    _l("Reference"), _l("Form of appeal verified"), _l("Power of attorney verified"),
)


def option_label(value: str) -> str:
    label = OPTION_LABELS.get(value)
    return str(label) if label is not None else value.replace("_", " ")


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

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


def widget_of(name: str, prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        return "checkboxes" if "enum" in prop.get("items", {}) else "textarea"
    if kind in ("integer", "number"):
        return "number"
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= RADIO_MAX else "select"
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
        else:
            values[name] = formdata.get(name, "")
    return values


def fields_of(schema: Mapping[str, Any], *, prefix: str, values: Mapping[str, Any] | None = None,
              errors: Mapping[str, str] | None = None) -> list[Field]:
    """The controls of a form: ``values`` are typed values (else the schema's defaults), ``errors`` per field."""
    required = set(schema.get("required", []))
    errors = errors or {}
    fields = []
    for name, prop in _properties(schema).items():
        widget = widget_of(name, prop)
        value = values[name] if values is not None and name in values else _initial(prop, widget)
        options: list[Option] = []
        if widget in ("radio", "select"):
            options = [Option(str(v), option_label(str(v)), str(v) == value) for v in prop["enum"]]
        elif widget == "checkboxes":
            chosen = set(value or [])
            options = [Option(str(v), option_label(str(v)), str(v) in chosen) for v in prop["items"]["enum"]]
        message = errors.get(name)
        fields.append(Field(
            name=name, widget=widget, label=_(prop.get("title") or name.replace("_", " ").capitalize()),
            id=f"{prefix}-{name}",
            # An unchecked box is a valid "no": a boolean is never marked as something to fill in.
            required=name in required and widget != "checkbox",
            value=value, options=options, error=_(message) if message else None,
            max_length=prop.get("maxLength") if widget in ("text", "textarea") else None,
            description=_(prop["description"]) if prop.get("description") else None,
        ))
    return fields


def other_errors(schema: Mapping[str, Any], errors: Mapping[str, str] | None) -> list[str]:
    """Errors that belong to no field of the form (shown above it)."""
    names = set(_properties(schema))
    return [f"{key}: {_(message)}" for key, message in (errors or {}).items() if key.split(".")[0] not in names]


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
