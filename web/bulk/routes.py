"""Bulk actions: a legal review applied to many cases, many reviews approved from one table, and each job's
progress and result.

A page lists the selected tasks (the ticked ones from My tasks or the case list, or every task matching the
queue's filter), each with a checkbox, beside the one form (drawn from the task's JSON Schema, as on a case
page). Sending it creates a job (``workflow/services/bulk.py``): every item is a single completion with its own
checks, audit event and transaction. Up to ``jobs.INLINE_LIMIT`` items run at once; more go to the worker, and
the job's page shows a progress bar that survives a reload.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.bulk.forms import filter_fields, task_filter, task_ids
from web.database import db
from web.errors import refusal
from web.labels import data_labels, label, task_name
from web.messages import message
from web.tasks import forms
from web.translate import gettext as _
from workflow.db import engine_for
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import HumanTask
from workflow.problems import Problem
from workflow.roles import CASEWORK, Role
from workflow.services import bulk, jobs
from workflow.services.jobs import ItemState
from workflow.services.queues import TaskFilter, matching_task_ids
from workflow.services.tasks import task_schema, task_ui_schema

bp = Blueprint("bulk", __name__, url_prefix="/bulk", template_folder="templates")
# Bulk pages list the selection; a filter matching more than this is still done whole through "all N".
MAX_SHOWN = 500
TASK_NAME_MAX = 100  # a BPMN id, as HumanTask.bpmn_id holds it


@bp.route("/review", methods=["GET", "POST"])
@roles(Role.LEGAL)
def review() -> Response | str | tuple[str, int]:
    return _bulk_page("legal_review", "bulk/review.html")


@bp.route("/approve", methods=["GET", "POST"])
@roles(Role.MANAGER)
def approve() -> Response | str | tuple[str, int]:
    return _bulk_page("approve_review", "bulk/approve.html")


@bp.route("/complete", methods=["GET", "POST"])
@roles(*CASEWORK)
def complete() -> Response | str | tuple[str, int]:
    """Any other kind of task (a filing's check, approval or submission...) completed with one form for all."""
    source = request.form if request.method == "POST" else request.args
    task = (source.get("task") or "").strip()
    dedicated = {"legal_review": "bulk.review", "approve_review": "bulk.approve"}
    if task in dedicated:
        return redirect(url_for(dedicated[task], **request.args), 303)
    if not task or len(task) > TASK_NAME_MAX:
        return refusal(400, _("Choose the kind of task to complete (from My tasks)."), url_for("inbox.my_tasks"))
    return _bulk_page(task, "bulk/complete.html")


def _bulk_page(task: str, template: str) -> Response | str | tuple[str, int]:
    session = db()
    source = request.form if request.method == "POST" else request.args
    flt, chosen = task_filter(source, task), task_ids(source)
    matching = matching_task_ids(session, g.actor.role, flt, limit=bulk.MAX_ITEMS + 1)
    shown = (chosen or matching)[:MAX_SHOWN]
    rows = bulk.task_rows(session, shown)
    schema, ui = _form(session, task, [r.task for r in rows])
    if request.method == "GET":
        return _render(template, task, flt, rows, matching, set(shown), schema, ui)
    data = forms.convert(schema, request.form) if schema else {}
    everything = request.form.get("scope") == "all"
    selection = bulk.Selection(filter=flt) if everything else bulk.Selection(task_ids=tuple(task_ids(request.form)))
    try:
        job = bulk.start(session, g.actor, task, data, selection)
    except ValidationFailed as err:
        session.rollback()
        return _render(template, task, flt, rows, matching, set(task_ids(request.form)), schema, ui,
                       values=forms.typed_values(schema or {}, request.form), errors=err.errors,
                       everything=everything), 422
    except Forbidden:
        return refusal(403, _("Only casework staff complete tasks."), url_for("inbox.my_tasks"))
    job_id, total = job.id, job.total
    session.commit()  # the job exists before any item runs (SQLite has one writer: the runner needs it free)
    if total <= jobs.INLINE_LIMIT:
        settings = current_app.config["PETITIO_SETTINGS"]
        jobs.run(engine_for(settings.database_url), settings, job_id)
    return redirect(url_for("bulk.job", job_id=job_id), 303)


def _form(session: Any, task: str, rows: list[HumanTask]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The form of the chosen kind of task and its UI schema, from one of the tasks shown."""
    sample = next((r for r in rows if r.bpmn_id == task), None)
    if sample is None:
        return None, {}
    return task_schema(session, sample), task_ui_schema(session, sample)


def _render(template: str, task: str, flt: TaskFilter, rows: list[bulk.TaskRow], matching: list[str],
            checked: set[str], schema: dict[str, Any] | None, ui: dict[str, Any], *,
            values: dict[str, Any] | None = None, errors: dict[str, Problem] | None = None,
            everything: bool = False) -> str:
    words = {name.partition(".")[0]: message(problem) for name, problem in (errors or {}).items()}
    fields = forms.fields_of(schema, prefix="bulk", ui=ui, values=values, errors=words, labels=data_labels()) \
        if schema else []
    other = [message(p) for name, p in (errors or {}).items() if name.partition(".")[0] not in
             {f.name for f in fields}]
    reviews = bulk.approval_rows(db(), g.actor, [r.task for r in rows]) if task == "approve_review" else []
    return render_template(template, task=task, task_title=task_name(task), rows=rows, reviews=reviews,
                           matching=len(matching), more=len(matching) > bulk.MAX_ITEMS, checked=checked,
                           hidden=filter_fields(flt), fields=fields, other_errors=other, everything=everything,
                           inline_limit=jobs.INLINE_LIMIT, filtered=bool(set(flt.as_params()) - {"task"}))


@bp.route("/jobs/<int:job_id>")
@roles(*CASEWORK)
def job(job_id: int) -> str:
    session = db()
    found = _bulk_job(session, job_id)
    progress = jobs.progress(session, found)
    items = bulk.item_rows(session, found) if progress.finished else []
    grouped = {state: [i for i in items if i.state == state]
               for state in (ItemState.DONE, ItemState.REFUSED, ItemState.SKIPPED)}
    return render_template("bulk/job.html", job=found, progress=progress, grouped=grouped,
                           title=_job_title(found.kind, found.params.get("task")),
                           reasons={i.position: [_reason(p) for p in i.problems] for i in items},
                           may_collect=g.actor.role == Role.LEGAL and bool(grouped[ItemState.DONE]))


@bp.route("/jobs/<int:job_id>/progress")
@roles(*CASEWORK)
def job_progress(job_id: int) -> Response:
    session = db()
    progress = jobs.progress(session, _bulk_job(session, job_id))
    return jsonify(state=progress.state, total=progress.total, processed=progress.processed,
                   percent=progress.percent, finished=progress.finished, counts=progress.counts)


def _bulk_job(session: Any, job_id: int) -> Any:
    """The bulk job its creator (or a manager) may see; 404 for any other kind of job (an import has its page)."""
    found = jobs.job_for(session, job_id, g.actor)
    if found.kind not in bulk.KINDS:
        abort(404)
    return found


BLOCKED = ("bodies_blocked", "bodies_blocked_since_review")


def _reason(problem: bulk.ItemProblem) -> tuple[str, str | None]:
    """Why an item was refused or skipped, in the user's language, and the admissibility details (in English, as
    the checks recorded them) when a body could not take the case."""
    if problem.problem is None:
        return problem.message, None
    if problem.code in BLOCKED:
        bodies = ", ".join(label("body", code) for code in problem.problem.params.get("bodies", ()))
        return (_("%(bodies)s cannot take this case: the admissibility checks on its page say why.", bodies=bodies),
                str(problem.problem.params.get("details") or "") or None)
    return message(problem.problem), None


def _job_title(kind: str, task: str | None) -> str:
    if kind == bulk.BULK_REVIEW:
        return _("Legal review of many cases")
    if kind == bulk.BULK_APPROVE:
        return _("Approval of many reviews")
    return _("Many tasks completed together: %(task)s", task=task_name(task or ""))
