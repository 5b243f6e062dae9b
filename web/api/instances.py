"""Process instances in error, for administrators (/api/v1/instances): list them, retry one, reset one to an
earlier task. ``workflow.services.repair`` does the work, checks and audit; the error text may quote case data,
so only admins read it (audited)."""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.database import db
from workflow.roles import ADMINS
from workflow.schemas.base import InputSchema, Text
from workflow.schemas.validators import one_of
from workflow.services import repair

blp = ApiBlueprint("api_instances", __name__, description="Process instances in error: list, retry, reset")


class InstanceArgsSchema(InputSchema):
    status = Text(load_default=repair.ERROR, validate=one_of((repair.ERROR,)),
                  metadata={"description": "only the instances in error are listed"})


class ResetSchema(InputSchema):
    task = Text(required=True, max_length=100, multiline=False,
                metadata={"description": "a task id, or a BPMN id (its latest run): a task that ran or failed"})


class FailedStepSchema(Schema):
    bpmn_id = fields.String(allow_none=True, attribute="step")
    name = fields.String(allow_none=True, attribute="step_name")
    since = fields.DateTime(allow_none=True)


class InstanceInErrorSchema(Schema):
    id = fields.Integer(required=True, attribute="instance_id")
    case_ref = fields.String(allow_none=True)
    collective_id = fields.Integer(allow_none=True)
    process = fields.String(required=True, attribute="process_id")
    version = fields.Integer(required=True)
    failed_step = fields.Nested(FailedStepSchema, attribute="failure")
    error = fields.String(allow_none=True, metadata={"description": "may quote case data (admins only)"})


class OutcomeSchema(Schema):
    id = fields.Integer(required=True, attribute="instance_id")
    status = fields.String(required=True, metadata={"description": "running | complete | error (failed again)"})
    error = fields.String(allow_none=True, metadata={"description": "the new error when it failed again"})


@blp.route("/instances", methods=["GET"])
@roles(*ADMINS)
@blp.arguments(InstanceArgsSchema, location="query")
@blp.response(200, InstanceInErrorSchema(many=True))
@blp.errors(401, 403)
def list_instances(_args: dict[str, Any]) -> Any:
    """The instances in error, oldest failure first, with the failed step and the error (the read is audited)."""
    return repair.instances_in_error(db(), g.actor)


@blp.route("/instances/<int:instance_id>/retry", methods=["POST"])
@roles(*ADMINS)
@blp.response(200, OutcomeSchema)
@blp.errors(401, 403, 404, 409)
def retry(instance_id: int) -> Any:
    """Run the instance again from where it stopped. A retry that fails again answers 200 with ``status`` error
    and the new error: the instance stays in error and that is recorded. A complete instance: 409."""
    return repair.retry(db(), settings(), g.actor, instance_id)


@blp.route("/instances/<int:instance_id>/reset", methods=["POST"])
@roles(*ADMINS)
@blp.arguments(ResetSchema)
@blp.response(200, OutcomeSchema)
@blp.errors(401, 403, 404, 409)
def reset(body: dict[str, Any], instance_id: int) -> Any:
    """Reset the instance to a task that ran (422 for any other) and run it from there; answers as ``retry``."""
    return repair.reset(db(), settings(), g.actor, instance_id, body["task"])
