"""The admin forms: a new user; a catalogue entry with a sub-form per admissibility rule (``FormField``); a term.

Forms only draw the controls and turn what was typed into the services' terms (numbers of days, a state's date
per line); ``schemas/catalogue.py`` and the user service decide what is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    FormField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from web.forms import Required
from web.labels import label
from web.translate import lazy_gettext as _l
from workflow.admissibility import PARAMETERS, RULES
from workflow.i18n import UI_LANGUAGES, language_name
from workflow.models import Body, VocabularyTerm
from workflow.roles import Role
from workflow.schemas.catalogue import (
    CHANNELS,
    COMMUNICATION_TYPES,
    CONSENT_REQUIREMENTS,
    EXTRA_FIELDS,
    FILING_LANGUAGES,
    LABEL_MAX,
    NAME_MAX,
    NOTES_MAX,
)
from workflow.services.users import FULL_NAME_MAX

# -- users ---------------------------------------------------------------------------------------------------


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[Required()], render_kw={"maxlength": 80})
    full_name = StringField(_l("Full name"), render_kw={"maxlength": FULL_NAME_MAX})
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, _l(r.label)) for r in Role], validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False,
                         choices=[SelectChoice(code, language_name(code, code)) for code in UI_LANGUAGES])
    timezone = SelectField(_l("Time zone"), validate_choice=False)  # choices: web.dates.timezone_choices
    password = PasswordField(_l("Initial password"), validators=[Required()])
    email = StringField(_l("E-mail (for the daily digest; optional)"), render_kw={"maxlength": 254})


# -- the catalogue of bodies ---------------------------------------------------------------------------------

class Checkboxes(SelectMultipleField):
    """A group of checkboxes; the values are checked by the service."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        return None


BODY_FIELD_NAMES = {
    "names": _l("Names"), "languages": _l("Accepted languages"), "channels": _l("Channels"),
    "mandates": _l("Special Procedures mandates"), "communication_types": _l("Communication types"),
    "required_consent": _l("Required consent"), "rules": _l("Admissibility rules"),
    "response_days": _l("Response window (days)"), "follow_up_days": _l("Follow-up interval (days)"),
    "notes": _l("Notes"), "active": _l("Active"),
}
CONSENT_NAMES = {
    "verified": _l("Consent verified"),
    "share_name_with_government": _l("The name may be shared with the government"),
    "publish_name": _l("The name may be published"),
    "not_anonymous": _l("The complainant is not anonymous"),
}
RULE_NAMES = {
    "communication_type": _l("A kind of communication is chosen"),
    "deprivation_of_liberty": _l("Deprivation of liberty"),
    "exhaustion": _l("Domestic remedies exhausted"),
    "same_matter": _l("Not examined under another procedure"),
    "time_bar": _l("Time bar"),
    "ratione_temporis": _l("Ratione temporis"),
    "eu_petitioner": _l("EU citizen or resident"),
    "eu_subject": _l("Subject within the EU's fields of activity"),
    "public_petition": _l("The petition becomes public"),
}
LEVEL_NAMES = {"": _l("the rule's default"), "error": _l("error: blocks the body"), "warning": _l("warning only")}
PARAMETER_NAMES = {
    "years_after_exhaustion": _l("Years after domestic remedies were exhausted"),
    "years_after_other_procedure": _l("Years after another procedure concluded"),
    "bound_from": _l("Bound from: one line per state, its code and the date"),
}
# Rule parameters that map a state to a date, typed as lines "KZ 2009-09-30"; the others are whole numbers.
STATE_DATE_PARAMETERS = frozenset({"bound_from"})


def whole_number(text: str | None) -> int | str:
    """A number control's text as a number; anything else as typed, for the service to refuse for its field."""
    text = (text or "").strip()
    try:
        return int(text)
    except ValueError:
        return text


def _state_dates(text: str) -> dict[str, str]:
    pairs = {}
    for line in (text or "").splitlines():
        state, _sep, day = line.strip().partition(" ")
        if state:
            pairs[state.upper()] = day.strip()
    return pairs


def _rule_form(name: str) -> type[Form]:
    """The sub-form of one rule: does it apply, at which level, and its parameters."""
    fields: dict[str, Any] = {
        "applies": BooleanField(_l("Applies")),
        "level": SelectField(_l("Level"), choices=[SelectChoice(k, v) for k, v in LEVEL_NAMES.items()],
                             validate_choice=False),
    }
    for parameter in PARAMETERS.get(name, {}):
        text = PARAMETER_NAMES.get(parameter, parameter)
        fields[parameter] = TextAreaField(text) if parameter in STATE_DATE_PARAMETERS else \
            StringField(text, widget=NumberInput())
    return type(f"{name.title().replace('_', '')}RuleForm", (Form,), fields)


RulesForm = type("RulesForm", (Form,), {name: FormField(_rule_form(name), label=RULE_NAMES.get(name, name))
                                        for name in RULES})
# One text per UI language, labelled with the language's name when the form is drawn (``_name_languages``).
NamesForm = type("NamesForm", (Form,), {lang: StringField(lang, render_kw={"maxlength": NAME_MAX})
                                        for lang in UI_LANGUAGES})


class BodyForm(FlaskForm):
    names = FormField(NamesForm, label=BODY_FIELD_NAMES["names"])
    languages = Checkboxes(BODY_FIELD_NAMES["languages"])
    channels = Checkboxes(BODY_FIELD_NAMES["channels"])
    mandates = Checkboxes(BODY_FIELD_NAMES["mandates"])
    communication_types = Checkboxes(BODY_FIELD_NAMES["communication_types"])
    required_consent = Checkboxes(BODY_FIELD_NAMES["required_consent"],
                                  description=_l("Consent verification is always checked, whatever is ticked here."))
    rules = FormField(RulesForm, label=BODY_FIELD_NAMES["rules"])
    response_days = StringField(BODY_FIELD_NAMES["response_days"], widget=NumberInput(), validators=[Required()])
    follow_up_days = StringField(BODY_FIELD_NAMES["follow_up_days"], widget=NumberInput(), validators=[Required()])
    notes = TextAreaField(BODY_FIELD_NAMES["notes"], render_kw={"maxlength": NOTES_MAX})
    active = BooleanField(_l("Active: offered in new reviews"))

    CHOICE_FIELDS = ("languages", "channels", "mandates", "communication_types", "required_consent")

    def changes(self, stored: Body) -> dict[str, Any]:
        """The whole entry in the service's terms (``update_body`` audits only what differs)."""
        rules = {}
        for name in RULES:
            rule = self.rules[name]
            if rule.applies.data:
                params: dict[str, Any] = {"level": rule.level.data} if rule.level.data else {}
                for parameter in PARAMETERS.get(name, {}):
                    text = rule[parameter].data or ""
                    if text.strip():
                        params[parameter] = _state_dates(text) if parameter in STATE_DATE_PARAMETERS \
                            else whole_number(text)
                rules[name] = params
        return {"names": dict(self.names.data),
                **{name: _in_stored_order(self[name].data or [], getattr(stored, name)) for name in self.CHOICE_FIELDS},
                "rules": rules, "response_days": whole_number(self.response_days.data),
                "follow_up_days": whole_number(self.follow_up_days.data), "notes": self.notes.data or "",
                "active": bool(self.active.data)}


def _in_stored_order(chosen: list[str], stored: list[str]) -> list[str]:
    # The checkboxes come in the catalogue's order, a body's list may be in its own (say, of preference):
    # values kept keep their place and new ones follow, so saving the form unchanged changes nothing.
    return [v for v in stored if v in chosen] + [v for v in chosen if v not in stored]


def body_form(body: Body, mandates: list[tuple[str, str]], *, posted: bool) -> BodyForm:
    """The posted form (``posted``), or one filled from the stored entry; ``mandates``: (key, label) offered."""
    if posted:
        form = BodyForm()
    else:
        rules = {}
        for name in RULES:
            given = body.rules.get(name)
            rules[name] = {"applies": given is not None, "level": str((given or {}).get("level", "")),
                           **{p: _parameter_text(p, (given or {})[p]) for p in PARAMETERS.get(name, {})
                              if p in (given or {})}}
        form = BodyForm(formdata=None, data={
            "names": {lang: body.names.get(lang, "") for lang in UI_LANGUAGES},
            **{name: list(getattr(body, name)) for name in BodyForm.CHOICE_FIELDS},
            "rules": rules, "response_days": str(body.response_days), "follow_up_days": str(body.follow_up_days),
            "notes": body.notes, "active": body.active})
    _name_languages(form.names)
    form.languages.choices = [SelectChoice(c, label("locale", c)) for c in FILING_LANGUAGES]
    form.channels.choices = [SelectChoice(c, label("option", c)) for c in CHANNELS]
    form.mandates.choices = [SelectChoice(k, text) for k, text in mandates]
    form.communication_types.choices = [SelectChoice(c, label("option", c)) for c in COMMUNICATION_TYPES]
    form.required_consent.choices = [SelectChoice(c, CONSENT_NAMES[c]) for c in CONSENT_REQUIREMENTS]
    return form


def _name_languages(per_language: Any) -> None:
    for lang in UI_LANGUAGES:
        per_language[lang].label.text = label("locale", lang)


def _parameter_text(name: str, value: Any) -> str:
    if name in STATE_DATE_PARAMETERS and isinstance(value, dict):
        return "\n".join(f"{state} {day}" for state, day in value.items())
    return str(value)


# -- vocabularies --------------------------------------------------------------------------------------------

EXTRA_NAMES = {"deprivation_of_liberty": _l("Deprivation of liberty"), "udhr": _l("UDHR articles")}
LabelsForm = type("LabelsForm", (Form,), {lang: StringField(lang, render_kw={"maxlength": LABEL_MAX})
                                          for lang in UI_LANGUAGES})


def _extra_form(vocabulary: str) -> type[Form]:
    fields = {name: BooleanField(EXTRA_NAMES[name]) if kind == "flag" else StringField(EXTRA_NAMES[name])
              for name, kind in EXTRA_FIELDS.get(vocabulary, {}).items()}
    return type(f"{vocabulary.title().replace('_', '')}ExtraForm", (Form,), fields)


_TERM_FORMS: dict[str, type[FlaskForm]] = {}


def term_form_class(vocabulary: str) -> type[FlaskForm]:
    """The form of a term of ``vocabulary``: its key (new terms), labels, and the vocabulary's extra fields."""
    if vocabulary not in _TERM_FORMS:
        _TERM_FORMS[vocabulary] = type(f"{vocabulary.title().replace('_', '')}TermForm", (FlaskForm,), {
            "key": StringField(_l("Key"), description=_l("A stable code stored on cases: it never changes once "
                                                         "created."), render_kw={"maxlength": 80}),
            "labels": FormField(LabelsForm, label=_l("Labels")),
            "extra": FormField(_extra_form(vocabulary), label=_l("Details")),
        })
    return _TERM_FORMS[vocabulary]


def term_form(vocabulary: str, prefix: str, term: VocabularyTerm | None = None, *, posted: bool = False) -> FlaskForm:
    """A term's form: posted, stored (``term``), or blank (a new term)."""
    form_class: Callable[..., FlaskForm] = term_form_class(vocabulary)
    if posted:
        form = form_class(prefix=prefix)
    else:
        data: dict[str, Any] = {}
        if term is not None:
            data = {"key": term.key, "labels": {lang: term.labels.get(lang, "") for lang in UI_LANGUAGES},
                    "extra": {name: term.extra.get(name) is True if kind == "flag" else str(term.extra.get(name, ""))
                              for name, kind in EXTRA_FIELDS.get(vocabulary, {}).items()}}
        form = form_class(prefix=prefix, formdata=None, data=data)
    _name_languages(form.labels)
    return form


def term_changes(form: Any, vocabulary: str) -> dict[str, Any]:
    """Labels and extra fields in the service's terms. An unticked box and an empty text are left out, as in the
    seeded terms, so that saving a label does not also record a change of the extra fields from absent to false."""
    extra = {}
    for name, kind in EXTRA_FIELDS.get(vocabulary, {}).items():
        value = form.extra[name].data
        if kind == "flag" and value:
            extra[name] = True
        elif kind == "text" and (value or "").strip():
            extra[name] = value.strip()
    return {"labels": dict(form.labels.data), "extra": extra}


class OrganisationForm(FlaskForm):
    """The organisation's profile; what is valid is ``schemas/organisation.py``'s to say (nothing checked here)."""

    name = StringField(_l("Organisation name"), validators=[Required()],
                       description=_l("As the filings name the submitting organisation."))
    address = TextAreaField(_l("Address"), render_kw={"rows": 3})
    email = StringField(_l("E-mail"), render_kw={"type": "email"})
    phone = StringField(_l("Phone"))
    representative = StringField(_l("Representative or lawyer"),
                                 description=_l("The person named as representative, who signs the filings."))
    representative_title = StringField(_l("Their title"),
                                       description=_l("For example: lawyer, member of the Almaty bar."))
