"""WebAuthn security keys (the ``webauthn`` library): a second way of passing the second factor.

A key is added by a user who already has the authenticator app (``two_factor``), so the recovery codes and the
admin's reset stay one story; removing the second factor removes the keys. The ceremonies' challenges are made
here and kept by the caller (the web session) between the two steps; the origin and relying-party id are the
caller's too (the address the browser used). Audit events name fields, never a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from workflow.audit import audit
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import SecurityKey, User, utcnow
from workflow.problems import Problem
from workflow.services import two_factor

RP_NAME = "Petitio"
MAX_KEYS = 10


@dataclass(frozen=True)
class Ceremony:
    """Where the browser is: the relying party id (the host name) and the origin (scheme, host, port)."""

    rp_id: str
    origin: str


def keys_of(session: Session, user: User) -> list[SecurityKey]:
    return list(session.scalars(select(SecurityKey).where(SecurityKey.user_id == user.id).order_by(SecurityKey.id)))


def registration_options(session: Session, actor: User, user: User, where: Ceremony) -> tuple[str, bytes]:
    """The options for ``navigator.credentials.create`` as JSON, and the challenge to keep until the answer."""
    if actor.id != user.id:
        raise Forbidden("only the user adds their own security key")
    if not two_factor.has_second_factor(session, user):
        raise Conflict("set up the authenticator app first", errors={"credential": Problem("no_second_factor")})
    options = generate_registration_options(
        rp_id=where.rp_id, rp_name=RP_NAME, user_name=user.username, user_id=f"petitio-{user.id}".encode(),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in keys_of(session, user)])
    return options_to_json(options), options.challenge


def register(session: Session, actor: User, user: User, credential: str, challenge: bytes, where: Ceremony,
             name: str) -> SecurityKey:
    if actor.id != user.id:
        raise Forbidden("only the user adds their own security key")
    if len(keys_of(session, user)) >= MAX_KEYS:
        raise ValidationFailed("too many keys", errors={"credential": Problem("too_many", {"max": MAX_KEYS})})
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=where.rp_id, expected_origin=where.origin)
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as err:
        raise ValidationFailed("the security key's answer was refused",
                               errors={"credential": Problem("security_key_refused")}) from err
    key = SecurityKey(user_id=user.id, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      name=name.strip()[:80])
    session.add(key)
    audit(session, actor, "security_key_added", "user", user.id, None, {"fields": ["security_keys"]})
    session.flush()
    return key


def authentication_options(session: Session, user: User, where: Ceremony) -> tuple[str, bytes]:
    keys = keys_of(session, user)
    if not keys:
        raise Conflict("no security key", errors={"credential": Problem("no_second_factor")})
    options = generate_authentication_options(
        rp_id=where.rp_id, allow_credentials=[PublicKeyCredentialDescriptor(id=k.credential_id) for k in keys],
        user_verification=UserVerificationRequirement.DISCOURAGED)
    return options_to_json(options), options.challenge


def authenticate(session: Session, user: User, credential: str, challenge: bytes, where: Ceremony, *,
                 now: datetime | None = None) -> None:
    """The second step of signing in with a key; a refused answer counts as a wrong code on the account."""
    row = two_factor.confirmed_row(session, user)
    at = now or utcnow()
    two_factor.check_lock(row, at)
    try:
        parsed = parse_authentication_credential_json(credential)
        key = session.scalar(select(SecurityKey).where(SecurityKey.user_id == user.id,
                                                       SecurityKey.credential_id == parsed.raw_id))
        if key is None:
            raise InvalidAuthenticationResponse("not a key of this user")
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=where.rp_id,
            expected_origin=where.origin, credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count)
    except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as err:
        two_factor.count_failure(row, at)
        raise ValidationFailed("the security key's answer was refused",
                               errors={"credential": Problem("security_key_refused")}) from err
    key.sign_count, key.last_used_at = verified.new_sign_count, at
    row.failures, row.last_failure_at = 0, None
    session.flush()


def remove(session: Session, actor: User, user: User, key_id: int) -> None:
    if actor.id != user.id:
        raise Forbidden("only the user removes their own security key")
    key = session.get(SecurityKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound("no such security key")
    session.delete(key)
    audit(session, actor, "security_key_removed", "user", user.id, None, {"fields": ["security_keys"]})
    session.flush()
