"""What the JSON API and the command line show: read models dumped by these schemas, one shape for both.

The objects come from the services (``CaseRead``, ``CaseRow``, models); a schema names the attributes it
shows. Datetimes are ISO 8601 with their UTC offset, dates ``YYYY-MM-DD``. Identity fields appear only as the
read model carries them (``services/cases.read_case`` limits them by role).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from workflow.admissibility import Finding
from workflow.schemas.fact_reads import (
    ArrestReadSchema,
    IllTreatmentReadSchema,
    IncidentReadSchema,
    PerpetratorReadSchema,
    RemedyStepReadSchema,
)
from workflow.states import FROZEN_FILING_STATES, EuStatus, OtherProcedure


def _username(user: Any) -> str | None:
    return user.username if user is not None else None


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
    nationality = fields.String(allow_none=True)
    age = fields.String(allow_none=True, metadata={"description": "in years, when the birth date is not known"})
    activity = fields.String(allow_none=True, metadata={"description": "human-rights or political activity"})
    situation = fields.String(allow_none=True, metadata={"description": "current situation and risk"})


class EpisodeRefSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)


class IncidentSchema(IncidentReadSchema):
    """An incident (``fact_reads``: with its id, city, perpetrators' ids, episode and "not known" fields)."""


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
    body_overrides = fields.Function(lambda c: dict(c.body_overrides or {}), metadata={
        "type": "object", "description": "body code -> allow or deny naming for that body"})
    form_of_appeal_verified = fields.Boolean()
    power_of_attorney_verified = fields.Boolean()
    verified_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)


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
    escalated_at = fields.DateTime(allow_none=True)


class CaseFilingSchema(Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    state = fields.String(required=True)
    submitted_on = fields.Date(allow_none=True)
    reference = fields.String(attribute="external_reference", allow_none=True)


class LegalFactsSchema(Schema):
    """The facts admissibility rests on (defaults until a legal officer records them)."""

    state_code = fields.String(attribute="facts.state_code", required=True,
                               metadata={"description": "the state concerned, ISO 3166-1 alpha-2"})
    torture_risk = fields.Boolean(attribute="facts.torture_risk", required=True)
    deprived_of_liberty = fields.Boolean(attribute="facts.deprived_of_liberty", required=True)
    remedies_exhausted_on = fields.Date(attribute="facts.remedies_exhausted_on", allow_none=True,
                                        metadata={"description": "the final domestic decision"})
    remedies_summary = fields.String(attribute="facts.remedies_summary", required=True)
    remedies_ineffective = fields.Boolean(attribute="facts.remedies_ineffective", required=True)
    other_procedure = fields.String(attribute="facts.other_procedure", required=True,
                                    metadata={"description": ", ".join(OtherProcedure.codes())})
    other_procedure_name = fields.String(attribute="facts.other_procedure_name", required=True)
    other_procedure_concluded_on = fields.Date(attribute="facts.other_procedure_concluded_on", allow_none=True)
    eu_status = fields.String(attribute="facts.eu_status", required=True,
                              metadata={"description": ", ".join(EuStatus.codes())})
    eu_subject = fields.Boolean(attribute="facts.eu_subject", required=True)
    updated_at = fields.DateTime(allow_none=True, metadata={"description": "null until first recorded"})
    updated_by = fields.Function(lambda read: _username(read.updated_by), allow_none=True,
                                 metadata={"type": "string", "description": "username"})


class FindingSchema(Schema):
    body = fields.String(required=True)
    rule = fields.String(required=True)
    level = fields.String(required=True, metadata={"description": "error (blocks the body) or warning"})
    message = fields.String(attribute="text", required=True,
                            metadata={"description": "English text, parameters filled in"})
    params = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


def recorded_findings(checks: list[dict[str, Any]]) -> list[Finding]:
    """The findings a review stored (``Finding.as_dict``) as findings again."""
    return [Finding(c["body"], c["rule"], c["level"], c["message"], dict(c.get("params") or {})) for c in checks]


class ReviewSchema(Schema):
    """The latest legal review as decided, and the manager's approval once given."""

    decision = fields.String(required=True)
    bodies = fields.List(fields.String(), required=True)
    mandates = fields.List(fields.String(), required=True)
    grounds = fields.List(fields.String(), required=True)
    communication_type = fields.String(allow_none=True)
    wgad_categories = fields.List(fields.String(), required=True)
    languages = fields.Function(lambda r: dict(r.languages or {}), required=True, metadata={
        "type": "object", "description": "body code -> the language chosen for its filing (others: their first)"})
    urgent = fields.Boolean(required=True)
    notes = fields.String(required=True)
    checks = fields.Function(lambda r: FindingSchema(many=True).dump(recorded_findings(r.checks)), required=True,
                             metadata={"type": "array", "items": {"type": "object"},
                                       "description": "the findings the reviewer saw for the chosen bodies"})
    reviewer = fields.Function(lambda r: _username(r.reviewer), allow_none=True,
                               metadata={"type": "string", "description": "username"})
    reviewed_at = fields.DateTime(required=True)
    approval = fields.String(allow_none=True, metadata={"description": "approve, return, or null while pending"})
    approval_notes = fields.String(required=True)
    approver = fields.Function(lambda r: _username(r.approver), allow_none=True,
                               metadata={"type": "string", "description": "username"})
    approved_at = fields.DateTime(allow_none=True)


class CaseSchema(Schema):
    """A case (``services/cases.CaseRead``) as the caller's role may see it."""

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
    # The facts for the filings (services/facts.read_facts): for the roles that read them, the read audited.
    unknown_facts = fields.List(fields.String(), attribute="facts.unknown_facts", metadata={
        "description": "case-level facts marked \"not known\" (docs/INTERFACES.md)"})
    perpetrators = fields.List(fields.Nested(PerpetratorReadSchema), attribute="facts.perpetrators")
    arrests = fields.List(fields.Nested(ArrestReadSchema), attribute="facts.arrests")
    ill_treatments = fields.List(fields.Nested(IllTreatmentReadSchema), attribute="facts.ill_treatments")
    remedy_steps = fields.List(fields.Nested(RemedyStepReadSchema), attribute="facts.remedy_steps")

    @post_dump(pass_original=True)
    def _only_for_readers(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        if data.get("legal_facts") is None:
            data.pop("legal_facts", None)  # a role that may not read them sees no such key
        if getattr(original, "facts", None) is None:
            for name in ("unknown_facts", "perpetrators", "arrests", "ill_treatments", "remedy_steps"):
                data.pop(name, None)
        return data


class CaseSummarySchema(Schema):
    """A list row (``services/cases.CaseRow``): no identity fields."""

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


class AdmissibilitySchema(Schema):
    bodies = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FindingSchema)), required=True,
                         metadata={"description": "active body code -> its findings today (empty: no problem found)"})


# -- filings and responses ------------------------------------------------------------------------------------

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
    document_id = fields.Integer(attribute="id", required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    created = fields.DateTime(attribute="uploaded_at", required=True)
    wording_sha256 = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the template file whose wording produced this version (templates/filings/...); "
        "null for a version not generated from a template or generated before it was recorded"})
    media_type = fields.String(required=True, metadata={"description": "the .docx type, or application/pdf"})
    origin = fields.Function(lambda d: "generated" if d.uploaded_by_id is None else "uploaded", required=True,
                             metadata={"type": "string", "description": "generated, or uploaded by a legal officer"})
    uploaded_by = fields.Function(lambda d: d.uploaded_by.username if d.uploaded_by else None, allow_none=True,
                                  metadata={"type": "string", "description": "who uploaded it (null: generated)"})


class FilingSchema(Schema):
    id = fields.Integer(required=True)
    case = fields.Function(lambda f: f.case.ref if f.case else None, allow_none=True, metadata={
        "type": "string", "description": "case reference (null for a collective complaint)"})
    collective_id = fields.Integer(allow_none=True, metadata={"description": "the collective complaint filed, if any"})
    body = fields.String(required=True)
    language = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "individual or collective"})
    state = fields.String(required=True)
    submitted_on = fields.Date(allow_none=True)
    channel = fields.String(allow_none=True)
    reference = fields.String(attribute="external_reference", allow_none=True,
                              metadata={"description": "the body's reference"})
    versions = fields.Function(lambda f: [{**FilingVersionSchema().dump(d), "frozen": f.state in FROZEN_FILING_STATES,
                                           "current": i == len(f.documents) - 1}
                                          for i, d in enumerate(f.documents)], required=True, metadata={
        "type": "array", "items": {"type": "object"}, "description": "each version, generated or uploaded, oldest "
        "first; current: the latest, which is checked, submitted and bundled; frozen: the filing is checked (or "
        "later): what was approved is what goes out, no new version"})
    responses = fields.List(fields.Nested(ResponseSchema), required=True)


# -- collective complaints ------------------------------------------------------------------------------------

class OfficialSchema(Schema):
    position = fields.String(required=True)
    agency = fields.String()
    name = fields.String()
    role = fields.String(metadata={"description": "what they did"})


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
    """A collective complaint with its cases' references, its filing and the ready tasks of its process."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    mandates = fields.List(fields.String(), required=True)
    grounds = fields.List(fields.String(), required=True)
    narrative = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    officials = fields.List(fields.Nested(OfficialSchema), required=True)
    appeals_received = fields.Integer(required=True)
    cases = fields.Function(lambda c: [case.ref for case in c.cases], required=True, metadata={
        "type": "array", "items": {"type": "string"}, "description": "references of the cases included"})
    created_at = fields.DateTime(required=True)
    created_by = fields.Function(lambda c: _username(c.created_by), allow_none=True,
                                 metadata={"type": "string", "description": "username"})
    filing = fields.Nested(FilingSchema, allow_none=True, required=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={
        "description": "ready tasks of its process (complete them with POST /api/v1/tasks/{id}/complete)"})


# -- deadlines ------------------------------------------------------------------------------------------------

class DeadlineSchema(Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    due_at = fields.DateTime(required=True)
    state = fields.String(required=True)
    owner_role = fields.String(allow_none=True)
    case = fields.String(allow_none=True, metadata={"description": "case reference"})
    filing_id = fields.Integer(allow_none=True)
    overdue = fields.Boolean(required=True)
    escalated_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the service level was missed and a manager alerted; the deadline stays open "
                       "until the work is done"})
    manager_alerted = fields.Boolean(required=True)


class DeadlinePageSchema(Schema):
    items = fields.List(fields.Nested(DeadlineSchema), required=True)
    total = fields.Integer(required=True)


# -- where a process stands (services/process_position.py) ---------------------------------------------------

def _ids(description: str) -> fields.List:
    return fields.List(fields.String(), required=True, metadata={"description": description})


class PositionSchema(Schema):
    """One diagram's flow nodes by state, as BPMN ids (each once). The pages' diagram widget reads this shape."""

    process = fields.String(attribute="process_id", required=True, metadata={"description": "BPMN process id"})
    ready = _ids("manual tasks someone can complete now")
    done = _ids("flow nodes completed at least once, in the order they were first completed")
    waiting = _ids("events waiting: timers, messages, event-based gateways")
    error = _ids("tasks stopped by an error")
    active = _ids("sub-processes and call activities under way")


class CalledPositionSchema(Schema):
    filing_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the filing this sub-process works on; null until its first step recorded it"})
    position = fields.Nested(PositionSchema, required=True)


class InstancePositionSchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the process version the instance runs on"})
    status = fields.String(required=True, metadata={"description": "running, complete or error"})
    position = fields.Nested(PositionSchema, required=True)
    filings = fields.List(fields.Nested(CalledPositionSchema), attribute="called", required=True, metadata={
        "description": "each filing's own process (filing.bpmn), called by the case's"})
