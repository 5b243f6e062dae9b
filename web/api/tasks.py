"""Completing a task with its form data."""

from __future__ import annotations

from typing import Any

from flask import g

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.schemas import (
    AssignSchema,
    QueuedTaskSchema,
    TaskCompletedSchema,
    TaskCompletionSchema,
    TaskListArgsSchema,
    TaskPageSchema,
)
from web.database import db, writes_late
from workflow.models import HumanTask, utcnow
from workflow.roles import CASEWORK, Role
from workflow.services.queues import (
    QueueRow,
    TaskFilter,
    assign_task,
    claim_task,
    queue_page,
    release_task,
    task_counts,
)
from workflow.services.tasks import complete_task, completion_of, completion_outcome

blp = ApiBlueprint("api_tasks", __name__,
                   description="Tasks: the caller's queue, claim, assign and release, complete one with its form data")


def _row(row: QueueRow) -> dict[str, Any]:
    task = row.task
    return {"id": task.id, "bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane, "due_at": task.due_at,
            "form": task.form, "filing_id": task.filing_id, "ref": row.ref, "collective_id": row.collective_id,
            "body": row.body, "overdue": row.overdue, "urgent": row.urgent, "detained": row.detained,
            "assignee_id": task.assignee_id, "held": row.held, "assigned_at": task.assigned_at}


def _held(task: HumanTask) -> dict[str, Any]:
    return {"id": task.id, "bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane, "due_at": task.due_at,
            "form": task.form, "filing_id": task.filing_id, "ref": None, "collective_id": None, "body": None,
            "overdue": bool(task.overdue(utcnow())), "urgent": False, "detained": False,
            "assignee_id": task.assignee_id, "held": task.assigned_at is not None, "assigned_at": task.assigned_at}


@blp.route("/tasks", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(TaskListArgsSchema, location="query")
@blp.response(200, TaskPageSchema)
@blp.errors(401, 403)
def list_queue(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's team's ready tasks matching the filters (those of My tasks), overdue first, a page at a time,
    with the count of each task kind among the tasks matching the other filters."""
    page, per_page = args.pop("page"), args.pop("per_page")
    flt, now = TaskFilter(**args), utcnow()
    rows, total = queue_page(db(), g.actor.role, flt, page=page, per_page=per_page, now=now)
    counts = {c.task: c.count for c in task_counts(db(), g.actor.role, flt, now=now)}
    return {"items": [_row(r) for r in rows], "total": total, "counts": counts}


@blp.route("/tasks/<string:task_id>/claim", methods=["POST"])
@roles(*CASEWORK)
@blp.response(200, QueuedTaskSchema)
@blp.errors(401, 403, 404, 409)
def claim(task_id: str) -> dict[str, Any]:
    """Take a ready task of the caller's lane; others of the lane cannot complete it until it is released (409
    when someone else holds it, 403 for another lane or four eyes)."""
    return _held(claim_task(db(), g.actor, task_id))


@blp.route("/tasks/<string:task_id>/release", methods=["POST"])
@roles(*CASEWORK)
@blp.response(200, QueuedTaskSchema)
@blp.errors(401, 403, 404, 409)
def release(task_id: str) -> dict[str, Any]:
    """Give a held task back to its lane: the holder or a manager (a task nobody holds is answered unchanged)."""
    return _held(release_task(db(), g.actor, task_id))


@blp.route("/tasks/<string:task_id>/assign", methods=["POST"])
@roles(Role.MANAGER)
@blp.arguments(AssignSchema)
@blp.response(200, QueuedTaskSchema)
@blp.errors(401, 403, 404, 409)
def assign(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """A manager gives a ready task to an active user of its lane (422 for anyone else, or four eyes)."""
    return _held(assign_task(db(), g.actor, task_id, body["assignee"]))


@blp.route("/tasks/<string:task_id>/complete", methods=["POST"])
@writes_late  # a task completion: its writes are version-checked
@roles(*CASEWORK)
@blp.arguments(TaskCompletionSchema)
@blp.response(200, TaskCompletedSchema)
@blp.errors(401, 403, 404, 409)
def complete(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Complete a ready task with its form data; answers the task's outcome, the case's stage afterwards and
    the ready tasks now (for a collective complaint's task: the complaint's id and its process's ready tasks).

    The whole case is not rebuilt for the answer: read it with ``GET /api/v1/cases/{ref}``.
    """
    instance = complete_task(db(), settings(), task_id, g.actor, body["data"])
    done = completion_of(db(), instance, task_id)
    task = done.task
    return {"task": {"id": task.id, "bpmn_id": task.bpmn_id, "name": task.name, "state": task.state,
                     "completed_at": task.completed_at, "outcome": completion_outcome(body["data"])},
            "ref": done.ref, "stage": done.stage, "collective_id": done.collective_id, "status": done.status,
            "tasks": done.tasks}
