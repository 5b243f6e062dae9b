"""Consent pages: change what the complainant allows, record a withdrawal, prepare the forms to sign; the consent
queue (one case at a time, its two documents shown in the page) and its bulk request of missing documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from werkzeug import Response

from filings.consent_forms import FORMS
from filings.consent_forms import languages as form_languages
from web.access import roles
from web.cases.page import render_case
from web.consent.forms import QueueFilterForm, WithdrawConsentForm, consent_form, queue_filter_form
from web.database import db, keep_despite_error_status, writes_late
from web.downloads import attachment, inline
from web.errors import refusal
from web.labels import data_labels
from web.loaders import case_or_404
from web.messages import message, put_on_form
from web.panel import Posted
from web.tasks.forms import TRUE_VALUES, convert, fields_of, other_errors, typed_values
from web.tasks.panels import Refused
from web.translate import gettext as _
from workflow.db import engine_for
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import Case, HumanTask, utcnow
from workflow.problems import MESSAGES, Problem
from workflow.roles import (
    CONSENT_EDITORS,
    CONSENT_VERIFIERS,
    CONSENT_WITHDRAWERS,
    DOCUMENT_READERS,
    SIGNATURE_FORM_MAKERS,
)
from workflow.services import consent_queue, jobs
from workflow.services.cases import read_case
from workflow.services.consent import consent_form as signature_form
from workflow.services.consent import update_consent_permissions, withdraw_consent
from workflow.services.documents import download_document, get_document
from workflow.services.tasks import complete_task, task_schema, task_ui_schema
from workflow.states import CONSENT_DOCUMENTS, ConsentStatus
from workflow.uploads import DOCX, JPEG, PDF, PNG

bp = Blueprint("consent", __name__, template_folder="templates")
# What a browser shows in the page by itself: a PDF in a frame, a JPEG or PNG as an image.
INLINE_TYPES = frozenset({PDF, JPEG, PNG})


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
                stopped = withdraw_consent(db(), current_app.config["PETITIO_SETTINGS"], g.actor, case,
                                           form.reason.data)
            except ValidationFailed as err:
                put_on_form(form, err.errors, default="reason")
            except Conflict:
                withdrawn = True
            else:
                if stopped:
                    flash(_("Consent withdrawn. Pending filings for %(ref)s were stopped.", ref=ref), "success")
                else:  # recorded all the same; the process learns of it once repaired (services/repair.py)
                    flash(_("Consent withdrawn. The case's process could not stop its pending work: the "
                            "administrators were alerted, and it stops once they repair it."), "error")
                return redirect(url_for("cases.case", ref=ref), 303)
        status = 409 if withdrawn else 422
    return render_template("consent/withdraw_consent.html", form=form, ref=ref, withdrawn=withdrawn), status


@bp.route("/cases/<ref>/forms/<form>.docx")
@roles(*SIGNATURE_FORM_MAKERS)
def form_to_sign(ref: str, form: str) -> Response:
    """A form of appeal or power of attorney pre-filled for the complainant to sign (never stored; audited)."""
    case = case_or_404(ref)
    settings = current_app.config["PETITIO_SETTINGS"]
    languages = form_languages(settings.templates_dir)
    language = request.args.get("lang") or (g.actor.locale if g.actor.locale in languages else "en")
    if form not in FORMS:
        abort(404, description=_("There is no such form."))
    if language not in languages:
        abort(404, description=_("This form does not exist in that language."))
    try:
        content = signature_form(db(), g.actor, case, form, language, settings.organisation, channel="web",
                                 templates_dir=settings.templates_dir)
    except Conflict:  # the wording file of this language cannot be used (the server log says why)
        abort(409, description=_("The wording of this form cannot be used in this language: an administrator "
                                 "must correct it (petitio templates check)."))
    return attachment(content, DOCX, f"{ref}-{form}-{language}.docx")


# -- the consent queue: one case at a time, its two documents in the page ----------------------------------------

@bp.route("/cases/<ref>/consent/documents/<int:document_id>")
@roles(*DOCUMENT_READERS)
def inline_document(ref: str, document_id: int) -> Response:
    """A consent document shown in the page (PDF in a frame, images as images); the read is audited like a
    download. Other kinds and types are opened from the case's documents panel."""
    case = case_or_404(ref)
    try:
        document = get_document(db(), document_id, case=case)
    except NotFound:
        abort(404, description=_("There is no such document in this case."))
    if document.kind not in CONSENT_DOCUMENTS or document.media_type not in INLINE_TYPES:
        abort(404, description=_("This document cannot be shown in the page: download it from the case page."))
    content = download_document(db(), current_app.config["PETITIO_SETTINGS"], g.actor, document,
                                channel="web_inline")
    return inline(content, document.media_type, document.filename)


@bp.route("/consent/queue")
@roles(*CONSENT_VERIFIERS)
def queue() -> str:
    filters = queue_filter_form(db(), request.args)
    return _queue_page(filters, request.args.get("task"))


@bp.route("/consent/queue/<task_id>", methods=["POST"])
@writes_late  # a task completion: its writes are version-checked
@roles(*CONSENT_VERIFIERS)
def verify(task_id: str) -> Response | tuple[str, int]:
    """Complete the case's ``verify_consent`` as a single completion would, then open the next case of the queue.

    ``action``: ``verified`` (both documents, whatever the boxes say) or ``missing`` (the boxes as ticked: the
    process then asks for the documents)."""
    session = db()
    filters = queue_filter_form(session, request.args)  # the queue's filters travel in the action's query
    row = session.get(HumanTask, task_id)
    if row is None or row.bpmn_id != consent_queue.TASK:
        abort(404, description=_("There is no such task."))
    back = url_for("consent.queue", **filters.args())
    if row.state != "ready":
        return refusal(409, _("Someone else completed this task first."), back, _("Back to the consent queue"))
    action = request.form.get("action")
    if action not in ("verified", "missing"):
        abort(400, description=_("Choose “Both verified” or “Missing or not valid”."))
    following = consent_queue.next_after(consent_queue.queue_ids(session, g.actor.role, filters.task_filter()),
                                         task_id)
    schema = task_schema(session, row)
    posted = request.form.copy()
    # The form's checkboxes (form_of_appeal_verified, power_of_attorney_verified), as its schema names them.
    boxes = [name for name, prop in schema.get("properties", {}).items() if prop.get("type") == "boolean"]
    if action == "verified":
        for name in boxes:
            posted.setlist(name, ["true"])
    elif all(posted.get(name, "").lower() in TRUE_VALUES for name in boxes):
        # Both ticked but "missing" pressed: which one is missing? Ask rather than guess.
        html = _queue_page(filters, task_id, refused=Refused(typed_values(schema, posted), {}),
                           error=_("You ticked both documents as verified: untick the one that is missing or not "
                                   "valid, or choose “Both verified”."))
        keep_despite_error_status()  # the page shown again read identity fields: that read stays audited
        return html, 422
    try:
        complete_task(session, current_app.config["PETITIO_SETTINGS"], task_id, g.actor, convert(schema, posted))
    except ValidationFailed as err:
        session.rollback()  # nothing of the refused attempt stays
        html = _queue_page(filters, task_id, refused=Refused(typed_values(schema, posted), err.errors))
        keep_despite_error_status()
        return html, 422
    except Forbidden:
        return refusal(403, _("This task is for another team."), back, _("Back to the consent queue"))
    except Conflict:
        return refusal(409, _("Someone else completed this task first."), back, _("Back to the consent queue"))
    ref = session.get(Case, row.case_id).ref  # type: ignore[union-attr]
    flash(_("%(ref)s: consent verified.", ref=ref) if action == "verified"
          else _("%(ref)s: documents to be requested from the complainant.", ref=ref), "success")
    return redirect(url_for("consent.queue", task=following, **filters.args()), 303)


def _queue_page(filters: QueueFilterForm, wanted: str | None, *, refused: Refused | None = None,
                error: str | None = None) -> str:
    session = db()
    ids = consent_queue.queue_ids(session, g.actor.role, filters.task_filter())
    place = consent_queue.place_in_queue(ids, wanted)
    context: dict[str, Any] = {"filters": filters, "args": filters.args(), "place": place, "error": error,
                               "lacking": len(consent_queue.lacking_documents(session, ids)), "entry": None}
    if place.task_id is not None:
        row = session.get(HumanTask, place.task_id)
        assert row is not None and row.case_id is not None  # a ready verify_consent task belongs to a case
        case = session.get(Case, row.case_id)
        assert case is not None
        read = read_case(session, case.ref, actor=g.actor, role=g.actor.role, channel="web")  # audited
        schema = task_schema(session, row)
        errors = {name.partition(".")[0]: message(p) for name, p in (refused.errors if refused else {}).items()}
        fields = {f.name: f for f in fields_of(schema, prefix="cq", ui=task_ui_schema(session, row),
                                               values=refused.values if refused else None, errors=errors,
                                               labels=data_labels())}
        documents = consent_queue.consent_documents(session, read.case)
        context["entry"] = {
            "task": row, "case": read, "fields": fields, "documents": list(documents.items()),
            "missing": [kind for kind, document in documents.items() if document is None],
            "other_errors": other_errors(schema, errors), "overdue": row.overdue(utcnow()),
        }
    return render_template("consent/queue.html", inline_types=INLINE_TYPES, pdf=PDF, **context)


@bp.route("/consent/queue/request-missing", methods=["POST"])
@roles(*CONSENT_VERIFIERS)
def request_missing() -> Response:
    """Ask for the documents of every case of the (filtered) queue that lacks one: each case's task completed as
    "not verified" in its own transaction; in the request up to ``jobs.INLINE_LIMIT`` cases, else by the worker."""
    session = db()
    filters = queue_filter_form(session, request.args)
    job = consent_queue.request_missing(session, g.actor, g.actor.role, filters.task_filter())
    if not job.total:
        flash(_("No case of this queue lacks a document."), "success")
        return redirect(url_for("consent.queue", **filters.args()), 303)
    session.commit()  # the job's runner works in transactions of its own
    if job.total <= jobs.INLINE_LIMIT:
        settings = current_app.config["PETITIO_SETTINGS"]
        jobs.run(engine_for(settings.database_url), settings, job.id)
    return redirect(url_for("consent.job", job_id=job.id, **filters.args()), 303)


@bp.route("/consent/jobs/<int:job_id>")
@roles(*CONSENT_VERIFIERS)
def job(job_id: int) -> Response:
    session = db()
    try:
        found = jobs.job_for(session, job_id, g.actor)
    except (NotFound, Forbidden):
        abort(404, description=_("There is no such request."))
    if found.kind != consent_queue.JOB_KIND:
        abort(404, description=_("There is no such request."))
    progress = jobs.progress(session, found)
    rows = [(row, [_problem_text(p) for p in row.problems]) for row in consent_queue.report(session, found)]
    response = make_response(render_template("consent/job.html", job=found, progress=progress, rows=rows,
                                             args=queue_filter_form(session, request.args).args()))
    if not progress.finished:
        response.headers["Refresh"] = "2"  # the page follows the worker without a script
    return response


def _problem_text(problem: dict[str, Any]) -> str:
    if problem.get("code") in MESSAGES:
        return message(Problem(problem["code"], problem.get("params") or {}))
    return str(problem.get("message") or problem.get("code"))
