"""The second factor: an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

A code is six digits from a 30-second time step; the steps just before and after the current one are accepted (the
phone's clock drifts), and each step once only (``SecondFactor.last_step``), so a code read over a shoulder is spent.
Ten recovery codes are made at enrolment (and on demand): shown once, kept as SHA-256 digests, each used once.

Who must have a second factor is ``workflow.roles.second_factor_required``. The services take ``now`` so that tests
move the clock instead of sleeping. Audit events name the fields touched, never a secret or a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import RecoveryCode, SecondFactor, SecurityKey, User, utcnow
from workflow.problems import Problem
from workflow.roles import Role, second_factor_required
from workflow.services.sessions import end_user_sessions

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODE_COUNT = 10
# Wrong codes in a row before the account's codes are refused for LOCK_MINUTES (counted in the database).
MAX_FAILURES = 10
LOCK_MINUTES = 15
ISSUER = "Petitio"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread when typed from paper


def _row(session: Session, user: User, *, lock: bool = False) -> SecondFactor | None:
    # Locked while a code is checked (PostgreSQL): two requests racing with one code cannot both spend it.
    return session.get(SecondFactor, user.id, with_for_update=lock)


def has_second_factor(session: Session, user: User) -> bool:
    row = _row(session, user)
    return row is not None and row.confirmed_at is not None


def needs_enrolment(session: Session, user: User) -> bool:
    """Whether the user must set up a second factor before reaching anything."""
    return second_factor_required(user.role) and not has_second_factor(session, user)


def enrolled_user_ids(session: Session) -> set[int]:
    """Who has a second factor set up (the admin's list of users)."""
    return set(session.scalars(select(SecondFactor.user_id).where(SecondFactor.confirmed_at.is_not(None))))


def unused_recovery_codes(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _own(actor: User, user: User) -> None:
    # Nobody sets up (or reads the secret of) someone else's authenticator: it would let them sign in as that user.
    if actor.id != user.id:
        raise Forbidden("only the user sets up their own second factor")


def begin_enrolment(session: Session, actor: User, user: User) -> str:
    """A new secret for the user's authenticator app (shown once as a QR code and as text); nothing is protected
    until ``confirm_enrolment`` sees a first code from it. Beginning again replaces an unconfirmed secret."""
    _own(actor, user)
    row = _row(session, user)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("a second factor is already set up", errors={"code": Problem("second_factor_exists")})
    secret = pyotp.random_base32()
    if row is None:
        session.add(SecondFactor(user_id=user.id, totp_secret=secret, failures=0))
    else:
        row.totp_secret, row.failures, row.last_failure_at, row.last_step = secret, 0, None, None
    session.flush()
    return secret


def pending_secret(session: Session, actor: User, user: User) -> str | None:
    """The secret of an enrolment begun and not yet confirmed (to show the QR code again), else None."""
    _own(actor, user)
    row = _row(session, user)
    return row.totp_secret if row is not None and row.confirmed_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=user.username,
                                                                                   issuer_name=ISSUER)


def confirm_enrolment(session: Session, actor: User, user: User, code: str, *, now: datetime | None = None
                      ) -> list[str]:
    """Check a first code from the app; on success the second factor protects the account. Returns the recovery
    codes, to be shown once."""
    _own(actor, user)
    row = _row(session, user, lock=True)
    if row is None or row.confirmed_at is not None:
        raise Conflict("no enrolment begun", errors={"code": Problem("no_second_factor")})
    at = now or utcnow()
    _check_lock(row, at)
    if not _accept_totp(row, code, at):
        _fail(row, at)
        raise ValidationFailed("wrong code", errors={"code": Problem("wrong_code")})
    row.confirmed_at = at
    codes = _new_recovery_codes(session, user)
    audit(session, actor, "second_factor_enrolled", "user", user.id, None,
          {"fields": ["totp_secret", "recovery_codes"]})
    session.flush()
    return codes


def enrol_known_secret(session: Session, actor: User | None, user: User, secret: str) -> list[str]:
    """Set up a second factor whose secret is already known: the demo's printed secrets and the tests' fixtures.

    Never reached from a page or the API: whoever chose the secret can sign in as the user, which is what the demo
    wants and a real install must not (there the user scans a fresh secret, ``begin_enrolment``).
    """
    pyotp.TOTP(secret).now()  # refuses what is not base32
    _remove(session, user)
    session.add(SecondFactor(user_id=user.id, totp_secret=secret, failures=0, confirmed_at=utcnow()))
    session.flush()
    codes = _new_recovery_codes(session, user)
    audit(session, actor, "second_factor_enrolled", "user", user.id, None,
          {"fields": ["totp_secret", "recovery_codes"]})
    return codes


def verify(session: Session, user: User, code: str, *, now: datetime | None = None) -> None:
    """The second step of signing in: a current TOTP code or an unused recovery code, else ``ValidationFailed``.

    Wrong codes are counted on the account; after MAX_FAILURES in a row every code is refused for LOCK_MINUTES.
    """
    row = _row(session, user, lock=True)
    if row is None or row.confirmed_at is None:
        raise Conflict("no second factor", errors={"code": Problem("no_second_factor")})
    at = now or utcnow()
    _check_lock(row, at)
    typed = "".join(code.split())
    if _accept_totp(row, typed, at):
        row.failures, row.last_failure_at = 0, None
    elif _use_recovery_code(session, user, typed, at):
        row.failures, row.last_failure_at = 0, None
        audit(session, user, "recovery_code_used", "user", user.id, None, {"fields": ["recovery_codes"]})
    else:
        _fail(row, at)
        raise ValidationFailed("wrong code", errors={"code": Problem("wrong_code")})
    session.flush()


def regenerate_recovery_codes(session: Session, actor: User, user: User) -> list[str]:
    """Ten new codes; the old ones stop working. Shown once."""
    _own(actor, user)
    if not has_second_factor(session, user):
        raise Conflict("no second factor", errors={"code": Problem("no_second_factor")})
    codes = _new_recovery_codes(session, user)
    audit(session, actor, "recovery_codes_regenerated", "user", user.id, None, {"fields": ["recovery_codes"]})
    session.flush()
    return codes


def disable(session: Session, actor: User, user: User) -> None:
    """The user switches their own second factor off, where their role allows it (intake)."""
    _own(actor, user)
    if second_factor_required(user.role):
        raise Forbidden("the role requires a second factor", errors={"code": Problem("second_factor_required")})
    if _row(session, user) is None:
        raise Conflict("no second factor", errors={"code": Problem("no_second_factor")})
    _remove(session, user)
    audit(session, actor, "second_factor_disabled", "user", user.id, None,
          {"fields": ["totp_secret", "recovery_codes"]})
    session.flush()


def reset(session: Session, actor: User | None, user: User) -> None:
    """An admin (or the operator, ``actor`` None) removes a user's lost second factor: the user sets up a new one
    at the next sign-in (required roles) or may do so on their account page (intake). Every session of the user
    ends: a lost phone may have gone with a signed-in browser."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("only an admin resets a second factor")
    _remove(session, user)
    end_user_sessions(session, user, "second_factor_reset")
    audit(session, actor, "second_factor_reset", "user", user.id, None, {"fields": ["totp_secret", "recovery_codes"]})
    session.flush()


def current_code(secret: str, *, now: datetime | None = None) -> str:
    """The code an authenticator app shows at ``now`` (the demo's ``petitio users totp-code``)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now or utcnow())


def stored_secret(session: Session, user: User) -> str | None:
    """The confirmed secret, for the operator's demo command only (it compares it with the demo's own)."""
    row = _row(session, user)
    return row.totp_secret if row is not None and row.confirmed_at is not None else None


def confirmed_row(session: Session, user: User) -> SecondFactor:
    """The user's second factor, locked, for another way of passing it (a security key: services/security_keys.py);
    refused while the account's codes are locked after wrong ones."""
    row = _row(session, user, lock=True)
    if row is None or row.confirmed_at is None:
        raise Conflict("no second factor", errors={"code": Problem("no_second_factor")})
    return row


def check_lock(row: SecondFactor, at: datetime) -> None:
    _check_lock(row, at)


def count_failure(row: SecondFactor, at: datetime) -> None:
    _fail(row, at)


# -- inside -------------------------------------------------------------------------------------------------------


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def _accept_totp(row: SecondFactor, code: str, at: datetime) -> bool:
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(row.totp_secret, digits=DIGITS, interval=STEP_SECONDS)
    current = _step(at)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if row.last_step is not None and step <= row.last_step:
            continue  # that step (or an older one) was used: a code is accepted once
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            row.last_step = step
            return True
    return False


def _check_lock(row: SecondFactor, at: datetime) -> None:
    if (row.failures >= MAX_FAILURES and row.last_failure_at is not None
            and at - row.last_failure_at < timedelta(minutes=LOCK_MINUTES)):
        raise ValidationFailed("too many wrong codes",
                               errors={"code": Problem("too_many_codes", {"minutes": LOCK_MINUTES})})


def _fail(row: SecondFactor, at: datetime) -> None:
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = at


def _digest(code: str) -> str:
    return hashlib.sha256(code.lower().replace("-", "").encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # 16 characters of a 31-letter alphabet: about 79 bits, so the stored digests cannot be reversed by trying.
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
             for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    session.flush()
    return codes


def _use_recovery_code(session: Session, user: User, code: str, at: datetime) -> bool:
    if not 16 <= len(code) <= 40 or not code.isascii():
        return False
    found = session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                      RecoveryCode.code_hash == _digest(code),
                                                      RecoveryCode.used_at.is_(None)).with_for_update())
    if found is None:
        return False
    found.used_at = at
    return True


def _remove(session: Session, user: User) -> None:
    session.execute(delete(SecurityKey).where(SecurityKey.user_id == user.id))  # a second option of the same factor
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    session.flush()
