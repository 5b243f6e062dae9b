"""Admin pages for the catalogue of filing bodies and the controlled vocabularies. Admins only.

Every edit goes through ``workflow.bodies.update_body`` or ``workflow.vocab.add_term``/``update_term``, which
validate and audit. The pages only turn the form into the services' types and turn the services' errors
(English, one per field) into translated messages next to the fields, keeping what was typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug import Response
from werkzeug.datastructures import MultiDict

from web.access import roles
from web.database import db
from web.extensions import current_locale
from web.forms import Field, Option, option_label
from workflow import vocab
from workflow.admissibility import PARAMETERS, RULES
from workflow.bodies import (
    CHANNELS,
    COMMUNICATION_TYPES,
    CONSENT_REQUIREMENTS,
    FILING_LANGUAGES,
    MAX_DAYS,
    NAME_MAX,
    NOTES_MAX,
    all_bodies,
    body_name,
    get_body,
)
from workflow.bodies import update_body as save_body
from workflow.errors import NotFound, ValidationFailed
from workflow.models import AuditEvent, Body, Role, VocabularyTerm
from workflow.services import page_support
from workflow.services.history import object_history
from workflow.vocab import EXTRA_FIELDS, KEY_PATTERN, LABEL_MAX, UI_LANGUAGES, VOCABULARIES

bp = Blueprint("catalogue", __name__, url_prefix="/admin")

# -- labels: the codes of the catalogue, in words ---------------------------------------------------------

UI_LANGUAGE_NAMES = {"en": _l("English"), "ru": _l("Russian")}
FILING_LANGUAGE_NAMES = {
    "en": _l("English"), "fr": _l("French"), "es": _l("Spanish"), "ru": _l("Russian"), "de": _l("German"),
    "it": _l("Italian"), "pl": _l("Polish"), "lt": _l("Lithuanian"), "lv": _l("Latvian"), "et": _l("Estonian"),
}
COMMUNICATION_TYPE_NAMES = {"urgent_appeal": _l("Urgent appeal"), "letter_of_allegation": _l("Letter of allegation")}
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
BODY_FIELD_NAMES = {
    "names": _l("Names"), "languages": _l("Accepted languages"), "channels": _l("Channels"),
    "mandates": _l("Special Procedures mandates"), "communication_types": _l("Communication types"),
    "required_consent": _l("Required consent"), "rules": _l("Admissibility rules"),
    "response_days": _l("Response window (days)"), "follow_up_days": _l("Follow-up interval (days)"),
    "notes": _l("Notes"), "active": _l("Active"),
}
VOCABULARY_NAMES = {
    "incident_type": _l("Incident types"), "perpetrator_agency": _l("Perpetrator agencies"),
    "legal_ground": _l("Legal grounds"), "mandate": _l("Special Procedures mandates"),
}
EXTRA_NAMES = {"deprivation_of_liberty": _l("Deprivation of liberty"), "udhr": _l("UDHR articles")}
TERM_FIELD_NAMES = {"labels": _l("Labels"), "extra": _l("Details"), "active": _l("Active")}
ACTION_NAMES = {"body_changed": _l("Entry changed"), "term_added": _l("Term added"), "term_changed": _l("Term changed")}
CHECKBOX_EXTRAS = frozenset({"deprivation_of_liberty"})  # the other extra fields are short texts


def _name(names: Mapping[str, Any], code: str) -> str:
    found = names.get(code)
    return str(found) if found is not None else code.replace("_", " ")


# -- history: audit events as "who, when, which field, before -> after" -----------------------------------

@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: list[Change]


def _shown(value: Any) -> str:
    if value is None or value in ("", [], {}):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):  # names, labels, rules: the stored value, exactly
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _history(events: Iterable[AuditEvent], field_names: Mapping[str, Any]) -> list[HistoryEntry]:
    entries = []
    for event in events:
        data = event.data or {}
        before, after = data.get("before") or {}, data.get("after") or {}
        # A change names its fields; an addition has only the new state.
        changed = data.get("fields") or sorted(after)
        who = (event.actor.full_name or event.actor.username) if event.actor else _("Petitio (automatic)")
        entries.append(HistoryEntry(
            event.at, who, _name(ACTION_NAMES, event.action),
            [Change(_name(field_names, n), _shown(before.get(n)), _shown(after.get(n))) for n in changed]))
    return entries


# -- the list of bodies -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BodyRow:
    code: str
    name: str
    languages: list[str]
    response_days: int
    follow_up_days: int
    active: bool
    updated_at: datetime
    updated_by: str | None


@bp.get("/bodies")
@roles(Role.ADMIN)
def bodies() -> str:
    session = db()
    found = all_bodies(session, include_inactive=True)
    editors = page_support.user_names(session, {b.updated_by_id for b in found if b.updated_by_id})
    locale = current_locale()
    rows = [BodyRow(b.code, body_name(b, locale), b.languages, b.response_days, b.follow_up_days, b.active,
                    b.updated_at, editors.get(b.updated_by_id) if b.updated_by_id else None) for b in found]
    return render_template("admin/bodies.html", rows=rows)


# -- one body: the edit form ------------------------------------------------------------------------------

CHOICE_FIELDS = ("languages", "channels", "mandates", "communication_types", "required_consent")


@dataclass
class RuleInput:
    applies: bool
    level: str  # "" keeps the rule's own default level
    params: dict[str, str]  # parameter -> the text of its control


@dataclass
class BodyInput:
    """The edit form's values as the controls show them: from the stored entry, or as typed."""

    names: dict[str, str]
    chosen: dict[str, list[str]]
    rules: dict[str, RuleInput]
    response_days: str
    follow_up_days: str
    notes: str
    active: bool

    @classmethod
    def of_body(cls, body: Body) -> BodyInput:
        return cls(names={lang: body.names.get(lang, "") for lang in UI_LANGUAGES},
                   chosen={name: list(getattr(body, name)) for name in CHOICE_FIELDS},
                   rules={name: _rule_input(name, body.rules.get(name)) for name in RULES},
                   response_days=str(body.response_days), follow_up_days=str(body.follow_up_days),
                   notes=body.notes, active=body.active)

    @classmethod
    def of_form(cls, form: MultiDict[str, str]) -> BodyInput:
        rules = {name: RuleInput(applies=form.get(f"rule_{name}") == "true", level=form.get(f"level_{name}", ""),
                                 params={p: form.get(f"param_{name}_{p}", "") for p in PARAMETERS.get(name, {})})
                 for name in RULES}
        return cls(names={lang: form.get(f"name_{lang}", "") for lang in UI_LANGUAGES},
                   chosen={name: form.getlist(name) for name in CHOICE_FIELDS}, rules=rules,
                   response_days=form.get("response_days", ""), follow_up_days=form.get("follow_up_days", ""),
                   notes=form.get("notes", ""), active=form.get("active") == "true")

    def changes(self, stored: Body) -> dict[str, Any]:
        """The whole entry in the service's types (``update_body`` audits only what differs)."""
        rules = {}
        for name, rule in self.rules.items():
            if rule.applies:
                params: dict[str, Any] = {"level": rule.level} if rule.level else {}
                params.update({p: _parameter_value(p, text) for p, text in rule.params.items() if text.strip()})
                rules[name] = params
        return {"names": dict(self.names),
                **{name: _in_stored_order(values, getattr(stored, name)) for name, values in self.chosen.items()},
                "rules": rules, "response_days": _whole_number(self.response_days),
                "follow_up_days": _whole_number(self.follow_up_days), "notes": self.notes, "active": self.active}


def _rule_input(name: str, params: dict[str, Any] | None) -> RuleInput:
    """A stored rule as its controls show it (``params`` is None when the body does not apply the rule)."""
    given = params or {}
    return RuleInput(applies=params is not None, level=str(given.get("level", "")),
                     params={p: _parameter_text(p, given[p]) for p in PARAMETERS.get(name, {}) if p in given})


def _in_stored_order(chosen: list[str], stored: list[str]) -> list[str]:
    # The checkboxes come in the catalogue's order, a body's list may be in its own (say, of preference):
    # values kept keep their place and new ones follow, so saving the form unchanged changes nothing.
    return [v for v in stored if v in chosen] + [v for v in chosen if v not in stored]


def _whole_number(text: str) -> int | str:
    # Text that is not a number goes to the service as it is, which refuses it for its field.
    try:
        return int(text.strip())
    except ValueError:
        return text


def _parameter_value(name: str, text: str) -> Any:
    if name not in STATE_DATE_PARAMETERS:
        return _whole_number(text)
    pairs = {}
    for line in text.splitlines():
        state, _sep, day = line.strip().partition(" ")
        if state:
            pairs[state.upper()] = day.strip()
    return pairs


def _parameter_text(name: str, value: Any) -> str:
    if name in STATE_DATE_PARAMETERS and isinstance(value, dict):
        return "\n".join(f"{state} {day}" for state, day in value.items())
    return str(value)


def _body_error(key: str, typed: BodyInput) -> str:
    """The translated message for an error ``update_body`` reported on ``key``."""
    name, _dot, rest = key.partition(".")
    parameter = rest.partition(".")[2]
    if name == "names":
        if not typed.names.get("en", "").strip():
            return _("An English name is required.")
        return _("A name is at most %(max)d characters.", max=NAME_MAX)
    if name in ("response_days", "follow_up_days"):
        return _("Enter a whole number of days from 1 to %(max)d.", max=MAX_DAYS)
    if name == "languages" and not typed.chosen["languages"]:
        return _("Choose at least one language.")
    if name == "mandates":
        return _("Only active mandates can be chosen: untick the retired ones.")
    if name == "notes":
        return _("The notes are at most %(max)d characters.", max=NOTES_MAX)
    if name == "rules" and parameter == "level":
        return _("Choose error or warning.")
    if name == "rules" and parameter in STATE_DATE_PARAMETERS:
        return _("One line per state: its two-letter code and a date, e.g. KZ 2009-09-30.")
    if name == "rules" and parameter:
        return _("Enter a whole number of years from 1 to 50.")  # the range of admissibility.PARAMETERS
    return _("This value is not valid.")


@dataclass
class RuleRow:
    name: str
    label: str
    applies: bool
    level: str
    params: list[Field]
    error: str | None = None  # about the rule itself or its level


def _choice_options(session: Any, typed: BodyInput, locale: str) -> dict[str, list[tuple[str, str]]]:
    mandate_labels = vocab.labels(session, "mandate", locale)
    active = vocab.keys(session, "mandate")
    # A retired mandate the entry still names stays on the form, so the admin can untick it.
    mandates = list(dict.fromkeys([*active, *typed.chosen["mandates"]]))
    retired = set(mandates) - set(active)
    return {
        "languages": [(c, _name(FILING_LANGUAGE_NAMES, c)) for c in FILING_LANGUAGES],
        "channels": [(c, option_label(c)) for c in CHANNELS],
        "mandates": [(m, mandate_labels.get(m, m) + (f" ({_('retired')})" if m in retired else ""))
                     for m in mandates],
        "communication_types": [(c, _name(COMMUNICATION_TYPE_NAMES, c)) for c in COMMUNICATION_TYPES],
        "required_consent": [(c, _name(CONSENT_NAMES, c)) for c in CONSENT_REQUIREMENTS],
    }


def _body_fields(session: Any, typed: BodyInput, errors: Mapping[str, str]) -> dict[str, Any]:
    """The controls of the edit form, filled with ``typed`` and carrying ``errors`` (translated) per field."""
    names = [Field(name=f"name_{lang}", widget="text", label=_name(UI_LANGUAGE_NAMES, lang), id=f"name-{lang}",
                   required=lang == "en", value=typed.names.get(lang, ""), max_length=NAME_MAX,
                   error=errors.get("names") if lang == "en" else None) for lang in UI_LANGUAGES]
    groups = [Field(name=name, widget="checkboxes", label=_name(BODY_FIELD_NAMES, name), id=name,
                    value=typed.chosen[name], error=errors.get(name),
                    options=[Option(value, text, value in typed.chosen[name]) for value, text in options],
                    description=_("Consent verification is always checked, whatever is ticked here.")
                    if name == "required_consent" else None)
              for name, options in _choice_options(session, typed, current_locale()).items()]
    rules = []
    for name, rule in typed.rules.items():
        params = [Field(name=f"param_{name}_{p}", widget="textarea" if p in STATE_DATE_PARAMETERS else "number",
                        label=_name(PARAMETER_NAMES, p), id=f"rule-{name}-{p}", value=rule.params.get(p, ""),
                        error=errors.get(f"rules.{name}.{p}")) for p in PARAMETERS.get(name, {})]
        rules.append(RuleRow(name, _name(RULE_NAMES, name), rule.applies, rule.level, params,
                             errors.get(f"rules.{name}.level") or errors.get(f"rules.{name}")))
    numbers = [Field(name=n, widget="number", label=_name(BODY_FIELD_NAMES, n), id=n, required=True,
                     value=getattr(typed, n), error=errors.get(n)) for n in ("response_days", "follow_up_days")]
    notes = Field(name="notes", widget="textarea", label=_name(BODY_FIELD_NAMES, "notes"), id="notes",
                  value=typed.notes, max_length=NOTES_MAX, error=errors.get("notes"))
    active = Field(name="active", widget="checkbox", label=_("Active: offered in new reviews"),
                   id="active", value=typed.active, error=errors.get("active"))
    return {"names": names, "groups": groups, "rules": rules, "numbers": numbers, "notes": notes, "active": active}


def _render_body(body: Body, typed: BodyInput, *, errors: Mapping[str, str] | None = None,
                 status: int = 200) -> tuple[str, int]:
    session = db()
    errors = errors or {}
    return render_template(
        "admin/body.html", code=body.code, name=body_name(body, current_locale()), errors=errors,
        levels=[(value, str(text)) for value, text in LEVEL_NAMES.items()],
        history=_history(object_history(session, "body", [body.code]), BODY_FIELD_NAMES),
        **_body_fields(session, typed, errors),
    ), status


def _body(code: str) -> Body:
    try:
        return get_body(db(), code)
    except NotFound:
        abort(404, description=_("There is no body with this code."))


@bp.get("/bodies/<code>")
@roles(Role.ADMIN)
def body(code: str) -> tuple[str, int]:
    found = _body(code)
    return _render_body(found, BodyInput.of_body(found))


@bp.post("/bodies/<code>")
@roles(Role.ADMIN)
def update_body(code: str) -> Response | tuple[str, int]:
    session = db()
    found = _body(code)
    typed = BodyInput.of_form(request.form)
    try:
        save_body(session, g.actor, code, typed.changes(found), known_mandates=vocab.keys(session, "mandate"))
    except ValidationFailed as err:
        # update_body checks everything before it changes anything: the entry is as it was.
        return _render_body(found, typed, errors={k: _body_error(k, typed) for k in err.errors}, status=422)
    flash(_("%(name)s saved.", name=body_name(found, current_locale())), "success")
    return redirect(url_for("catalogue.body", code=code), 303)


# -- vocabularies -----------------------------------------------------------------------------------------

@dataclass
class TermInput:
    """A term's labels and extra fields as the controls show them: stored, or as typed."""

    key: str
    labels: dict[str, str]
    extra: dict[str, str | bool]

    @classmethod
    def of_term(cls, term: VocabularyTerm) -> TermInput:
        return cls(term.key, {lang: term.labels.get(lang, "") for lang in UI_LANGUAGES},
                   {f: (term.extra.get(f) is True) if f in CHECKBOX_EXTRAS else str(term.extra.get(f, ""))
                    for f in EXTRA_FIELDS.get(term.vocabulary, ())})

    @classmethod
    def of_form(cls, vocabulary: str, key: str, form: MultiDict[str, str]) -> TermInput:
        return cls(key, {lang: form.get(f"label_{lang}", "") for lang in UI_LANGUAGES},
                   {f: form.get(f"extra_{f}") == "true" if f in CHECKBOX_EXTRAS else form.get(f"extra_{f}", "")
                    for f in EXTRA_FIELDS.get(vocabulary, ())})

    def service_extra(self) -> dict[str, Any]:
        # An unticked box and an empty text are left out, as in the seeded terms, so that saving a label
        # does not also record a change of the extra fields from absent to false.
        return {f: value.strip() if isinstance(value, str) else value
                for f, value in self.extra.items() if value is True or (isinstance(value, str) and value.strip())}


def _term_error(key: str, typed: TermInput) -> str:
    if key == "key":
        if KEY_PATTERN.match(typed.key):
            return _("This vocabulary already has the key %(key)s.", key=typed.key)
        return _("Use 2 to 80 lower-case letters, digits and underscores, starting with a letter.")
    if key == "labels.en" and not typed.labels.get("en", "").strip():
        return _("An English label is required.")
    if key.startswith("labels"):
        return _("A label is at most %(max)d characters.", max=LABEL_MAX)
    if key == "extra.udhr":
        return _("At most 40 characters.")
    return _("This value is not valid.")


@dataclass
class TermRow:
    key: str
    active: bool
    fields: list[Field]
    history: list[HistoryEntry]


def _term_fields(vocabulary: str, typed: TermInput, errors: Mapping[str, str], prefix: str) -> list[Field]:
    labels = [Field(name=f"label_{lang}", widget="text", label=_name(UI_LANGUAGE_NAMES, lang),
                    id=f"{prefix}-label-{lang}", required=lang == "en", value=typed.labels.get(lang, ""),
                    max_length=LABEL_MAX, error=errors.get(f"labels.{lang}") or (errors.get("labels")
                                                                                 if lang == "en" else None))
              for lang in UI_LANGUAGES]
    extra = [Field(name=f"extra_{f}", widget="checkbox" if f in CHECKBOX_EXTRAS else "text",
                   label=_name(EXTRA_NAMES, f), id=f"{prefix}-extra-{f}", value=typed.extra.get(f),
                   error=errors.get(f"extra.{f}") or errors.get("extra"))
             for f in EXTRA_FIELDS.get(vocabulary, ())]
    return labels + extra


def _render_vocabulary(vocabulary: str, *, typed: TermInput | None = None, new: bool = False,
                       errors: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """The vocabulary's page; ``typed`` (with ``errors``) is the new term or the edited one that was refused."""
    session = db()
    errors = errors or {}
    found = vocab.terms(session, vocabulary, include_retired=True)
    events = object_history(session, "vocabulary_term", [f"{vocabulary}:{t.key}" for t in found])
    rows = []
    for term in found:
        edited = typed is not None and not new and typed.key == term.key
        shown = typed if edited and typed is not None else TermInput.of_term(term)
        rows.append(TermRow(term.key, term.active,
                            _term_fields(vocabulary, shown, errors if edited else {}, f"term-{term.key}"),
                            _history([e for e in events if e.object_id == f"{vocabulary}:{term.key}"],
                                     TERM_FIELD_NAMES)))
    blank = TermInput("", {}, {})
    new_input = typed if new and typed is not None else blank
    return render_template(
        "admin/vocabularies.html", vocabulary=vocabulary, title=_name(VOCABULARY_NAMES, vocabulary),
        failed=bool(errors),
        vocabularies=[(v, _name(VOCABULARY_NAMES, v)) for v in VOCABULARIES], rows=rows,
        new_key=Field(name="key", widget="text", label=_("Key"), id="new-key", required=True, max_length=80,
                      value=new_input.key, error=errors.get("key") if new else None,
                      description=_("A stable code stored on cases: it never changes once created.")),
        new_fields=_term_fields(vocabulary, new_input, errors if new else {}, "new"),
    ), status


def _vocabulary(name: str) -> str:
    if name not in VOCABULARIES:
        abort(404, description=_("There is no such vocabulary."))
    return name


def _term(vocabulary: str, key: str) -> VocabularyTerm:
    try:
        return vocab.get_term(db(), vocabulary, key)
    except NotFound:
        abort(404, description=_("This vocabulary has no such term."))


def _back(vocabulary: str, key: str) -> Response:
    return redirect(url_for("catalogue.vocabulary", vocabulary=vocabulary, _anchor=f"term-{key}"), 303)


@bp.get("/vocabularies")
@roles(Role.ADMIN)
def vocabularies() -> Response:
    return redirect(url_for("catalogue.vocabulary", vocabulary=VOCABULARIES[0]))


@bp.get("/vocabularies/<vocabulary>")
@roles(Role.ADMIN)
def vocabulary(vocabulary: str) -> tuple[str, int]:
    return _render_vocabulary(_vocabulary(vocabulary))


@bp.post("/vocabularies/<vocabulary>")
@roles(Role.ADMIN)
def add_term(vocabulary: str) -> Response | tuple[str, int]:
    vocabulary = _vocabulary(vocabulary)
    typed = TermInput.of_form(vocabulary, request.form.get("key", "").strip(), request.form)
    try:
        vocab.add_term(db(), g.actor, vocabulary, typed.key, typed.labels, typed.service_extra())
    except ValidationFailed as err:
        return _render_vocabulary(vocabulary, typed=typed, new=True, status=422,
                                  errors={k: _term_error(k, typed) for k in err.errors})
    flash(_("Term %(key)s added.", key=typed.key), "success")
    return _back(vocabulary, typed.key)


@bp.post("/vocabularies/<vocabulary>/<key>")
@roles(Role.ADMIN)
def update_term(vocabulary: str, key: str) -> Response | tuple[str, int]:
    vocabulary = _vocabulary(vocabulary)
    _term(vocabulary, key)
    typed = TermInput.of_form(vocabulary, key, request.form)
    try:
        vocab.update_term(db(), g.actor, vocabulary, key, labels=typed.labels, extra=typed.service_extra())
    except ValidationFailed as err:
        db().rollback()  # update_term may have set some of the values before it found the errors
        return _render_vocabulary(vocabulary, typed=typed, status=422,
                                  errors={k: _term_error(k, typed) for k in err.errors})
    flash(_("Term %(key)s saved.", key=key), "success")
    return _back(vocabulary, key)


@bp.post("/vocabularies/<vocabulary>/<key>/active")
@roles(Role.ADMIN)
def set_term_active(vocabulary: str, key: str) -> Response:
    vocabulary = _vocabulary(vocabulary)
    _term(vocabulary, key)
    active = request.form.get("active") == "true"
    vocab.update_term(db(), g.actor, vocabulary, key, active=active)
    if active:
        flash(_("Term %(key)s restored: it is offered again.", key=key), "success")
    else:
        flash(_("Term %(key)s retired: new input no longer offers it; old records keep it.", key=key), "success")
    return _back(vocabulary, key)
