"""The forms of the facts for the filings, drawn from their schemas (``workflow/schemas/facts.py``, the one owner
of the rules): a control per kind of field, its length cap as ``maxlength`` (and stated under each text area),
and beside each field that may be marked (``MARKABLE``, from ``workflow/facts.py``) a "not known" checkbox.
Nothing is checked here: the posted values go to the service as typed, and its problems come back next to the
controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from marshmallow import fields as ma
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Field as WTField
from wtforms.widgets import CheckboxInput, ListWidget

from web.dates import day
from web.labels import LABELS, label, options
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.facts import ROW_KINDS
from workflow.models import Case
from workflow.schemas.base import Day, KeyList, List, Number, YesNo
from workflow.schemas.facts import ACCOUNT_MAX, ROW_SCHEMAS, SHORT_MAX, PersonFactsSchema
from workflow.schemas.validators import AtMost
from workflow.services.episodes import episode_titles
from workflow.states import Gender

UNKNOWN = "unknown_"  # the prefix of a field's "not known" checkbox
BLANK_CUSTODY_ROWS = 2  # empty rows under the places already recorded, for the next transfers
SCHEMAS: Mapping[str, Any] = {"person": PersonFactsSchema, **ROW_SCHEMAS}


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CustodyForm(Form):
    """One place of custody (a sub-form: the CSRF token is the arrest form's)."""

    place = StringField(LABELS["custody"]["place"], render_kw={"maxlength": SHORT_MAX})
    authority = StringField(LABELS["custody"]["authority"], render_kw={"maxlength": SHORT_MAX})
    from_on = StringField(LABELS["custody"]["from_on"], render_kw={"type": "date"})
    to_on = StringField(LABELS["custody"]["to_on"], render_kw={"type": "date"})


class FactsForm(FlaskForm):
    """One input of the facts; ``names``: its fields in order, ``markable``: those with a "not known" box."""

    version = HiddenField()
    kind: str = ""
    names: tuple[str, ...] = ()
    markable: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """What was typed, in the service's terms (every field: an edit form is the whole record)."""
        values: dict[str, Any] = {}
        for name in self.names:
            data = self[name].data
            if name == "custody":
                values[name] = [{k: (v or None) for k, v in place.items()} for place in data
                                if any((v or "").strip() for v in place.values())]
            elif name == "perpetrators":
                values[name] = [int(v) if _digits(v) else v for v in data or ()]
            elif name == "incident_id":
                values[name] = int(data) if _digits(data) else (data or None)
            elif isinstance(data, str):
                values[name] = data.replace("\r\n", "\n")  # browsers send CR LF; stored text has LF
            else:
                values[name] = data
        values["unknown"] = [name for name in self.markable if self[UNKNOWN + name].data]
        return values

    def unknown_box(self, name: str) -> Any:
        return self[UNKNOWN + name] if name in self.markable else None


def _cap(spec: ma.Field) -> int | None:
    return next((v.max for v in spec.validators if isinstance(v, AtMost)), None)


def _control(kind: str, name: str, spec: ma.Field) -> WTField:
    text = LABELS[kind].get(name) or name.replace("_", " ")
    if name == "custody":
        return FieldList(FormField(CustodyForm), label=text)
    if name in ("perpetrators",) or isinstance(spec, KeyList):
        return Checkboxes(text, validate_choice=False)
    if isinstance(spec, List):
        return Checkboxes(text, validate_choice=False)
    if name in ("agency", "gender", "episode", "incident_id", "warrant_shown"):
        return SelectField(text, validate_choice=False)
    if isinstance(spec, Day):
        return StringField(text, render_kw={"type": "date"})
    if isinstance(spec, YesNo):
        return BooleanField(text)
    if isinstance(spec, Number):
        return StringField(text, render_kw={"type": "number", "min": 0, "max": 130})
    cap = _cap(spec)
    if cap is not None and cap >= ACCOUNT_MAX:
        shown = format(cap, ",").replace(",", " ")  # 10 000
        return TextAreaField(text, render_kw={"maxlength": cap, "rows": 3},
                             description=_l("Up to %(max)s characters.", max=shown))
    return StringField(text, render_kw={"maxlength": cap or SHORT_MAX})


_CLASSES: dict[str, type[FactsForm]] = {}


def _form_class(kind: str) -> type[FactsForm]:
    if kind not in _CLASSES:
        schema = SCHEMAS[kind]
        group = "person" if kind == "person" else kind
        names = tuple(n for n in schema._declared_fields if n != "unknown")
        attrs: dict[str, Any] = {n: _control(group, n, schema._declared_fields[n]) for n in names}
        for name in schema.MARKABLE:
            attrs[UNKNOWN + name] = BooleanField(_l("not known"))
        _CLASSES[kind] = type(f"{kind.title().replace('_', '')}FactsForm", (FactsForm,),
                              {**attrs, "kind": kind, "names": names, "markable": tuple(schema.MARKABLE)})
    return _CLASSES[kind]


def prefix(kind: str, row_id: int | None) -> str:
    return f"{kind}-{row_id if row_id is not None else 'new'}"


def facts_form(session: Any, case: Case, kind: str, row_id: int | None = None, *,
               data: Mapping[str, Any] | None = None) -> FactsForm:
    """The form of ``kind`` for a row (``row_id``; None: a new one, or the person's facts): the posted form, or
    (``data``: stored values, as ``services/facts`` gives them) one filled in to edit."""
    form_class = _form_class(kind)
    if data is None:
        form = form_class(prefix=prefix(kind, row_id))
    else:
        form = form_class(prefix=prefix(kind, row_id), formdata=None, data=_shown(data, form_class.markable))
    if "custody" in form_class.names and (data is not None or not form.custody.entries):
        for _blank in range(BLANK_CUSTODY_ROWS):
            form.custody.append_entry()
    _choices(session, case, kind, form, data or {})
    return form


def _choices(session: Any, case: Case, kind: str, form: FactsForm, data: Mapping[str, Any]) -> None:
    names = form.names
    if "agency" in names:
        form["agency"].choices = [SelectChoice("", _("— choose —")), *_offered(
            "perpetrator_agency", vocab.keys(session, "perpetrator_agency"), [data.get("agency")])]
    if "types" in names:
        form["types"].choices = _offered("incident_type", vocab.keys(session, "incident_type"), data.get("types") or ())
    if "gender" in names:
        form["gender"].choices = [SelectChoice("", _("— none —")), *options("gender", Gender.codes())]
    if "episode" in names:
        form["episode"].choices = [SelectChoice("", _("— none —")),
                                   *(SelectChoice(key, title) for key, title in episode_titles(session))]
    if "warrant_shown" in names:
        form["warrant_shown"].choices = [SelectChoice("", _("— not recorded —")), SelectChoice("yes", _("Yes")),
                                         SelectChoice("no", _("No"))]
    if "perpetrators" in names and kind == "incidents":
        form["perpetrators"].choices = [SelectChoice(str(p.id), perpetrator_line(p)) for p in case.perpetrators]
    if "incident_id" in names:
        form["incident_id"].choices = [SelectChoice("", _("— none —")),
                                       *(SelectChoice(str(i.id), incident_line(i)) for i in case.incidents)]


def _offered(group: str, active: Sequence[str], stored: Sequence[Any]) -> list[SelectChoice]:
    """The active terms, and a stored one no longer offered (a retired term stays visible rather than dropped)."""
    keys = [*active, *(k for k in stored if k and k not in active)]
    return options(group, keys)


def _shown(data: Mapping[str, Any], markable: Sequence[str]) -> dict[str, Any]:
    """Stored values as the controls take them: days as ISO text, yes/no as a choice, ids as text."""
    shown: dict[str, Any] = {}
    for name, value in data.items():
        if name == "unknown":
            shown.update({UNKNOWN + n: n in (value or ()) for n in markable})
        elif name == "custody":
            shown[name] = [_shown(place, ()) for place in value or ()]
        elif name == "warrant_shown":
            shown[name] = "" if value is None else ("yes" if value else "no")
        elif name == "perpetrators":
            shown[name] = [str(v) for v in value or ()]
        elif isinstance(value, date):
            shown[name] = value.isoformat()
        elif value is None:
            shown[name] = ""
        elif isinstance(value, int) and not isinstance(value, bool):
            shown[name] = str(value)
        else:
            shown[name] = value
    return shown


def perpetrator_line(p: Any) -> str:
    """A perpetrator in one line: agency, unit, position, name (what is known of them)."""
    return " · ".join(part for part in (label("perpetrator_agency", p.agency), p.unit, p.position, p.name) if part)


def incident_line(i: Any) -> str:
    when = day(i.occurred_on) if i.occurred_on else _("date not recorded")
    return " · ".join(part for part in (when, i.city or i.place, ", ".join(label("incident_type", t) for t in i.types))
                      if part)


class UnknownFactsForm(FlaskForm):
    """Whether any row of a kind is known (``workflow/facts.py`` ROW_KINDS: "no perpetrator could be identified");
    the person's markers are the boxes of the person's form."""

    marked = Checkboxes(_l("Marked as not known by a person"), validate_choice=False)

    def changes(self) -> dict[str, list[str]]:
        chosen = set(self.marked.data or ())
        return {"mark": [k for k in ROW_KINDS if k in chosen], "unmark": [k for k in ROW_KINDS if k not in chosen]}


def unknown_facts_form(case: Case | None = None) -> UnknownFactsForm:
    if case is None:
        form = UnknownFactsForm(prefix="unknown-facts")
    else:
        form = UnknownFactsForm(prefix="unknown-facts", formdata=None,
                                data={"marked": [k for k in case.unknown_facts or () if k in ROW_KINDS]})
    form.marked.choices = options("case_fact", ROW_KINDS)
    return form


class RemoveForm(FlaskForm):
    """Removing a row: the CSRF token and the version of the row as shown."""

    version = HiddenField()


def _digits(value: object) -> bool:
    """A whole number as a form sends it, short enough to read ("²" is a digit to Python, not to int()); a larger
    one goes to the schema as typed, which refuses it."""
    text = str(value or "")
    return text.isascii() and text.isdigit() and len(text) <= 40
