"""API tokens: each user creates and revokes their own; admins list and revoke anyone's, never create one.

No one acts as someone else: a token is created only by its owner (a page they are signed in to) or by the
operator on the server (``petitio users token NAME``: actor None, the server's shell already grants
everything). Only the SHA-256 of a token is stored; the secret is returned once. A token expires (default
``TOKEN_DEFAULT_DAYS``, at most ``TOKEN_MAX_DAYS``); an expired, revoked or deactivated user's token is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.models import ApiToken, User, utcnow
from workflow.problems import Problem
from workflow.roles import Role
from workflow.schemas.base import clean_text, problems_of

TOKEN_PREFIX = "pt_"
TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 366  # a year and a day: a forgotten script's token still dies
TOKEN_NAME_MAX = 80  # api_tokens.name is String(80)
# last_used_at is written at most once per interval: a busy script does not rewrite the row on every call.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _default_name(session: Session, user: User) -> str:
    count = session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) or 0
    return f"token {count + 1}"


def _check(name: str, days: int | None) -> tuple[str, int]:
    errors = {}
    try:
        name = clean_text(name or "", multiline=False)
    except ValidationError as err:
        errors["name"] = problems_of(err.messages)["_body"]
    else:
        if len(name) > TOKEN_NAME_MAX:
            errors["name"] = Problem("too_long", {"max": TOKEN_NAME_MAX})
    if days is None:
        days = TOKEN_DEFAULT_DAYS
    elif isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= TOKEN_MAX_DAYS:
        errors["days"] = Problem("out_of_range", {"min": 1, "max": TOKEN_MAX_DAYS})
    if errors:
        raise ValidationFailed("the token was refused", errors=errors)
    return name, days


def create_token(session: Session, actor: User | None, user: User, *, name: str = "", days: int | None = None,
                 channel: str = "web") -> tuple[ApiToken, str]:
    """A new token of ``user`` and its secret, shown once. ``actor`` is ``user`` itself, or None for the operator.

    Anyone else (an admin included) is refused: a token lets its holder act as its owner, so issuing one
    for someone else would let one person sign both sides of a four-eyes step.
    """
    if actor is not None and actor.id != user.id:
        raise Forbidden("a token is created by its owner only")
    if not user.active:
        raise ValidationFailed("the account is deactivated", errors={"user": Problem("account_inactive")})
    name, days = _check(name, days)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(user=user, token_hash=token_hash(secret), name=name or _default_name(session, user),
                   created_at=now, expires_at=now + timedelta(days=days))
    session.add(row)
    session.flush()
    audit(session, actor, "token_created", "api_token", row.id, None,
          {"user_id": user.id, "days": days, "channel": channel})
    return row, secret


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Every token of ``user``, newest first (revoked and expired ones too: the page says which)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, actor: User, token_id: int, *, owner: User | None = None,
                 channel: str = "web") -> ApiToken:
    """Revoke one token: its owner, or an admin. Someone else's token is "not found" (no probing of ids).

    ``owner``: when given (an admin's page of that user), the token must belong to them.
    """
    row = session.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
    if row is None or (owner is not None and row.user_id != owner.id):
        raise NotFound("no such token")
    if row.user_id != actor.id and actor.role != Role.ADMIN:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(session, actor, "token_revoked", "api_token", row.id, None,
              {"user_id": row.user_id, "channel": channel})
        session.flush()
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                ApiToken.revoked_at.is_(None)))
    now = utcnow()
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
    return row.user


def active_token_counts(session: Session) -> dict[int, int]:
    """user id -> API tokens neither revoked nor expired (the admin page shows counts, never tokens or hashes)."""
    rows = session.execute(select(ApiToken.user_id, func.count())
                           .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
                           .group_by(ApiToken.user_id))
    return {user_id: count for user_id, count in rows}
