"""Case documents: add one (a new version of its kind), open one (audited)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, url_for
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge

from web.access import roles
from web.cases.page import render_case
from web.database import db, keep_despite_error_status
from web.documents.forms import upload_form
from web.downloads import attachment
from web.errors import too_large
from web.labels import label
from web.loaders import case_or_404
from web.messages import put_on_form
from web.panel import Posted
from web.translate import gettext as _
from workflow.errors import NotFound, ValidationFailed
from workflow.roles import DOCUMENT_READERS, DOCUMENT_UPLOADERS
from workflow.services.documents import attach_document, download_document, get_document

bp = Blueprint("documents", __name__, template_folder="templates")
bp.register_error_handler(RequestEntityTooLarge, too_large)


@bp.route("/cases/<ref>/documents", methods=["POST"])
@roles(*DOCUMENT_UPLOADERS)
def upload(ref: str) -> Response | tuple[str, int]:
    case = case_or_404(ref)
    form = upload_form()
    if form.validate_on_submit():
        settings = current_app.config["PETITIO_SETTINGS"]
        upload = form.file.data
        content = upload.read(settings.max_document_bytes + 1) if upload else b""
        filename = (upload.filename or "upload") if upload else ""
        try:
            document = attach_document(db(), settings, g.actor, case, form.kind.data, content, filename)
        except ValidationFailed as err:
            db().rollback()  # nothing of the refused upload stays (the store refuses before writing)
            put_on_form(form, err.errors, default="file")
        else:
            flash(_("Added: %(kind)s, version %(version)s.", kind=label("document", document.kind),
                    version=document.version), "success")
            return redirect(url_for("cases.case", ref=ref, _anchor="h-documents"), 303)
    html = render_case(ref, Posted("documents", form))
    keep_despite_error_status()  # the identity read of the page shown again stays audited
    return html, 422


@bp.route("/cases/<ref>/documents/<int:document_id>")
@roles(*DOCUMENT_READERS)
def download(ref: str, document_id: int) -> Response:
    case = case_or_404(ref)
    try:
        document = get_document(db(), document_id, case=case)
    except NotFound:
        abort(404, description=_("There is no such document in this case."))
    content = download_document(db(), current_app.config["PETITIO_SETTINGS"], g.actor, document, channel="web")
    return attachment(content, document.media_type, document.filename)
