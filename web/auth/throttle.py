"""How many wrong passwords are tried: per address and per account, counted where every web process sees them.

The counts live in the Flask-Limiter store named by ``PETITIO_RATELIMIT_STORAGE_URI`` (``memory://`` counts per
process; several processes need a shared one such as Redis). Only failures count (``failed``): a user who
signs in is never slowed down by their own successes.

Per address: one address guessing many accounts. Per account: many addresses guessing one account. The account
is counted by the username as it would be stored, known or not, so that the answer never tells whether it
exists; the store holds a keyed digest of it, never the name (a copy of Redis does not list who works here).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from web.extensions import limiter
from workflow.services.users import normalised_username

ADDRESS_LIMIT = "10 per 15 minutes"
ACCOUNT_LIMIT = "10 per 15 minutes"
SIGN_IN_ENDPOINT = "auth.login"
ACCOUNT_SCOPE = "password-checks"  # one count per account for every form that checks its password


def failed(response: Response) -> bool:
    """A sign-in that did not get through (a success redirects), or a wrong password on another form."""
    if request.method != "POST" or response.status_code == 503:  # 503: the store is down, nothing to count in
        return False
    if request.endpoint == SIGN_IN_ENDPOINT:
        return response.status_code not in (302, 303)
    return bool(g.get("wrong_password"))


def count_wrong_password() -> None:
    """A form other than sign-in was given a wrong password: it counts against the account."""
    g.wrong_password = True


def account_key() -> str:
    """The account a password was tried for: the username typed at sign-in, else the signed-in user's."""
    if request.endpoint == SIGN_IN_ENDPOINT or not current_user.is_authenticated:
        typed = normalised_username(request.form.get("username", ""))
    else:
        typed = current_user.username
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return "account:" + hmac.new(secret, typed.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


per_address = limiter.limit(ADDRESS_LIMIT, key_func=get_remote_address, methods=["POST"], deduct_when=failed)
per_account = limiter.shared_limit(ACCOUNT_LIMIT, scope=ACCOUNT_SCOPE, key_func=account_key, methods=["POST"],
                                   deduct_when=failed)
