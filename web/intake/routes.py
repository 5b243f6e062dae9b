"""Intake pages: a new appeal with its consent documents, and correcting the complainant's details and the facts.

The schema decides what is valid and the services do the work (``workflow/services/intake.py``); a refused form
comes back with each problem next to its control and nothing written (the request rolls back on 4xx).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge

from web.access import roles
from web.database import db
from web.errors import refusal, too_large
from web.intake.forms import appeal_form
from web.loaders import case_or_404
from web.messages import messages_of, put_on_form
from web.translate import gettext as _
from workflow.errors import Conflict, ValidationFailed
from workflow.models import Case
from workflow.roles import APPEAL_EDITORS, APPEAL_REGISTRARS, CASE_FACT_EDITORS
from workflow.services import intake

bp = Blueprint("intake", __name__, template_folder="templates")
bp.register_error_handler(RequestEntityTooLarge, too_large)
MiB = 1024 * 1024


@bp.before_request
def _room_for_two_documents() -> None:
    # The new appeal carries both consent documents, each up to the document limit, and its fields.
    request.max_content_length = 2 * current_app.config["PETITIO_SETTINGS"].max_document_bytes + MiB


@bp.route("/appeals/new", methods=["GET", "POST"])
@roles(*APPEAL_REGISTRARS)
def new_appeal() -> Response | str | tuple[str, int]:
    session, settings = db(), current_app.config["PETITIO_SETTINGS"]
    form = appeal_form(session, intake.appeal_schema(session))
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            case = intake.register_appeal(session, settings, g.actor, form.values(),
                                          form.documents(settings.max_document_bytes))
        except (ValidationFailed, Conflict) as err:
            session.rollback()
            problems = put_on_form(form, err.errors)
        else:
            flash(_("Appeal %(ref)s registered.", ref=case.ref), "success")
            return redirect(url_for("cases.case", ref=case.ref), 303)
    elif request.method == "POST":  # the CSRF token is missing or stale
        problems = [m for errors in form.errors.values() for m in errors]
    html = render_template("intake/appeal.html", form=form, problems=problems, case=None,
                           title=_("New appeal"), submit=_("Register the appeal"), back=url_for("inbox.my_tasks"))
    if request.method != "POST":
        return html
    csrf_only = set(form.errors) == {"csrf_token"}
    return html, 400 if csrf_only else 422


@bp.route("/cases/<ref>/complainant", methods=["GET", "POST"])
@roles(*APPEAL_EDITORS)
def edit_person(ref: str) -> Response | str | tuple[str, int]:
    return _edit(ref, intake.PERSON_EDIT_FIELDS, intake.PERSON_CHANGES, intake.edit_person,
                 lambda case: intake.person_for_edit(db(), g.actor, case), _("Edit the complainant's details"))


@bp.route("/cases/<ref>/facts", methods=["GET", "POST"])
@roles(*CASE_FACT_EDITORS)
def edit_facts(ref: str) -> Response | str | tuple[str, int]:
    return _edit(ref, intake.FACT_EDIT_FIELDS, intake.FACT_CHANGES, intake.edit_facts,
                 lambda case: intake.facts_for_edit(g.actor, case), _("Edit the facts of the appeal"))


Editor = Callable[..., list[str]]


def _edit(ref: str, names: Sequence[str], changes: Sequence[str], save: Editor,
          stored: Callable[[Case], Mapping[str, Any]], title: str) -> Response | str | tuple[str, int]:
    session = db()
    case = case_or_404(ref)
    back, again = url_for("cases.case", ref=ref), url_for(request.endpoint or "cases.case", ref=ref)
    schema = intake.appeal_schema(session, names)
    page = {"case": case, "title": title, "submit": _("Save the changes"), "back": back}
    if request.method == "GET":
        try:
            form = appeal_form(session, schema, names, data=stored(case))
        except Conflict as err:
            return _refused(err, again, back)
        form.version.data = intake.edit_version(session, case, changes)
        return render_template("intake/appeal.html", form=form, problems=[], **page)
    form = appeal_form(session, schema, names)
    if not form.validate_on_submit():  # the CSRF token is missing or stale
        problems = [m for errors in form.errors.values() for m in errors]
        return render_template("intake/appeal.html", form=form, problems=problems, **page), 400
    try:
        changed = save(session, g.actor, case, form.values(), version=form.version.data or "")
    except ValidationFailed as err:
        session.rollback()
        return render_template("intake/appeal.html", form=form, problems=put_on_form(form, err.errors), **page), 422
    except Conflict as err:
        session.rollback()
        return _refused(err, again, back)
    flash(_("Saved: %(fields)s.", fields=", ".join(str(form[f].label.text) for f in changed)) if changed
          else _("Nothing changed."), "success")
    return redirect(back, 303)


def _refused(err: Conflict, again: str, back: str) -> tuple[str, int]:
    """A stale form or an ended case: nothing saved, and the way to see the case as it is now."""
    message = " ".join(m for problem in err.errors.values() for m in messages_of(problem))
    if "version" in err.errors:
        return refusal(409, message + " " + _("Open the form again to see the current values."), again,
                       _("Open the form again"))
    return refusal(409, message, back)
