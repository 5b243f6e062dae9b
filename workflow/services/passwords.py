"""Passwords: the one place they are checked, hashed (argon2), verified, changed and reset.

Every password that is set goes through ``password_problem``: at least ``MIN_PASSWORD`` characters and a
zxcvbn score of at least ``MIN_SCORE`` with the user's own names as known words, so that ``admin12345`` or a
user's name with a year is refused for any account. Verification takes the same time whether the account
exists or not (``verify_password``), so a timing does not tell who works here.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import cache

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from workflow.audit import audit
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import User, UserSession
from workflow.problems import Problem
from workflow.roles import Role
from workflow.services.sessions import end_user_sessions

# argon2's cost, from the environment only (never the config file): "standard" is RFC 9106's low-memory profile
# (argon2-cffi's default: 64 MiB, 3 passes, about 0.15 s here); "test" is argon2-cffi's cheapest profile, for test
# suites that create thousands of accounts and sign-ins. Hashes made at another cost are re-made at the next
# sign-in (``verify_password``), so an account created under "test" gets the standard cost once used elsewhere.
PASSWORD_COST_ENV = "PETITIO_PASSWORD_COST"
PASSWORD_COSTS: dict[str, Parameters] = {"standard": profiles.RFC_9106_LOW_MEMORY, "test": profiles.CHEAPEST}


def _hasher(cost: str) -> PasswordHasher:
    if cost not in PASSWORD_COSTS:
        raise ValueError(f"{PASSWORD_COST_ENV}: unknown cost {cost!r} (known: {', '.join(PASSWORD_COSTS)})")
    if cost != "standard":
        logging.getLogger(__name__).warning("%s=%s: passwords are hashed at a cost fit only for tests",
                                            PASSWORD_COST_ENV, cost)
    return PasswordHasher.from_parameters(PASSWORD_COSTS[cost])


_HASHER = _hasher(os.environ.get(PASSWORD_COST_ENV) or "standard")
MIN_PASSWORD = 10
MAX_PASSWORD = 500  # what the sign-in form accepts
MIN_SCORE = 3  # zxcvbn: "safely unguessable: moderate protection from offline slow-hash scenario"
# zxcvbn refuses longer input (its matching is quadratic): a long passphrase must be strong in its first part.
STRENGTH_CHECKED = 72
# Words every account here shares: a password built on the product's name is guessed first.
COMMON_WORDS = ("petitio",)
# Temporary passwords: no look-alike characters (0/O, 1/l/I), read aloud or typed from paper.
_TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def password_problem(password: str, *, username: str, full_name: str = "") -> Problem | None:
    """What is wrong with ``password`` for this user, or None when it may be set."""
    if len(password) < MIN_PASSWORD:
        return Problem("too_short", {"min": MIN_PASSWORD})
    if len(password) > MAX_PASSWORD:
        return Problem("too_long", {"max": MAX_PASSWORD})
    known = [username, full_name, *full_name.split(), *COMMON_WORDS]
    if zxcvbn(password[:STRENGTH_CHECKED], user_inputs=[word for word in known if word])["score"] < MIN_SCORE:
        return Problem("weak_password")
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash of a random password made by the same hasher (same cost) as real ones; nobody knows its password."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` signs ``user`` in. An unknown, inactive or passwordless user costs one argon2
    verification too (against a dummy hash), so that the answer takes the same time for everyone.

    A right password whose hash was made at another cost than this process's is hashed again (the caller's
    commit stores it), so that raising the cost reaches every account that signs in.
    """
    usable = user is not None and user.active and bool(user.password_hash)
    stored = user.password_hash if usable and user is not None else None
    try:
        matches = _HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if not (matches and stored is not None and user is not None):
        return False
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return True


def _set(session: Session, user: User, password: str) -> None:
    problem = password_problem(password, username=user.username, full_name=user.full_name)
    if problem is not None:
        raise ValidationFailed("the password was refused", errors={"password": problem})
    user.password_hash = hash_password(password)


def change_own_password(session: Session, user: User, current: str, new: str, *,
                        keep: UserSession | None = None) -> None:
    """The user changes their own password; every other session of theirs ends (``keep``: the one in use)."""
    if not verify_password(user, current):
        raise ValidationFailed("the current password is wrong",
                               errors={"current_password": Problem("wrong_password")})
    if new == current:
        raise ValidationFailed("the new password is the current one", errors={"password": Problem("same_password")})
    _set(session, user, new)
    user.must_change_password = False
    end_user_sessions(session, user, "password_changed", keep=keep)
    audit(session, user, "password_changed", "user", user.id, None, {})


def temporary_password() -> str:
    """Sixteen random characters in four groups (80 bits), for an admin to hand over once."""
    chars = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def reset_password(session: Session, actor: User, user: User, password: str | None = None) -> str:
    """An admin sets a new password (``password``, else a temporary one) and returns it to be shown once.

    The user's sessions all end, and at the next sign-in the user can do nothing before choosing their own.
    """
    if actor.role != Role.ADMIN:
        raise Forbidden("only admins reset passwords")
    password = password or temporary_password()
    _set(session, user, password)
    user.must_change_password = True
    end_user_sessions(session, user, "password_reset")
    audit(session, actor, "password_reset", "user", user.id, None, {})
    return password
