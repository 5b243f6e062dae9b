"""WebAuthn security keys: added on /account beside the authenticator app, used at sign-in instead of a code.

The two steps of each ceremony are JSON posts from web/static/security-keys.js (no inline script under the CSP);
the challenge waits in the session between them and is used once.
"""

from __future__ import annotations

import base64
import json

from flask import Blueprint, flash, g, jsonify, redirect, request, session, url_for
from werkzeug import Response

from web.access import public, roles
from web.auth.sessions import begin_session, now
from web.auth.sign_in import CODE_LIMIT, count_wrong_code, failed_code, pending_user
from web.database import db
from web.extensions import limiter
from web.messages import message
from web.translate import gettext as _
from workflow.errors import PetitioError
from workflow.problems import Problem
from workflow.roles import ALL_STAFF
from workflow.services import security_keys
from workflow.services.security_keys import Ceremony

bp = Blueprint("security_keys", __name__)
CHALLENGE = "webauthn_challenge"


def _where() -> Ceremony:
    # The browser checks the page's origin itself; the key signs it, and the service compares it with this one.
    return Ceremony(rp_id=request.host.split(":")[0], origin=request.host_url.rstrip("/"))


def _keep(challenge: bytes) -> None:
    session[CHALLENGE] = base64.urlsafe_b64encode(challenge).decode()


def _take() -> bytes:
    kept = session.pop(CHALLENGE, None)
    return base64.urlsafe_b64decode(kept) if isinstance(kept, str) else b""


def _body() -> tuple[str, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        return "", ""
    name = body.get("name")
    return json.dumps(body["credential"]), name if isinstance(name, str) else ""


def _refused(err: PetitioError | None = None, status: int = 422) -> tuple[Response, int]:
    problem = (err.errors.get("credential") if err else None) or Problem("security_key_refused")
    return jsonify(error="invalid", message=message(problem)), status


def _options(json_text: str) -> Response:
    return Response(json_text, mimetype="application/json")


@bp.post("/account/security-keys/options")
@roles(*ALL_STAFF)
def registration_options() -> Response | tuple[Response, int]:
    try:
        options, challenge = security_keys.registration_options(db(), g.actor, g.actor, _where())
    except PetitioError as err:
        return _refused(err, 409)
    _keep(challenge)
    return _options(options)


@bp.post("/account/security-keys")
@roles(*ALL_STAFF)
def add() -> Response | tuple[Response, int]:
    credential, name = _body()
    challenge = _take()
    if not credential or not challenge:
        return _refused()
    try:
        security_keys.register(db(), g.actor, g.actor, credential, challenge, _where(), name)
    except PetitioError as err:
        db().rollback()
        return _refused(err)
    flash(_("The security key was added."), "success")
    return jsonify(next=url_for("account.account")), 201


@bp.post("/account/security-keys/<int:key_id>/remove")
@roles(*ALL_STAFF)
def remove(key_id: int) -> Response:
    security_keys.remove(db(), g.actor, g.actor, key_id)  # another user's key or none: 404
    flash(_("The security key was removed."), "success")
    return redirect(url_for("account.account"), 303)


@bp.post("/login/security-key/options")
@public
def authentication_options() -> Response | tuple[Response, int]:
    held = pending_user(enrol=False)
    if held is None:
        return _refused(None, 409)
    try:
        options, challenge = security_keys.authentication_options(db(), held[0], _where())
    except PetitioError as err:
        return _refused(err, 409)
    _keep(challenge)
    return _options(options)


@bp.post("/login/security-key")
@public
@limiter.limit(CODE_LIMIT, deduct_when=failed_code)
def authenticate() -> Response | tuple[Response, int]:
    held = pending_user(enrol=False)
    if held is None:
        return _refused(None, 409)
    user, pending = held
    credential, _name = _body()
    challenge = _take()
    if not credential or not challenge:
        return _refused()
    try:
        security_keys.authenticate(db(), user, credential, challenge, _where(), now=now())
    except PetitioError as err:
        db().commit()  # a refused answer counts on the account, like a wrong code
        count_wrong_code()
        return _refused(err)
    begin_session(user)
    return jsonify(next=pending["next"])

