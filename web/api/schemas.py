"""Schemas of the API's own arguments (query strings, uploads) and answers that no other reader shares.

What people type is checked by the Flask-free schemas of ``workflow/schemas`` (the same for the pages, the
importer and the API); what the API and the command line show is ``workflow/schemas/reads.py``. Both are used
by the route modules directly. Unknown fields are refused (marshmallow's RAISE).
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.datastructures import FileStorage

from web.database import db
from workflow import vocab
from workflow.paging import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from workflow.problems import Problem
from workflow.schemas.base import Boolean, Dict, InputSchema, List, Nested, Number, ProblemField, Text
from workflow.schemas.queues import MAX_ID, TaskFilterSchema
from workflow.schemas.reads import TaskSchema
from workflow.schemas.responses import ResponseInputSchema
from workflow.schemas.validators import at_most, in_range, one_of
from workflow.services.deadlines import STATUSES as DEADLINE_STATUSES
from workflow.states import UPLOAD_KINDS, Stage

DOCUMENT_FORMATS = ("docx", "pdf")


class File(ProblemField, Upload):
    """An uploaded file (multipart/form-data). Anything else under its name (a JSON value, a text part of the form)
    is refused with ``not_file``: flask-smorest's Upload passes any value through, and reading it failed (a 500)."""

    default_error_messages = {"invalid": Problem("not_file")}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


class ErrorSchema(Schema):
    """Every error answer: a code, a message safe to show, and one message per bad field."""

    error = fields.String(required=True, metadata={"description": "machine-readable code, e.g. not_found"})
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "field name -> problem (empty when no field is at fault)"})


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class PageArgsSchema(InputSchema):
    page = Number(load_default=1, validate=in_range(1, MAX_PAGE), metadata={"description": "page number, from 1"})
    per_page = Number(load_default=DEFAULT_PER_PAGE, validate=in_range(1, MAX_PER_PAGE),
                      metadata={"description": f"items per page, 1 to {MAX_PER_PAGE}"})


def _active_incident_types() -> tuple[str, ...]:
    """Checked against the vocabulary as it is now (admins add and retire types), not a list fixed at import."""
    return vocab.keys(db(), "incident_type")


class CaseListArgsSchema(PageArgsSchema):
    stage = Text(validate=one_of(Stage.codes()))
    episode = Text(metadata={"description": "episode key"})
    q = Text(max_length=100, metadata={"description": "part of the case reference"})
    city = Text(max_length=120)
    incident_type = Text(validate=one_of(_active_incident_types, "inactive_incident_type"),
                         metadata={"description": "an active key of the incident_type vocabulary"})
    overdue = Boolean(load_default=False, metadata={"description": "only cases with an overdue deadline"})
    body = Text(max_length=40, metadata={"description": "a body the case has a filing for or its review chose"})
    urgent = Boolean(allow_none=True, metadata={"description": "true: urgent cases only; false: the others"})


class TaskListArgsSchema(PageArgsSchema, TaskFilterSchema):
    """GET /api/v1/tasks: the filters of My tasks (``workflow/schemas/queues.py``) and paging."""


class QueuedTaskSchema(TaskSchema):
    """A ready task in a queue: never an identity field."""

    case = fields.String(allow_none=True, attribute="ref", metadata={"description": "the case reference"})
    collective_id = fields.Integer(allow_none=True)
    body = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)
    urgent = fields.Boolean(required=True)
    detained = fields.Boolean(required=True)
    assignee_id = fields.Integer(allow_none=True, metadata={"description": "who holds or was given the task"})
    held = fields.Boolean(required=True, metadata={"description": "claimed or assigned: only the holder completes it"})
    assigned_at = fields.DateTime(allow_none=True)


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(QueuedTaskSchema), required=True)
    total = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "task kind -> ready tasks matching the other filters"})


class AssignSchema(InputSchema):
    assignee = Number(required=True, validate=in_range(1, MAX_ID),
                      metadata={"description": "the id of an active user of the task's lane"})


class UploadSchema(InputSchema):
    """multipart/form-data: the document's kind and the file (PDF, JPEG, PNG or DOCX by content)."""

    kind = Text(required=True, validate=one_of(UPLOAD_KINDS))
    file = File(required=True)


class ConsentFormArgsSchema(InputSchema):
    """The language of a pre-filled form for the complainant to sign."""

    # The languages are the wording folder's (consent/<language>.toml): the service checks, answering 422.
    lang = Text(load_default="ru", metadata={"description": "a language of the forms: en, kk or ru as shipped"})


class TaskCompletionSchema(InputSchema):
    # Its texts are checked by the task's form, per field (workflow/task_forms.py), not here.
    data = Dict(keys=fields.String(), required=True, clean=False,
                metadata={"description": "the task's form data (docs/INTERFACES.md §5)"})


class CompletedTaskSchema(Schema):
    id = fields.String(required=True)
    bpmn_id = fields.String(required=True)
    name = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "completed"})
    completed_at = fields.DateTime(required=True)
    outcome = fields.String(allow_none=True, required=True, metadata={
        "description": "the choice made (a review's decision, a step's action); null when the form has none"})


class TaskCompletedSchema(Schema):
    """The answer to a completion: the task, where its case (or collective complaint) stands, its ready tasks.

    Changed in the scale version: no longer the whole case (read it with ``GET /api/v1/cases/{ref}``)."""

    task = fields.Nested(CompletedTaskSchema, required=True)
    ref = fields.String(allow_none=True, required=True, metadata={"description": "the case; null for a collective "
                                                                                  "complaint's task"})
    stage = fields.String(allow_none=True, required=True, metadata={"description": "the case's stage afterwards"})
    collective_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "a collective complaint's task: the complaint (GET /api/v1/collective-complaints/{id})"})
    status = fields.String(required=True, metadata={"description": "the process: running | complete"})
    tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "ready tasks of the case (or of the complaint's process) now, oldest first"})


class ResponseUploadSchema(ResponseInputSchema):
    """A response as JSON, or the same fields as multipart/form-data with the body's letter as ``file``."""

    file = File(metadata={"description": "multipart/form-data only: the body's letter"})


class FilingVersionUploadSchema(InputSchema):
    """multipart/form-data: the edited filing as ``file`` (.docx that opens in Word, or PDF; by content)."""

    file = File(required=True)


class FilingLanguageSchema(InputSchema):
    language = Text(required=True, max_length=5, metadata={
        "description": "one of the body's languages that has a template (the service checks it per body)"})


class FilingDocumentArgsSchema(InputSchema):
    version = Number(validate=in_range(1, 1_000_000), metadata={
        "description": "the version to download (default: the latest)"})
    format = Text(load_default="docx", validate=one_of(DOCUMENT_FORMATS),
                  metadata={"description": "docx (default) or pdf (needs LibreOffice on the server)"})


class DeadlineArgsSchema(PageArgsSchema):
    status = Text(load_default="open", validate=one_of(DEADLINE_STATUSES),
                  metadata={"description": "open: all open; due_soon: within 7 days; overdue: past due"})


# -- the catalogue of bodies and the vocabularies -------------------------------------------------------------

class CatalogueBodySchema(Schema):
    """One entry of the catalogue of filing bodies."""

    code = fields.String(required=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                        metadata={"description": "UI language -> the body's name"})
    languages = fields.List(fields.String(), metadata={"description": "languages the body accepts filings in"})
    channels = fields.List(fields.String(), metadata={"description": "online_form, email, post, in_person"})
    mandates = fields.List(fields.String(), metadata={"description": "keys of the mandate vocabulary"})
    communication_types = fields.List(fields.String(), metadata={"description": "urgent_appeal, letter_of_allegation"})
    required_consent = fields.List(fields.String(), metadata={
        "description": "what the complainant must have allowed; consent is always verified anyway"})
    rules = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "admissibility rule -> its parameters (and optionally level: error or warning)"})
    response_days = fields.Integer(required=True, metadata={"description": "the body's response window"})
    follow_up_days = fields.Integer(required=True)
    notes = fields.String(required=True)
    active = fields.Boolean(required=True)
    updated_at = fields.DateTime(required=True)


class BodyListArgsSchema(InputSchema):
    include_inactive = Boolean(load_default=False)


class BodyListSchema(Schema):
    items = fields.List(fields.Nested(CatalogueBodySchema), required=True)


class TermSchema(Schema):
    key = fields.String(required=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "UI language -> label"})
    extra = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                        metadata={"description": "incident_type: deprivation_of_liberty; legal_ground: udhr"})
    active = fields.Boolean(required=True, metadata={"description": "false once retired"})
    updated_at = fields.DateTime(required=True)


class TermListArgsSchema(InputSchema):
    include_retired = Boolean(load_default=False)


class TermListSchema(Schema):
    vocabulary = fields.String(required=True)
    items = fields.List(fields.Nested(TermSchema), required=True)



class CollectiveCreatedSchema(Schema):
    id = fields.Integer(required=True)
    filing_id = fields.Integer(required=True)
    document_url = fields.String(required=True, metadata={
        "description": "where to download the generated .docx (GET /api/v1/filings/{filing_id}/document)"})


class TaskFilterSchema(InputSchema):
    """The work queues' filter (``services/queues.TaskFilter``); every field narrows the selection."""

    episode = Text(max_length=80, metadata={"description": "an episode key"})
    city = Text(max_length=200)
    body = Text(max_length=40, metadata={"description": "a filing's body code"})
    urgent = Boolean()
    overdue = Boolean()
    assignee = Number(validate=in_range(0, 2**31 - 1),
                      metadata={"description": "a user id; 0 for tasks assigned to nobody"})
    ref = Text(max_length=40, metadata={"description": "a case reference, exactly"})


class CompleteManySchema(InputSchema):
    """Many tasks of one kind completed with the same form data: explicit ``task_ids``, or every ready task of the
    caller's team matching ``filter`` (resolved when the job is created)."""

    task = Text(required=True, max_length=100, metadata={"description": "the task kind, e.g. legal_review"})
    task_ids = List(Text(max_length=64), validate=at_most(1000))
    filter = Nested(TaskFilterSchema)
    data = Dict(keys=fields.String(), required=True, clean=False,
                metadata={"description": "the task's form data (docs/INTERFACES.md §5), the same for every task"})
