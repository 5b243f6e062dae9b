"""What the API and the command line show of a job (a bulk action): its progress and, per item, what was done
and why an item was refused or skipped. One shape for both, dumped from ``services/bulk.JobRead``."""

from __future__ import annotations

from marshmallow import Schema, fields


class ItemProblemSchema(Schema):
    field = fields.String(allow_none=True)
    code = fields.String(allow_none=True, metadata={"description": "a problem code of docs/INTERFACES.md, if any"})
    message = fields.String(required=True)


class JobItemSchema(Schema):
    position = fields.Integer(required=True)
    task_id = fields.String(required=True)
    case = fields.String(attribute="case_ref", allow_none=True)
    state = fields.String(required=True, metadata={"description": "pending, done, refused or skipped"})
    outcome = fields.String(allow_none=True, metadata={"description": "the decision sent, when the form has one"})
    problems = fields.List(fields.Nested(ItemProblemSchema))


class JobSchema(Schema):
    id = fields.Integer(attribute="job.id", required=True)
    kind = fields.String(attribute="job.kind", required=True)
    task = fields.String(allow_none=True)
    state = fields.String(attribute="progress.state", required=True,
                          metadata={"description": "queued, running, done or failed"})
    total = fields.Integer(attribute="progress.total")
    processed = fields.Integer(attribute="progress.processed")
    percent = fields.Integer(attribute="progress.percent")
    finished = fields.Boolean(attribute="progress.finished")
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), attribute="progress.counts")
    created_at = fields.DateTime(attribute="job.created_at")
    finished_at = fields.DateTime(attribute="job.finished_at", allow_none=True)
    items = fields.List(fields.Nested(JobItemSchema), metadata={"description": "once the job has finished"})
