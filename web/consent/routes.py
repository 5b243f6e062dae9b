"""Consent pages: change what the complainant allows, record a withdrawal, prepare the forms to sign."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug import Response

from filings.consent_forms import FORMS, LANGUAGES
from web.access import roles
from web.cases.page import render_case
from web.consent.forms import WithdrawConsentForm, consent_form
from web.database import db, keep_despite_error_status
from web.downloads import attachment
from web.errors import refusal
from web.loaders import case_or_404
from web.messages import put_on_form
from web.panel import Posted
from workflow.errors import Conflict, ValidationFailed
from workflow.roles import CONSENT_EDITORS, CONSENT_WITHDRAWERS, SIGNATURE_FORM_MAKERS
from workflow.services.consent import consent_form as signature_form
from workflow.services.consent import update_consent_permissions, withdraw_consent
from workflow.states import ConsentStatus
from workflow.uploads import DOCX

bp = Blueprint("consent", __name__, template_folder="templates")


def _withdrawn(back: str) -> tuple[str, int]:
    return refusal(409, _("Consent for this case was withdrawn: what it allowed can no longer change."), back)


@bp.route("/cases/<ref>/consent", methods=["POST"])
@roles(*CONSENT_EDITORS)
def update(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    back = url_for("cases.case", ref=ref, _anchor="h-consent")
    if case.consent is not None and case.consent.status == ConsentStatus.WITHDRAWN:
        return _withdrawn(back)
    form = consent_form(case.consent, formdata=request.form)
    if form.validate_on_submit():
        try:
            update_consent_permissions(db(), g.actor, case, **form.choices())
        except Conflict:
            return _withdrawn(back)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, fields={"body_overrides": "anonymous"}, default="anonymous")
        else:
            flash(_("Consent choices saved."), "success")
            return redirect(back, 303)
    html = render_case(ref, Posted("consent", form))
    keep_despite_error_status()  # the identity read of the page shown again stays audited
    return html, 422


@bp.route("/cases/<ref>/consent/withdraw", methods=["GET", "POST"])
@roles(*CONSENT_WITHDRAWERS)
def withdraw(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    form = WithdrawConsentForm()
    withdrawn = case.consent is not None and case.consent.status == ConsentStatus.WITHDRAWN
    status = 200
    if request.method == "POST" and withdrawn:
        status = 409
    elif request.method == "POST":
        if form.validate_on_submit():
            try:
                withdraw_consent(db(), current_app.config["PETITIO_SETTINGS"], g.actor, case, form.reason.data)
            except ValidationFailed as err:
                put_on_form(form, err.errors, default="reason")
            except Conflict:
                withdrawn = True
            else:
                flash(_("Consent withdrawn. Pending filings for %(ref)s were stopped.", ref=ref), "success")
                return redirect(url_for("cases.case", ref=ref), 303)
        status = 409 if withdrawn else 422
    return render_template("consent/withdraw_consent.html", form=form, ref=ref, withdrawn=withdrawn), status


@bp.route("/cases/<ref>/forms/<form>.docx")
@roles(*SIGNATURE_FORM_MAKERS)
def form_to_sign(ref: str, form: str) -> Response:
    """A form of appeal or power of attorney pre-filled for the complainant to sign (never stored; audited)."""
    case = case_or_404(ref)
    language = request.args.get("lang") or ("ru" if g.actor.locale == "ru" else "en")
    if form not in FORMS:
        abort(404, description=_("There is no such form."))
    if language not in LANGUAGES:
        abort(404, description=_("This form exists in Russian and English only."))
    settings = current_app.config["PETITIO_SETTINGS"]
    content = signature_form(db(), g.actor, case, form, language, settings.organisation, channel="web")
    return attachment(content, DOCX, f"{ref}-{form}-{language}.docx")
