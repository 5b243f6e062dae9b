"""The managers' deadline board, the statistics page, each user's calendar feed, and marking a reply to a body's
request for information as sent.

Figures come from ``workflow.services.dashboard`` (GROUP BYs in the database); the feed from
``workflow.services.calendar``. The feed's URL carries its own credential, so it is the one public route
here: it answers the same 404 for an unknown and a revoked secret and never logs the URL.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import public, roles
from web.database import db
from web.downloads import attachment
from web.errors import refusal
from web.extensions import limiter
from web.labels import label
from web.loaders import whole_number
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow.errors import Conflict, NotFound
from workflow.models import Case, User, utcnow
from workflow.paging import MAX_PAGE
from workflow.roles import ALL_STAFF, BOARD_READERS, DEADLINE_CLOSERS, STATISTICS_READERS
from workflow.services import dashboard
from workflow.services.calendar import (
    calendar_feed,
    calendar_link_since,
    issue_calendar_token,
    revoke_calendar_token,
    user_for_calendar_token,
)
from workflow.services.deadlines import close_deadline

bp = Blueprint("deadlines", __name__, template_folder="templates")

PER_PAGE = 100
# A calendar application polls every few minutes at most; this leaves room for several devices per user
# while making guessing secrets from one address pointless.
FEED_LIMIT = "60 per minute"

DIMENSION_TITLES = {"body": _l("By body"), "officer": _l("By officer"), "stage": _l("By stage"),
                    "role": _l("By team")}
STATUS_TITLES = {"overdue": _l("Overdue deadlines"), "due_soon": _l("Deadlines due within 7 days")}
# The groups that have no natural value (see workflow.services.dashboard).
SPECIAL_KEYS = {dashboard.INTERNAL: _l("No filing (our own service levels)"),
                dashboard.UNASSIGNED: _l("Unassigned"),
                dashboard.NO_CASE: _l("No case (collective complaints)"),
                dashboard.NO_ROLE: _l("No team")}
LABEL_GROUPS = {"body": "body", "stage": "stage", "role": "role"}


def group_label(by: str, key: str, name: str | None = None) -> str:
    """The translated name of one board group; officers are named by the service."""
    if key in SPECIAL_KEYS:
        return str(SPECIAL_KEYS[key])
    if by == "officer":
        return name or key
    return label(LABEL_GROUPS[by], key)


# -- the deadline board ----------------------------------------------------------------------------------

@bp.route("/dashboard")
@roles(*BOARD_READERS)
def board() -> str:
    found = dashboard.deadline_board(db(), utcnow())
    tables = [(by, DIMENSION_TITLES[by], getattr(found, f"by_{by}")) for by in dashboard.BOARD_DIMENSIONS]
    return render_template("deadlines/board.html", board=found, tables=tables, group_label=group_label)


def _list_filter() -> tuple[str, str | None, str | None]:
    """status, by and key of a board list; anything unknown is a bad link, answered 400 (never a 500)."""
    status = request.args.get("status", "overdue")
    by = request.args.get("by") or None
    key = request.args.get("key") if by else None
    if status not in dashboard.STATUSES or (by is not None and (by not in dashboard.BOARD_DIMENSIONS or not key)):
        abort(400, description=_("This list of deadlines does not exist. Open it from the dashboard."))
    return status, by, key


@bp.route("/dashboard/deadlines")
@roles(*BOARD_READERS)
def listing() -> str:
    status, by, key = _list_filter()
    # Lenient, as this list always was (a bad page is the first), and bounded: no OFFSET beyond any list.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    rows, total = dashboard.board_deadlines(db(), utcnow(), status, by=by, key=key, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in (("status", status), ("by", by), ("key", key)) if v}
    group = None
    if by is not None and key is not None:
        group = (DIMENSION_TITLES[by], group_label(by, key, _officer_name(key) if by == "officer" else None))
    return render_template("deadlines/deadlines.html", rows=rows, total=total, page=page,
                           pages=max(math.ceil(total / PER_PAGE), 1), args=args, title=STATUS_TITLES[status],
                           group=group)


def _officer_name(key: str) -> str | None:
    # Named as the board names them. The key is a user id as text.
    user_id = whole_number(key)
    user = db().get(User, user_id) if user_id is not None else None
    return user.display_name if user is not None else None


# -- statistics ------------------------------------------------------------------------------------------

@bp.route("/statistics")
@roles(*STATISTICS_READERS)
def statistics() -> str:
    return render_template("deadlines/statistics.html", stats=dashboard.statistics(db()))


@bp.route("/statistics.csv")
@roles(*STATISTICS_READERS)
def statistics_csv() -> Response:
    content = dashboard.statistics_csv(dashboard.statistics(db()))
    filename = f"petitio-statistics-{utcnow().date().isoformat()}.csv"
    return attachment(content.encode("utf-8"), "text/csv", filename)


# -- the calendar feed -----------------------------------------------------------------------------------

@bp.route("/calendar")
@roles(*ALL_STAFF)
def calendar() -> str:
    return render_template("deadlines/calendar.html", feed_url=None, since=calendar_link_since(db(), g.actor))


@bp.route("/calendar/link", methods=["POST"])
@roles(*ALL_STAFF)
def issue_link() -> str:
    secret = issue_calendar_token(db(), g.actor, g.actor)
    # Rendered in this answer only (never flashed: the session cookie is signed, not encrypted).
    feed_url = url_for("deadlines.feed", secret=secret, _external=True)
    return render_template("deadlines/calendar.html", feed_url=feed_url, since=calendar_link_since(db(), g.actor))


@bp.route("/calendar/revoke", methods=["POST"])
@roles(*ALL_STAFF)
def revoke_link() -> Response:
    if revoke_calendar_token(db(), g.actor, g.actor):
        flash(_("Your calendar link was revoked: calendars using it no longer receive your deadlines."), "success")
    else:
        flash(_("You had no calendar link to revoke."), "success")
    return redirect(url_for("deadlines.calendar"), 303)  # type: ignore[return-value]


@bp.route("/calendar/<secret>.ics")
@public
@limiter.limit(FEED_LIMIT)
def feed(secret: str) -> Response:
    session = db()
    user = user_for_calendar_token(session, secret)
    if user is None:
        abort(404)  # unknown and revoked alike: the answer tells a guesser nothing
    return Response(calendar_feed(session, user), mimetype="text/calendar")


# -- a body's request for information: our reply, marked as sent -------------------------------------------

@bp.route("/deadlines/<int:deadline_id>/close", methods=["POST"])
@roles(*DEADLINE_CLOSERS)
def close(deadline_id: int) -> Response | tuple[str, int]:
    session = db()
    try:
        row = close_deadline(session, g.actor, deadline_id)
    except NotFound:
        abort(404, description=_("There is no such deadline."))
    except Conflict:
        return refusal(409, _("This deadline is already closed, or it closes by itself."),
                       url_for("inbox.my_tasks"))
    case = session.get(Case, row.case_id) if row.case_id else None
    flash(_("Marked as replied."), "success")
    return redirect(url_for("cases.case", ref=case.ref, _anchor="h-deadlines") if case else url_for("inbox.my_tasks"),
                    303)
