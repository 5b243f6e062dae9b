"""Bearer-token authentication for the API (tokens are stored as SHA-256 only)."""

from __future__ import annotations

from flask import request

from web.database import db
from workflow.models import User
from workflow.services.api_tokens import user_for_token


def authenticate_bearer() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(db(), token.strip())
