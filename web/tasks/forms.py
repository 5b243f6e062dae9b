"""Task forms rendered from the JSON Schema a user task names, and the form data turned back into JSON.

The schema is the one the service validates with, so the page and the service cannot disagree about
fields: ``fields_of`` describes one HTML control per property, ``convert`` reads the posted fields into
JSON of the declared types, and what the service refused comes back next to its field (``web/messages.py``
words it).

Controls: the task's UI schema (``formUiSchemaFilename``, ``workflow/form_ui.py``) chooses each field's widget,
order, help, placeholder and rows; a field it does not mention gets its type's default: boolean -> checkbox,
enum -> select, array of enum -> checkboxes, ``format: date`` -> date input, integer/number -> number input,
array of text -> textarea (one line each), string -> text input. A property bound to a vocabulary
(``x-vocabulary``) counts as an enum: ``task_forms.fill_enums`` lists its active keys before the form is drawn. An
object whose properties are enums (the legal review's filing language per body, once filled) -> one select per
property, posted as ``NAME.KEY``; a select left empty is left out (the service's default). What is posted depends on
the type alone (the widgets a UI schema may choose for a type post alike), so reading a form needs no UI schema.

The schema's and the UI schema's texts are English source strings extracted by ``make i18n``
(``workflow/babel_extract.py``) and translated here when drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from web.labels import label
from web.translate import gettext as _
from workflow import form_ui

TRUE_VALUES = frozenset({"true", "on", "1", "yes"})


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass
class Field:
    """One control of a task form, ready for the ``macros/forms.html`` macros."""

    name: str
    widget: str  # one of form_ui.WIDGETS
    label: str
    id: str
    required: bool = False
    value: Any = None  # str for inputs, bool for a checkbox, list[str] for checkboxes
    options: list[Option] = field(default_factory=list)
    error: str | None = None
    max_length: int | None = None
    description: str | None = None
    parts: list[Field] = field(default_factory=list)  # the selects of a "selects" group
    help: str | None = None  # the UI schema's ui:help, under the control
    placeholder: str | None = None
    rows: int | None = None  # a text area's height

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"


def _posted_as(prop: Mapping[str, Any]) -> str:
    """The widget a field's value is read as: its type's default (the others that fit post alike)."""
    return form_ui.widgets_for(prop)[0]


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
        widget = _posted_as(prop)
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


def fields_of(schema: Mapping[str, Any], *, prefix: str, ui: Mapping[str, Any] | None = None,
              values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None,
              labels: Mapping[str, Mapping[str, str]] | None = None) -> list[Field]:
    """The controls of a form, drawn as its UI schema ``ui`` says (type defaults without one): ``values`` are typed
    values (else the schema's defaults), ``errors`` the sentences to show per field.

    ``labels``: vocabulary -> key -> label, for the options of properties bound to a vocabulary (``x-vocabulary``:
    body, mandate, legal_ground); other options are labelled from the "option" labels (``web/labels.py``).
    """
    required = set(schema.get("required", []))
    properties = _properties(schema)
    errors, ui = errors or {}, ui or {}
    fields = []
    for name in form_ui.ordered(list(properties), ui):
        prop, look = properties[name], form_ui.field_ui(ui, name)
        widget = form_ui.widget_of(prop, look)
        value = values[name] if values is not None and name in values else _initial(prop, widget)
        if widget == "selects":
            fields.append(_selects(name, prop, prefix, value, errors, labels or {}))
            continue
        options: list[Option] = []
        if widget in ("radio", "select", "checkboxes"):
            options = _options(prop, widget, value, labels or {})
        fields.append(Field(
            name=name, widget=widget, label=_(look.get("ui:title") or prop.get("title") or _untitled(name)),
            id=f"{prefix}-{name}",
            # An unchecked box is a valid "no": a boolean is never marked as something to fill in.
            required=name in required and widget != "checkbox",
            value=value, options=options, error=errors.get(name) or None,
            max_length=prop.get("maxLength") if widget in ("text", "textarea") else None,
            description=_(prop["description"]) if prop.get("description") else None,
            help=_(look["ui:help"]) if look.get("ui:help") else None,
            placeholder=_(look["ui:placeholder"]) if look.get("ui:placeholder") else None,
            rows=look.get("ui:rows"),
        ))
    return fields


def _untitled(name: str) -> str:
    return name.replace("_", " ").capitalize()


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
        widget = _posted_as(prop)
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
