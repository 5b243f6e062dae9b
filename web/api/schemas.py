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
from web.database import db
from workflow import vocab
from workflow.admissibility import EU_STATUSES, OTHER_PROCEDURES
from workflow.runtime.instances import STAGES
from workflow.services.collective import NARRATIVE_SECTIONS
from workflow.services.documents import UPLOAD_KINDS
from workflow.services.queries import MAX_PER_PAGE
from workflow.services.responses import RESPONSE_KINDS
from workflow.services.review import NAME_MAX, SUMMARY_MAX
from workflow.vocab import GENDERS

DEADLINE_STATUSES = ("open", "due_soon", "overdue")
DOCUMENT_FORMATS = ("docx", "pdf")
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


def _active_incident_type(value: str) -> None:
    """Checked against the vocabulary as it is now (admins add and retire types), not a list fixed at import."""
    active = vocab.keys(db(), "incident_type")
    if value not in active:
        raise ValidationError(f"not an active incident type; one of: {', '.join(active)}")


class CaseListArgsSchema(PageArgsSchema):
    stage = fields.String(validate=validate.OneOf(STAGES))
    episode = fields.String(metadata={"description": "episode key"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "part of the case reference"})
    city = fields.String(validate=validate.Length(max=120))
    incident_type = fields.String(validate=_active_incident_type,
                                  metadata={"description": "an active key of the incident_type vocabulary"})
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
    incident_types = KeyListField(required=True, metadata={"description": "keys of the incident_type vocabulary"})
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


class LegalFactsSchema(Schema):
    """The facts admissibility rests on (defaults until a legal officer records them)."""

    state_code = fields.String(required=True, metadata={"description": "the state concerned, ISO 3166-1 alpha-2"})
    torture_risk = fields.Boolean(required=True)
    deprived_of_liberty = fields.Boolean(required=True)
    remedies_exhausted_on = fields.Date(allow_none=True, metadata={"description": "the final domestic decision"})
    remedies_summary = fields.String(required=True)
    remedies_ineffective = fields.Boolean(required=True)
    other_procedure = fields.String(required=True, metadata={"description": ", ".join(OTHER_PROCEDURES)})
    other_procedure_name = fields.String(required=True)
    other_procedure_concluded_on = fields.Date(allow_none=True)
    eu_status = fields.String(required=True, metadata={"description": ", ".join(EU_STATUSES)})
    eu_subject = fields.Boolean(required=True)
    updated_at = fields.DateTime(allow_none=True, metadata={"description": "null until first recorded"})
    updated_by = fields.String(allow_none=True, metadata={"description": "username"})


class FindingSchema(Schema):
    body = fields.String(required=True)
    rule = fields.String(required=True)
    level = fields.String(required=True, metadata={"description": "error (blocks the body) or warning"})
    message = fields.String(required=True, metadata={"description": "English text, parameters filled in"})
    params = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ReviewSchema(Schema):
    """The latest legal review as decided, and the manager's approval once given."""

    decision = fields.String(required=True)
    bodies = fields.List(fields.String(), required=True)
    mandates = fields.List(fields.String(), required=True)
    grounds = fields.List(fields.String(), required=True)
    communication_type = fields.String(allow_none=True)
    wgad_categories = fields.List(fields.String(), required=True)
    urgent = fields.Boolean(required=True)
    notes = fields.String(required=True)
    checks = fields.List(fields.Nested(FindingSchema), required=True,
                         metadata={"description": "the findings the reviewer saw for the chosen bodies"})
    reviewer = fields.String(allow_none=True, metadata={"description": "username"})
    reviewed_at = fields.DateTime(required=True)
    approval = fields.String(allow_none=True, metadata={"description": "approve, return, or null while pending"})
    approval_notes = fields.String(required=True)
    approver = fields.String(allow_none=True, metadata={"description": "username"})
    approved_at = fields.DateTime(allow_none=True)


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
    review = fields.Nested(ReviewSchema, allow_none=True, required=True)
    legal_facts = fields.Nested(LegalFactsSchema, metadata={"description": "legal officers and managers only"})


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
    file = Upload(metadata={"description": "multipart/form-data only: the body's letter"})


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
    frozen = fields.Boolean(required=True, metadata={
        "description": "the filing is checked (or later): what was approved is what goes out, no new version"})


class FilingSchema(Schema):
    id = fields.Integer(required=True)
    case = fields.String(allow_none=True, metadata={"description": "case reference (null for a collective complaint)"})
    collective_id = fields.Integer(allow_none=True, metadata={"description": "the collective complaint filed, if any"})
    body = fields.String(required=True)
    language = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "individual or collective"})
    state = fields.String(required=True)
    submitted_on = fields.Date(allow_none=True)
    channel = fields.String(allow_none=True)
    reference = fields.String(allow_none=True, metadata={"description": "the body's reference"})
    versions = fields.List(fields.Nested(FilingVersionSchema), required=True)
    responses = fields.List(fields.Nested(ResponseSchema), required=True)


class FilingDocumentArgsSchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1),
                             metadata={"description": "the version to download (default: the latest)"})
    format = fields.String(load_default="docx", validate=validate.OneOf(DOCUMENT_FORMATS),
                           metadata={"description": "docx (default) or pdf (needs LibreOffice on the server)"})


# --- collective complaints ----------------------------------------------------------------------------


class WholeNumber(fields.Integer):
    """A JSON integer only: not a string of digits, a fraction or a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class OfficialSchema(Schema):
    """An official held responsible, named by position (the name may be unknown)."""

    position = fields.String(required=True)
    agency = fields.String()
    name = fields.String()
    role = fields.String(metadata={"description": "what they did"})


class CollectiveInputSchema(Schema):
    """The JSON types; the values (active body, template language, vocabulary keys, eligible cases, lengths)
    are checked by the service, which names each bad field."""

    body = fields.String(required=True, metadata={"description": "body code, e.g. un_sp"})
    language = fields.String(required=True, metadata={"description": "a language with a collective template, e.g. en"})
    title = fields.String(required=True)
    cases = fields.List(fields.String(), required=True, metadata={
        "description": "references of the cases to include; each needs verified consent and an approved review"})
    mandates = fields.List(fields.String(), metadata={"description": "mandate keys (un_sp only)"})
    grounds = fields.List(fields.String(), metadata={"description": "legal_ground keys, e.g. iccpr_21"})
    narrative = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": f"section -> text; sections: {', '.join(NARRATIVE_SECTIONS)}"})
    officials = fields.List(fields.Nested(OfficialSchema))
    appeals_received = WholeNumber(allow_none=True, metadata={
        "description": "every appeal received about the same matter (default: counted over the cases' episodes)"})


class CollectiveCreatedSchema(Schema):
    id = fields.Integer(required=True)
    filing_id = fields.Integer(required=True)
    document_url = fields.String(required=True, metadata={
        "description": "where to download the generated .docx (GET /api/v1/filings/{filing_id}/document)"})


class CollectiveSummarySchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    filing_id = fields.Integer(allow_none=True)
    state = fields.String(allow_none=True, metadata={"description": "the state of its filing"})
    case_count = fields.Integer(required=True, metadata={"description": "number of cases included"})
    created_at = fields.DateTime(required=True)


class CollectivePageSchema(Schema):
    items = fields.List(fields.Nested(CollectiveSummarySchema), required=True)
    total = fields.Integer(required=True)


class CollectiveSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    mandates = fields.List(fields.String(), required=True)
    grounds = fields.List(fields.String(), required=True)
    narrative = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    officials = fields.List(fields.Nested(OfficialSchema), required=True)
    appeals_received = fields.Integer(required=True)
    cases = fields.List(fields.String(), required=True, metadata={"description": "references of the cases included"})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True, metadata={"description": "username"})
    filing = fields.Nested(FilingSchema, allow_none=True, required=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "ready tasks of its process (complete them with POST /api/v1/tasks/{id}/complete)"})


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


# --- legal review -------------------------------------------------------------------------------------


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes" or 1 for a legal fact is more likely a mistake than a choice."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class LegalFactsUpdateSchema(Schema):
    """Fields left out keep their value; dates may be null (not known)."""

    state_code = fields.String(metadata={"description": "ISO 3166-1 alpha-2, e.g. KZ"})
    torture_risk = StrictBoolean()
    deprived_of_liberty = StrictBoolean()
    remedies_exhausted_on = fields.Date(allow_none=True, metadata={"description": "not in the future"})
    remedies_summary = fields.String(validate=validate.Length(max=SUMMARY_MAX))
    remedies_ineffective = StrictBoolean()
    other_procedure = fields.String(validate=validate.OneOf(OTHER_PROCEDURES))
    other_procedure_name = fields.String(validate=validate.Length(max=NAME_MAX))
    other_procedure_concluded_on = fields.Date(allow_none=True, metadata={"description": "not in the future"})
    eu_status = fields.String(validate=validate.OneOf(EU_STATUSES))
    eu_subject = StrictBoolean()


class AdmissibilitySchema(Schema):
    bodies = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FindingSchema)), required=True,
                         metadata={"description": "active body code -> its findings today (empty: no problem found)"})
