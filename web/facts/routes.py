"""Recording the facts for the filings on the case page (intake and legal officers; ``services/facts.py``).

Every form posts here and, saved, goes back to the case page at the panel with its forms (for the next entry);
refused, the case page is drawn with that form and its problems next to the fields (422), nothing written. A stale
form or an ended case is a 409 with the way back to the case as it is now.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, url_for
from werkzeug import Response

from web.access import roles
from web.cases.page import render_case
from web.database import db, keep_despite_error_status
from web.errors import refusal
from web.facts.forms import FactsForm, RemoveForm, facts_form, unknown_facts_form
from web.facts.panel import PANEL, SEGMENTS, Refused
from web.loaders import case_or_404
from web.messages import messages_of, put_on_form
from web.panel import OPEN_ARG, Posted
from web.translate import gettext as _
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.roles import FILING_FACT_EDITORS
from workflow.services import facts

bp = Blueprint("facts", __name__, template_folder="templates")
KIND_OF = {segment: kind for kind, segment in SEGMENTS.items()}
SEGMENT_RULE = "<segment>"  # a kind's segment (KIND_OF); another word is 404
ANCHOR = "filing-facts"


def _back(ref: str) -> str:
    return url_for("cases.case", ref=ref, _anchor=ANCHOR, **{OPEN_ARG: PANEL})


@bp.route("/cases/<ref>/filing-facts/person", methods=["POST"])
@roles(*FILING_FACT_EDITORS)
def person(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    form = facts_form(db(), case, "person")
    return _save(ref, "person", form, lambda: facts.update_person_facts(
        db(), g.actor, case, form.values(), version=form.version.data or ""))


@bp.route("/cases/<ref>/filing-facts/not-known", methods=["POST"])
@roles(*FILING_FACT_EDITORS)
def not_known(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    form = unknown_facts_form()
    return _save(ref, "unknown", form, lambda: facts.change_unknown_facts(db(), g.actor, case, form.changes()),
                 default="marked")


@bp.route(f"/cases/<ref>/filing-facts/{SEGMENT_RULE}", methods=["POST"])
@roles(*FILING_FACT_EDITORS)
def add(ref: str, segment: str) -> Response | tuple[str, int]:
    case, kind = case_or_404(ref), _kind(segment)
    form = facts_form(db(), case, kind)
    return _save(ref, f"{kind}:new", form, lambda: facts.add_row(db(), g.actor, case, kind, form.values()))


@bp.route(f"/cases/<ref>/filing-facts/{SEGMENT_RULE}/<int:row_id>", methods=["POST"])
@roles(*FILING_FACT_EDITORS)
def update(ref: str, segment: str, row_id: int) -> Response | tuple[str, int]:
    case, kind = case_or_404(ref), _kind(segment)
    _row_or_404(case, kind, row_id)
    form = facts_form(db(), case, kind, row_id)
    return _save(ref, f"{kind}:{row_id}", form, lambda: facts.update_row(
        db(), g.actor, case, kind, row_id, form.values(), version=form.version.data or ""))


@bp.route(f"/cases/<ref>/filing-facts/{SEGMENT_RULE}/<int:row_id>/remove", methods=["POST"])
@roles(*FILING_FACT_EDITORS)
def remove(ref: str, segment: str, row_id: int) -> Response | tuple[str, int]:
    case, kind = case_or_404(ref), _kind(segment)
    _row_or_404(case, kind, row_id)
    form = RemoveForm(prefix=f"remove-{kind}-{row_id}")
    if not form.validate_on_submit():  # the CSRF token is missing or stale
        return refusal(400, _("The form has expired. Open the case again and repeat."), _back(ref))
    try:
        facts.remove_row(db(), g.actor, case, kind, row_id, version=form.version.data or "")
    except (ValidationFailed, Conflict) as err:
        db().rollback()
        status = 409 if isinstance(err, Conflict) else 422
        return refusal(status, _message(err), _back(ref))
    flash(_("Removed."), "success")
    return redirect(_back(ref), 303)


def _kind(segment: str) -> str:
    if segment not in KIND_OF:
        abort(404)
    return KIND_OF[segment]


def _row_or_404(case: Any, kind: str, row_id: int) -> None:
    try:
        facts.row_of(case, kind, row_id)
    except NotFound:
        abort(404)


def _save(ref: str, key: str, form: Any, save: Any, default: str | None = None) -> Response | tuple[str, int]:
    if form.validate_on_submit():
        try:
            save()
        except ValidationFailed as err:
            db().rollback()  # nothing of the refused change stays
            _put(form, err.errors, default)
        except Conflict as err:
            db().rollback()
            return refusal(409, _message(err) + " " + _("Open the case again to see the current values."), _back(ref))
        else:
            flash(_("Saved."), "success")
            return redirect(_back(ref), 303)
    html = render_case(ref, Posted(PANEL, Refused(key, form)))
    keep_despite_error_status()  # the identity read of the page drawn stays audited
    return html, 400 if set(form.errors) == {"csrf_token"} else 422


def _put(form: Any, errors: dict[str, Any], default: str | None) -> None:
    """Problems next to their controls; a custody place's (``custody.1.place``) next to that place's control."""
    rest = {}
    for name, problem in errors.items():
        parts = name.split(".")
        if isinstance(form, FactsForm) and parts[0] == "custody" and len(parts) == 3 and parts[1].isdigit():
            entries = form.custody.entries
            index = _posted_index(form, int(parts[1]))
            if index is not None and index < len(entries):
                control = entries[index].form[parts[2]]
                control.errors = [*control.errors, *messages_of(problem)]
                continue
        rest[name] = problem
    left = put_on_form(form, rest, default=default or next(iter(getattr(form, "names", ())), None))
    if left:
        form.form_errors = [*form.form_errors, *left]


def _posted_index(form: FactsForm, index: int) -> int | None:
    """The form entry of the n-th custody place sent (blank entries are not sent to the service)."""
    filled = [i for i, entry in enumerate(form.custody.entries)
              if any((v or "").strip() for v in entry.data.values())]
    return filled[index] if index < len(filled) else None


def _message(err: ValidationFailed | Conflict) -> str:
    return " ".join(m for problem in err.errors.values() for m in messages_of(problem))
