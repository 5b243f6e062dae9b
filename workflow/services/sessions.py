"""Signed-in sessions kept on the server, so that ending one on the server ends it everywhere it was copied.

The browser's cookie carries a random session id; the database keeps only its SHA-256 (``UserSession``), so a
copy of the database gives no working cookie. A session lives while it is used: after ``IDLE_LIMIT`` without a
request it is over, and it is ended for good by sign-out, by "sign out everywhere", by a password change or
reset, a role change or a deactivation (``END_REASONS``). It is bound to the User-Agent it was started with:
a request with another one ends it (a copied cookie replayed from another browser is more likely than a
browser that changes its User-Agent in the middle of a session).

Each page request costs one indexed read (``current_session``) and at most one write a minute
(``TOUCH_INTERVAL``): ``last_seen_at`` is rounded to that minute, so the idle limit is exact to within it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from workflow.audit import audit
from workflow.errors import Forbidden
from workflow.models import User, UserSession, utcnow
from workflow.roles import Role

IDLE_LIMIT = timedelta(minutes=30)
TOUCH_INTERVAL = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=30)  # ended and idle rows of a user are deleted when they next sign in
# Why a session ended (``UserSession.end_reason``).
END_REASONS = ("signed_out", "signed_out_everywhere", "password_changed", "password_reset", "role_changed",
               "deactivated", "idle", "user_agent_changed", "second_factor_reset")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(session: Session, user: User, user_agent: str, now: datetime | None = None) -> str:
    """Start a session for ``user`` and return its secret id (for the cookie; only its hash is stored)."""
    now = now or utcnow()
    # Housekeeping on the user's own rows only: bounded, and nobody else's sign-in waits for it.
    session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                              UserSession.last_seen_at < now - KEEP_ENDED))
    secret = secrets.token_urlsafe(32)
    session.add(UserSession(secret_hash=_digest(secret), user=user, user_agent_hash=_digest(user_agent),
                            created_at=now, last_seen_at=now))
    session.flush()
    return secret


def current_session(session: Session, secret: str, user_agent: str, now: datetime | None = None) -> UserSession | None:
    """The live session this secret id opens for this User-Agent, else None (ending it if it just died).

    One indexed read (the session with its user); ``last_seen_at`` is written at most once a minute.
    """
    now = now or utcnow()
    row = session.scalar(select(UserSession).options(joinedload(UserSession.user))
                         .where(UserSession.secret_hash == _digest(secret)))
    if row is None or row.ended_at is not None:
        return None
    if not row.user.active:
        row.ended_at, row.end_reason = now, "deactivated"
        return None
    if now - row.last_seen_at > IDLE_LIMIT:
        row.ended_at, row.end_reason = now, "idle"
        return None
    if not secrets.compare_digest(row.user_agent_hash, _digest(user_agent)):
        row.ended_at, row.end_reason = now, "user_agent_changed"
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def end_session(session: Session, secret: str, reason: str, now: datetime | None = None) -> None:
    """End the session this secret id names (sign-out); an unknown or ended one is left as it is."""
    session.execute(update(UserSession)
                    .where(UserSession.secret_hash == _digest(secret), UserSession.ended_at.is_(None))
                    .values(ended_at=now or utcnow(), end_reason=reason))


def end_user_sessions(session: Session, user: User, reason: str, *, keep: UserSession | None = None,
                      now: datetime | None = None) -> int:
    """End every live session of ``user`` but ``keep``; returns how many were ended."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = session.execute(query.values(ended_at=now or utcnow(), end_reason=reason)
                             .execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def sign_out_everywhere(session: Session, actor: User, user: User) -> int:
    """The user themselves or an admin ends all of the user's sessions (audited, without values)."""
    if actor.id != user.id and actor.role != Role.ADMIN:
        raise Forbidden("only admins end another user's sessions")
    ended = end_user_sessions(session, user, "signed_out_everywhere")
    audit(session, actor, "sessions_ended", "user", user.id, None, {"reason": "signed_out_everywhere"})
    return ended


def live_session_count(session: Session, user: User, now: datetime | None = None) -> int:
    """Sessions of ``user`` neither ended nor idle (what /account shows)."""
    now = now or utcnow()
    return int(session.scalar(select(func.count()).select_from(UserSession)
                              .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                                     UserSession.last_seen_at >= now - IDLE_LIMIT)) or 0)
