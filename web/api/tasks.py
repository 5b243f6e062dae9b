"""Completing a task with its form data."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.cases import case_as_seen
from web.api.schemas import TaskCompletionSchema
from web.database import db
from workflow.roles import CASEWORK
from workflow.schemas.reads import CaseSchema, CollectiveSchema
from workflow.services.collective import collective_of_instance, read_collective
from workflow.services.tasks import complete_task

blp = ApiBlueprint("api_tasks", __name__, description="Tasks: complete one with its form data")


@blp.route("/tasks/<string:task_id>/complete", methods=["POST"])
@roles(*CASEWORK)
@blp.arguments(TaskCompletionSchema)
@blp.response(200, CaseSchema)
@blp.errors(401, 403, 404, 409)
def complete(body: dict[str, Any], task_id: str) -> Any:
    """Complete a ready task with its form data; answers the case as it is afterwards.

    A task of a collective complaint belongs to no case: it answers the collective complaint instead (the
    shape of ``GET /api/v1/collective-complaints/{id}``).
    """
    instance = complete_task(db(), settings(), task_id, g.actor, body["data"])
    if instance.case is None:
        collective = collective_of_instance(db(), instance.id)
        return jsonify(CollectiveSchema().dump(read_collective(db(), collective)))
    return case_as_seen(instance.case.ref)
