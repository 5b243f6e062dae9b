"""Filings: one with its versions and responses, a version's document, responses from the body, a case's bundle."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, request

from web.access import roles
from web.api.base import BINARY, DOCX, ApiBlueprint, settings
from web.api.schemas import (
    FilingDocumentArgsSchema,
    FilingLanguageSchema,
    FilingVersionUploadSchema,
    ResponseUploadSchema,
)
from web.database import db
from web.downloads import attachment
from workflow.roles import CASEWORK, FILING_BUNDLE_READERS, FILING_EDITORS, FILING_READERS, RESPONSE_RECORDERS
from workflow.schemas.reads import FilingSchema, FilingVersionSchema, ResponseSchema
from workflow.services import filing_documents, filing_versions
from workflow.services.cases import get_case
from workflow.services.responses import record_response

blp = ApiBlueprint("api_filings", __name__, description="Filings, their documents and the responses of bodies")
PDF = "application/pdf"
FILING_DOWNLOAD = "The version asked for (default: the latest): .docx, or PDF with format=pdf"


@blp.route("/filings/<int:filing_id>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, FilingSchema)
@blp.errors(401, 403, 404)
def get(filing_id: int) -> Any:
    """A filing with its document versions and the responses recorded so far (managers read an individual
    filing's responses without their summary: it is about one person)."""
    return filing_documents.read_filing(db(), g.actor, filing_id, role=g.actor.role, channel="api")


@blp.route("/filings/<int:filing_id>/document", methods=["GET"])
@roles(*FILING_READERS)
@blp.arguments(FilingDocumentArgsSchema, location="query")
@blp.response(200, BINARY, content_type=DOCX, description=FILING_DOWNLOAD)
@blp.alt_response(200, schema=BINARY, content_type=PDF, description=FILING_DOWNLOAD)  # same code, other type
@blp.errors(401, 403, 404, 409)
def document(args: dict[str, Any], filing_id: int) -> Response:
    """Download a version of the filing (intake and legal; managers for collective complaints; audited).

    Without parameters: the latest .docx. ``format=pdf`` converts with LibreOffice, 409 where the server
    has none; an unknown ``version`` is a 404.
    """
    filename, media_type, content = filing_documents.filing_document(
        db(), settings(), g.actor, filing_id, version=args.get("version"), as_pdf=args["format"] == "pdf",
        channel="api")
    return attachment(content, media_type, filename)


@blp.route("/filings/<int:filing_id>/versions", methods=["POST"])
@roles(*FILING_EDITORS)
@blp.arguments(FilingVersionUploadSchema, location="files")
@blp.response(201, FilingVersionSchema)
@blp.errors(401, 403, 404, 409, 413)
def upload_version(upload: dict[str, Any], filing_id: int) -> Any:
    """The lawyer's final word: an edited .docx or PDF becomes the filing's next, current version (legal officers).

    Accepted while the filing waits for its legal check (409 ``filing_not_in_check`` otherwise, 409
    ``filing_frozen`` once checked or submitted); 422 for a file that is not a real .docx or PDF (by content), a zip
    bomb or an empty file, 413 over the size limit. Stored encrypted; the file's own name is not kept.
    """
    limit = settings().max_document_bytes
    file = upload["file"]
    content = file.read(limit + 1)
    if len(content) > limit:
        abort(413, description=f"the file is over the limit of {limit} bytes")
    return filing_versions.upload_version(db(), settings(), g.actor, filing_id, content, file.filename or None)


@blp.route("/filings/<int:filing_id>/language", methods=["POST"])
@roles(*FILING_EDITORS)
@blp.arguments(FilingLanguageSchema)
@blp.response(201, FilingVersionSchema)
@blp.errors(401, 403, 404, 409)
def change_language(body: dict[str, Any], filing_id: int) -> Any:
    """Write a draft individual filing in another of its body's languages: a new generated version (legal officers).

    Same moment as an upload (409 otherwise); 422 for a language the body does not accept or has no template for.
    """
    return filing_versions.change_language(db(), settings(), g.actor, filing_id, body["language"])


@blp.route("/filings/<int:filing_id>/responses", methods=["POST"])
@roles(*RESPONSE_RECORDERS)
@blp.arguments(ResponseUploadSchema, location="json_or_files")
# The multipart alternative in the document too (the parser reads both; flask-smorest documents one type).
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/ResponseUpload"}}}})
@blp.response(201, ResponseSchema)
@blp.errors(401, 403, 404, 409, 413)
def add_response(body: dict[str, Any], filing_id: int) -> Any:
    """Record a response from the body; the filing's process moves on (409 when it is not waiting).

    JSON, or the same fields as multipart/form-data with the body's letter as ``file`` (PDF, JPEG, PNG or
    DOCX by content, stored encrypted).
    """
    file = body.pop("file", None)
    if file is not None:
        limit = settings().max_document_bytes
        content = file.read(limit + 1)
        if len(content) > limit:
            abort(413, description=f"the file is over the limit of {limit} bytes")
        body["document"] = (content, file.filename or "letter")
    if request.mimetype == "multipart/form-data":  # an empty text part means no value
        body = {k: (None if v == "" and k in ("reference", "summary") else v) for k, v in body.items()}
    return record_response(db(), settings(), g.actor, filing_id, **body)


@blp.route("/cases/<string:ref>/filings.zip", methods=["GET"])
@roles(*FILING_BUNDLE_READERS)
@blp.response(200, BINARY, content_type="application/zip",
              description="filings/: the latest version of each filing; annexes/: the documents consent allows")
@blp.errors(401, 403, 404)
def bundle(ref: str) -> Response:
    """The case's filings and the annexes that go with them, in one zip (intake and legal; audited).

    Never the form of appeal; the power of attorney only beside an HRC filing. 404 when no filing has a document.
    """
    filename, content = filing_documents.case_bundle(db(), settings(), g.actor, get_case(db(), ref))
    return attachment(content, "application/zip", filename)
