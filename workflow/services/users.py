"""Users; passwords are ``services/passwords.py``, API tokens ``services/api_tokens.py``."""

from __future__ import annotations

import re

from marshmallow import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.i18n import UI_LANGUAGES, is_timezone
from workflow.models import User, utcnow
from workflow.problems import Problem
from workflow.roles import Role
from workflow.schemas.base import clean_text, problems_of
from workflow.services.passwords import hash_password, password_problem
from workflow.services.sessions import end_user_sessions

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
FULL_NAME_MAX = 200  # users.full_name is String(200)


def add_user(session: Session, actor: User | None, username: str, role: str, *, full_name: str = "",
             locale: str = "en", password: str | None = None, timezone: str | None = None) -> User:
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = Problem("bad_username")
    elif session.scalar(select(User).where(User.username == username)) is not None:
        errors["username"] = Problem("username_taken")
    if role not in Role.codes():
        errors["role"] = Problem("not_one_of", {"choices": list(Role.codes())})
    if locale not in UI_LANGUAGES:
        errors["locale"] = Problem("not_one_of", {"choices": list(UI_LANGUAGES)})
    if timezone and not is_timezone(timezone):
        errors["timezone"] = Problem("unknown_timezone")
    try:  # typed on the command line or the admin page: the character rule of every text, one line
        full_name = clean_text(full_name, multiline=False)
    except ValidationError as err:
        errors["full_name"] = problems_of(err.messages)["_body"]
    else:
        if len(full_name) > FULL_NAME_MAX:
            errors["full_name"] = Problem("too_long", {"max": FULL_NAME_MAX})
    if password is not None and (problem := password_problem(password, username=username, full_name=full_name)):
        errors["password"] = problem
    if errors:
        raise ValidationFailed("cannot create the user", errors=errors)
    user = User(username=username, role=role, full_name=full_name, locale=locale, timezone=timezone or None,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit(session, actor, "user_created", "user", user.id, None, {"username": username, "role": role})
    return user


def set_preferences(session: Session, actor: User, user: User, *, locale: str, timezone: str | None) -> list[str]:
    """A user's language and time zone (None or "": the organisation's), set by themselves or an admin.

    Returns the names of the fields that changed (the audit event names them, never their values).
    """
    if actor.id != user.id and actor.role != Role.ADMIN:
        raise Forbidden("only admins change another user's settings")
    errors = {}
    if locale not in UI_LANGUAGES:
        errors["locale"] = Problem("not_one_of", {"choices": list(UI_LANGUAGES)})
    if timezone and not is_timezone(timezone):
        errors["timezone"] = Problem("unknown_timezone")
    if errors:
        raise ValidationFailed("the settings were refused", errors=errors)
    changed = [name for name, value in (("locale", locale), ("timezone", timezone or None))
               if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, locale if name == "locale" else timezone or None)
    if changed:
        audit(session, actor, "user_preferences_changed", "user", user.id, None, {"fields": changed})
    return changed


_BY_USERNAME = select(User).where(User.username == bindparam("username"))  # built once: every request runs it


def get_user(session: Session, username: str) -> User:
    user = session.scalar(_BY_USERNAME, {"username": username})
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def normalised_username(typed: str) -> str:
    """A username as typed at sign-in, as it is stored (and as the sign-in throttle counts it)."""
    return typed.strip().lower()


def change_role(session: Session, actor: User, user: User, role: str) -> None:
    if role not in Role.codes():
        raise ValidationFailed("unknown role", errors={"role": Problem("not_one_of", {"choices": list(Role.codes())})})
    if user.id == actor.id and role != Role.ADMIN:
        raise ValidationFailed("you cannot remove your own admin role", errors={"role": Problem("own_admin_role")})
    before, user.role = user.role, role
    if before != role:  # what the open sessions were allowed is no longer what the user may do
        end_user_sessions(session, user, "role_changed")
    audit(session, actor, "user_role_changed", "user", user.id, None, {"from": before, "to": role})


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise ValidationFailed("you cannot deactivate yourself", errors={"active": Problem("own_account")})
    user.active = active
    if not active:  # a deactivated account keeps no working token and no open session
        for token in user.tokens:
            token.revoked_at = token.revoked_at or utcnow()
        end_user_sessions(session, user, "deactivated")
    audit(session, actor, "user_activated" if active else "user_deactivated", "user", user.id, None, {})


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def display_names(session: Session, ids: set[int]) -> dict[int, str]:
    """user id -> ``User.display_name``, in one query."""
    if not ids:
        return {}
    return {user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(ids)))}
