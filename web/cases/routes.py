"""The case list, the case page and the case's timeline and history."""

from __future__ import annotations

import math

from flask import Blueprint, render_template, request

from web.access import roles
from web.cases.forms import filter_form
from web.cases.page import render_case
from web.cases.panels import history_panel, timeline_panel
from web.database import db
from web.loaders import case_or_404, page_arg
from workflow.models import utcnow
from workflow.paging import count_bound
from workflow.roles import CASEWORK
from workflow.services.cases import case_rows, list_cases

bp = Blueprint("cases", __name__, template_folder="templates")
PER_PAGE = 50
# The list counts its cases up to this many (and always past the page shown); beyond, it says "more than" and
# offers to count them all (``?count=all``). Most filters match fewer, so their count stays exact; at 100,000
# cases an exact count of the unfiltered list was a third of the page's time on PostgreSQL. The API counts all.
COUNTED_UP_TO = 10_000


@bp.route("/cases")
@roles(*CASEWORK)
def cases() -> str:
    session = db()
    form = filter_form(session)
    page = page_arg()
    now = utcnow()
    bound = None if request.args.get("count") == "all" else count_bound(COUNTED_UP_TO, page=page, per_page=PER_PAGE)
    found, counted = list_cases(session, form.filters(), page=page, per_page=PER_PAGE, now=now, count_up_to=bound)
    more = bound is not None and counted > bound
    total = min(counted, bound) if bound is not None else counted
    # What the pager and the links carry on: the filters, and "count all" once asked for; nothing else of the query.
    kept = {field.name for field in form}
    args = {k: v for k, v in request.args.items() if v and (k in kept or (k, v) == ("count", "all"))}
    return render_template("cases/cases.html", form=form, rows=case_rows(session, found, now=now), total=total,
                           more=more, page=page, pages=max(math.ceil(total / PER_PAGE), 1), args=args)


@bp.route("/cases/<ref>")
@roles(*CASEWORK)
def case(ref: str) -> str:
    return render_case(ref)


@bp.route("/cases/<ref>/history")
@roles(*CASEWORK)
def history(ref: str) -> str:
    """The case's dated events and its audit history (reads left out): no identity field, nothing to audit."""
    session, case = db(), case_or_404(ref)
    return render_template("cases/history.html", case=case, timeline=timeline_panel(session, case.id),
                           history=history_panel(session, case.id))
