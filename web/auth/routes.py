"""Sign-in, sign-out and each user's language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from werkzeug import Response

from web.access import public, roles
from web.auth.forms import LocaleForm, LoginForm
from web.auth.sign_in import after_password
from web.database import db
from web.extensions import limiter
from workflow.i18n import UI_LANGUAGES
from workflow.models import User
from workflow.roles import ALL_STAFF
from workflow.services.users import check_password

bp = Blueprint("auth", __name__, template_folder="templates")
LOGIN_LIMIT = "10 per 15 minutes"


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a user to another site after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


def _failed_sign_in(response: Response) -> bool:
    return request.method == "POST" and response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"], deduct_when=_failed_sign_in)
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = db().query(User).filter_by(username=form.username.data.strip().lower()).one_or_none()
        if user is not None and check_password(user, form.password.data):
            # The second factor (or its enrolment) comes next, where the user has or needs one.
            return after_password(user, _safe_next(request.args.get("next")))
        # One message for unknown user and wrong password: do not reveal who has an account.
        flash(_l("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@roles(*ALL_STAFF)
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/language", methods=["POST"])
@roles(*ALL_STAFF)
def set_language() -> Response:
    form = LocaleForm()
    if form.validate_on_submit() and form.locale.data in UI_LANGUAGES:
        g.actor.locale = form.locale.data
    return redirect(_safe_next(request.form.get("next")))
