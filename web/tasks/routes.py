"""Completing a task from its page, for cases and collective complaints alike.

A link to a task opens its form on its page (the case's or the complaint's); a refused form comes back there,
as typed, with each problem next to its field.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from werkzeug import Response

from web.access import roles
from web.cases.page import render_case
from web.collective.page import render_collective
from web.database import db, keep_despite_error_status, writes_late
from web.errors import refusal
from web.labels import label, task_name
from web.messages import message
from web.panel import Posted
from web.tasks import forms
from web.tasks.panels import QUEUE_PREFIX, Refused, queue_params
from web.translate import gettext as _
from workflow.errors import Conflict, Forbidden, Unfinished, ValidationFailed
from workflow.problems import Problem
from workflow.roles import CASEWORK
from workflow.services.queues import TaskFilter, next_task
from workflow.services.tasks import TaskHome, complete_task, task_home, task_schema

bp = Blueprint("tasks", __name__, template_folder="templates")


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@writes_late  # a task completion: its writes are version-checked
@roles(*CASEWORK)
def complete(task_id: str) -> Response | tuple[str, int]:
    session = db()
    found = task_home(session, task_id)
    if found is None or (found.ref is None and found.collective_id is None):
        abort(404, description=_("There is no such task."))
    row, home = found.task, _home(found)
    if request.method == "GET":
        return redirect(f"{home}#task-{task_id}")
    back_label = _("Back to the collective complaint") if found.collective_id is not None else None
    if row.state != "ready":
        return _conflict(home, back_label)
    if row.lane != g.actor.role:
        return refusal(403, _("This task is for the %(lane)s team.", lane=label("role", row.lane)), home, back_label)
    schema = task_schema(session, row)
    try:
        complete_task(session, current_app.config["PETITIO_SETTINGS"], task_id, g.actor,
                      forms.convert(schema, request.form))
    except ValidationFailed as err:
        session.rollback()  # nothing of the refused attempt stays
        html = _render_home(found, {task_id: Refused(forms.typed_values(schema, request.form), err.errors)})
        keep_despite_error_status()
        return html, 422
    except Forbidden:
        return refusal(403, _("Four eyes: you did the step this one checks, so another person must do it."), home,
                       back_label)
    except Conflict as err:
        if "task" in err.errors:  # held by someone else: say who, rather than "completed first"
            return refusal(409, message(err.errors["task"]), home, back_label)
        if isinstance(err, Unfinished):  # a collective complaint with sections still to write: name them
            sections = [name.partition(".")[2] for name in err.errors]
            return refusal(409, message(Problem("sections_unfinished", {"sections": sections})), home, back_label)
        return _conflict(home, back_label)
    flash(_("Done: %(task)s.", task=task_name(row.bpmn_id, row.name)), "success")
    if request.form.get("and_next"):
        return _next(row.bpmn_id)
    return redirect(home, 303)


def _next(kind: str) -> Response:
    """"Complete and next": the next task of the same kind in the queue the form came from, or that queue."""
    queue = queue_params()
    flt = TaskFilter.from_params({k.removeprefix(QUEUE_PREFIX): v for k, v in queue.items()}).but(task=kind)
    session = db()
    following = next_task(session, g.actor, flt)
    found = task_home(session, following) if following else None
    if found is None:
        flash(_("No more tasks of this kind in this queue."), "info")
        return redirect(url_for("inbox.my_tasks", **flt.as_params()), 303)
    if found.collective_id is not None:
        return redirect(url_for("collective.show", collective_id=found.collective_id, _anchor=f"task-{following}"),
                        303)
    return redirect(url_for("cases.case", ref=found.ref, **{f"{QUEUE_PREFIX}{k}": v for k, v in flt.as_params()
                                                              .items()}, _anchor=f"task-{following}"), 303)


def _home(found: TaskHome) -> str:
    if found.collective_id is not None:
        return url_for("collective.show", collective_id=found.collective_id)
    return url_for("cases.case", ref=found.ref)


def _render_home(found: TaskHome, refused: dict[str, Refused]) -> str:
    """The task's page again, with the refused form as typed and its problems."""
    if found.collective_id is not None:
        return render_collective(found.collective_id, refused=refused)
    return render_case(str(found.ref), Posted("tasks", refused))


def _conflict(back: str, back_label: str | None = None) -> tuple[str, int]:
    return refusal(409, _("Someone else completed this task first. Open its page again to see where it stands."),
                   back, back_label)
