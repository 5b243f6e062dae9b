"""Filing versions and bundles (downloads, audited) and the responses bodies send (recorded by intake and legal)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge

from web.access import roles
from web.cases.page import render_case
from web.database import db, keep_despite_error_status
from web.downloads import attachment
from web.errors import refusal, too_large, too_large_message
from web.labels import label
from web.loaders import case_or_404, filing_or_404
from web.messages import messages_of, put_on_form
from web.panel import Posted
from web.submissions.forms import FilingLanguageForm, FilingVersionForm, response_form
from web.translate import gettext as _
from workflow.errors import Conflict, NotFound, PetitioError, ValidationFailed
from workflow.models import Filing
from workflow.roles import FILING_BUNDLE_READERS, FILING_EDITORS, FILING_READERS, RESPONSE_RECORDERS
from workflow.services import filing_versions
from workflow.services.filing_documents import case_bundle, filing_document
from workflow.services.responses import record_response

bp = Blueprint("submissions", __name__, template_folder="templates")
bp.register_error_handler(RequestEntityTooLarge, too_large)


def _settings():  # type: ignore[no-untyped-def]
    return current_app.config["PETITIO_SETTINGS"]


@bp.route("/filings/<int:filing_id>/versions/<int:version>")
@roles(*FILING_READERS)
def filing_version(filing_id: int, version: int) -> Response:
    try:
        filename, media_type, content = filing_document(db(), _settings(), g.actor, filing_id, version=version,
                                                        as_pdf=request.args.get("format") == "pdf", channel="web")
    except NotFound:
        abort(404, description=_("There is no such version of this filing."))
    except Conflict:  # asked for a PDF on a server without LibreOffice (the page offers no link then)
        abort(409, description=_("PDF copies need LibreOffice on the server. Download the .docx instead."))
    return attachment(content, media_type, filename)


@bp.route("/cases/<ref>/filings.zip")
@roles(*FILING_BUNDLE_READERS)
def filing_bundle(ref: str) -> Response:
    case = case_or_404(ref)
    try:
        filename, content = case_bundle(db(), _settings(), g.actor, case)
    except NotFound:
        abort(404, description=_("This case has no filing document to download."))
    return attachment(content, "application/zip", filename)


def _filing_home(filing: Filing) -> str:
    if filing.case is not None:
        return url_for("cases.case", ref=filing.case.ref, _anchor=f"filing-{filing.id}")
    return url_for("collective.show", collective_id=filing.collective_id)


@bp.route("/filings/<int:filing_id>/responses", methods=["POST"])
@roles(*RESPONSE_RECORDERS)
def add_response(filing_id: int) -> Response | tuple[str, int]:
    filing = filing_or_404(filing_id)
    back = _filing_home(filing)
    form = response_form(filing_id)
    if form.validate_on_submit():
        upload = form.file.data
        document = None
        if upload is not None and getattr(upload, "filename", None):
            document = (upload.read(_settings().max_document_bytes + 1), upload.filename)
            if len(document[0]) > _settings().max_document_bytes:
                return refusal(413, too_large_message(), back)
        try:
            record_response(db(), _settings(), g.actor, filing_id, kind=form.kind.data, document=document,
                            received_on=form.received_on.data, reference=form.reference.data,
                            summary=form.summary.data)
        except ValidationFailed as err:
            db().rollback()
            put_on_form(form, err.errors, default="file")
        except Conflict:
            db().rollback()
            return refusal(409, _("This filing is not waiting for a response from the body (a follow-up or the "
                                  "outcome is pending, or it was not submitted yet). Nothing was recorded."), back)
        except NotFound:
            abort(404, description=_("This filing has no running process."))
        else:
            flash(_("Response recorded: %(kind)s.", kind=label("response_kind", form.kind.data)), "success")
            return redirect(back, 303)
    if filing.case is None:  # a collective complaint's filing: its page shows no form, so the errors go here
        return refusal(422, _("Nothing was recorded: %(errors)s", errors=" ".join(
            e for f in form for e in f.errors)), back)
    html = render_case(filing.case.ref, Posted("filings", (filing_id, form)))
    keep_despite_error_status()
    return html, 422


def _edit_refused(err: PetitioError, back: str) -> tuple[str, int]:
    """A refused upload or language change: nothing changed; the problems in the user's language."""
    db().rollback()
    status = 409 if isinstance(err, Conflict) else 422
    details = " ".join(m for problem in err.errors.values() for m in messages_of(problem))
    return refusal(status, _("Nothing was changed: %(details)s", details=details or err.message), back)


@bp.route("/filings/<int:filing_id>/versions", methods=["POST"])
@roles(*FILING_EDITORS)
def upload_version(filing_id: int) -> Response | tuple[str, int]:
    """The lawyer's final word: the edited .docx or PDF becomes the filing's next version."""
    filing = filing_or_404(filing_id)
    back = _filing_home(filing)
    form = FilingVersionForm(prefix=f"version{filing_id}")
    if not form.validate_on_submit():  # the CSRF token
        return refusal(400, _("The form expired. Open the page again and repeat the upload."), back)
    upload = form.file.data
    limit = _settings().max_document_bytes
    content = upload.read(limit + 1) if upload is not None else b""
    if len(content) > limit:
        return refusal(413, too_large_message(), back)
    try:
        document = filing_versions.upload_version(db(), _settings(), g.actor, filing_id, content,
                                                  getattr(upload, "filename", None) or None)
    except (ValidationFailed, Conflict) as err:
        return _edit_refused(err, back)
    flash(_("Version %(n)s uploaded: it is now the current version of this filing.", n=document.version), "success")
    return redirect(back, 303)


@bp.route("/filings/<int:filing_id>/language", methods=["POST"])
@roles(*FILING_EDITORS)
def change_language(filing_id: int) -> Response | tuple[str, int]:
    """Write a draft filing in another of its body's languages (a new generated version)."""
    filing = filing_or_404(filing_id)
    back = _filing_home(filing)
    form = FilingLanguageForm(prefix=f"language{filing_id}")
    if not form.validate_on_submit():
        status = 400 if form.csrf_token.errors else 422
        return refusal(status, _("Nothing was changed: choose a language."), back)
    try:
        document = filing_versions.change_language(db(), _settings(), g.actor, filing_id, form.language.data)
    except (ValidationFailed, Conflict) as err:
        return _edit_refused(err, back)
    flash(_("Version %(n)s generated in %(language)s.", n=document.version,
            language=label("locale", form.language.data)), "success")
    return redirect(back, 303)
