"""A personal calendar feed of deadlines (iCalendar), at a secret URL a calendar application polls.

The URL's secret is the only credential (calendar applications send no cookies or headers), so it is
long, shown once, stored as a SHA-256 hash only, and revoked when a new one is issued. The feed lists
the open deadlines the user answers for (``deadlines.owned_by``, as the digest does) with case and
filing references and deadline labels (in the user's language, from the pages' catalog): never a person's
name. Each event's UID is stable per deadline, so a moved due date moves the event instead of adding one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Conflict, Forbidden
from workflow.i18n import translate
from workflow.models import CalendarToken, User, utcnow
from workflow.roles import Role
from workflow.services.deadlines import open_items

PRODID = "-//Petitio//Deadlines//EN"
UID_DOMAIN = "deadlines.petitio"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _may_manage(actor: User | None, user: User) -> bool:
    return actor is None or actor.id == user.id or actor.role == Role.ADMIN  # None: the operator at the CLI


def issue_calendar_token(session: Session, actor: User | None, user: User) -> str:
    """A new secret for ``user``'s feed, returned once; the previous one stops working."""
    if not _may_manage(actor, user):
        raise Forbidden("only the user or an admin issues a calendar link")
    if not user.active:
        raise Conflict(f"user {user.username} is deactivated")
    now = utcnow()
    _revoke_all(session, user, now)
    secret = "pc_" + secrets.token_urlsafe(32)
    session.add(CalendarToken(user_id=user.id, token_hash=_hash(secret), created_at=now))
    session.flush()
    audit(session, actor, "calendar_token_issued", "user", user.id, None, {"username": user.username})
    return secret


def revoke_calendar_token(session: Session, actor: User | None, user: User) -> int:
    """Stop ``user``'s feed; returns how many secrets were revoked."""
    if not _may_manage(actor, user):
        raise Forbidden("only the user or an admin revokes a calendar link")
    revoked = _revoke_all(session, user, utcnow())
    if revoked:
        audit(session, actor, "calendar_token_revoked", "user", user.id, None, {"username": user.username})
    session.flush()
    return revoked


def _revoke_all(session: Session, user: User, now: datetime) -> int:
    rows = list(session.scalars(select(CalendarToken).where(CalendarToken.user_id == user.id,
                                                            CalendarToken.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at = now
    return len(rows)


def calendar_link_since(session: Session, user: User) -> datetime | None:
    """When ``user``'s active calendar link was issued, or None when they have none."""
    return session.scalar(select(CalendarToken.created_at).where(CalendarToken.user_id == user.id,
                                                                 CalendarToken.revoked_at.is_(None)))


def user_for_calendar_token(session: Session, secret: str) -> User | None:
    """The feed's owner; None for an unknown or revoked secret or a deactivated user."""
    user = session.scalar(select(User).join(CalendarToken, CalendarToken.user_id == User.id)
                          .where(CalendarToken.token_hash == _hash(secret), CalendarToken.revoked_at.is_(None)))
    return user if user is not None and user.active else None


def calendar_feed(session: Session, user: User, now: datetime | None = None) -> bytes:
    now = now or utcnow()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Petitio")
    if user.timezone:  # the times are UTC; a calendar that reads this hint shows them in the user's zone
        calendar.add("x-wr-timezone", user.timezone)
    for item in open_items(session, user.role, now):
        event = Event()
        event.add("uid", f"deadline-{item.id}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", item.due_at)
        template, params = item.label_template
        event.add("summary", f"{item.subject}: {translate(user.locale, template, **params)}")
        calendar.add_component(event)
    return calendar.to_ical()
