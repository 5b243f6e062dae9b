"""API routes. Request and response schemas here are the ones that validate and the ones documented.

Every route carries its access rule (``@roles``/``@public``) directly under ``@blp.route``; the app's
``_enforce_access`` authenticates the bearer token and checks the rule before the view runs, and the
acting user is ``g.actor``. Views never commit: the request is the unit of work (web/database.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import Response, abort, current_app, g, jsonify, request, url_for
from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from filings.consent_forms import FORMS as CONSENT_FORMS
from web.access import public, roles
from web.api import schemas
from web.database import db
from web.downloads import attachment
from workflow.config import Settings
from workflow.errors import ValidationFailed
from workflow.models import Role, utcnow
from workflow.services import api_support, filing_documents, queries, views
from workflow.services.cases import get_case as find_case
from workflow.services.collective import CREATOR_ROLES, create_collective, get_collective
from workflow.services.consent import FORM_ROLES, consent_form
from workflow.services.documents import DOWNLOAD_ROLES, attach_document, download_document, get_document
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts
from workflow.services.tasks import complete_task

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
BINARY = {"type": "string", "format": "binary"}
FILING_DOWNLOAD = "The version asked for (default: the latest): .docx, or PDF with format=pdf"
CASEWORK = (Role.INTAKE, Role.LEGAL, Role.MANAGER)
LOCATION_NAMES = {"json": "request body", "query": "query parameters", "files": "upload", "form": "form"}


def _flat(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages -> {"field" or "field.0.sub": "message; message"}."""
    if isinstance(messages, dict):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list | tuple) and not any(isinstance(m, dict | list) for m in messages):
        return {prefix or "_body": "; ".join(map(str, messages))}
    if isinstance(messages, list | tuple):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(_flat(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "_body": str(messages)}


class ApiParser(FlaskParser):
    """webargs, answering like the services do: 422 ``invalid`` with one message per field.

    Unknown fields are refused in the query string and in uploads too (not only in JSON bodies), and a
    body that is not JSON is a 422 rather than being read as an empty object.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,  # noqa: RUF012
                                   "query": None, "querystring": None, "files": None}

    def handle_error(self, error: Any, req: Any, schema: Any, *, error_status_code: int | None,
                     error_headers: Any) -> NoReturn:
        messages = error.messages if isinstance(error.messages, dict) else {"json": error.messages}
        where = ", ".join(LOCATION_NAMES.get(str(loc), str(loc)) for loc in messages)
        errors: dict[str, str] = {}
        for location_messages in messages.values():
            errors.update(_flat(location_messages))
        raise ValidationFailed(f"the {where} has errors", errors=errors)

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise ValidationFailed("the request body must be JSON",
                                       errors={"_body": "send JSON with Content-Type: application/json"})
            return core.missing
        return core.parse_json(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValidationFailed("the request body is not valid JSON", errors={"_body": "is not valid JSON"})

    def load_files(self, req: Any, schema: Any) -> Any:
        """multipart/form-data: the file parts and the text parts, validated by one schema."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def load_json_or_files(self, req: Any, schema: Any) -> Any:
        """A JSON body, or the same fields (and a file) as multipart/form-data."""
        if req.mimetype == "multipart/form-data":
            return self.load_files(req, schema)
        return self.load_json(req, schema)

    __location_map__ = {**FlaskParser.__location_map__, "json_or_files": "load_json_or_files"}  # noqa: RUF012


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    # Documented as JSON; the route's description names the multipart alternative.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,  # noqa: RUF012
                                             "json_or_files": "application/json"}

    def errors(self, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document the error answers a route gives (all in the shape of schemas.ErrorSchema)."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            for code in codes:
                view = self.alt_response(code, schema=schemas.ErrorSchema,
                                         description=ERROR_DESCRIPTIONS[code])(view)
            return view

        return decorate


blp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Petitio JSON API")

# The database refusing a write because another transaction changed the same data first: on SQLite a
# transaction that read before another writer committed gets "database is locked" (SQLITE_BUSY_SNAPSHOT);
# on PostgreSQL a serialization failure, deadlock or lock timeout. Like a stale version in
# instances.save(), that is a conflict the caller resolves by reloading and retrying.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_write_conflict(err: OperationalError) -> bool:
    return "locked" in str(err.orig) or getattr(err.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


@blp.errorhandler(OperationalError)
def database_conflict(err: OperationalError) -> tuple[Response, int]:
    if is_write_conflict(err):
        return jsonify(error="conflict", errors={},
                       message="another request changed the same data at the same time; reload and retry"), 409
    current_app.logger.error("unhandled %s on %s %s", type(err).__name__, request.method, request.url_rule)
    return jsonify(error="internal_error", errors={}, message="internal error; it has been logged"), 500


ERROR_DESCRIPTIONS = {
    401: "No valid bearer token",
    403: "The caller's role may not do this (or four eyes apply)",
    404: "No such object",
    409: "Conflict: taken reference, task no longer ready, filing not awaiting a response, no PDF converter",
    413: "The file is larger than the limit",
    422: "Invalid input; `errors` names each bad field",
}


def _settings() -> Settings:
    return current_app.config["PETITIO_SETTINGS"]


def _case(ref: str) -> dict[str, Any]:
    """The case as the caller's role may see it (identity reads are audited by the service)."""
    return views.case_view(db(), ref, actor=g.actor, role=g.actor.role, channel="api")


@blp.route("/health")
@public
@blp.doc(security=[])
@blp.response(200, schemas.HealthSchema)
def health() -> dict[str, str]:
    """Liveness check; no token needed."""
    return {"status": "ok"}


@blp.route("/cases", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(schemas.CaseListArgsSchema, location="query")
@blp.response(200, schemas.CasePageSchema)
@blp.errors(401, 403)
def list_cases(args: dict[str, Any]) -> dict[str, Any]:
    """Cases matching the filters, a page at a time (ordered by reference; no identity fields)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    now = utcnow()
    cases, total = queries.list_cases(db(), queries.CaseFilters(**args), page=page, per_page=per_page, now=now)
    return {"items": api_support.case_rows(db(), cases, now), "total": total}


@blp.route("/cases", methods=["POST"])
@roles(Role.INTAKE)
@blp.arguments(schemas.AppealSchema)
@blp.response(201, schemas.CaseSchema)
@blp.errors(401, 403, 409)
def create_case(appeal: dict[str, Any]) -> dict[str, Any]:
    """Intake of one appeal (fields of the import format); the case starts at ``complete_intake``.

    Documents are uploaded afterwards with ``POST /api/v1/cases/{ref}/documents``.
    """
    case = api_support.open_appeal(db(), _settings(), g.actor, appeal)
    return _case(case.ref)


@blp.route("/cases/<string:ref>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, schemas.CaseSchema)
@blp.errors(401, 403, 404)
def get_case(ref: str) -> dict[str, Any]:
    """The case, with the identity fields the caller's role may see (the read is audited)."""
    return _case(ref)


@blp.route("/cases/<string:ref>/documents", methods=["POST"])
@roles(Role.INTAKE, Role.LEGAL)
@blp.arguments(schemas.UploadSchema, location="files")
@blp.response(201, schemas.DocumentSchema)
@blp.errors(401, 403, 404, 413)
def upload_document(upload: dict[str, Any], ref: str) -> Any:
    """Attach a document to the case: checked by content and size, stored encrypted."""
    settings = _settings()
    case = find_case(db(), ref)
    file = upload["file"]
    content = file.read(settings.max_document_bytes + 1)
    if len(content) > settings.max_document_bytes:
        abort(413, description=f"the file is over the limit of {settings.max_document_bytes} bytes")
    return attach_document(db(), settings, g.actor, case, upload["kind"], content, file.filename or "upload")


@blp.route("/documents/<int:document_id>", methods=["GET"])
@roles(*DOWNLOAD_ROLES)
@blp.response(200, BINARY, content_type="application/octet-stream",
              description="The document's bytes, served with its stored media type (PDF, JPEG, PNG or DOCX)")
@blp.errors(401, 403, 404)
def download(document_id: int) -> Response:
    """Download a stored document (intake and legal only; every download is audited, never its content)."""
    document = get_document(db(), document_id)
    content = download_document(db(), _settings(), g.actor, document, channel="api")
    return attachment(content, document.media_type, document.filename)


@blp.route("/cases/<string:ref>/forms/<string:form>", methods=["GET"])
@roles(*FORM_ROLES)
@blp.arguments(schemas.ConsentFormArgsSchema, location="query")
@blp.response(200, BINARY, content_type=DOCX,
              description="The pre-filled form (.docx) for the complainant to sign")
@blp.errors(401, 403, 404)
def form_to_sign(args: dict[str, Any], ref: str, form: str) -> Response:
    """A form of appeal or power of attorney pre-filled with the complainant's identity (intake only).

    Generated on request and never stored; each download is audited as an identity read.
    """
    if form not in CONSENT_FORMS:
        abort(404, description=f"no form {form!r}; one of {', '.join(CONSENT_FORMS)}")
    settings = _settings()
    content = consent_form(db(), g.actor, find_case(db(), ref), form, args["lang"], settings.organisation,
                           channel="api")
    return attachment(content, DOCX, f"{ref}-{form}-{args['lang']}.docx")


@blp.route("/cases/<string:ref>/consent", methods=["PATCH"])
@roles(Role.INTAKE, Role.LEGAL)
@blp.arguments(schemas.ConsentUpdateSchema)
@blp.response(200, schemas.CaseSchema)
@blp.errors(401, 403, 404, 409)
def update_consent(changes: dict[str, Any], ref: str) -> dict[str, Any]:
    """Change what the complainant allows (audited by field name; refused after a withdrawal: 409)."""
    from workflow.services.consent import update_consent_permissions

    update_consent_permissions(db(), g.actor, find_case(db(), ref), **changes)
    return _case(ref)


@blp.route("/cases/<string:ref>/consent/withdrawal", methods=["POST"])
@roles(*CASEWORK)
@blp.arguments(schemas.WithdrawalSchema)
@blp.response(200, schemas.CaseSchema)
@blp.errors(401, 403, 404, 409)
def withdraw(body: dict[str, Any], ref: str) -> dict[str, Any]:
    """Record that consent was withdrawn: pending filings stop, bodies already filed with are to be informed."""
    from workflow.services.consent import withdraw_consent

    withdraw_consent(db(), _settings(), g.actor, find_case(db(), ref), body["reason"])
    return _case(ref)


@blp.route("/cases/<string:ref>/legal-facts", methods=["GET"])
@roles(Role.LEGAL, Role.MANAGER)
@blp.response(200, schemas.LegalFactsSchema)
@blp.errors(401, 403, 404)
def get_legal_facts(ref: str) -> dict[str, Any]:
    """The facts admissibility rests on (the defaults, with ``updated_at`` null, until someone records them)."""
    return views.legal_facts_view(db(), find_case(db(), ref))


@blp.route("/cases/<string:ref>/legal-facts", methods=["PATCH"])
@roles(Role.LEGAL)
@blp.arguments(schemas.LegalFactsUpdateSchema)
@blp.response(200, schemas.LegalFactsSchema)
@blp.errors(401, 403, 404)
def patch_legal_facts(changes: dict[str, Any], ref: str) -> dict[str, Any]:
    """Change the legal facts (legal officers; fields left out keep their value; audited with old and new values).

    Dates may not be in the future; ``other_procedure`` pending or concluded needs its name, concluded its date.
    """
    case = find_case(db(), ref)
    update_legal_facts(db(), g.actor, case, changes)
    return views.legal_facts_view(db(), case)


@blp.route("/cases/<string:ref>/admissibility", methods=["GET"])
@roles(Role.LEGAL, Role.MANAGER)
@blp.response(200, schemas.AdmissibilitySchema)
@blp.errors(401, 403, 404)
def admissibility(ref: str) -> dict[str, Any]:
    """What each active body's rules say about the case today: errors block a body in a review, warnings do not."""
    return views.admissibility_view(db(), find_case(db(), ref))


@blp.route("/tasks/<string:task_id>/complete", methods=["POST"])
@roles(*CASEWORK)
@blp.arguments(schemas.TaskCompletionSchema)
@blp.response(200, schemas.CaseSchema)
@blp.errors(401, 403, 404, 409)
def complete(body: dict[str, Any], task_id: str) -> Any:
    """Complete a ready task with its form data; answers the case as it is afterwards.

    A task of a collective complaint belongs to no case: it answers the collective complaint instead (the
    shape of ``GET /api/v1/collective-complaints/{id}``).
    """
    instance = complete_task(db(), _settings(), task_id, g.actor, body["data"])
    if instance.case is None:
        collective = api_support.collective_of_instance(db(), instance.id)
        return jsonify(schemas.CollectiveSchema().dump(api_support.collective_view(db(), collective)))
    return _case(instance.case.ref)


@blp.route("/filings/<int:filing_id>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, schemas.FilingSchema)
@blp.errors(401, 403, 404)
def get_filing(filing_id: int) -> dict[str, Any]:
    """A filing with its document versions and the responses recorded so far."""
    return api_support.filing_view(db(), filing_id)


@blp.route("/filings/<int:filing_id>/document", methods=["GET"])
@roles(*filing_documents.FILING_READERS)
@blp.arguments(schemas.FilingDocumentArgsSchema, location="query")
@blp.response(200, BINARY, content_type=DOCX, description=FILING_DOWNLOAD)
@blp.alt_response(200, schema=BINARY, content_type=PDF, description=FILING_DOWNLOAD)  # same code, other type
@blp.errors(401, 403, 404, 409)
def filing_document(args: dict[str, Any], filing_id: int) -> Response:
    """Download a version of the filing (intake and legal only; every download is audited).

    Without parameters: the latest .docx. ``format=pdf`` converts with LibreOffice, 409 where the server
    has none; an unknown ``version`` is a 404.
    """
    filename, media_type, content = filing_documents.filing_document(
        db(), _settings(), g.actor, filing_id, version=args.get("version"), as_pdf=args["format"] == "pdf",
        channel="api")
    return attachment(content, media_type, filename)


@blp.route("/filings/<int:filing_id>/responses", methods=["POST"])
@roles(Role.INTAKE, Role.LEGAL)
@blp.arguments(schemas.ResponseInputSchema, location="json_or_files")
@blp.response(201, schemas.ResponseSchema)
@blp.errors(401, 403, 404, 409, 413)
def add_response(body: dict[str, Any], filing_id: int) -> dict[str, Any]:
    """Record a response from the body; the filing's process moves on (409 when it is not waiting).

    JSON, or the same fields as multipart/form-data with the body's letter as ``file`` (PDF, JPEG, PNG or
    DOCX by content, stored encrypted).
    """
    file = body.pop("file", None)
    if file is not None:
        settings = _settings()
        content = file.read(settings.max_document_bytes + 1)
        if len(content) > settings.max_document_bytes:
            abort(413, description=f"the file is over the limit of {settings.max_document_bytes} bytes")
        body["document"] = (content, file.filename or "letter")
    if request.mimetype == "multipart/form-data":  # an empty text part means no value
        body = {k: (None if v == "" and k in ("reference", "summary") else v) for k, v in body.items()}
    response = record_response(db(), _settings(), g.actor, filing_id, **body)
    return api_support.response_view(response)


@blp.route("/cases/<string:ref>/filings.zip", methods=["GET"])
@roles(*filing_documents.BUNDLE_ROLES)
@blp.response(200, BINARY, content_type="application/zip",
              description="filings/: the latest version of each filing; annexes/: the documents consent allows")
@blp.errors(401, 403, 404)
def case_bundle(ref: str) -> Response:
    """The case's filings and the annexes that go with them, in one zip (intake and legal; audited).

    Never the form of appeal; the power of attorney only beside an HRC filing. 404 when no filing has a document.
    """
    filename, content = filing_documents.case_bundle(db(), _settings(), g.actor, find_case(db(), ref))
    return attachment(content, "application/zip", filename)


@blp.route("/collective-complaints", methods=["POST"])
@roles(*CREATOR_ROLES)
@blp.arguments(schemas.CollectiveInputSchema)
@blp.response(201, schemas.CollectiveCreatedSchema)
@blp.errors(401, 403)
def create_collective_complaint(body: dict[str, Any]) -> dict[str, Any]:
    """Open a collective complaint over approved cases (legal officers); its first version is generated at once.

    422 names each bad field; ``errors.cases`` lists the references that are unknown, lack verified consent
    or lack an approved review (then nothing is created).
    """
    collective = create_collective(db(), _settings(), g.actor, **body)
    filing_id = collective.filing.id  # type: ignore[union-attr]  # created together with the complaint
    return {"id": collective.id, "filing_id": filing_id,
            "document_url": url_for("api.filing_document", filing_id=filing_id)}


@blp.route("/collective-complaints", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(schemas.PageArgsSchema, location="query")
@blp.response(200, schemas.CollectivePageSchema)
@blp.errors(401, 403)
def list_collective_complaints(args: dict[str, Any]) -> dict[str, Any]:
    """Collective complaints, newest first, a page at a time."""
    items, total = api_support.collective_rows(db(), page=args["page"], per_page=args["per_page"])
    return {"items": items, "total": total}


@blp.route("/collective-complaints/<int:collective_id>", methods=["GET"])
@roles(*CASEWORK)
@blp.response(200, schemas.CollectiveSchema)
@blp.errors(401, 403, 404)
def get_collective_complaint(collective_id: int) -> dict[str, Any]:
    """A collective complaint: its fields, the cases' references, its filing with versions, its ready tasks."""
    return api_support.collective_view(db(), get_collective(db(), collective_id))


@blp.route("/deadlines", methods=["GET"])
@roles(*CASEWORK)
@blp.arguments(schemas.DeadlineArgsSchema, location="query")
@blp.response(200, schemas.DeadlinePageSchema)
@blp.errors(401, 403)
def list_deadlines(args: dict[str, Any]) -> dict[str, Any]:
    """Open deadlines (all, due within 7 days, or overdue), earliest first."""
    now = utcnow()
    rows, total = queries.deadlines(db(), args["status"], now=now, page=args["page"], per_page=args["per_page"])
    return {"items": api_support.deadline_rows(rows, now), "total": total}
