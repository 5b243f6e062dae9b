"""Sign-in, sign-out and each user's language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug import Response

from web.access import public, roles
from web.auth import throttle
from web.auth.forms import LocaleForm, LoginForm
from web.auth.sessions import end_this_session
from web.auth.sign_in import after_password
from web.database import db
from web.translate import lazy_gettext as _l
from workflow.i18n import UI_LANGUAGES
from workflow.models import User
from workflow.roles import ALL_STAFF
from workflow.services.passwords import verify_password
from workflow.services.users import normalised_username

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a user to another site after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@throttle.per_address
@throttle.per_account
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = db().scalar(select(User).where(User.username == normalised_username(form.username.data)))
        # Unknown and inactive users cost the same argon2 verification: the time tells nothing.
        if verify_password(user, form.password.data) and user is not None:
            # The second factor (or its enrolment) comes next, where the user has or needs one.
            return after_password(user, _safe_next(request.args.get("next")))
        # One message for unknown user and wrong password: do not reveal who has an account.
        flash(_l("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@roles(*ALL_STAFF)
def logout() -> Response:
    end_this_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/language", methods=["POST"])
@roles(*ALL_STAFF)
def set_language() -> Response:
    form = LocaleForm()
    if form.validate_on_submit() and form.locale.data in UI_LANGUAGES:
        g.actor.locale = form.locale.data
    return redirect(_safe_next(request.form.get("next")))
