"""The caller's own API tokens (/api/v1/account/tokens): list them and revoke one.

No route creates a token: a stolen token must not mint others that outlive it. Tokens are created on the
account page (signed in) or by the operator (``petitio users token NAME``).
"""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields

from web.access import roles
from web.api.base import ApiBlueprint
from web.database import db
from workflow.models import ApiToken, utcnow
from workflow.roles import ALL_STAFF
from workflow.services import api_tokens

blp = ApiBlueprint("api_tokens", __name__, description="The caller's own API tokens (list, revoke)")


class ApiTokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True, allow_none=True,
                                   metadata={"description": "Updated at most once a minute"})
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)
    active = fields.Method("is_active", required=True, metadata={"type": "boolean"})

    def is_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None and token.expires_at > utcnow()


@blp.route("/account/tokens", methods=["GET"])
@roles(*ALL_STAFF)
@blp.response(200, ApiTokenSchema(many=True))
@blp.errors(401)
def list_tokens() -> list[ApiToken]:
    """The caller's tokens, newest first (revoked and expired ones too). Never the secrets or their hashes."""
    return api_tokens.tokens_of(db(), g.actor)


@blp.route("/account/tokens/<int:token_id>", methods=["DELETE"])
@roles(*ALL_STAFF)
@blp.response(204)
@blp.errors(401, 404)
def revoke_token(token_id: int) -> None:
    """Revoke one of the caller's tokens (the one calling too). Another user's token is 404."""
    api_tokens.revoke_token(db(), g.actor, token_id, owner=g.actor, channel="api")
