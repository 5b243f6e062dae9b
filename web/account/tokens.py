"""API tokens: /account/tokens (each user's own: create, list, revoke) and /admin/users/NAME/tokens
(admins list and revoke anyone's, and create none: a token lets its holder act as its owner).

Its own module and blueprint: the rest of web/account (settings, passwords, second factor) changes apart.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField
from wtforms.validators import Optional

from web.access import roles
from web.database import db
from web.messages import put_on_form
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow.errors import ValidationFailed
from workflow.models import User, utcnow
from workflow.roles import ADMINS, ALL_STAFF
from workflow.services import api_tokens
from workflow.services.users import get_user

bp = Blueprint("tokens", __name__, template_folder="templates")


class NewTokenForm(FlaskForm):
    # The service checks the values (services/api_tokens.py); the form only carries them.
    name = StringField(_l("Name"), description=_l("What the token is for, e.g. the script that uses it."))
    days = IntegerField(_l("Valid for (days)"), validators=[Optional()],
                        description=_l("From 1 to %(max)s days; %(default)s when left empty.",
                                       max=api_tokens.TOKEN_MAX_DAYS, default=api_tokens.TOKEN_DEFAULT_DAYS))


def _render(user: User, *, form: NewTokenForm | None = None, secret: str | None = None,
            status: int = 200) -> tuple[str, int]:
    own = user.id == g.actor.id
    return render_template("account/tokens.html", owner=user, own=own, form=form if own else None,
                           secret=secret, tokens=api_tokens.tokens_of(db(), user),
                           now=utcnow()), status


@bp.get("/account/tokens")
@roles(*ALL_STAFF)
def own_tokens() -> tuple[str, int]:
    return _render(g.actor, form=NewTokenForm(formdata=None))


@bp.post("/account/tokens")
@roles(*ALL_STAFF)
def create() -> tuple[str, int]:
    form = NewTokenForm()
    if form.validate_on_submit():
        try:
            _, secret = api_tokens.create_token(db(), g.actor, g.actor, name=form.name.data or "",
                                                days=form.days.data)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, default="name")
        else:
            # Answered directly, never through a redirect and a flash: the flash would carry the secret in
            # the session cookie. Only its hash is stored, so this answer is the one time it is shown.
            return _render(g.actor, form=NewTokenForm(formdata=None), secret=secret)
    return _render(g.actor, form=form, status=422)


@bp.post("/account/tokens/<int:token_id>/revoke")
@roles(*ALL_STAFF)
def revoke(token_id: int) -> Response:
    api_tokens.revoke_token(db(), g.actor, token_id, owner=g.actor)  # NotFound -> 404: not yours
    flash(_("The token was revoked."), "success")
    return redirect(url_for("tokens.own_tokens"), 303)


@bp.get("/admin/users/<username>/tokens")
@roles(*ADMINS)
def user_tokens(username: str) -> tuple[str, int]:
    return _render(get_user(db(), username))


@bp.post("/admin/users/<username>/tokens/<int:token_id>/revoke")
@roles(*ADMINS)
def admin_revoke(username: str, token_id: int) -> Response:
    api_tokens.revoke_token(db(), g.actor, token_id, owner=get_user(db(), username))
    flash(_("The token was revoked."), "success")
    return redirect(url_for("tokens.user_tokens", username=username), 303)
