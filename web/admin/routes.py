"""Admin pages: user accounts (create, change role, deactivate/reactivate, reset a password, sign a user out
everywhere). Admins only.

API tokens: an admin lists and revokes them (web/account/tokens.py) and never creates one for someone else.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.admin.forms import NewUserForm
from web.auth.sessions import end_this_session
from web.database import db
from web.dates import timezone_choices
from web.labels import label
from web.messages import message, put_on_form
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.i18n import UI_LANGUAGES
from workflow.models import User
from workflow.problems import Problem
from workflow.roles import ADMINS, Role
from workflow.services import two_factor
from workflow.services import users as user_service
from workflow.services.api_tokens import active_token_counts
from workflow.services.digest import set_email
from workflow.services.passwords import reset_password
from workflow.services.sessions import sign_out_everywhere

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _render(form: NewUserForm, *, status: int = 200, row_errors: dict[str, dict[str, str]] | None = None,
            new_password: dict[str, str] | None = None) -> tuple[str, int]:
    session = db()
    form.timezone.choices = timezone_choices()
    return render_template(
        "admin/users.html", form=form, users=user_service.list_users(session),
        tokens=active_token_counts(session), role_choices=[(r.value, label("role", r)) for r in Role],
        row_errors=row_errors or {}, new_password=new_password, languages=UI_LANGUAGES,
        second_factors=two_factor.enrolled_user_ids(session),
    ), status


def _user(username: str) -> User:
    return user_service.get_user(db(), username)  # NotFound -> the 404 page


def _fail(username: str, field: str, problems: dict[str, Problem]) -> tuple[str, int]:
    db().rollback()
    problem = problems.get(field) or next(iter(problems.values()), Problem("invalid"))
    return _render(NewUserForm(formdata=None), status=422, row_errors={username: {field: message(problem)}})


@bp.get("/users")
@roles(*ADMINS)
def users() -> tuple[str, int]:
    return _render(NewUserForm(formdata=None))


@bp.post("/users")
@roles(*ADMINS)
def create_user() -> Response | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        try:
            user = user_service.add_user(db(), g.actor, username, form.role.data, locale=form.locale.data,
                                         full_name=(form.full_name.data or "").strip(), password=form.password.data,
                                         timezone=form.timezone.data or None)
            set_email(db(), g.actor, user, form.email.data)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, default="username")
        else:
            flash(_("Account %(username)s created.", username=username), "success")
            return redirect(url_for("admin.users"), 303)
    return _render(form, status=422)


@bp.post("/users/<username>/role")
@roles(*ADMINS)
def change_role(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    try:
        user_service.change_role(db(), g.actor, user, request.form.get("role", ""))
    except ValidationFailed as err:
        return _fail(username, "role", err.errors)
    flash(_("%(username)s now has the role %(role)s.", username=username, role=label("role", user.role)), "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/active")
@roles(*ADMINS)
def set_active(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    active = request.form.get("active") == "true"
    try:
        user_service.set_active(db(), g.actor, user, active)
    except ValidationFailed as err:
        return _fail(username, "active", err.errors)
    if active:
        flash(_("%(username)s can sign in again.", username=username), "success")
    else:
        flash(_("%(username)s is deactivated: signing in and API tokens no longer work.", username=username),
              "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/email")
@roles(*ADMINS)
def change_email(username: str) -> Response | tuple[str, int]:
    user = _user(username)
    try:
        set_email(db(), g.actor, user, request.form.get("email", ""))
    except ValidationFailed as err:
        return _fail(username, "email", err.errors)
    if user.email:
        flash(_("The digest for %(username)s goes to %(email)s.", username=username, email=user.email), "success")
    else:
        flash(_("%(username)s has no e-mail address: no digest is sent.", username=username), "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/password")
@roles(*ADMINS)
def reset_user_password(username: str) -> Response | tuple[str, int]:
    """A new password the user must replace at their next sign-in: the one typed here, else a temporary one."""
    user = _user(username)
    typed = request.form.get("password", "")
    try:
        password = reset_password(db(), g.actor, user, typed or None)
    except ValidationFailed as err:
        return _fail(username, "password", err.errors)
    if typed:
        flash(_("%(username)s has a new password and must change it at the next sign-in.", username=username),
              "success")
        return redirect(url_for("admin.users"), 303)
    # Answered directly, like a new token: a flash would carry the password in the session cookie.
    return _render(NewUserForm(formdata=None), new_password={"username": username, "password": password})


@bp.post("/users/<username>/sessions/end")
@roles(*ADMINS)
def end_user_sessions(username: str) -> Response:
    user = _user(username)
    sign_out_everywhere(db(), g.actor, user)
    if user.id == g.actor.id:  # this session ended too
        end_this_session()
        return redirect(url_for("auth.login"), 303)
    flash(_("%(username)s was signed out everywhere.", username=username), "success")
    return redirect(url_for("admin.users"), 303)
