"""Legal review: the legal facts admissibility rests on, and what each body's rules say about the case today."""

from __future__ import annotations

from typing import Any

from flask import g

from web.access import roles
from web.api.base import ApiBlueprint
from web.database import db
from workflow.roles import LEGAL_FACT_EDITORS, LEGAL_FACT_READERS
from workflow.schemas.legal_facts import LegalFactsUpdateSchema
from workflow.schemas.reads import AdmissibilitySchema, LegalFactsSchema
from workflow.services.cases import get_case, legal_facts_read
from workflow.services.review import check_case, update_legal_facts

blp = ApiBlueprint("api_review", __name__, description="Legal facts and admissibility")


@blp.route("/cases/<string:ref>/legal-facts", methods=["GET"])
@roles(*LEGAL_FACT_READERS)
@blp.response(200, LegalFactsSchema)
@blp.errors(401, 403, 404)
def get_legal_facts(ref: str) -> Any:
    """The facts admissibility rests on (the defaults, with ``updated_at`` null, until someone records them)."""
    return legal_facts_read(db(), get_case(db(), ref))


@blp.route("/cases/<string:ref>/legal-facts", methods=["PATCH"])
@roles(*LEGAL_FACT_EDITORS)
@blp.arguments(LegalFactsUpdateSchema)
@blp.response(200, LegalFactsSchema)
@blp.errors(401, 403, 404)
def patch_legal_facts(changes: dict[str, Any], ref: str) -> Any:
    """Change the legal facts (legal officers; fields left out keep their value; audited with old and new values).

    Dates may not be in the future; ``other_procedure`` pending or concluded needs its name, concluded its date.
    """
    case = get_case(db(), ref)
    update_legal_facts(db(), g.actor, case, changes)
    return legal_facts_read(db(), case)


@blp.route("/cases/<string:ref>/admissibility", methods=["GET"])
@roles(*LEGAL_FACT_READERS)
@blp.response(200, AdmissibilitySchema)
@blp.errors(401, 403, 404)
def admissibility(ref: str) -> dict[str, Any]:
    """What each active body's rules say about the case today: errors block a body in a review, warnings do not."""
    return {"bodies": check_case(db(), get_case(db(), ref))}
