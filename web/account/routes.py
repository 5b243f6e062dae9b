"""/account: every user sets their own language and time zone, changes their password, signs out everywhere."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from web.access import roles
from web.account.forms import PasswordForm, PreferencesForm
from web.auth import throttle
from web.auth.sessions import end_this_session, now, this_session
from web.database import db
from web.dates import timezone_choices
from web.messages import message, put_on_form
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.problems import Problem
from workflow.roles import ALL_STAFF, second_factor_required
from workflow.services import security_keys, two_factor
from workflow.services.passwords import change_own_password
from workflow.services.sessions import live_session_count, sign_out_everywhere
from workflow.services.users import set_preferences

bp = Blueprint("account", __name__, template_folder="templates")


def _render(form: PreferencesForm, status: int = 200) -> tuple[str, int]:
    form.timezone.choices = timezone_choices()
    second_factor = {"enrolled": two_factor.has_second_factor(db(), g.actor),
                     "required": second_factor_required(g.actor.role),
                     "recovery_codes": two_factor.unused_recovery_codes(db(), g.actor),
                     "security_keys": security_keys.keys_of(db(), g.actor)}
    return render_template("account/account.html", form=form, sessions=live_session_count(db(), g.actor, now()),
                           second_factor=second_factor), status


@bp.get("/account")
@roles(*ALL_STAFF)
def account() -> tuple[str, int]:
    form = PreferencesForm(formdata=None, locale=g.actor.locale, timezone=g.actor.timezone or "")
    return _render(form)


@bp.post("/account")
@roles(*ALL_STAFF)
def save() -> Response | tuple[str, int]:
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            set_preferences(db(), g.actor, g.actor, locale=form.locale.data or "", timezone=form.timezone.data or None)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, default="timezone")
        else:
            flash(_("Your settings were saved."), "success")
            return redirect(url_for("account.account"), 303)
    return _render(form, status=422)


def _password_page(form: PasswordForm, status: int = 200) -> tuple[str, int]:
    return render_template("account/password.html", form=form, forced=g.actor.must_change_password), status


@bp.get("/account/password")
@roles(*ALL_STAFF)
def password() -> tuple[str, int]:
    return _password_page(PasswordForm(formdata=None))


@bp.post("/account/password")
@roles(*ALL_STAFF)
@throttle.per_account  # a stolen session must not become a way to guess the password
def change_password() -> Response | tuple[str, int]:
    """The user's own new password. This browser stays signed in; every other session of theirs ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors = [message(Problem("passwords_differ"))]
        else:
            try:
                change_own_password(db(), g.actor, form.current_password.data or "", form.password.data or "",
                                    keep=this_session())
            except ValidationFailed as err:
                db().rollback()
                if "current_password" in err.errors:
                    throttle.count_wrong_password()
                put_on_form(form, err.errors, default="password")
            else:
                flash(_("Your password was changed. Your other sessions were signed out."), "success")
                return redirect(url_for("account.account"), 303)
    return _password_page(form, status=422)


@bp.post("/account/sessions/end")
@roles(*ALL_STAFF)
def end_sessions() -> Response:
    """Every session of the user ends, this one too (a lost phone, a shared computer): sign in again."""
    sign_out_everywhere(db(), g.actor, g.actor)
    end_this_session()
    flash(_("You were signed out everywhere."), "success")
    return redirect(url_for("auth.login"), 303)
