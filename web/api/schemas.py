"""Request and response schemas of the JSON API (INTERFACES.md §4).

The same classes validate requests, serialize answers and generate the OpenAPI document, so the
description cannot drift from the behaviour. Unknown fields are refused (marshmallow's RAISE, the default).
Datetimes are ISO 8601 with an offset (UTC), dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from filings.consent_forms import LANGUAGES as FORM_LANGUAGES
from workflow.runtime.instances import STAGES
from workflow.services.documents import UPLOAD_KINDS
from workflow.services.queries import MAX_PER_PAGE
from workflow.services.responses import RESPONSE_KINDS
from workflow.vocab import GENDERS, INCIDENT_TYPES

DEADLINE_STATUSES = ("open", "due_soon", "overdue")
DEFAULT_PER_PAGE = 50


# --- errors -------------------------------------------------------------------------------------------


class ErrorSchema(Schema):
    """Every error answer: a code, a message safe to show, and one message per bad field."""

    error = fields.String(required=True, metadata={"description": "machine-readable code, e.g. not_found"})
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "field name -> problem (empty when no field is at fault)"})


# --- shared -------------------------------------------------------------------------------------------


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1),
                          metadata={"description": "page number, from 1"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"items per page, 1 to {MAX_PER_PAGE}"})


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


# --- cases --------------------------------------------------------------------------------------------


class CaseListArgsSchema(PageArgsSchema):
    stage = fields.String(validate=validate.OneOf(STAGES))
    episode = fields.String(metadata={"description": "episode key"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "part of the case reference"})
    city = fields.String(validate=validate.Length(max=120))
    incident_type = fields.String(validate=validate.OneOf(INCIDENT_TYPES))
    overdue = fields.Boolean(load_default=False, metadata={"description": "only cases with an overdue deadline"})


class CaseSummarySchema(Schema):
    """A list row: no identity fields."""

    ref = fields.String(required=True)
    stage = fields.String(required=True)
    urgent = fields.Boolean(required=True)
    received_on = fields.Date(allow_none=True)
    city = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)
    ready_tasks = fields.Integer(required=True, metadata={"description": "number of tasks ready to be done"})


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    total = fields.Integer(required=True)


class KeyListField(fields.List):
    """A list of vocabulary keys; the `;`-separated text of the import format is accepted as well."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(validate=validate.Length(min=1, max=80)), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


def _no_document(value: Any) -> None:
    if value is not None:
        raise ValidationError("must be null or absent: upload the file with POST /api/v1/cases/{ref}/documents")


_DOCUMENT_PLACEHOLDER = {
    "allow_none": True,
    "load_default": None,
    "validate": _no_document,
    "metadata": {"description": "always null here; upload the document afterwards"},
}


class AppealSchema(Schema):
    """One appeal with the fields of the intake import (INTERFACES.md §3)."""

    ref = fields.String(required=True, metadata={"description": "up to 40 letters, digits, - or _"})
    full_name = fields.String(required=True)
    city = fields.String(required=True)
    episodes = KeyListField(required=True, metadata={"description": "episode keys"})
    incident_types = KeyListField(required=True, metadata={"description": f"of: {', '.join(INCIDENT_TYPES)}"})
    incident_date = fields.Date(required=True)
    description = fields.String(required=True)
    form_of_appeal = fields.String(**_DOCUMENT_PLACEHOLDER)  # type: ignore[arg-type]
    power_of_attorney = fields.String(**_DOCUMENT_PLACEHOLDER)  # type: ignore[arg-type]
    consent_publish_name = fields.Boolean(required=True)
    received_on = fields.Date(required=True)
    full_name_native = fields.String(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    birth_date = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    passport_number = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    detained_now = fields.Boolean(load_default=False)


class PersonSchema(Schema):
    """Only the fields the caller's role may see are present."""

    full_name = fields.String(allow_none=True)
    full_name_native = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    passport_number = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    city = fields.String(allow_none=True)


class EpisodeRefSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)


class IncidentSchema(Schema):
    types = fields.List(fields.String(), required=True)
    occurred_on = fields.Date(allow_none=True)
    place = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class DocumentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    version = fields.Integer(required=True)
    uploaded_at = fields.DateTime(required=True)


class ConsentSchema(Schema):
    status = fields.String(required=True, metadata={"description": "pending, verified or withdrawn"})
    publish_name = fields.Boolean()
    share_name_with_government = fields.Boolean()
    initials_only = fields.Boolean()
    anonymous = fields.Boolean()
    body_overrides = fields.Dict(keys=fields.String(), values=fields.String(),
                                 metadata={"description": "body code -> allow or deny naming for that body"})
    form_of_appeal_verified = fields.Boolean()
    power_of_attorney_verified = fields.Boolean()
    verified_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)


class ConsentUpdateSchema(Schema):
    """What the complainant allows; fields left out keep their value."""

    share_name_with_government = fields.Boolean()
    publish_name = fields.Boolean()
    initials_only = fields.Boolean()
    anonymous = fields.Boolean()
    body_overrides = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.OneOf(["allow", "deny"])))
    risk_note = fields.String(allow_none=True, validate=validate.Length(max=5000))


class WithdrawalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class TaskSchema(Schema):
    id = fields.String(required=True, metadata={"description": "use with POST /api/v1/tasks/{id}/complete"})
    bpmn_id = fields.String(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True, metadata={"description": "the role that does the task"})
    due_at = fields.DateTime(allow_none=True)
    form = fields.String(allow_none=True)
    filing_id = fields.Integer(allow_none=True)


class CaseDeadlineSchema(Schema):
    label = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    state = fields.String(required=True)
    owner_role = fields.String(allow_none=True)
    filing_id = fields.Integer(allow_none=True)


class CaseFilingSchema(Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    state = fields.String(required=True)
    submitted_on = fields.Date(allow_none=True)
    reference = fields.String(allow_none=True)


class CaseSchema(Schema):
    ref = fields.String(required=True)
    stage = fields.String(required=True)
    urgent = fields.Boolean(required=True)
    received_on = fields.Date(allow_none=True)
    person = fields.Nested(PersonSchema, required=True)
    episodes = fields.List(fields.Nested(EpisodeRefSchema), required=True)
    incidents = fields.List(fields.Nested(IncidentSchema), required=True)
    documents = fields.List(fields.Nested(DocumentSchema), required=True)
    consent = fields.Nested(ConsentSchema, allow_none=True, required=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={"description": "ready tasks"})
    deadlines = fields.List(fields.Nested(CaseDeadlineSchema), required=True)
    filings = fields.List(fields.Nested(CaseFilingSchema), required=True)


class UploadSchema(Schema):
    """multipart/form-data: the document's kind and the file (PDF, JPEG, PNG or DOCX by content)."""

    kind = fields.String(required=True, validate=validate.OneOf(UPLOAD_KINDS))
    file = Upload(required=True)


class ConsentFormArgsSchema(Schema):
    """The language of a pre-filled form for the complainant to sign."""

    lang = fields.String(load_default="ru", validate=validate.OneOf(FORM_LANGUAGES),
                         metadata={"description": f"one of {', '.join(FORM_LANGUAGES)}"})


# --- tasks --------------------------------------------------------------------------------------------


class TaskCompletionSchema(Schema):
    data = fields.Dict(keys=fields.String(), required=True,
                       metadata={"description": "the task's form data (INTERFACES.md §5)"})


# --- filings and responses ----------------------------------------------------------------------------


class ResponseInputSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(RESPONSE_KINDS))
    received_on = fields.Date(required=True)
    reference = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    summary = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=20000))


class ResponseSchema(Schema):
    id = fields.Integer(required=True)
    filing_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    received_on = fields.Date(required=True)
    reference = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    recorded_at = fields.DateTime(required=True)


class FilingVersionSchema(Schema):
    version = fields.Integer(required=True)
    document_id = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    created = fields.DateTime(required=True)


class FilingSchema(Schema):
    id = fields.Integer(required=True)
    case = fields.String(allow_none=True, metadata={"description": "case reference"})
    body = fields.String(required=True)
    language = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "individual or collective"})
    state = fields.String(required=True)
    submitted_on = fields.Date(allow_none=True)
    channel = fields.String(allow_none=True)
    reference = fields.String(allow_none=True, metadata={"description": "the body's reference"})
    versions = fields.List(fields.Nested(FilingVersionSchema), required=True)
    responses = fields.List(fields.Nested(ResponseSchema), required=True)


# --- deadlines ----------------------------------------------------------------------------------------


class DeadlineArgsSchema(PageArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(DEADLINE_STATUSES),
                           metadata={"description": "open: all open; due_soon: within 7 days; overdue: past due"})


class DeadlineSchema(Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    state = fields.String(required=True)
    owner_role = fields.String(allow_none=True)
    case = fields.String(allow_none=True, metadata={"description": "case reference"})
    filing_id = fields.Integer(allow_none=True)
    overdue = fields.Boolean(required=True)


class DeadlinePageSchema(Schema):
    items = fields.List(fields.Nested(DeadlineSchema), required=True)
    total = fields.Integer(required=True)
