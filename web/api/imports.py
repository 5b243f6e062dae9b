"""Appeal imports over the API: the same file, documents, checks and job as the "Import appeals" page."""

from __future__ import annotations

import io
from typing import Any

from flask import g, jsonify, request, url_for
from marshmallow import Schema, fields

from web.access import roles
from web.api.base import ApiBlueprint, settings
from web.api.schemas import File
from web.database import db
from workflow.db import engine_for
from workflow.errors import NotFound, ValidationFailed
from workflow.roles import APPEAL_IMPORTERS
from workflow.schemas.base import Boolean, InputSchema, List
from workflow.services import import_jobs, jobs
from workflow.services.import_jobs import Upload

blp = ApiBlueprint("api_imports", __name__, description="Appeal imports: a CSV or XLSX and its documents")


@blp.before_request
def _upload_limits() -> None:
    if request.method == "POST":
        request.max_content_length = import_jobs.MAX_UPLOAD_BYTES
        request.max_form_parts = 2 * import_jobs.ZIP_MAX_ENTRIES
        # Uploads stay in memory until they are staged encrypted: never a plain temporary file on disk.
        request._get_file_stream = lambda *args, **kwargs: io.BytesIO()  # type: ignore[method-assign]


class ImportUploadSchema(InputSchema):
    """multipart/form-data: the spreadsheet, its documents, and what to do."""

    file = File(required=True, metadata={"description": "the appeals, .csv or .xlsx (docs/INTERFACES.md §3)"})
    documents = List(File(), load_default=list,
                     metadata={"description": "the documents the rows name: files, or .zip archives of them"})
    dry_run = Boolean(load_default=False, metadata={"description": "true: report what would be done, write nothing"})
    partial = Boolean(load_default=False, metadata={"description": "true: import the valid rows even when "
                                                                   "others have errors"})


class RowProblemSchema(Schema):
    row = fields.Integer(required=True)
    column = fields.String(allow_none=True)
    message = fields.String(required=True)


class PlannedRowSchema(Schema):
    row = fields.Integer(required=True)
    ref = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "created, updated or unchanged"})


class ImportPreviewSchema(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowProblemSchema), required=True)
    encoding = fields.String(allow_none=True, metadata={"description": "how a CSV was read: UTF-8 or Windows-1251"})
    rows = fields.List(fields.Nested(PlannedRowSchema), required=True)


class ReportRowSchema(Schema):
    row = fields.Integer(required=True)
    ref = fields.String(required=True)
    outcome = fields.String(required=True, metadata={
        "description": "created, updated, unchanged, refused (at run time), rejected (errors), pending"})
    problems = fields.List(fields.Nested(RowProblemSchema), required=True)


class ImportJobSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    total = fields.Integer(required=True)
    processed = fields.Integer(required=True)
    finished = fields.Boolean(required=True)
    url = fields.String(required=True)
    rows = fields.List(fields.Nested(ReportRowSchema), required=True,
                       metadata={"description": "every row of the file, once the job is finished"})


def _job_answer(job_id: int) -> dict[str, Any]:
    job = jobs.job_for(db(), job_id, g.actor)
    if job.kind != import_jobs.KIND:
        raise NotFound(f"no import {job_id}")
    progress = jobs.progress(db(), job)
    rows = []
    if progress.finished:
        rows = [{"row": line.row, "ref": line.ref, "outcome": line.outcome,
                 "problems": [{"row": line.row, "column": column, "message": p.text} for column, p in line.problems]}
                for line in import_jobs.report_lines(db(), job)]
    return {"id": job.id, "state": progress.state, "total": progress.total, "processed": progress.processed,
            "finished": progress.finished, "url": url_for("api_imports.show", job_id=job.id), "rows": rows}


@blp.route("/imports", methods=["POST"])
@roles(*APPEAL_IMPORTERS)
@blp.arguments(ImportUploadSchema, location="files")
@blp.response(200, ImportPreviewSchema, description="dry_run: what the import would do; nothing written")
@blp.alt_response(202, schema=ImportJobSchema, description="the import job (run at once up to 50 rows, else by "
                                                            "the worker: poll its url)")
@blp.errors(401, 403, 413, 422)
def create(upload: dict[str, Any]) -> Any:
    """Import appeals from a CSV or XLSX file and their documents (as the "Import appeals" page does).

    Every row is checked first. Without ``partial``, one bad row imports nothing (422, the problems by row
    and column in ``errors``). Otherwise the valid rows become a job, one transaction per row.
    """
    sheet = upload["file"]
    documents = [Upload(f.filename or "", f.read()) for f in upload["documents"]]
    try:
        staging = import_jobs.stage_upload(settings(), g.actor, Upload(sheet.filename or "", sheet.read()),
                                           documents, db())
    except ValidationFailed as err:  # the page's field is "spreadsheet"; the API's is "file"
        raise ValidationFailed(err.message, errors={"file" if k == "spreadsheet" else k: p
                                                    for k, p in err.errors.items()}) from None
    try:
        plan = import_jobs.preview(db(), settings(), staging)
        report = plan.report
        if upload["dry_run"] or (report.problems and not upload["partial"]):
            import_jobs.discard_staging(settings(), staging, db())
            if upload["dry_run"]:
                for outcome in report.outcomes:
                    report.count(outcome.outcome)
                return {**report.as_json(), "encoding": report.encoding,
                        "rows": [{"row": o.row, "ref": o.ref, "outcome": o.outcome} for o in report.outcomes]}
            raise ValidationFailed(f"{report.rejected} row(s) have errors; nothing was imported",
                                   errors={f"row {p.row}" + (f", {p.column}" if p.column else ""): p.problem
                                           for p in report.problems})
        job = import_jobs.start_import(db(), settings(), g.actor, staging)
    except BaseException:
        db().rollback()  # staged in the database: gone with the transaction; files are deleted below
        import_jobs.discard_staging(settings(), staging, db())  # deleting twice is harmless
        raise
    db().commit()  # the job and its items must be visible to the runner's own transactions
    if job.total <= jobs.INLINE_LIMIT:
        jobs.run(engine_for(settings().database_url), settings(), job.id)
        db().expire_all()  # the runner wrote in its own transactions; this session keeps what it loaded
    answer = jsonify(ImportJobSchema().dump(_job_answer(job.id)))
    answer.status_code = 202
    return answer


@blp.route("/imports/<int:job_id>", methods=["GET"])
@roles(*APPEAL_IMPORTERS)
@blp.response(200, ImportJobSchema)
@blp.errors(401, 403, 404)
def show(job_id: int) -> Any:
    """An import job: its progress and, once finished, what each row of the file became."""
    return _job_answer(job_id)

