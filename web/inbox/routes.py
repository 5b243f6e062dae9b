"""The home page: my team's ready tasks (and, for managers, the alerts of urgent cases and missed service levels)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug import Response

from web.access import roles
from web.database import db
from workflow.roles import ALL_STAFF, CASEWORK, Role
from workflow.services.deadlines import ALERT_DAYS, manager_alerts
from workflow.services.tasks import inbox_rows

bp = Blueprint("inbox", __name__, template_folder="templates")


@bp.route("/")
@roles(*ALL_STAFF)
def index() -> Response:
    return redirect(url_for("inbox.my_tasks"))


@bp.route("/tasks")
@roles(*ALL_STAFF)
def my_tasks() -> str:
    has_lane = g.actor.role in CASEWORK
    return render_template(
        "inbox/tasks.html", rows=inbox_rows(db(), g.actor.role) if has_lane else [], has_lane=has_lane,
        # Escalations are addressed to managers: the urgent track and missed service levels.
        alerts=manager_alerts(db()) if g.actor.role == Role.MANAGER else [], alert_days=ALERT_DAYS)
