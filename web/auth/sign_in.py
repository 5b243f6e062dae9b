"""After the password: the second factor, then the signed-in session.

Between the password and the second factor the browser's session holds only ``PENDING`` (which user, where to go,
since when, how many codes were tried). It is not a sign-in: Flask-Login knows no user, so no page or API route
answers as that user until ``begin_session`` (``web/auth/sessions.py``) runs.
"""

from __future__ import annotations

import time
from typing import Any

from flask import redirect, request, session, url_for
from werkzeug import Response

from web.auth.sessions import begin_session
from web.database import db
from workflow.models import User
from workflow.services import two_factor

PENDING = "sign_in_pending"
PENDING_SECONDS = 600  # the password is asked again after ten minutes at the code or enrolment page
CODE_LIMIT = "10 per 15 minutes"  # failed code posts per address, like the password (web/auth/routes.py)
PENDING_ATTEMPTS = 5  # wrong codes before the password is asked again (the account's own count is in the database)


def failed_code(response: Response) -> bool:
    return request.method == "POST" and response.status_code >= 400


def after_password(user: User, next_url: str) -> Response:
    """The password was right: sign in, or first ask for the second factor, or first set one up."""
    if two_factor.has_second_factor(db(), user):
        _hold(user, next_url, enrol=False)
        return redirect(url_for("second_factor.code"))
    if two_factor.needs_enrolment(db(), user):
        # The secret is made here, in this POST, so that the enrolment page (a GET, which only reads) shows it.
        two_factor.begin_enrolment(db(), user, user)
        _hold(user, next_url, enrol=True)
        return redirect(url_for("second_factor.enrol_at_sign_in"))
    begin_session(user)
    return redirect(next_url)


def _hold(user: User, next_url: str, *, enrol: bool) -> None:
    session.pop(PENDING, None)
    session[PENDING] = {"user": user.id, "next": next_url, "since": int(time.time()), "enrol": enrol, "tries": 0}


def pending_user(*, enrol: bool) -> tuple[User, dict[str, Any]] | None:
    """The user waiting at the code (or enrolment) step, while that wait is fresh; else None (and it is dropped)."""
    held = session.get(PENDING)
    if not isinstance(held, dict) or held.get("enrol") is not enrol:
        return None
    if time.time() - float(held.get("since", 0)) > PENDING_SECONDS or held.get("tries", 0) >= PENDING_ATTEMPTS:
        session.pop(PENDING, None)
        return None
    user = db().get(User, held.get("user"))
    if user is None or not user.active:
        session.pop(PENDING, None)
        return None
    return user, held


def count_wrong_code() -> None:
    held = dict(session.get(PENDING) or {})
    held["tries"] = int(held.get("tries", 0)) + 1
    session[PENDING] = held


def drop_pending() -> None:
    session.pop(PENDING, None)
