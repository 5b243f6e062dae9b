"""What the API and the command line show of the facts for the filings (``services/facts.py``): each row with
its id (for PATCH and DELETE) and ``unknown``, the fields a person marked "not known".

The case read (``reads.CaseSchema``) carries these lists for the roles ``services/facts.read_facts`` lets read
them; the API's lists per kind dump the same schemas.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy.orm import object_session

from workflow.facts import CASE_FACTS
from workflow.models import Episode


def _unknown() -> fields.Field:
    return fields.Function(lambda row: list(row.unknown or ()), required=True, metadata={
        "type": "array", "items": {"type": "string"}, "description": "fields a person marked \"not known\""})


class PerpetratorReadSchema(Schema):
    id = fields.Integer(required=True)
    agency = fields.String(required=True, metadata={"description": "a perpetrator_agency key"})
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    actions = fields.String(allow_none=True)
    unknown = _unknown()


def _episode_key(incident: Any) -> str | None:
    session = object_session(getattr(incident, "stored", incident))  # a row as a role sees it: its row
    if incident.episode_id is None or session is None:
        return None
    episode = session.get(Episode, incident.episode_id)
    return episode.key if episode is not None else None


class IncidentReadSchema(Schema):
    id = fields.Integer(required=True)
    types = fields.List(fields.String(), required=True)
    occurred_on = fields.Date(allow_none=True)
    city = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    perpetrators = fields.Function(lambda i: [p.id for p in i.perpetrators], required=True, metadata={
        "type": "array", "items": {"type": "integer"}, "description": "ids of the case's perpetrators"})
    episode = fields.Function(_episode_key, allow_none=True, metadata={"type": "string",
                                                                       "description": "an episode key"})
    unknown = _unknown()


class CustodyPlaceReadSchema(Schema):
    place = fields.String(required=True)
    authority = fields.String(allow_none=True)
    from_on = fields.Date(allow_none=True)
    to_on = fields.Date(allow_none=True)


class ArrestReadSchema(Schema):
    id = fields.Integer(required=True)
    incident_id = fields.Integer(allow_none=True)
    arrested_on = fields.Date(allow_none=True)
    place = fields.String(allow_none=True)
    forces = fields.String(allow_none=True)
    warrant_shown = fields.String(allow_none=True, metadata={"description": "yes, no, or null when not recorded"})
    warrant_issued_by = fields.String(allow_none=True)
    reasons_given = fields.String(allow_none=True)
    legal_provision = fields.String(allow_none=True)
    duration = fields.String(allow_none=True)
    lawyer_access = fields.String(allow_none=True)
    family_access = fields.String(allow_none=True)
    released_on = fields.Date(allow_none=True)
    release = fields.String(allow_none=True)
    custody = fields.List(fields.Nested(CustodyPlaceReadSchema), required=True,
                          metadata={"description": "places of custody, in order"})
    unknown = _unknown()


class IllTreatmentReadSchema(Schema):
    id = fields.Integer(required=True)
    incident_id = fields.Integer(allow_none=True)
    methods = fields.String(allow_none=True)
    duration = fields.String(allow_none=True)
    effects = fields.String(allow_none=True)
    medical_evidence = fields.String(allow_none=True)
    complaints = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    unknown = _unknown()


class RemedyStepReadSchema(Schema):
    id = fields.Integer(required=True)
    taken_on = fields.Date(allow_none=True)
    authority = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    final = fields.Boolean(required=True)
    unknown = _unknown()


# The read schema of each kind of row, by the kind's name in ``workflow/facts.py``.
ROW_READ_SCHEMAS: dict[str, type[Schema]] = {
    "perpetrators": PerpetratorReadSchema, "incidents": IncidentReadSchema, "arrests": ArrestReadSchema,
    "ill_treatments": IllTreatmentReadSchema, "remedy_steps": RemedyStepReadSchema,
}


class UnknownFactsReadSchema(Schema):
    unknown_facts = fields.List(fields.String(), required=True, metadata={
        "description": "case-level facts marked \"not known\"; keys: " + ", ".join(CASE_FACTS)})
