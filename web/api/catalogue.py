"""API routes for the catalogue of bodies and the vocabularies: every role reads, admins write.

The schemas here check the JSON types (a wrong type is a 422 before a service runs); the services
(``workflow.bodies.update_body``, ``workflow.vocab.add_term``/``update_term``) check the values and audit each
change. As in web/api/routes.py, each route carries its access rule under ``@blp.route`` and never commits.
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import OperationalError

from web.access import ALL_STAFF, roles
from web.api.routes import ApiBlueprint, database_conflict
from web.api.schemas import WholeNumber
from web.database import db
from workflow import vocab
from workflow.admissibility import RULES
from workflow.bodies import (
    CHANNELS,
    COMMUNICATION_TYPES,
    CONSENT_REQUIREMENTS,
    FILING_LANGUAGES,
    MAX_DAYS,
    all_bodies,
    get_body,
    update_body,
)
from workflow.models import Body, Role, VocabularyTerm
from workflow.vocab import UI_LANGUAGES

blp = ApiBlueprint("api_catalogue", __name__, url_prefix="/api/v1",
                   description="The catalogue of filing bodies and the controlled vocabularies")
blp.errorhandler(OperationalError)(database_conflict)  # two admins saving at once: 409, as elsewhere


# -- schemas ----------------------------------------------------------------------------------------------

class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow would also take "yes", 1 or "on")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean: use true or false.")
        return value


def _names(**kwargs: Any) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(UI_LANGUAGES)), values=fields.String(), **kwargs)


def _codes(description: str) -> fields.List:
    return fields.List(fields.String(), metadata={"description": description})


class CatalogueBodySchema(Schema):
    """One entry of the catalogue of filing bodies."""

    code = fields.String(required=True)
    names = _names(required=True, metadata={"description": "UI language -> the body's name"})
    languages = _codes("languages the body accepts filings in")
    channels = _codes("online_form, email, post, in_person")
    mandates = _codes("keys of the mandate vocabulary (UN Special Procedures)")
    communication_types = _codes("urgent_appeal, letter_of_allegation")
    required_consent = _codes("what the complainant must have allowed; consent is always verified anyway")
    rules = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "admissibility rule -> its parameters (and optionally level: error or warning)"})
    response_days = fields.Integer(required=True, metadata={"description": "the body's response window"})
    follow_up_days = fields.Integer(required=True)
    notes = fields.String(required=True)
    active = fields.Boolean(required=True)
    updated_at = fields.DateTime(required=True)


class BodyListArgsSchema(Schema):
    include_inactive = fields.Boolean(load_default=False)


class BodyListSchema(Schema):
    items = fields.List(fields.Nested(CatalogueBodySchema), required=True)


class BodyPatchSchema(Schema):
    """Any of the editable fields; those left out keep their value. Every change is audited."""

    names = _names(metadata={"description": "UI language -> name; English is required"})
    languages = _codes(f"at least one of: {', '.join(FILING_LANGUAGES)}")
    channels = _codes(f"of: {', '.join(CHANNELS)}")
    mandates = _codes("active keys of the mandate vocabulary")
    communication_types = _codes(f"of: {', '.join(COMMUNICATION_TYPES)}")
    required_consent = _codes(f"of: {', '.join(CONSENT_REQUIREMENTS)}")
    rules = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": f"rule -> its parameters; rules: {', '.join(RULES)}; each may set level: error or warning"})
    response_days = WholeNumber(metadata={"description": f"whole days, 1 to {MAX_DAYS}"})
    follow_up_days = WholeNumber(metadata={"description": f"whole days, 1 to {MAX_DAYS}"})
    notes = fields.String()
    active = StrictBoolean()


class TermSchema(Schema):
    key = fields.String(required=True)
    labels = _names(required=True, metadata={"description": "UI language -> label"})
    extra = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                        metadata={"description": "incident_type: deprivation_of_liberty; legal_ground: udhr"})
    active = fields.Boolean(required=True, metadata={"description": "false once retired"})
    updated_at = fields.DateTime(required=True)


class TermListArgsSchema(Schema):
    include_retired = fields.Boolean(load_default=False)


class TermListSchema(Schema):
    vocabulary = fields.String(required=True)
    items = fields.List(fields.Nested(TermSchema), required=True)


class TermInputSchema(Schema):
    key = fields.String(required=True, metadata={"description": "2 to 80 of a-z, 0-9 and _, starting with a letter"})
    labels = _names(required=True, metadata={"description": "UI language -> label; English is required"})
    extra = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)


class TermPatchSchema(Schema):
    labels = _names(metadata={"description": "replaces every label; English is required"})
    extra = fields.Dict(keys=fields.String(), values=fields.Raw(),
                        metadata={"description": "replaces the extra fields"})
    active = StrictBoolean(metadata={"description": "false retires the term, true restores it"})


# -- views: the response schemas read the rows' attributes ------------------------------------------------

@blp.route("/bodies", methods=["GET"])
@roles(*ALL_STAFF)
@blp.arguments(BodyListArgsSchema, location="query")
@blp.response(200, BodyListSchema)
@blp.errors(401)
def list_bodies(args: dict[str, Any]) -> dict[str, list[Body]]:
    """The catalogue of filing bodies (active ones unless include_inactive)."""
    return {"items": all_bodies(db(), include_inactive=args["include_inactive"])}


@blp.route("/bodies/<string:code>", methods=["GET"])
@roles(*ALL_STAFF)
@blp.response(200, CatalogueBodySchema)
@blp.errors(401, 404)
def get_body_entry(code: str) -> Body:
    """One entry of the catalogue, active or not."""
    return get_body(db(), code)


@blp.route("/bodies/<string:code>", methods=["PATCH"])
@roles(Role.ADMIN)
@blp.arguments(BodyPatchSchema)
@blp.response(200, CatalogueBodySchema)
@blp.errors(401, 403, 404, 409, 422)
def patch_body(changes: dict[str, Any], code: str) -> Body:
    """Edit a catalogue entry (admins). A new response window applies to filings submitted from then on."""
    session = db()
    return update_body(session, g.actor, code, changes, known_mandates=vocab.keys(session, "mandate"))


@blp.route("/vocabularies/<string:vocabulary>", methods=["GET"])
@roles(*ALL_STAFF)
@blp.arguments(TermListArgsSchema, location="query")
@blp.response(200, TermListSchema)
@blp.errors(401, 404)
def list_terms(args: dict[str, Any], vocabulary: str) -> dict[str, Any]:
    """The terms of a vocabulary (incident_type, perpetrator_agency, legal_ground, mandate), active ones unless
    include_retired."""
    return {"vocabulary": vocabulary, "items": vocab.terms(db(), vocabulary, include_retired=args["include_retired"])}


@blp.route("/vocabularies/<string:vocabulary>", methods=["POST"])
@roles(Role.ADMIN)
@blp.arguments(TermInputSchema)
@blp.response(201, TermSchema)
@blp.errors(401, 403, 404, 409, 422)
def add_term(term: dict[str, Any], vocabulary: str) -> VocabularyTerm:
    """Add a term (admins); its key never changes afterwards."""
    return vocab.add_term(db(), g.actor, vocabulary, term["key"], term["labels"], term["extra"])


@blp.route("/vocabularies/<string:vocabulary>/<string:key>", methods=["PATCH"])
@roles(Role.ADMIN)
@blp.arguments(TermPatchSchema)
@blp.response(200, TermSchema)
@blp.errors(401, 403, 404, 409, 422)
def patch_term(changes: dict[str, Any], vocabulary: str, key: str) -> VocabularyTerm:
    """Relabel, retranslate, retire or restore a term (admins)."""
    return vocab.update_term(db(), g.actor, vocabulary, key, **changes)
