"""The signed-in session of a browser: started once who the user is has been checked, checked on every request.

The cookie (Flask's signed session) carries only a random session id; the record on the server
(``workflow/services/sessions.py``) says whether it still holds. Flask-Login keeps its role of giving views the
current user, but its own "session protection" is off: its "strong" mode is skipped for permanent sessions
(which ours are, so that the cookie also expires in the browser), so another User-Agent was accepted, and
its fingerprint includes the client address taken from an unverified X-Forwarded-For header. The binding to
the User-Agent is ours instead, checked against the server's record.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, redirect, request, session, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from web.database import db
from workflow.audit import audit
from workflow.models import User, UserSession
from workflow.services.sessions import current_session, end_session, open_session

SESSION_ID = "sid"  # the key in Flask's signed cookie that holds the session id
# What a user whose password was reset may still reach before choosing a new one.
WHILE_PASSWORD_MUST_CHANGE = frozenset({"account.password", "account.change_password", "auth.logout",
                                        "auth.set_language"})


def now() -> datetime:
    """The web app's clock (``PETITIO_CLOCK`` in the app's config; tests move it instead of sleeping)."""
    return current_app.config["PETITIO_CLOCK"]()


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


def begin_session(user: User) -> None:
    """Start a signed-in session for this user: call it once every check of who they are has passed.

    Whatever the cookie held before is dropped (no session fixation: the id is new and random).
    """
    session.clear()
    session[SESSION_ID] = open_session(db(), user, _user_agent(), now())
    session.permanent = True  # the cookie expires in the browser too after PERMANENT_SESSION_LIFETIME unused
    login_user(user)
    audit(db(), user, "signed_in", "user", user.id, None, {})


def end_this_session() -> None:
    """Sign-out: the session ends on the server, so a copy of the cookie no longer opens anything."""
    secret = session.get(SESSION_ID)
    if isinstance(secret, str):
        end_session(db(), secret, "signed_out", now())
    logout_user()
    session.clear()


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live session record for this cookie and User-Agent, else None.

    A cookie whose session ended (or never existed) is emptied, so the browser drops it.
    """
    secret = session.get(SESSION_ID)
    row = current_session(db(), secret, _user_agent(), now()) if isinstance(secret, str) else None
    if row is None or str(row.user_id) != user_id:
        session.clear()
        return None
    g.user_session = row
    return row.user


def this_session() -> UserSession | None:
    """The session record of the current request (set by ``load_signed_in_user``)."""
    return g.get("user_session")


def password_change_gate(user: User) -> Response | None:
    """A user whose password an admin reset is sent to choose a new one, whatever page they ask for."""
    if user.must_change_password and request.endpoint not in WHILE_PASSWORD_MUST_CHANGE:
        return redirect(url_for("account.password"))
    return None
