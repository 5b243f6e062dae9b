"""Admin pages for the catalogue of filing bodies and the controlled vocabularies. Admins only.

Every edit goes through ``workflow.bodies.update_body`` or ``workflow.vocab.add_term``/``update_term``, which
validate (``schemas/catalogue.py``) and audit; the pages turn the forms into the services' terms and put the
services' problems next to the fields, keeping what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.admin.forms import BODY_FIELD_NAMES, BodyForm, body_form, term_changes, term_form
from web.admin.history import ChangeEntry, change_entries
from web.database import db
from web.extensions import current_locale
from web.messages import put_on_form
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.bodies import all_bodies, body_name, get_body, update_body
from workflow.errors import NotFound, ValidationFailed
from workflow.models import Body, VocabularyTerm
from workflow.roles import ADMINS
from workflow.services.history import object_history
from workflow.services.users import display_names

bp = Blueprint("catalogue", __name__, url_prefix="/admin", template_folder="templates")

VOCABULARY_NAMES = {
    "incident_type": _l("Incident types"), "perpetrator_agency": _l("Perpetrator agencies"),
    "legal_ground": _l("Legal grounds"), "mandate": _l("Special Procedures mandates"),
    "city": _l("Cities (names per document language)"),
}
TERM_FIELD_NAMES = {"labels": _l("Labels"), "extra": _l("Details"), "active": _l("Active")}


# -- the list of bodies ---------------------------------------------------------------------------------------

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
@roles(*ADMINS)
def bodies() -> str:
    found = all_bodies(db(), include_inactive=True)
    editors = display_names(db(), {b.updated_by_id for b in found if b.updated_by_id})
    locale = current_locale()
    rows = [BodyRow(b.code, body_name(b, locale), b.languages, b.response_days, b.follow_up_days, b.active,
                    b.updated_at, editors.get(b.updated_by_id) if b.updated_by_id else None) for b in found]
    return render_template("admin/bodies.html", rows=rows)


# -- one body: the edit form -----------------------------------------------------------------------------------

def _body(code: str) -> Body:
    try:
        return get_body(db(), code)
    except NotFound:
        abort(404, description=_("There is no body with this code."))


def _mandates(chosen: list[str]) -> list[tuple[str, str]]:
    """The active mandates, and any retired one the entry still names (so the admin can untick it)."""
    labels = vocab.labels(db(), "mandate", current_locale())
    active = vocab.keys(db(), "mandate")
    return [(m, labels.get(m, m) + ("" if m in active else f" ({_('retired')})"))
            for m in dict.fromkeys([*active, *chosen])]


def _render_body(found: Body, form: BodyForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/body.html", code=found.code, name=body_name(found, current_locale()), form=form,
        history=change_entries(object_history(db(), "body", [found.code]), BODY_FIELD_NAMES)), status


@bp.get("/bodies/<code>")
@roles(*ADMINS)
def body(code: str) -> tuple[str, int]:
    found = _body(code)
    return _render_body(found, body_form(found, _mandates(found.mandates), posted=False))


@bp.post("/bodies/<code>")
@roles(*ADMINS)
def save_body(code: str) -> Response | tuple[str, int]:
    found = _body(code)
    form = body_form(found, _mandates(request.form.getlist("mandates")), posted=True)
    if not form.validate_on_submit():
        return _render_body(found, form, 422)
    try:
        update_body(db(), g.actor, code, form.changes(found), known_mandates=vocab.keys(db(), "mandate"))
    except ValidationFailed as err:
        # update_body checks everything before it changes anything: the entry is as it was.
        put_on_form(form, err.errors, default="notes")
        return _render_body(found, form, 422)
    flash(_("%(name)s saved.", name=body_name(found, current_locale())), "success")
    return redirect(url_for("catalogue.body", code=code), 303)


# -- vocabularies -----------------------------------------------------------------------------------------------

@dataclass
class TermRow:
    term: VocabularyTerm
    form: Any
    history: list[ChangeEntry]


def _vocabulary(name: str) -> str:
    if name not in vocab.VOCABULARIES:
        abort(404, description=_("There is no such vocabulary."))
    return name


def _term(vocabulary: str, key: str) -> VocabularyTerm:
    try:
        return vocab.get_term(db(), vocabulary, key)
    except NotFound:
        abort(404, description=_("This vocabulary has no such term."))


def _render_vocabulary(vocabulary: str, *, edited: Any = None, new: Any = None,
                       status: int = 200) -> tuple[str, int]:
    """The vocabulary's page; ``edited`` (a term's refused form) or ``new`` (the refused new term) shown again."""
    found = vocab.terms(db(), vocabulary, include_retired=True)
    events = object_history(db(), "vocabulary_term", [f"{vocabulary}:{t.key}" for t in found])
    rows = []
    for term in found:
        mine = edited is not None and edited.key.data == term.key
        form = edited if mine else term_form(vocabulary, f"term-{term.key}", term)
        rows.append(TermRow(term, form, change_entries([e for e in events if e.object_id == f"{vocabulary}:{term.key}"],
                                                       TERM_FIELD_NAMES)))
    return render_template(
        "admin/vocabularies.html", vocabulary=vocabulary, title=VOCABULARY_NAMES[vocabulary],
        failed=status == 422, vocabularies=list(VOCABULARY_NAMES.items()), rows=rows,
        new=new if new is not None else term_form(vocabulary, "new")), status


@bp.get("/vocabularies")
@roles(*ADMINS)
def vocabularies() -> Response:
    return redirect(url_for("catalogue.vocabulary", vocabulary=vocab.VOCABULARIES[0]))


@bp.get("/vocabularies/<vocabulary>")
@roles(*ADMINS)
def vocabulary(vocabulary: str) -> tuple[str, int]:
    return _render_vocabulary(_vocabulary(vocabulary))


def _back(vocabulary: str, key: str) -> Response:
    return redirect(url_for("catalogue.vocabulary", vocabulary=vocabulary, _anchor=f"term-{key}"), 303)


@bp.post("/vocabularies/<vocabulary>")
@roles(*ADMINS)
def add_term(vocabulary: str) -> Response | tuple[str, int]:
    vocabulary = _vocabulary(vocabulary)
    form = term_form(vocabulary, "new", posted=True)
    if not form.validate_on_submit():
        return _render_vocabulary(vocabulary, new=form, status=422)
    key = (form.key.data or "").strip()
    try:
        vocab.add_term(db(), g.actor, vocabulary, key, **term_changes(form, vocabulary))
    except ValidationFailed as err:
        db().rollback()
        put_on_form(form, err.errors, default="key")
        return _render_vocabulary(vocabulary, new=form, status=422)
    flash(_("Term %(key)s added.", key=key), "success")
    return _back(vocabulary, key)


@bp.post("/vocabularies/<vocabulary>/<key>")
@roles(*ADMINS)
def update_term(vocabulary: str, key: str) -> Response | tuple[str, int]:
    vocabulary = _vocabulary(vocabulary)
    _term(vocabulary, key)
    form = term_form(vocabulary, f"term-{key}", posted=True)
    form.key.data = key  # the key never changes: whatever was posted for it is ignored
    if not form.validate_on_submit():
        return _render_vocabulary(vocabulary, edited=form, status=422)
    try:
        vocab.update_term(db(), g.actor, vocabulary, key, **term_changes(form, vocabulary))
    except ValidationFailed as err:
        db().rollback()  # update_term may have set some of the values before it found the errors
        put_on_form(form, err.errors, default="labels")
        return _render_vocabulary(vocabulary, edited=form, status=422)
    flash(_("Term %(key)s saved.", key=key), "success")
    return _back(vocabulary, key)


@bp.post("/vocabularies/<vocabulary>/<key>/active")
@roles(*ADMINS)
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
