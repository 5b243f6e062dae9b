"""How a task form is drawn: the UI schema next to its JSON Schema (``bpmn/forms/<form>-uischema.json``).

A user task names its UI schema with the ``formUiSchemaFilename`` property, as spiff-arena does; the file is
react-jsonschema-form's UI schema, of which Petitio reads:

- ``ui:order``: the order of the fields (``"*"`` stands for the fields it does not name; without it they follow);
- per field: ``ui:widget`` (one of ``WIDGETS``, fitting the field's type: ``widgets_for``), ``ui:title`` (instead
  of the schema's title), ``ui:help`` (a hint under the control), ``ui:placeholder``, ``ui:rows`` (a text area's).

A field without an entry gets the first widget that fits its type. The deploy check (``runtime/specs.check_specs``)
refuses a UI schema that ``problem_of`` finds fault with, so the pages never meet an unknown widget. The texts
(``TEXT_KEYS``) are English source strings: ``make i18n`` extracts them (``workflow/babel_extract.py``) and the pages
translate them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ORDER = "ui:order"
WIDGET = "ui:widget"
ROWS = "ui:rows"
TEXT_KEYS = ("ui:title", "ui:help", "ui:placeholder")
FIELD_KEYS = frozenset({WIDGET, ROWS, *TEXT_KEYS})
# Every control the task pages draw (web/tasks/forms.py, macros/forms.html). "selects": an object whose
# properties are enums (the legal review's filing language per body), one select each.
WIDGETS = ("checkbox", "radio", "select", "checkboxes", "date", "textarea", "text", "number", "selects")


def widgets_for(prop: Mapping[str, Any]) -> tuple[str, ...]:
    """The controls that can post a value of this property's type, the default first.

    A property bound to a vocabulary (``x-vocabulary``) counts as an enum: its keys are filled in when it is drawn.
    """
    kind = prop.get("type")
    if kind == "object":
        return ("selects",)
    if kind == "boolean":
        return ("checkbox",)
    if kind == "array":
        items = prop.get("items", {})
        return ("checkboxes",) if "enum" in items or "x-vocabulary" in items else ("textarea",)
    if kind in ("integer", "number"):
        return ("number",)
    if "enum" in prop or "x-vocabulary" in prop:
        return ("select", "radio")
    if prop.get("format") == "date":
        return ("date", "text")
    return ("text", "textarea")


def field_ui(ui: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The UI schema's entry for one field (empty when it has none)."""
    entry = ui.get(name)
    return entry if isinstance(entry, Mapping) else {}


def widget_of(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    """The control of a field: its UI schema's ``ui:widget``, else its type's default."""
    return str(ui.get(WIDGET) or widgets_for(prop)[0])


def ordered(names: list[str], ui: Mapping[str, Any]) -> list[str]:
    """The field names in the UI schema's ``ui:order`` (the schema's own order without one)."""
    order = [n for n in ui.get(ORDER, []) if n == "*" or n in names]
    if not order:
        return names
    rest = [n for n in names if n not in order]
    if "*" not in order:
        return [*order, *rest]
    at = order.index("*")
    return [*order[:at], *rest, *order[at + 1:]]


def problem_of(text: str, schema: Mapping[str, Any]) -> str | None:
    """What is wrong with a UI schema for ``schema`` (one line), or None: not JSON, not an object, a field or key
    the form does not have, an unknown widget or one that does not fit its field."""
    try:
        ui = json.loads(text)
    except ValueError as err:
        return f"not valid JSON ({err})"
    if not isinstance(ui, dict):
        return "not a JSON object"
    properties = schema.get("properties", {})
    order = ui.get(ORDER, [])
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        return f"{ORDER} is not a list of field names"
    for name in [n for n in order if n != "*"] + [k for k in ui if k != ORDER]:
        if name not in properties:
            return f"names field {name!r}, which the form does not have"
    for name, entry in ui.items():
        if name == ORDER:
            continue
        if not isinstance(entry, dict):
            return f"field {name!r}: not a JSON object"
        unknown = sorted(set(entry) - FIELD_KEYS)
        if unknown:
            return f"field {name!r}: unknown key {unknown[0]!r}"
        widget = entry.get(WIDGET)
        if widget is not None and widget not in WIDGETS:
            return f"field {name!r}: unknown widget {widget!r} (known: {', '.join(WIDGETS)})"
        fitting = widgets_for(properties[name])
        if widget is not None and widget not in fitting:
            return f"field {name!r}: widget {widget!r} does not fit its type (fitting: {', '.join(fitting)})"
        if any(not isinstance(entry[k], str) for k in TEXT_KEYS if k in entry):
            return f"field {name!r}: {', '.join(TEXT_KEYS)} must be texts"
        rows = entry.get(ROWS)
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 50):
            return f"field {name!r}: {ROWS} must be a whole number from 1 to 50"
    return None
