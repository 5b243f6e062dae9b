"""Admin pages: user accounts (create, change role, deactivate/reactivate, issue API tokens). Admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from web.access import roles
from web.database import db
from web.extensions import LOCALES
from workflow.errors import ValidationFailed
from workflow.models import Role
from workflow.services import page_support
from workflow.services import users as user_service
from workflow.services.digest import set_email

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_CHOICES = [(Role.INTAKE.value, _l("Intake")), (Role.LEGAL.value, _l("Legal")),
                (Role.MANAGER.value, _l("Manager")), (Role.ADMIN.value, _l("Admin"))]
LOCALE_NAMES = {"en": "English", "ru": "Русский"}
EMAIL_ERROR = _l("Give an address such as name@example.org.")


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(value, text) for value, text in ROLE_CHOICES])
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, LOCALE_NAMES.get(code, code)) for code in LOCALES])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=500)])
    email = StringField(_l("E-mail (for the daily digest; optional)"), validators=[Length(max=254)])


def _render(form: NewUserForm, *, status: int = 200, row_errors: dict[str, dict[str, str]] | None = None,
            new_token: dict[str, str] | None = None) -> tuple[str, int]:
    session = db()
    return render_template(
        "admin/users.html", form=form, users=user_service.list_users(session),
        tokens=page_support.active_token_counts(session), role_choices=ROLE_CHOICES, row_errors=row_errors or {},
        new_token=new_token, locale_names=LOCALE_NAMES,
    ), status


def _user(username: str) -> Any:
    return user_service.get_user(db(), username)  # NotFound -> the 404 page


def _fail(username: str, field: str, err: ValidationFailed) -> tuple[str, int]:
    db().rollback()
    message = err.errors.get(field) or next(iter(err.errors.values()), err.message)
    return _render(NewUserForm(formdata=None), status=422, row_errors={username: {field: _(message)}})


@bp.get("/users")
@roles(Role.ADMIN)
def users() -> tuple[str, int]:
    return _render(NewUserForm(formdata=None))


@bp.post("/users")
@roles(Role.ADMIN)
def create_user() -> Response | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        try:
            user = user_service.add_user(db(), g.actor, username, form.role.data, locale=form.locale.data,
                                         full_name=(form.full_name.data or "").strip(), password=form.password.data)
            set_email(db(), g.actor, user, form.email.data)
        except ValidationFailed as err:
            db().rollback()
            for name, message in err.errors.items():
                target = getattr(form, name, None) or form.username
                target.errors = [*target.errors, EMAIL_ERROR if name == "email" else _(message)]
        else:
            flash(_("Account %(username)s created.", username=username), "success")
            return redirect(url_for("admin.users"), 303)
    return _render(form, status=422)


@bp.post("/users/<username>/role")
@roles(Role.ADMIN)
def change_role(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    try:
        user_service.change_role(db(), g.actor, user, request.form.get("role", ""))
    except ValidationFailed as err:
        return _fail(username, "role", err)
    flash(_("%(username)s now has the role %(role)s.", username=username,
            role=dict(ROLE_CHOICES).get(user.role, user.role)), "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/active")
@roles(Role.ADMIN)
def set_active(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    active = request.form.get("active") == "true"
    try:
        user_service.set_active(db(), g.actor, user, active)
    except ValidationFailed as err:
        return _fail(username, "active", err)
    if active:
        flash(_("%(username)s can sign in again.", username=username), "success")
    else:
        flash(_("%(username)s is deactivated: signing in and API tokens no longer work.", username=username),
              "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/token")
@roles(Role.ADMIN)
def issue_token(username: str) -> tuple[str, int]:
    user = _user(username)
    if not user.active:
        return _fail(username, "token", ValidationFailed("inactive", errors={
            "token": _("Reactivate the account before issuing a token.")}))
    token = user_service.issue_token(db(), g.actor, user)
    # Answered directly, never through a redirect and a flash: the flash would carry the token in the
    # session cookie. Only its hash is stored, so this page is the one time it is shown.
    return _render(NewUserForm(formdata=None), new_token={"username": username, "token": token})


@bp.post("/users/<username>/email")
@roles(Role.ADMIN)
def change_email(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    try:
        set_email(db(), g.actor, user, request.form.get("email", ""))
    except ValidationFailed as err:
        return _fail(username, "email", ValidationFailed(err.message, errors={"email": str(EMAIL_ERROR)}))
    if user.email:
        flash(_("The digest for %(username)s goes to %(email)s.", username=username, email=user.email), "success")
    else:
        flash(_("%(username)s has no e-mail address: no digest is sent.", username=username), "success")
    return redirect(url_for("admin.users"), 303)
