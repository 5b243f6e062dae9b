"""Flask extensions, unbound until ``create_app`` initialises them."""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import Babel, get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect

from web.auth.sessions import load_signed_in_user
from workflow.i18n import DEFAULT_LANGUAGE, UI_LANGUAGES, is_timezone
from workflow.models import User

babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
login_manager.login_view = "auth.login"
# Off on purpose: the session record binds the cookie to its User-Agent instead (web/auth/sessions.py says why).
login_manager.session_protection = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return load_signed_in_user(user_id)


def select_locale() -> str:
    """The user's own setting, then the browser's, then English."""
    actor = g.get("actor")
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    if actor is not None and getattr(actor, "locale", None) in UI_LANGUAGES:
        return actor.locale
    return request.accept_languages.best_match(UI_LANGUAGES) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    """The user's own time zone, else the organisation's (Flask-Babel's ``format_datetime`` uses it too)."""
    actor = g.get("actor")
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    own = getattr(actor, "timezone", None)
    return own if is_timezone(own) else current_app.config["PETITIO_SETTINGS"].timezone


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)
