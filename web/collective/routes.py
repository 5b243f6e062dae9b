"""Collective complaints: the list, opening one (legal officers), and the complaint's page.

The tasks of a complaint's process are completed through ``tasks.complete`` (the same forms as on a case page),
which sends the user back here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from werkzeug import Response

from web.access import roles
from web.collective.forms import (
    CollectiveForm,
    appeals_received,
    collective_form,
    narrative_form,
    parse_officials,
)
from web.collective.page import render_collective
from web.collective.selection import from_these_cases
from web.database import db
from web.errors import refusal
from web.loaders import collective_or_404
from web.messages import message, put_on_form
from web.translate import gettext as _
from workflow.errors import Conflict, ValidationFailed
from workflow.models import CollectiveComplaint
from workflow.problems import Problem
from workflow.roles import CASEWORK, COLLECTIVE_CREATORS
from workflow.schemas.collective import NARRATIVE_SECTIONS
from workflow.services.collective import (
    EligibleCase,
    collective_rows,
    create_collective,
    eligible_cases,
    update_narrative,
)

bp = Blueprint("collective", __name__, url_prefix="/collective", template_folder="templates")
MAX_LISTED = 500


@bp.route("")
@roles(*CASEWORK)
def index() -> str:
    rows, _total = collective_rows(db(), page=1, per_page=MAX_LISTED)
    return render_template("collective/list.html", rows=rows, may_create=g.actor.role in COLLECTIVE_CREATORS)


@bp.route("/new", methods=["GET", "POST"])
@roles(*COLLECTIVE_CREATORS)
def new() -> Response | str | tuple[str, int]:
    session = db()
    eligible = eligible_cases(session)
    form = collective_form(session, eligible)
    if not form.is_submitted():
        wanted = from_these_cases(session)
        known = {c.ref for c in eligible}
        form.cases.data = [ref for ref in wanted if ref in known]
        return _render_new(form, eligible, left_out=[ref for ref in wanted if ref not in known])
    if form.validate():
        officials, lines, problem = parse_officials(form.officials.data or "")
        if problem:
            form.officials.errors = [problem]
        elif (created := _create(form, eligible, officials, lines)) is not None:
            flash(_("Collective complaint opened: version 1 is ready to check."), "success")
            return redirect(url_for("collective.show", collective_id=created.id), 303)
    return _render_new(form, eligible), 422


def _create(form: CollectiveForm, eligible: list[EligibleCase], officials: list[dict[str, str]],
            lines: list[int]) -> CollectiveComplaint | None:
    """The complaint, or None with the service's problems put next to their fields."""
    session = db()
    try:
        return create_collective(
            session, current_app.config["PETITIO_SETTINGS"], g.actor, body=form.body.data,
            language=form.language.data, title=form.title.data,
            cases=[c.ref for c in eligible] if form.all_cases.data else list(form.cases.data or []),
            mandates=list(form.mandates.data or []), grounds=list(form.grounds.data or []),
            narrative={s: form[f"narrative_{s}"].data or "" for s in NARRATIVE_SECTIONS},
            officials=officials, appeals_received=appeals_received(form.appeals_received.data or ""))
    except ValidationFailed as err:
        session.rollback()
        put_on_form(form, _on_the_page(err.errors, lines), default="title")
        return None


def _on_the_page(errors: dict[str, Problem], lines: list[int]) -> dict[str, Problem]:
    """The service's field names as the form's: narrative sections have a field each; an official is a line."""
    placed: dict[str, Problem] = {}
    for name, problem in errors.items():
        field, _dot, rest = name.partition(".")
        if field == "narrative" and rest:
            placed[f"narrative_{rest}"] = problem
        elif field == "officials" and rest.partition(".")[0].isdigit():
            line = lines[int(rest.partition(".")[0])]  # the service numbers the officials; people see lines
            placed[f"officials.{line}"] = Problem("on_line", {"line": line, "problem": problem})
        else:
            placed[name] = problem
    return placed


def _render_new(form: CollectiveForm, eligible: list[EligibleCase], left_out: list[str] | None = None) -> str:
    return render_template("collective/new.html", form=form, eligible=eligible, chosen=set(form.cases.data or []),
                           sections=[form[f"narrative_{s}"] for s in NARRATIVE_SECTIONS], left_out=left_out or [])


@bp.route("/<int:collective_id>")
@roles(*CASEWORK)
def show(collective_id: int) -> str:
    return render_collective(collective_id)


@bp.route("/<int:collective_id>/narrative", methods=["POST"])
@roles(*COLLECTIVE_CREATORS)
def narrative(collective_id: int) -> Response | tuple[str, int]:
    """The legal officer rewrites the complaint's text; the next version is generated from it at once."""
    session = db()
    collective = collective_or_404(collective_id)
    form = narrative_form()
    if form.validate():
        try:
            update_narrative(session, current_app.config["PETITIO_SETTINGS"], g.actor, collective,
                             {s: form[f"narrative_{s}"].data or "" for s in NARRATIVE_SECTIONS})
        except Conflict as err:  # checked since the page was drawn: nothing to correct on the form
            session.rollback()
            home = url_for("collective.show", collective_id=collective_id)
            return refusal(409, " ".join(message(p) for p in err.errors.values()), home,
                           _("Back to the collective complaint"))
        except ValidationFailed as err:
            session.rollback()
            put_on_form(form, _on_the_page(err.errors, []), default="narrative_summary")
        else:
            flash(_("The complaint's text is saved and a new version generated."), "success")
            return redirect(url_for("collective.show", collective_id=collective_id, _anchor="h-text"), 303)
    return render_collective(collective_id, text_form=form), 422

