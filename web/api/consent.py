"""What the complainant allows, and a withdrawal of consent."""

from __future__ import annotations

from typing import Any

from flask import g

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.cases import case_as_seen
from web.database import db
from workflow.roles import CONSENT_EDITORS, CONSENT_WITHDRAWERS
from workflow.schemas.consent import ConsentChoicesSchema, WithdrawalSchema
from workflow.schemas.reads import CaseSchema
from workflow.services.cases import get_case
from workflow.services.consent import update_consent_permissions, withdraw_consent

blp = ApiBlueprint("api_consent", __name__, description="Consent: what the complainant allows, withdrawal")


@blp.route("/cases/<string:ref>/consent", methods=["PATCH"])
@roles(*CONSENT_EDITORS)
@blp.arguments(ConsentChoicesSchema)
@blp.response(200, CaseSchema)
@blp.errors(401, 403, 404, 409)
def update(changes: dict[str, Any], ref: str) -> Any:
    """Change what the complainant allows (audited by field name; refused after a withdrawal: 409)."""
    update_consent_permissions(db(), g.actor, get_case(db(), ref), **changes)
    return case_as_seen(ref)


@blp.route("/cases/<string:ref>/consent/withdrawal", methods=["POST"])
@roles(*CONSENT_WITHDRAWERS)
@blp.arguments(WithdrawalSchema)
@blp.response(200, CaseSchema)
@blp.errors(401, 403, 404, 409)
def withdraw(body: dict[str, Any], ref: str) -> Any:
    """Record that consent was withdrawn: pending filings stop, bodies already filed with are to be informed."""
    withdraw_consent(db(), settings(), g.actor, get_case(db(), ref), body["reason"])
    return case_as_seen(ref)
