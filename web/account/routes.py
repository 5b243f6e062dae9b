"""/account: every user sets their own language and time zone."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.access import roles
from web.account.forms import PreferencesForm
from web.database import db
from web.dates import timezone_choices
from web.messages import put_on_form
from workflow.errors import ValidationFailed
from workflow.roles import ALL_STAFF, second_factor_required
from workflow.services import security_keys, two_factor
from workflow.services.users import set_preferences

bp = Blueprint("account", __name__, template_folder="templates")


def _render(form: PreferencesForm, status: int = 200) -> tuple[str, int]:
    form.timezone.choices = timezone_choices()
    second_factor = {"enrolled": two_factor.has_second_factor(db(), g.actor),
                     "required": second_factor_required(g.actor.role),
                     "recovery_codes": two_factor.unused_recovery_codes(db(), g.actor),
                     "security_keys": security_keys.keys_of(db(), g.actor)}
    return render_template("account/account.html", form=form, second_factor=second_factor), status


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
