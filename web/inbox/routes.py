"""The home page and finding work: My tasks (a filtered queue a page at a time, counts per task kind, claim,
assign and release), and the search box of every page (an exact reference, or an exact name)."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.database import db
from web.errors import refusal
from web.labels import label, task_name
from web.loaders import page_arg, per_page_arg, whole_number
from web.messages import message
from web.translate import gettext as _
from workflow.bodies import all_bodies
from workflow.errors import Conflict, Forbidden, NotFound, PetitioError, ValidationFailed
from workflow.models import utcnow
from workflow.paging import DEFAULT_PER_PAGE
from workflow.roles import ALL_STAFF, CASEWORK, Role
from workflow.services.cases import cities
from workflow.services.deadlines import ALERT_DAYS, manager_alerts
from workflow.services.episodes import episode_titles
from workflow.services.queues import (
    TaskFilter,
    assign_task,
    claim_task,
    lane_members,
    queue_page,
    release_task,
    search,
    task_counts,
)

bp = Blueprint("inbox", __name__, template_folder="templates")


@bp.route("/")
@roles(*ALL_STAFF)
def index() -> Response:
    return redirect(url_for("inbox.my_tasks"))


def filter_or_400(params: Any) -> TaskFilter:
    try:
        return TaskFilter.from_params(params)
    except ValidationFailed as err:
        abort(400, description=" ".join(f"{name}: {message(p)}" for name, p in err.errors.items()))


@bp.route("/tasks")
@roles(*ALL_STAFF)
def my_tasks() -> str:
    session = db()
    has_lane = g.actor.role in CASEWORK
    # Escalations are addressed to managers: the urgent track and missed service levels.
    alerts = manager_alerts(session) if g.actor.role == Role.MANAGER else []
    if not has_lane:
        return render_template("inbox/tasks.html", has_lane=False, alerts=alerts, alert_days=ALERT_DAYS)
    flt, page, per_page, now = filter_or_400(request.args), page_arg(), per_page_arg(DEFAULT_PER_PAGE), utcnow()
    rows, total = queue_page(session, g.actor.role, flt, page=page, per_page=per_page, now=now)
    counts = task_counts(session, g.actor.role, flt, now=now)
    members = lane_members(session, g.actor.role)
    return render_template(
        "inbox/tasks.html", has_lane=True, alerts=alerts, alert_days=ALERT_DAYS, rows=rows, total=total,
        page=page, pages=max(math.ceil(total / per_page), 1), flt=flt,
        args={**flt.as_params(), **({"per_page": per_page} if per_page != DEFAULT_PER_PAGE else {})},
        counts=counts, all_count=sum(c.count for c in counts), members=members,
        # Managers assign to anyone of a task's lane; the assign menu lists every active caseworker by team.
        assignable=_assignable(session) if g.actor.role == Role.MANAGER else {},
        choices=_choices(session, counts, members), queue_args=_queue_args(flt))


def _choices(session: Any, counts: Any, members: Any) -> dict[str, Any]:
    return {"task": [(c.task, task_name(c.task, c.name)) for c in counts],
            "episode": episode_titles(session), "city": [(c, c) for c in cities(session)],
            "body": [(b.code, label("body", b.code)) for b in all_bodies(session)],
            "assignee": [(m.id, m.display_name) for m in members]}


def _assignable(session: Any) -> dict[str, list[Any]]:
    return {lane: lane_members(session, lane) for lane in CASEWORK}


def _queue_args(flt: TaskFilter) -> dict[str, Any]:
    """The queue's filter as the case page takes it (``queue_`` names), so "Complete and next" stays in it."""
    return {f"queue_{name}": value for name, value in flt.as_params().items()}


def safe_back(target: str | None) -> str:
    """Only local paths: a form's ``next`` never sends the user to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return url_for("inbox.my_tasks")


def _act(task_id: str, verb: Any, done: str) -> Response | tuple[str, int]:
    back = safe_back(request.form.get("next"))
    try:
        verb(task_id)
    except NotFound:
        abort(404, description=_("There is no such task."))
    except (Conflict, Forbidden, ValidationFailed) as err:
        db().rollback()
        return refusal(_status(err), _reason(err), back)
    flash(done, "success")
    return redirect(back, 303)


def _status(err: PetitioError) -> int:
    return 409 if isinstance(err, Conflict) else 403 if isinstance(err, Forbidden) else 422


def _reason(err: PetitioError) -> str:
    if err.errors:
        return " ".join(message(p) for p in err.errors.values())
    if isinstance(err, Conflict):
        return _("This task is no longer waiting: someone completed it first.")
    return _("You cannot do this with this task.")


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@roles(*CASEWORK)
def claim(task_id: str) -> Response | tuple[str, int]:
    return _act(task_id, lambda t: claim_task(db(), g.actor, t), _("You hold the task now; the rest of your team "
                                                                     "sees that it is yours."))


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@roles(*CASEWORK)
def release(task_id: str) -> Response | tuple[str, int]:
    return _act(task_id, lambda t: release_task(db(), g.actor, t), _("The task is back with the whole team."))


@bp.route("/tasks/<task_id>/assign", methods=["POST"])
@roles(Role.MANAGER)
def assign(task_id: str) -> Response | tuple[str, int]:
    # Each row's menu has its own name: one form carries the menus of every row of the page.
    assignee = whole_number(request.form.get(f"assignee-{task_id}") or request.form.get("assignee") or "")
    if assignee is None:
        return refusal(422, _("Choose the person to give the task to."), safe_back(request.form.get("next")))
    return _act(task_id, lambda t: assign_task(db(), g.actor, t, assignee), _("The task is assigned."))


@bp.route("/search", methods=["GET", "POST"])
@roles(*CASEWORK)
def find() -> Response | str:
    """The header's search box posts here, so a name never travels in a URL (nor in a server's access log). A
    GET (a bookmark, a link) looks up a reference only: a name in an address would be logged on its way."""
    text = (request.form.get("q") if request.method == "POST" else request.args.get("q")) or ""
    if len(text) > 200:
        abort(400, description=_("Search for a reference or a full name of at most 200 characters."))
    found = search(db(), g.actor, text, names=request.method == "POST")
    if found.ref is not None:
        return redirect(url_for("cases.case", ref=found.ref), 303)
    return render_template("inbox/search.html", searched=bool(text.strip()), found=found)
