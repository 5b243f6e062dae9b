"""The appeal's forms, drawn from its schema (``workflow/schemas/appeal.py``, the one owner of the rules).

Each control is chosen by the kind of the schema's field (text, day, yes/no, list of keys, document) and marked
required as the schema says, so a change to the schema changes the form. Nothing is checked here: the posted
values go to the schema as they were typed, and its problems come back next to the controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import fields as ma
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Field as WTField
from wtforms.widgets import CheckboxInput, ListWidget

from web.forms import Required
from web.labels import LABELS, label, options
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.schemas.appeal import COLUMNS, DOCUMENT_FIELDS, AppealSchema
from workflow.schemas.base import Day, KeyList, YesNo, max_length_of
from workflow.services.episodes import episode_titles
from workflow.states import Gender

HINTS: dict[str, Any] = {
    "ref": _l("Up to 40 letters, digits, dashes or underscores, e.g. KZ-2024-001."),
    "full_name": _l("As in the passport or ID."),
    "age": _l("In years, when the date of birth is not known."),
    "incident_city": _l("Leave empty when it is the complainant's city."),
}
LONG_TEXT = frozenset({"description", "activity", "situation"})
CHOICES = {"gender": lambda session: options("gender", Gender.codes())}
KEY_CHOICES = {
    "episodes": lambda session: [SelectChoice(key, title) for key, title in episode_titles(session)],
    "incident_types": lambda session: options("incident_type", vocab.keys(session, "incident_type")),
    "perpetrator_agencies": lambda session: options("perpetrator_agency", vocab.keys(session, "perpetrator_agency")),
}


class AppealForm(FlaskForm):
    """The fields of one appeal form; ``version``: what an edit form was opened on (a stale form is refused)."""

    version = HiddenField()
    names: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """What was typed, for the schema: each field of the appeal by its name (documents apart)."""
        return {name: _typed(self[name].data) for name in self.names if name not in DOCUMENT_FIELDS}

    def documents(self, max_bytes: int) -> dict[str, tuple[bytes, str]]:
        """The chosen files by kind (read up to one byte over the limit: enough to say it is too large)."""
        chosen = {}
        for name in DOCUMENT_FIELDS:
            upload = self[name].data if name in self.names else None
            if upload is not None and getattr(upload, "filename", None):
                chosen[name] = (upload.read(max_bytes + 1), upload.filename)
        return chosen


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _field_label(name: str) -> Any:
    return LABELS["appeal"].get(name) or LABELS["person"].get(name) or name.replace("_", " ")


def _control(name: str, spec: ma.Field) -> WTField:
    flags = [Required()] if spec.required else []
    text, hint = _field_label(name), HINTS.get(name, "")
    limit = max_length_of(spec)  # the schema's own limit: the browser stops there, the hint says so
    sized = {"maxlength": limit} if limit else {}
    if name in DOCUMENT_FIELDS:
        return FileField(text, validators=flags, description=hint, render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.docx"})
    if isinstance(spec, KeyList):
        # No `required` on the boxes: a browser would then demand every one of them (the schema says "at least one").
        return Checkboxes(text, description=hint, validate_choice=False)
    if isinstance(spec, Day):
        return StringField(text, validators=flags, description=hint, render_kw={"type": "date"})
    if isinstance(spec, YesNo):
        if spec.required:  # a choice to make, not a default to overlook
            yes_no = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
            return RadioField(text, validators=flags, choices=yes_no, validate_choice=False)
        return BooleanField(text, description=hint)
    if name in CHOICES:
        return SelectField(text, validators=flags, description=hint, validate_choice=False)
    if name in LONG_TEXT:
        return TextAreaField(text, validators=flags, description=hint, render_kw={"rows": 5, **sized})
    return StringField(text, validators=flags, description=hint, render_kw=sized or None)


def appeal_form(session: Session, schema: AppealSchema, names: Sequence[str] | None = None, *,
                data: Mapping[str, Any] | None = None, **kwargs: Any) -> AppealForm:
    """A form of the schema's fields (``names``: these, in the import's column order); ``data``: the stored values
    to show (an edit form opened), else what was posted."""
    wanted = [n for n in COLUMNS if n in schema.fields and (names is None or n in names)]
    form_class = type("AppealPageForm", (AppealForm,), {n: _control(n, schema.fields[n]) for n in wanted})
    form_class.names = tuple(wanted)
    form = form_class(data=_shown(data), **kwargs) if data is not None else form_class(**kwargs)
    for name in wanted:
        control = form[name]
        if name in KEY_CHOICES:
            choices = KEY_CHOICES[name](session)
            offered = {c.value for c in choices}
            # A stored key no longer offered (a retired term) stays visible: the schema then says what is wrong
            # with it, rather than the form dropping it unseen.
            vocabulary = {"incident_types": "incident_type", "perpetrator_agencies": "perpetrator_agency"}.get(name)
            stored = [SelectChoice(k, label(vocabulary, k) if vocabulary else k)
                      for k in (data or {}).get(name, ()) if k not in offered]
            control.choices = [*choices, *stored]
        elif name in CHOICES:
            control.choices = [SelectChoice("", _("— none —")), *CHOICES[name](session)]
    return form


def _typed(value: Any) -> Any:
    """Browsers send line breaks as CR LF; stored text has LF, so an untouched text area is not a change."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _shown(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values as the controls take them: days as ISO text, key lists as lists, yes/no as booleans."""
    shown: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, date):
            shown[name] = value.isoformat()
        elif isinstance(value, tuple):
            shown[name] = list(value)
        else:
            shown[name] = "" if value is None else value
    return shown
