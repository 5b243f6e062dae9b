"""Collective complaints: open one over approved cases, list them, read one."""

from __future__ import annotations

from typing import Any

from flask import g, url_for

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.schemas import CollectiveCreatedSchema, PageArgsSchema
from web.database import db
from workflow.roles import CASEWORK, COLLECTIVE_CREATORS
from workflow.schemas.collective import CollectiveInputSchema, CollectiveTextSchema
from workflow.schemas.reads import CollectivePageSchema, CollectiveSchema, InstancePositionSchema
from workflow.services.collective import (
    KnownTerms,
    collective_rows,
    create_collective,
    get_collective,
    read_collective,
    update_narrative,
)
from workflow.services.process_position import collective_instance, instance_position

blp = ApiBlueprint("api_collective", __name__, description="Collective complaints")


@blp.route("/collective-complaints", methods=["POST"])
@roles(*COLLECTIVE_CREATORS)
@blp.arguments(CollectiveInputSchema(known=lambda: KnownTerms(db())))
@blp.response(201, CollectiveCreatedSchema)
@blp.errors(401, 403)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Open a collective complaint over approved cases (legal officers); its first version is generated at once.

    422 names each bad field; ``errors.cases`` lists the references that are unknown, lack verified consent
    or lack an approved review (then nothing is created).
    """
    collective = create_collective(db(), settings(), g.actor, **body)
    filing_id = collective.filing.id  # type: ignore[union-attr]  # created together with the complaint
    return {"id": collective.id, "filing_id": filing_id,
            "document_url": url_for("api_filings.document", filing_id=filing_id)}


@blp.route("/collective-complaints", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CollectivePageSchema)
@blp.errors(401, 403)
def list_all(args: dict[str, Any]) -> dict[str, Any]:
    """Collective complaints, newest first, a page at a time."""
    items, total = collective_rows(db(), page=args["page"], per_page=args["per_page"])
    return {"items": items, "total": total}


@blp.route("/collective-complaints/<int:collective_id>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, CollectiveSchema)
@blp.errors(401, 403, 404)
def get(collective_id: int) -> Any:
    """A collective complaint: its fields, the cases' references, its filing with versions, its ready tasks."""
    return read_collective(db(), get_collective(db(), collective_id))


@blp.route("/collective-complaints/<int:collective_id>/narrative", methods=["PUT"])
@roles(*COLLECTIVE_CREATORS)
@blp.arguments(CollectiveTextSchema)
@blp.response(200, CollectiveSchema)
@blp.errors(401, 403, 404, 409)
def put_narrative(body: dict[str, Any], collective_id: int) -> Any:
    """Rewrite the complaint's text (every section as it should now read; legal officers, while its filing is a
    draft); the next version is generated from it at once. 409 once the filing is checked."""
    session = db()
    collective = update_narrative(session, settings(), g.actor, get_collective(session, collective_id),
                                  body["narrative"])
    return read_collective(session, collective)


@blp.route("/collective-complaints/<int:collective_id>/position", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, InstancePositionSchema)
@blp.errors(401, 403, 404)
def position(collective_id: int) -> Any:
    """Where the complaint stands in its process, and its filing in its own: BPMN ids by state."""
    session = db()
    return instance_position(session, settings(), collective_instance(session, get_collective(session, collective_id)),
                             g.actor)
