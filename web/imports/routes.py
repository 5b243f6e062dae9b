"""Import appeals in the browser: upload, preview (a dry run), confirm, follow the job, download its report.

The upload is staged encrypted (``workflow/services/import_jobs.py``); only its manifest's key is kept in the
user's session between the preview and the confirmation. Nothing is written to the cases before the clerk
confirms. A confirmed import is a job: small ones run inside the confirming request, larger ones are left
to the worker while the job's page shows a progress bar (``static/import-progress.js`` polls the progress).
"""

from __future__ import annotations

import contextlib
import csv
import io

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session as DbSession
from werkzeug import Response
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.exceptions import RequestEntityTooLarge

from web.access import roles
from web.database import db
from web.downloads import attachment
from web.errors import refusal, size_text
from web.imports.forms import ConfirmForm, ImportUploadForm
from web.messages import message, put_on_form
from web.translate import lazy_gettext as _l
from workflow.config import Settings
from workflow.db import engine_for
from workflow.errors import ValidationFailed
from workflow.models import Job
from workflow.problems import Problem
from workflow.roles import APPEAL_IMPORTERS
from workflow.services import import_jobs, jobs
from workflow.services.import_jobs import Staging, Upload

bp = Blueprint("imports", __name__, template_folder="templates")
STAGING = "import_staging"  # the session key holding the staged upload's manifest key
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOMES = {
    "created": _l("Created"), "updated": _l("Updated"), "unchanged": _l("Unchanged"),
    "refused": _l("Refused"), "rejected": _l("Not imported (errors)"), "pending": _l("Waiting"),
    "skipped": _l("Skipped"),
}
WOULD = {"created": _l("Would create"), "updated": _l("Would update"), "unchanged": _l("Would leave unchanged")}


def _too_large(err: Exception) -> tuple[str, int]:
    from web.translate import gettext as _

    return refusal(413, _("The upload is larger than the limit of %(limit)s. Nothing was stored; split the "
                          "documents into several imports.", limit=size_text(import_jobs.MAX_UPLOAD_BYTES)),
                   url_for("imports.upload"))


bp.register_error_handler(RequestEntityTooLarge, _too_large)


@bp.before_request
def _upload_limits() -> None:
    if request.endpoint == "imports.upload" and request.method == "POST":
        # An import carries a spreadsheet and up to a few hundred documents: more than one document's limit.
        request.max_content_length = import_jobs.MAX_UPLOAD_BYTES
        request.max_form_parts = 2 * import_jobs.ZIP_MAX_ENTRIES
        # Uploads stay in memory until they are staged encrypted: never a plain temporary file on disk.
        request._get_file_stream = lambda *args, **kwargs: io.BytesIO()  # type: ignore[method-assign]


def _settings() -> Settings:
    return current_app.config["PETITIO_SETTINGS"]


@bp.route("/imports/appeals", methods=["GET", "POST"])
@roles(*APPEAL_IMPORTERS)
def upload() -> Response | str | tuple[str, int]:
    form = ImportUploadForm()
    if form.validate_on_submit():  # CSRFProtect refused a bad token already; this is "was it posted"
        sheet = form.spreadsheet.data
        documents = [Upload(f.filename or "", f.read()) for f in (form.documents.data or []) if f]
        try:
            if not sheet or not sheet.filename:
                raise ValidationFailed("no spreadsheet", errors={"spreadsheet": Problem("required")})
            staging = import_jobs.stage_upload(_settings(), g.actor, Upload(sheet.filename, sheet.read()),
                                               documents, db())
        except ValidationFailed as err:
            put_on_form(form, err.errors, default="spreadsheet")
        else:
            _discard_previous(db())
            session[STAGING] = staging.key
            return redirect(url_for("imports.preview"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("imports/upload.html", form=form), status


def _discard_previous(within: DbSession | None) -> None:
    """``within``: the request's writing session (then the deletion commits with it); None: at once, in a
    transaction of its own (a read, or a request that answers with an error and rolls back)."""
    key = session.pop(STAGING, None)
    if key:
        with contextlib.suppress(ValidationFailed):  # already gone: nothing to delete
            staging = import_jobs.load_staging(_settings(), g.actor, key, db())
            import_jobs.discard_staging(_settings(), staging, within)


def _staging() -> Staging | None:
    key = session.get(STAGING)
    if not key:
        return None
    try:
        return import_jobs.load_staging(_settings(), g.actor, key, db())
    except ValidationFailed:
        session.pop(STAGING, None)
        return None


@bp.route("/imports/appeals/preview")
@roles(*APPEAL_IMPORTERS)
def preview() -> Response | str | tuple[str, int]:
    staging = _staging()
    if staging is None:
        return redirect(url_for("imports.upload"), 303)
    try:
        plan = import_jobs.preview(db(), _settings(), staging)
    except ValidationFailed as err:  # the staged spreadsheet cannot be read at all
        _discard_previous(None)
        form = ImportUploadForm()
        put_on_form(form, {"spreadsheet": next(iter(err.errors.values()))} if err.errors else {},
                    default="spreadsheet")
        if not err.errors:
            form.spreadsheet.errors = [err.message]
        return render_template("imports/upload.html", form=form), 422
    report = plan.report
    counts = {k: sum(1 for o in report.outcomes if o.outcome == k) for k in WOULD}
    problems = [(p.row, p.column, message(p.problem)) for p in report.problems]
    return render_template("imports/preview.html", staging=staging, report=report, counts=counts,
                           problems=problems, would=WOULD, form=ConfirmForm(), rows=len(plan.rows),
                           inline_limit=jobs.INLINE_LIMIT)


@bp.route("/imports/appeals/confirm", methods=["POST"])
@roles(*APPEAL_IMPORTERS)
def confirm() -> Response | tuple[str, int]:
    form = ConfirmForm()
    staging = _staging()
    if not form.validate_on_submit() or staging is None:
        return refusal(409, str(_l("This upload is no longer waiting for confirmation; upload the files again.")),
                       url_for("imports.upload"))
    job = import_jobs.start_import(db(), _settings(), g.actor, staging)
    session.pop(STAGING, None)
    db().commit()  # the job and its items must be visible to the runner's own transactions
    if job.total <= jobs.INLINE_LIMIT:
        jobs.run(engine_for(_settings().database_url), _settings(), job.id)
    return redirect(url_for("imports.job", job_id=job.id), 303)


@bp.route("/imports/appeals/cancel", methods=["POST"])
@roles(*APPEAL_IMPORTERS)
def cancel() -> Response:
    if ConfirmForm().validate_on_submit():
        _discard_previous(db())
    return redirect(url_for("imports.upload"), 303)


def _job(job_id: int) -> Job:
    job = jobs.job_for(db(), job_id, g.actor)
    if job.kind != import_jobs.KIND:
        raise HTTPNotFound()
    return job


@bp.route("/imports/jobs/<int:job_id>")
@roles(*APPEAL_IMPORTERS)
def job(job_id: int) -> str:
    found = _job(job_id)
    progress = jobs.progress(db(), found)
    lines = import_jobs.report_lines(db(), found) if progress.finished else []
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.outcome] = counts.get(line.outcome, 0) + 1
    return render_template("imports/job.html", job=found, progress=progress, lines=lines, counts=counts,
                           outcomes=OUTCOMES, message=message)


@bp.route("/imports/jobs/<int:job_id>/progress")
@roles(*APPEAL_IMPORTERS)
def job_progress(job_id: int) -> Response:
    progress = jobs.progress(db(), _job(job_id))
    return jsonify(state=progress.state, total=progress.total, processed=progress.processed,
                   percent=progress.percent, finished=progress.finished, counts=progress.counts)


@bp.route("/imports/jobs/<int:job_id>/report.csv")
@roles(*APPEAL_IMPORTERS)
def job_report(job_id: int) -> Response:
    found = _job(job_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "ref", "outcome", "problems"])
    for line in import_jobs.report_lines(db(), found):
        problems = "; ".join(f"{column}: {message(p)}" if column else message(p) for column, p in line.problems)
        writer.writerow([line.row, line.ref, line.outcome, problems])
    return attachment(out.getvalue().encode("utf-8-sig"), "text/csv", f"import-{found.id}-report.csv")


@bp.route("/imports/template.csv")
@roles(*APPEAL_IMPORTERS)
def template_csv() -> Response:
    return attachment(import_jobs.template_csv(), "text/csv", "appeals-template.csv")


@bp.route("/imports/template.xlsx")
@roles(*APPEAL_IMPORTERS)
def template_xlsx() -> Response:
    return attachment(import_jobs.template_xlsx(), XLSX, "appeals-template.xlsx")
