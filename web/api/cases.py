"""Cases: the health check, the list, intake of one appeal, one case as the caller's role may see it."""

from __future__ import annotations

from typing import Any

from flask import g

from web.access import public, roles
from web.api.base import ApiBlueprint, settings
from web.api.schemas import CaseListArgsSchema, HealthSchema
from web.database import db
from workflow.models import utcnow
from workflow.roles import APPEAL_REGISTRARS, CASEWORK
from workflow.schemas.appeal import AppealSchema
from workflow.schemas.reads import CasePageSchema, CaseSchema, InstancePositionSchema
from workflow.services.cases import CaseFilters, KnownKeys, case_rows, get_case, list_cases, open_appeal, read_case
from workflow.services.process_position import case_instance, instance_position

blp = ApiBlueprint("api_cases", __name__, description="Cases: list, intake of an appeal, one case")


def case_as_seen(ref: str) -> Any:
    """The case as the caller's role may see it (identity reads are audited by the service)."""
    return read_case(db(), ref, actor=g.actor, role=g.actor.role, channel="api")


@blp.route("/health")
@public
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.errors()
def health() -> dict[str, str]:
    """Liveness check; no token needed."""
    return {"status": "ok"}


@blp.route("/cases", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(CaseListArgsSchema, location="query")
@blp.response(200, CasePageSchema)
@blp.errors(401, 403)
def list_all(args: dict[str, Any]) -> dict[str, Any]:
    """Cases matching the filters, a page at a time (ordered by reference; no identity fields)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    now = utcnow()
    cases, total = list_cases(db(), CaseFilters(**args), page=page, per_page=per_page, now=now)
    return {"items": case_rows(db(), cases, now=now), "total": total}


@blp.route("/cases", methods=["POST"])
@roles(*APPEAL_REGISTRARS)
@blp.arguments(AppealSchema(known=lambda: KnownKeys(db())))
@blp.response(201, CaseSchema)
@blp.errors(401, 403, 409)
def create(appeal: dict[str, Any]) -> Any:
    """Intake of one appeal (fields of the import format); the case starts at ``complete_intake``.

    Documents are uploaded afterwards with ``POST /api/v1/cases/{ref}/documents``.
    """
    case = open_appeal(db(), settings(), g.actor, AppealSchema.to_appeal(appeal))
    return case_as_seen(case.ref)


@blp.route("/cases/<string:ref>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, CaseSchema)
@blp.errors(401, 403, 404)
def get(ref: str) -> Any:
    """The case, with the identity fields the caller's role may see (the read is audited)."""
    return case_as_seen(ref)


@blp.route("/cases/<string:ref>/position", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, InstancePositionSchema)
@blp.errors(401, 403, 404)
def position(ref: str) -> Any:
    """Where the case stands in its process, and each filing in its own: BPMN ids by state (no case data)."""
    session = db()
    return instance_position(session, settings(), case_instance(session, get_case(session, ref).id), g.actor)
