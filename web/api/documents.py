"""Case documents (upload, download) and the pre-filled forms the complainant signs."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g

from filings.consent_forms import FORMS
from web.access import roles
from web.api.base import BINARY, DOCX, ApiBlueprint, settings
from web.api.schemas import ConsentFormArgsSchema, UploadSchema
from web.database import db
from web.downloads import attachment
from workflow.roles import DOCUMENT_READERS, DOCUMENT_UPLOADERS, SIGNATURE_FORM_MAKERS
from workflow.schemas.reads import DocumentSchema
from workflow.services.cases import get_case
from workflow.services.consent import consent_form
from workflow.services.documents import attach_document, download_document, get_document
from workflow.uploads import JPEG, PDF, PNG

STORED_DESCRIPTION = "The document's bytes, served with its stored media type (PDF, JPEG, PNG or DOCX)"

blp = ApiBlueprint("api_documents", __name__, description="Case documents and the forms the complainant signs")


@blp.route("/cases/<string:ref>/documents", methods=["POST"])
@roles(*DOCUMENT_UPLOADERS)
@blp.arguments(UploadSchema, location="files")
@blp.response(201, DocumentSchema)
@blp.errors(401, 403, 404, 413)
def upload(upload: dict[str, Any], ref: str) -> Any:
    """Attach a document to the case: checked by content and size, stored encrypted."""
    limit = settings().max_document_bytes
    case = get_case(db(), ref)
    file = upload["file"]
    content = file.read(limit + 1)
    if len(content) > limit:
        abort(413, description=f"the file is over the limit of {limit} bytes")
    return attach_document(db(), settings(), g.actor, case, upload["kind"], content, file.filename or "upload")


@blp.route("/documents/<int:document_id>", methods=["GET"])
@roles(*DOCUMENT_READERS)
@blp.response(200, BINARY, content_type=PDF, description=STORED_DESCRIPTION)
@blp.alt_response(200, schema=BINARY, content_type=JPEG, description=STORED_DESCRIPTION)  # same code, other types
@blp.alt_response(200, schema=BINARY, content_type=PNG, description=STORED_DESCRIPTION)
@blp.alt_response(200, schema=BINARY, content_type=DOCX, description=STORED_DESCRIPTION)
@blp.errors(401, 403, 404)
def download(document_id: int) -> Response:
    """Download a stored document (intake and legal only; every download is audited, never its content)."""
    document = get_document(db(), document_id)
    content = download_document(db(), settings(), g.actor, document, channel="api")
    return attachment(content, document.media_type, document.filename)


@blp.route("/cases/<string:ref>/forms/<string:form>", methods=["GET"])
@roles(*SIGNATURE_FORM_MAKERS)
@blp.arguments(ConsentFormArgsSchema, location="query")
@blp.response(200, BINARY, content_type=DOCX, description="The pre-filled form (.docx) for the complainant to sign")
@blp.errors(401, 403, 404)
def form_to_sign(args: dict[str, Any], ref: str, form: str) -> Response:
    """A form of appeal or power of attorney pre-filled with the complainant's identity (intake only).

    Generated on request and never stored; each download is audited as an identity read.
    """
    if form not in FORMS:
        abort(404, description=f"no form {form!r}; one of {', '.join(FORMS)}")
    content = consent_form(db(), g.actor, get_case(db(), ref), form, args["lang"], settings().organisation,
                           channel="api", templates_dir=settings().templates_dir)
    return attachment(content, DOCX, f"{ref}-{form}-{args['lang']}.docx")
