"""The second factor's pages: the code at sign-in, enrolment (at sign-in and from /account), recovery codes,
switching it off (intake) and an admin's reset of a lost one."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug import Response

from web.access import public, roles
from web.auth.forms import CodeForm
from web.auth.sessions import begin_session, now
from web.auth.sign_in import (
    CODE_LIMIT,
    count_wrong_code,
    drop_pending,
    failed_code,
    pending_user,
)
from web.database import db
from web.extensions import limiter
from web.messages import put_on_form
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.models import User
from workflow.roles import ADMINS, ALL_STAFF
from workflow.services import security_keys, two_factor
from workflow.services.users import get_user

bp = Blueprint("second_factor", __name__, template_folder="templates")

def _qr(user: User, secret: str) -> Markup:
    # segno writes the SVG itself (no user text inside but the otpauth address): safe to put in the page as is.
    return Markup(segno.make(two_factor.provisioning_uri(user, secret), error="m").svg_inline(scale=4, border=2))


def _enrol_page(user: User, secret: str, form: CodeForm, action: str, status: int = 200) -> tuple[str, int]:
    return render_template("auth/enrol.html", form=form, action=action, secret=secret, qr=_qr(user, secret)), status


def _codes_page(codes: list[str], continue_to: str) -> tuple[str, int]:
    return render_template("auth/recovery_codes.html", codes=codes, continue_to=continue_to), 200


def _code_page(user: User, form: CodeForm, status: int) -> tuple[str, int]:
    return render_template("auth/code.html", form=form,
                           has_security_key=bool(security_keys.keys_of(db(), user))), status


# -- at sign-in -----------------------------------------------------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(CODE_LIMIT, methods=["POST"], deduct_when=failed_code)
def code() -> Response | tuple[str, int]:
    held = pending_user(enrol=False)
    if held is None:
        return redirect(url_for("auth.login"))
    user, pending = held
    form = CodeForm()
    if form.validate_on_submit():
        try:
            two_factor.verify(db(), user, form.code.data or "", now=now())
        except ValidationFailed as err:
            db().commit()  # the wrong code is counted on the account, whatever this answer is
            count_wrong_code()
            put_on_form(form, err.errors, default="code")
            return _code_page(user, form, 422)
        begin_session(user)
        return redirect(pending["next"])
    return _code_page(user, form, 422 if request.method == "POST" else 200)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@limiter.limit(CODE_LIMIT, methods=["POST"], deduct_when=failed_code)
def enrol_at_sign_in() -> Response | tuple[str, int]:
    """A user whose role requires a second factor and who has none sets it up before reaching anything."""
    held = pending_user(enrol=True)
    if held is None:
        return redirect(url_for("auth.login"))
    user, pending = held
    secret = two_factor.pending_secret(db(), user, user)
    if secret is None:  # begun at the password step (web/auth/sign_in.py); gone: start over
        drop_pending()
        return redirect(url_for("auth.login"))
    form = CodeForm()
    action = url_for("second_factor.enrol_at_sign_in")
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(db(), user, user, form.code.data or "", now=now())
        except ValidationFailed as err:
            db().commit()
            count_wrong_code()
            put_on_form(form, err.errors, default="code")
            return _enrol_page(user, secret, form, action, 422)
        begin_session(user)
        return _codes_page(codes, pending["next"])
    return _enrol_page(user, secret, form, action, 422 if request.method == "POST" else 200)


# -- from the account page --------------------------------------------------------------------------------------------


@bp.post("/account/second-factor")
@roles(*ALL_STAFF)
def begin() -> Response:
    two_factor.begin_enrolment(db(), g.actor, g.actor)
    return redirect(url_for("second_factor.enrol"), 303)


@bp.route("/account/second-factor/enrol", methods=["GET", "POST"])
@roles(*ALL_STAFF)
@limiter.limit(CODE_LIMIT, methods=["POST"], deduct_when=failed_code)
def enrol() -> Response | tuple[str, int]:
    secret = two_factor.pending_secret(db(), g.actor, g.actor)
    if secret is None:
        return redirect(url_for("account.account"))
    form = CodeForm()
    action = url_for("second_factor.enrol")
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(db(), g.actor, g.actor, form.code.data or "", now=now())
        except ValidationFailed as err:
            db().commit()
            put_on_form(form, err.errors, default="code")
            return _enrol_page(g.actor, secret, form, action, 422)
        return _codes_page(codes, url_for("account.account"))
    return _enrol_page(g.actor, secret, form, action, 422 if request.method == "POST" else 200)


@bp.post("/account/second-factor/recovery-codes")
@roles(*ALL_STAFF)
def regenerate() -> tuple[str, int]:
    codes = two_factor.regenerate_recovery_codes(db(), g.actor, g.actor)
    return _codes_page(codes, url_for("account.account"))


@bp.post("/account/second-factor/disable")
@roles(*ALL_STAFF)
def disable() -> Response:
    two_factor.disable(db(), g.actor, g.actor)  # Forbidden for the roles that require it -> 403
    flash(_("The second factor is switched off."), "success")
    return redirect(url_for("account.account"), 303)


@bp.post("/admin/users/<username>/second-factor/reset")
@roles(*ADMINS)
def reset(username: str) -> Response:
    user = get_user(db(), username)
    two_factor.reset(db(), g.actor, user)
    flash(_("The second factor of %(username)s was removed: they set up a new one at their next sign-in.",
            username=user.username), "success")
    return redirect(url_for("admin.users"), 303)
