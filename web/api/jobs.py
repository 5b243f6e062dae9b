"""Completing many tasks at once, and the jobs that do it: progress, then a result per item."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, url_for
from werkzeug import Response

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.schemas import CompleteManySchema
from web.database import db
from workflow.db import engine_for
from workflow.roles import CASEWORK
from workflow.schemas.jobs import JobSchema
from workflow.services import bulk, jobs
from workflow.services.queues import TaskFilter

blp = ApiBlueprint("api_jobs", __name__, description="Bulk actions: complete many tasks, follow the job")


@blp.route("/tasks/complete-many", methods=["POST"])
@roles(*CASEWORK)
@blp.arguments(CompleteManySchema)
@blp.response(200, JobSchema)
@blp.alt_response(202, schema=JobSchema, description="more tasks than are done at once: the job runs in the "
                  "background; follow it at GET /api/v1/jobs/{job_id}")
@blp.errors(401, 403, 422)
def complete_many(body: dict[str, Any]) -> Any:
    """Complete many tasks of one kind with the same form data, each as ``POST /tasks/{id}/complete`` would.

    Each task is its own unit of work with the same role, lane, four-eyes and domain checks; a task that is
    refused leaves the others going. Up to 50 tasks answer 200 with a result per item; more answer 202 with the
    job, whose items are fixed when it is created.
    """
    session = db()
    flt = body.get("filter")
    selection = bulk.Selection(task_ids=tuple(body.get("task_ids") or ()),
                               filter=TaskFilter(**flt) if flt is not None else None)
    job = bulk.start(session, g.actor, body["task"], body["data"], selection)
    job_id, total = job.id, job.total
    session.commit()  # the job exists before any item runs (SQLite has one writer: the runner needs it free)
    if total <= jobs.INLINE_LIMIT:
        jobs.run(engine_for(settings().database_url), settings(), job_id)
        session.expire_all()  # the runner wrote in its own transactions: read the job afresh
        return _job(job_id)
    response = _job(job_id)
    response.status_code = 202
    response.headers["Location"] = url_for("api_jobs.job", job_id=job_id)
    return response


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, JobSchema)
@blp.errors(401, 403, 404)
def job(job_id: int) -> Any:
    """A job's progress, and once it has finished a result per item (done, refused with its problems, skipped).

    Only its creator, or a manager, may read it.
    """
    return _job(job_id)


def _job(job_id: int) -> Response:
    session = db()
    found = jobs.job_for(session, job_id, g.actor)
    return jsonify(JobSchema().dump(bulk.read_job(session, found)))
