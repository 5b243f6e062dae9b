"""/admin/organisation: the organisation's profile, which every filing names as submitter. Admins only.

``workflow.services.organisation.update_profile`` validates (``schemas/organisation.py``) and audits by field
name; this page turns the form into its terms and puts its problems next to the fields, keeping what was typed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from werkzeug import Response

from web.access import roles
from web.admin.forms import OrganisationForm
from web.database import db
from web.forms import text_of
from web.messages import put_on_form
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.roles import ORGANISATION_EDITORS
from workflow.schemas.organisation import FIELDS
from workflow.services.organisation import get_profile, update_profile

bp = Blueprint("organisation", __name__, url_prefix="/admin", template_folder="templates")


def _render(form: OrganisationForm, *, saved: bool, status: int = 200) -> tuple[str, int]:
    return render_template("admin/organisation.html", form=form, saved=saved), status


@bp.get("/organisation")
@roles(*ORGANISATION_EDITORS)
def show() -> tuple[str, int]:
    profile = get_profile(db(), current_app.config["PETITIO_SETTINGS"], g.actor)
    form = OrganisationForm(formdata=None, data={name: getattr(profile, name) or "" for name in FIELDS})
    return _render(form, saved=profile.id is not None)


@bp.post("/organisation")
@roles(*ORGANISATION_EDITORS)
def save() -> Response | tuple[str, int]:
    form = OrganisationForm()
    if form.validate_on_submit():
        data = {name: text_of(form[name]) for name in FIELDS}
        try:
            update_profile(db(), current_app.config["PETITIO_SETTINGS"], g.actor, data)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, default="name")
        else:
            flash(_("The organisation's profile was saved."), "success")
            return redirect(url_for("organisation.show"), 303)
    return _render(form, saved=False, status=422)
