"""Legal facts: recorded by legal officers on the case page (managers read them there)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, url_for
from werkzeug import Response

from web.access import roles
from web.cases.page import render_case
from web.database import db, keep_despite_error_status
from web.loaders import case_or_404
from web.messages import put_on_form
from web.panel import Posted
from web.review.forms import legal_facts_form
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.roles import LEGAL_FACT_EDITORS
from workflow.services.review import update_legal_facts

bp = Blueprint("review", __name__, template_folder="templates")


@bp.route("/cases/<ref>/legal-facts", methods=["POST"])
@roles(*LEGAL_FACT_EDITORS)
def update_facts(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    form = legal_facts_form()
    if form.validate_on_submit():
        try:
            update_legal_facts(db(), g.actor, case, form.changes())
        except ValidationFailed as err:
            db().rollback()  # nothing of the refused change stays
            put_on_form(form, err.errors, default="state_code")
        else:
            flash(_("Legal facts saved."), "success")
            return redirect(url_for("cases.case", ref=ref, _anchor="legal-facts"), 303)
    html = render_case(ref, Posted("legal_facts", form))
    keep_despite_error_status()
    return html, 422
