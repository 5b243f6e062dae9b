"""The catalogue of bodies and the vocabularies: every role reads, admins write.

The services (``workflow.bodies.update_body``, ``workflow.vocab.add_term``/``update_term``) check the values with
the schemas of ``workflow/schemas/catalogue.py`` (declared here too, for the types and the documentation) and
audit each change.
"""

from __future__ import annotations

from typing import Any

from flask import g

from web.access import roles
from web.api.base import ApiBlueprint
from web.api.schemas import BodyListArgsSchema, BodyListSchema, CatalogueBodySchema, TermListArgsSchema, TermListSchema
from web.api.schemas import TermSchema as TermReadSchema
from web.database import db
from workflow import vocab
from workflow.bodies import all_bodies, get_body, update_body
from workflow.models import Body, VocabularyTerm
from workflow.roles import ADMINS, ALL_STAFF
from workflow.schemas.catalogue import BodyChangeSchema, TermInputSchema

blp = ApiBlueprint("api_catalogue", __name__,
                   description="The catalogue of filing bodies and the controlled vocabularies")


class TermChangeSchema(TermInputSchema):
    """A change to a term: its labels (all of them), extra fields, or whether it is active; the key never changes."""

    class Meta(TermInputSchema.Meta):
        exclude = ("key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


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
@roles(*ADMINS)
@blp.arguments(BodyChangeSchema(known_mandates=lambda: vocab.keys(db(), "mandate")))
@blp.response(200, CatalogueBodySchema)
@blp.errors(401, 403, 404, 409, 422)
def patch_body(changes: dict[str, Any], code: str) -> Body:
    """Edit a catalogue entry (admins). A new response window applies to filings submitted from then on."""
    return update_body(db(), g.actor, code, changes, known_mandates=vocab.keys(db(), "mandate"))


@blp.route("/vocabularies/<string:vocabulary>", methods=["GET"])
@roles(*ALL_STAFF)
@blp.arguments(TermListArgsSchema, location="query")
@blp.response(200, TermListSchema)
@blp.errors(401, 404)
def list_terms(args: dict[str, Any], vocabulary: str) -> dict[str, Any]:
    """The terms of a vocabulary (incident_type, perpetrator_agency, legal_ground, mandate, city), active ones unless
    include_retired."""
    return {"vocabulary": vocabulary, "items": vocab.terms(db(), vocabulary, include_retired=args["include_retired"])}


@blp.route("/vocabularies/<string:vocabulary>", methods=["POST"])
@roles(*ADMINS)
@blp.arguments(TermInputSchema)
@blp.response(201, TermReadSchema)
@blp.errors(401, 403, 404, 409, 422)
def add_term(term: dict[str, Any], vocabulary: str) -> VocabularyTerm:
    """Add a term (admins); its key never changes afterwards."""
    return vocab.add_term(db(), g.actor, vocabulary, term["key"], term["labels"], term.get("extra") or {})


@blp.route("/vocabularies/<string:vocabulary>/<string:key>", methods=["PATCH"])
@roles(*ADMINS)
@blp.arguments(TermChangeSchema)
@blp.response(200, TermReadSchema)
@blp.errors(401, 403, 404, 409, 422)
def patch_term(changes: dict[str, Any], vocabulary: str, key: str) -> VocabularyTerm:
    """Relabel, retranslate, retire or restore a term (admins)."""
    return vocab.update_term(db(), g.actor, vocabulary, key, **changes)
