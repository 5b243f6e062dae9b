"""Open deadlines: all, due within 7 days, or overdue."""

from __future__ import annotations

from typing import Any

from web.access import roles
from web.api.base import ApiBlueprint
from web.api.schemas import DeadlineArgsSchema
from web.database import db
from workflow.models import utcnow
from workflow.roles import CASEWORK
from workflow.schemas.reads import DeadlinePageSchema
from workflow.services.deadlines import deadline_list

blp = ApiBlueprint("api_deadlines", __name__, description="Deadlines")


@blp.route("/deadlines", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(DeadlineArgsSchema, location="query")
@blp.response(200, DeadlinePageSchema)
@blp.errors(401, 403)
def list_open(args: dict[str, Any]) -> dict[str, Any]:
    """Open deadlines (all, due within 7 days, or overdue), earliest first."""
    rows, total = deadline_list(db(), args["status"], now=utcnow(), page=args["page"], per_page=args["per_page"])
    return {"items": rows, "total": total}
