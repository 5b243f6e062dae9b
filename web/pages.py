"""Server-rendered pages for intake staff, legal officers and managers (admins: web/admin.py).

Views are thin: they read through ``workflow.services`` (``page_support`` batches what the pages show),
write only through the services, and never commit (the request is the unit of work, web/database.py).
Each view declares who may reach it next to its route.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, Form, SearchField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from filings import pdf
from filings.consent_forms import FORMS as CONSENT_FORMS
from filings.consent_forms import LANGUAGES as FORM_LANGUAGES
from web import forms
from web.access import ALL_STAFF, roles
from web.database import db, keep_despite_error_status
from web.downloads import attachment
from web.extensions import current_locale
from workflow import vocab
from workflow.admissibility import EU_STATUSES, OTHER_PROCEDURES, Finding
from workflow.bodies import CODES as BODIES
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import (
    AuditEvent,
    Case,
    ConsentRecord,
    Filing,
    HumanTask,
    LegalFacts,
    Review,
    Role,
    User,
    utcnow,
)
from workflow.runtime.instances import STAGES
from workflow.services import page_support, queries
from workflow.services.cases import get_case
from workflow.services.consent import (
    CONSENT_EDITORS,
    FORM_ROLES,
    PERMISSION_FLAGS,
    RISK_NOTE_MAX,
    consent_form,
    update_consent_permissions,
)
from workflow.services.consent import withdraw_consent as withdraw_consent_service
from workflow.services.dashboard import case_timeline
from workflow.services.deadlines import CLOSE_ROLES, open_reply_deadlines
from workflow.services.deadlines import close_deadline as close_deadline_service
from workflow.services.documents import (
    DOWNLOAD_ROLES,
    UPLOAD_KINDS,
    UPLOAD_ROLES,
    attach_document,
    download_document,
    get_document,
)
from workflow.services.filing_documents import (
    BUNDLE_ROLES,
    FILING_READERS,
    FROZEN_STATES,
    case_bundle,
    filing_document,
)
from workflow.services.responses import RESPONSE_KINDS, RFI_LABEL
from workflow.services.responses import record_response as record_response_service
from workflow.services.review import FACT_FIELDS, NAME_MAX, SUMMARY_MAX, latest_review, legal_facts
from workflow.services.review import update_legal_facts as update_legal_facts_service
from workflow.services.tasks import complete_task
from workflow.services.views import LEGAL_FACTS_READERS, PERSON_FIELDS_BY_ROLE, case_view

bp = Blueprint("pages", __name__)

CASEWORK = (Role.INTAKE, Role.LEGAL, Role.MANAGER)  # admins manage accounts and do no casework
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PER_PAGE = 50

# -- labels: stable codes in the data, translated words on the page ---------------------------------------

LABELS: dict[str, dict[str, Any]] = {
    "stage": {
        "intake": _l("Intake"), "consent": _l("Consent"), "legal_review": _l("Legal review"),
        "approval": _l("Approval"), "filing": _l("Filing"), "follow_up": _l("Follow-up"),
        "awaiting_response": _l("Awaiting response"), "approved": _l("Approved (collective complaints only)"),
        "closed": _l("Closed"), "rejected": _l("Rejected"), "withdrawn": _l("Consent withdrawn"),
    },
    "task": {
        "complete_intake": _l("Complete intake"), "verify_consent": _l("Verify consent"),
        "request_documents": _l("Request missing documents"), "legal_review": _l("Legal review"),
        "approve_review": _l("Approve the review"), "check_filing": _l("Check the filing"),
        "approve_filing": _l("Approve the filing"), "submit_filing": _l("Record the submission"),
        "follow_up": _l("Follow up: no response"), "record_outcome": _l("Record the outcome"),
        "inform_body": _l("Inform the body of the withdrawal"),
    },
    "role": {"intake": _l("Intake"), "legal": _l("Legal"), "manager": _l("Manager"), "admin": _l("Admin")},
    "document": {
        "form_of_appeal": _l("Form of appeal"), "power_of_attorney": _l("Power of attorney"),
        "court_decision": _l("Court decision"), "medical": _l("Medical report"), "evidence": _l("Evidence"),
        "filing": _l("Filing"), "response": _l("Response"),
    },
    "consent": {"pending": _l("Not verified yet"), "verified": _l("Verified"), "withdrawn": _l("Withdrawn")},
    "filing_state": {
        "draft": _l("Draft"), "checked": _l("Checked"), "submitted": _l("Submitted"),
        "acknowledged": _l("Acknowledged"), "transmitted": _l("Transmitted to the state"),
        "replied": _l("Replied"), "decided": _l("Decided"), "closed": _l("Closed"), "cancelled": _l("Cancelled"),
    },
    "deadline_state": {"open": _l("Open"), "met": _l("Met"), "missed": _l("Missed")},
    # Deadlines are named after the timer events of the BPMN files, which Babel cannot extract.
    "deadline": {
        "Consent verification due": _l("Consent verification due"), "Legal review due": _l("Legal review due"),
        "Missing documents overdue": _l("Missing documents overdue"), "Filing check due": _l("Filing check due"),
        "Response window": _l("Response window"),
    },
    "person": {
        "full_name": _l("Full name"), "full_name_native": _l("Name in native script"), "gender": _l("Gender"),
        "birth_date": _l("Date of birth"), "phone": _l("Phone"), "email": _l("E-mail"),
        "passport_number": _l("Passport or ID number"), "address": _l("Address"), "occupation": _l("Occupation"),
        "organisation": _l("Organisation"), "city": _l("City"),
    },
    "gender": {"female": _l("Female"), "male": _l("Male"), "other": _l("Other"), "undisclosed": _l("Undisclosed")},
    "locale": {"en": "English", "ru": "Русский"},
    "option": forms.OPTION_LABELS,
    "fact": {
        "state_code": _l("State concerned (two-letter code, e.g. KZ)"),
        "deprived_of_liberty": _l("Deprived of liberty"), "torture_risk": _l("At risk of torture"),
        "remedies_exhausted_on": _l("Domestic remedies exhausted on (date of the final decision)"),
        "remedies_summary": _l("Domestic remedies pursued"),
        "remedies_ineffective": _l("Remedies are ineffective or unreasonably prolonged"),
        "other_procedure": _l("The same matter before another international procedure"),
        "other_procedure_name": _l("Name of the other procedure"),
        "other_procedure_concluded_on": _l("Other procedure concluded on"),
        "eu_status": _l("The petitioner's link to the European Union"),
        "eu_subject": _l("The subject falls within the European Union's fields of activity"),
    },
    "other_procedure": {"none": _l("No other procedure"), "pending": _l("Pending"), "concluded": _l("Concluded")},
    "eu_status": {"unknown": _l("Not known"), "citizen": _l("EU citizen"), "resident": _l("EU resident"),
                  "none": _l("Neither citizen nor resident")},
    "level": {"error": _l("blocks filing"), "warning": _l("warning")},
}
# Groups whose words are data an admin edits (the catalogue of bodies, the vocabularies), named like the
# vocabularies of the task forms' ``x-vocabulary``.
DATA_GROUPS = frozenset({"body", "incident_type", "mandate", "legal_ground"})

ACTION_LABELS: dict[str, Any] = {
    "case_opened": _l("Case opened"),
    "case_updated": _l("Case updated from an import"),
    "process_started": _l("Process started"),
    "task_completed": _l("Task completed"),
    "document_uploaded": _l("Document added"),
    "document_downloaded": _l("Document opened"),
    "filing_bundle_downloaded": _l("Filings and annexes downloaded (zip)"),
    "consent_updated": _l("Consent choices changed"),
    "consent_form_downloaded": _l("Form to sign prepared"),
    "consent_withdrawn": _l("Consent withdrawn"),
    "filing_generated": _l("Filing document generated"),
    "filing_checked": _l("Filing checked"),
    "filing_submitted": _l("Filing submitted"),
    "filing_cancelled": _l("Filing cancelled"),
    "filing_closed": _l("Filing closed"),
    "escalated": _l("Escalated: a service level was missed"),
    "legal_facts_changed": _l("Legal facts changed"),
    "response_recorded": _l("Response recorded"),
    "response_received": _l("Response received"),
    "timers_fired": _l("A deadline passed"),
    "timers_rescheduled": _l("Deadlines moved"),
    "demo_clock_moved": _l("Deadlines moved (demo data)"),
}


@bp.app_template_global("label")
def label(group: str, value: Any, fallback: str | None = None) -> str:
    """The translated word for a stored code; unknown codes show as themselves (never an error)."""
    if value is None or value == "":
        return ""
    found = (data_labels() if group in DATA_GROUPS else LABELS).get(group, {}).get(str(value))
    if found is not None:
        return str(found)
    return fallback if fallback is not None else str(value).replace("_", " ")


def data_labels() -> dict[str, dict[str, str]]:
    """Group -> key -> label for the catalogue and the vocabularies, in the user's language (read once a request).

    Legal grounds carry the UDHR articles of the same right, for bodies that cite the Declaration.
    """
    if "data_labels" not in g:
        found = page_support.data_labels(db(), current_locale())
        grounds = {key: _("%(ground)s — UDHR %(articles)s", ground=text, articles=found.udhr[key])
                   if key in found.udhr else text for key, text in found.legal_ground.items()}
        g.data_labels = {"body": found.body, "incident_type": found.incident_type, "mandate": found.mandate,
                         "legal_ground": grounds}
    return g.data_labels


def _settings() -> Any:
    return current_app.config["PETITIO_SETTINGS"]


# -- home and my tasks -----------------------------------------------------------------------------------

@bp.route("/")
@roles(*ALL_STAFF)
def index() -> Response:
    return redirect(url_for("pages.my_tasks"))


@bp.route("/tasks")
@roles(*ALL_STAFF)
def my_tasks() -> str:
    has_lane = g.actor.role != Role.ADMIN
    rows = page_support.inbox_rows(db(), g.actor.role) if has_lane else []
    # Escalations are addressed to managers: the urgent track and missed service levels.
    alerts = page_support.manager_alerts(db()) if g.actor.role == Role.MANAGER else []
    return render_template("pages/tasks.html", rows=rows, has_lane=has_lane, alerts=alerts,
                           alert_days=page_support.ALERT_DAYS)


# -- the case list ---------------------------------------------------------------------------------------

class CaseFilterForm(Form):
    """GET filters of the case list: a read, so no CSRF token (and bookmarkable URLs)."""

    q = SearchField(_l("Reference"), validators=[Length(max=40)])
    stage = SelectField(_l("Stage"), default="")
    episode = SelectField(_l("Episode"), default="")
    city = SelectField(_l("City"), default="")
    incident_type = SelectField(_l("Incident type"), default="")
    overdue = BooleanField(_l("Overdue only"))


def _filter_form(session: Any) -> CaseFilterForm:
    form = CaseFilterForm(request.args)
    anything = SelectChoice("", _("any"))
    form.stage.choices = [anything, *(SelectChoice(s, label("stage", s)) for s in STAGES)]
    form.episode.choices = [anything, *(SelectChoice(k, t) for k, t in page_support.episode_choices(session))]
    form.city.choices = [anything, *(SelectChoice(c, c) for c in queries.cities(session))]
    form.incident_type.choices = [anything, *(SelectChoice(t, label("incident_type", t))
                                              for t in vocab.keys(session, "incident_type"))]
    form.validate()  # an unknown value is reported next to its filter and then ignored
    return form


def _chosen(form_field: Any) -> Any:
    return None if form_field.errors else (form_field.data or None)


@bp.route("/cases")
@roles(*CASEWORK)
def cases() -> str:
    session = db()
    form = _filter_form(session)
    filters = queries.CaseFilters(stage=_chosen(form.stage), episode=_chosen(form.episode), city=_chosen(form.city),
                                  incident_type=_chosen(form.incident_type), overdue=bool(form.overdue.data),
                                  q=(_chosen(form.q) or "").strip() or None)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found, total = queries.list_cases(session, filters, page=page, per_page=PER_PAGE)
    pages = max(math.ceil(total / PER_PAGE), 1)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("pages/cases.html", form=form, rows=queries.case_rows(session, found), total=total,
                           page=page, pages=pages, args=args)


# -- the case page ---------------------------------------------------------------------------------------

REVIEW_STEPS = ("legal_review", "approve_review")


@dataclass(frozen=True)
class CheckLine:
    level: str  # error (blocks the body) | warning
    text: str  # translated and filled in


@dataclass(frozen=True)
class BodyChecks:
    """One body's row of the admissibility table."""

    code: str
    chosen: bool  # chosen in the review being approved
    findings: list[CheckLine]


@dataclass(frozen=True)
class Returned:
    """A manager sent the review back: who, when and why."""

    by: str
    at: datetime | None
    notes: str


@dataclass
class TaskPanel:
    """One ready task of the case as the page shows it."""

    id: str
    bpmn_id: str
    name: str
    lane: str | None
    due_at: datetime | None
    overdue: bool
    body: str | None
    mode: str  # form | other_lane | four_eyes
    blocked_by: str | None = None  # four eyes: the step this user did that bars them from this one
    fields: list[forms.Field] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    description: str | None = None
    assignee: str | None = None  # the task went back to this person (the rest of the lane still sees it)
    returned: Returned | None = None  # legal_review: the manager's reasons for sending the review back
    admissibility: list[BodyChecks] = field(default_factory=list)  # review steps: every active body, today
    review: Review | None = None  # approve_review: the review being approved...
    recorded: list[BodyChecks] = field(default_factory=list)  # ...and the checks recorded with it


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    text: str
    detail: str


def _task_name(bpmn_id: str, name: str) -> str:
    return label("task", bpmn_id, _(name) if name else bpmn_id)


def task_panels(session: Any, rows: list[HumanTask], submitted: dict[str, Any], now: datetime,
                bodies: Mapping[int, str]) -> list[TaskPanel]:
    """The ready tasks of a case or of a collective complaint, each with its form when this user may do it.

    ``submitted``: task id -> (typed values, errors) of a refused attempt, shown again; ``bodies``: filing id ->
    body, naming the body a filing's task is about.
    """
    assignees = page_support.user_names(session, {r.assignee_id for r in rows if r.assignee_id})
    panels = []
    for row in rows:
        panel = TaskPanel(id=row.id, bpmn_id=row.bpmn_id, name=_task_name(row.bpmn_id, row.name), lane=row.lane,
                          due_at=row.due_at, overdue=page_support.is_overdue(row.due_at, now),
                          body=bodies.get(row.filing_id or 0), mode="form",
                          assignee=assignees.get(row.assignee_id or 0))
        _offer(session, panel, row, submitted)
        panels.append(panel)
    return panels


def _panels(session: Any, view: dict[str, Any], case_row: Case, submitted: dict[str, Any],
            now: datetime) -> list[TaskPanel]:
    bodies = {f["id"]: f["body"] for f in view["filings"]}
    rows = [session.get(HumanTask, item["id"]) for item in view["tasks"]]
    panels = task_panels(session, rows, submitted, now, bodies)
    for panel in panels:
        if panel.bpmn_id in REVIEW_STEPS:
            _add_review(session, panel, case_row)
    return panels


def _offer(session: Any, panel: TaskPanel, row: HumanTask, submitted: dict[str, Any]) -> None:
    """The form, if this user may do the task; otherwise why not."""
    if row.lane != g.actor.role:
        panel.mode = "other_lane"  # listed, never offered: the service would refuse it anyway
    elif blocked_by := page_support.four_eyes_blocks(session, row, g.actor):
        panel.mode, panel.blocked_by = "four_eyes", _task_name(blocked_by, blocked_by)
    else:
        schema = page_support.task_schema(session, row) or {"type": "object", "properties": {}}
        values, errors = submitted.get(row.id, (None, None))
        panel.fields = forms.fields_of(schema, prefix=f"t{row.id[:8]}", values=values, errors=errors,
                                       labels=data_labels())
        panel.errors = forms.other_errors(schema, errors)
        panel.description = _(schema["description"]) if schema.get("description") else None


def _add_review(session: Any, panel: TaskPanel, case_row: Case) -> None:
    """What the reviewer, or the manager approving, decides on: the checks per body, and the review so far."""
    latest = latest_review(session, case_row)
    if panel.bpmn_id == "legal_review":
        if latest is not None and latest.approval == "return":
            panel.returned = Returned(_person(latest.approver), latest.approved_at, latest.approval_notes)
        panel.admissibility = _table(page_support.admissibility_now(session, case_row), chosen=())
        return
    panel.review = latest
    if latest is not None:
        panel.recorded = [BodyChecks(code, True, [CheckLine(c["level"], _finding_text(c["message"], c["params"]))
                                                  for c in latest.checks if c["body"] == code])
                          for code in latest.bodies]
    chosen = tuple(latest.bodies) if latest is not None else ()
    panel.admissibility = _table(page_support.admissibility_now(session, case_row, under=latest), chosen=chosen)


def _table(findings: dict[str, list[Finding]], *, chosen: tuple[str, ...]) -> list[BodyChecks]:
    return [BodyChecks(code, code in chosen, [CheckLine(f.level, _finding_text(f.message, f.params)) for f in found])
            for code, found in findings.items()]


def _finding_text(message: str, params: Mapping[str, Any]) -> str:
    """A rule's English template (marked with N_ in workflow/admissibility.py) in the user's language, filled in."""
    return _(message, **params)


def _person(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else "—"


def _history_text(event: AuditEvent) -> tuple[str, str]:
    data = event.data or {}
    text = str(ACTION_LABELS.get(event.action) or event.action.replace("_", " ").capitalize())
    if event.action == "consent_withdrawn" and event.object_type == "process_instance":
        text = _("Process stopped: consent withdrawn")
    elif event.action == "escalated" and data.get("reason") == "urgent":
        text = _("Urgent case: a manager is alerted")
    return text, _history_detail(event.action, data)


def _history_detail(action: str, data: dict[str, Any]) -> str:
    if action == "task_completed" and data.get("task"):
        return _completion_detail(data["task"], data.get("form") or {})
    if action == "case_opened" and data.get("imported"):
        return _("imported")
    if action == "document_downloaded" and data.get("filing_id"):
        return _("filing, version %(version)s (%(format)s)", version=data.get("version"),
                 format=str(data.get("format", "docx")).upper())
    if action in ("document_uploaded", "document_downloaded"):
        return label("document", data.get("kind"))
    if action == "consent_form_downloaded":
        return label("document", data.get("form"))
    if action.startswith("filing_") and data.get("body"):
        return label("body", data["body"])
    if action == "escalated":
        return _task_name(str(data.get("task", "")), str(data.get("task", "")))
    if action in ("response_recorded", "response_received") and data.get("kind"):
        return str(data["kind"]).replace("_", " ")
    return ""


def _completion_detail(bpmn_id: str, form: dict[str, Any]) -> str:
    """The step, the choice made, and for a review sent back or rejected the reason given (the form's notes)."""
    choice = form.get("decision") or form.get("action")
    detail = _task_name(bpmn_id, bpmn_id)
    if choice:
        detail += " — " + label("option", choice)
    reason = str(form.get("notes") or "").strip()
    if bpmn_id in REVIEW_STEPS and choice in ("return", "reject") and reason:
        detail += " — " + _("reason: %(reason)s", reason=reason)
    return detail


def history_entries(events: list[AuditEvent]) -> list[HistoryEntry]:
    entries = []
    for event in events:
        who = (event.actor.full_name or event.actor.username) if event.actor else _("Petitio (automatic)")
        text, detail = _history_text(event)
        entries.append(HistoryEntry(event.at, who, text, detail))
    return entries


def _render_case(ref: str, *, submitted: dict[str, Any] | None = None, upload_form: DocumentUploadForm | None = None,
                 consent_form: ConsentPermissionsForm | None = None, facts_form: LegalFactsForm | None = None,
                 response_form: ResponseForm | None = None, response_for: int | None = None) -> str:
    session = db()
    try:
        # Audits the identity fields the role may read (channel "web") in this request's transaction.
        view = case_view(session, ref, actor=g.actor, role=g.actor.role, channel="web")
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    now = utcnow()
    case_row = get_case(session, ref)
    deadlines = [{**d, "overdue": d["state"] == "open" and page_support.is_overdue(d["due_at"], now)}
                 for d in view["deadlines"]]
    bodies = {f["id"]: f["body"] for f in view["filings"]}
    role = g.actor.role
    withdrawn = case_row.consent is not None and case_row.consent.status == "withdrawn"
    may_edit_consent = role in CONSENT_EDITORS and not withdrawn
    if may_edit_consent and consent_form is None:
        consent_form = _consent_form_for(case_row.consent)
    if role == Role.LEGAL and facts_form is None:
        facts_form = _legal_facts_form(legal_facts(case_row))
    versions = page_support.filing_versions(session, list(bodies))
    return render_template(
        "pages/case.html", case=view, panels=_panels(session, view, case_row, submitted or {}, now),
        deadlines=deadlines, history=history_entries(page_support.case_history(session, case_row.id)),
        timeline=case_timeline(session, case_row.id),
        bodies=bodies, may_withdraw=role in CASEWORK, versions=versions, **filing_links(),
        # case_bundle zips the latest version of each filing not cancelled: offered when there is one.
        has_bundle=any(versions[f["id"]] for f in view["filings"] if f["state"] != "cancelled"),
        # File names are typed by people and often carry the complainant's name: only for roles that see it.
        show_filenames="full_name" in PERSON_FIELDS_BY_ROLE.get(role, ()),
        may_upload=role in UPLOAD_ROLES, may_download=role in DOWNLOAD_ROLES,
        upload_form=(upload_form or _upload_form(formdata=None)) if role in UPLOAD_ROLES else None,
        consent=_consent_panel(session, case_row, show_risk_note=role in CONSENT_EDITORS),
        consent_form=consent_form if may_edit_consent else None, body_codes=list(BODIES),
        forms_to_sign=list(CONSENT_FORMS) if role in FORM_ROLES else [], form_languages=FORM_LANGUAGES,
        facts=_facts_panel(session, case_row) if role in LEGAL_FACTS_READERS else None,
        facts_form=facts_form if role == Role.LEGAL else None,
        **_responses_panel(case_row, response_form, response_for),
    )


@bp.route("/cases/<ref>")
@roles(*CASEWORK)
def case(ref: str) -> str:
    return _render_case(ref)


# -- filing documents: each version (.docx, PDF when LibreOffice is installed), a case's bundle (audited) ------

def filing_links(*, collective: bool = False) -> dict[str, Any]:
    """What a page listing filing versions needs to link them: who may download, whether PDF is possible.

    Managers read a collective complaint (they approve it), not individual filings (the service decides).
    """
    may = g.actor.role in BUNDLE_ROLES or (collective and g.actor.role == Role.MANAGER)
    return {"may_download_filings": may, "pdf_available": pdf.office() is not None, "frozen_states": FROZEN_STATES}


@bp.route("/filings/<int:filing_id>/versions/<int:version>")
@roles(*FILING_READERS)
def filing_version(filing_id: int, version: int) -> Response:
    as_pdf = request.args.get("format") == "pdf"
    try:
        filename, media_type, content = filing_document(db(), _settings(), g.actor, filing_id, version=version,
                                                        as_pdf=as_pdf, channel="web")
    except NotFound:
        abort(404, description=_("There is no such version of this filing."))
    except Conflict:  # asked for a PDF on a server without LibreOffice (the page offers no link then)
        abort(409, description=_("PDF copies need LibreOffice on the server. Download the .docx instead."))
    return attachment(content, media_type, filename)


@bp.route("/cases/<ref>/filings.zip")
@roles(*BUNDLE_ROLES)
def filing_bundle(ref: str) -> Response:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    try:
        filename, content = case_bundle(session, _settings(), g.actor, case_row)
    except NotFound:
        abort(404, description=_("This case has no filing document to download."))
    return attachment(content, "application/zip", filename)


# -- case documents: upload, download (audited) ----------------------------------------------------------

class DocumentUploadForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), validators=[DataRequired(message=_l("Choose the kind of document."))])
    file = FileField(_l("File (PDF, JPEG, PNG or DOCX)"), validators=[FileRequired(message=_l("Choose a file."))])


def _upload_form(**kwargs: Any) -> DocumentUploadForm:
    form = DocumentUploadForm(prefix="upload", **kwargs)
    form.kind.choices = [SelectChoice(k, label("document", k)) for k in UPLOAD_KINDS]
    return form


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))
    if size >= 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024, 1)))
    return _("%(size)s bytes", size=format_decimal(size))


def _rejection_text(detail: str) -> str:
    """The storage layer's reason (English, for logs and the API) as a sentence in the user's language."""
    if "empty" in detail:
        return _("The file is empty.")
    if "over the" in detail:
        return _("The file is larger than the limit of %(limit)s.", limit=_size_text(_settings().max_document_bytes))
    if "zip bomb" in detail:
        return _("This DOCX file would expand to far more than its size (a possible zip bomb), so it was refused.")
    if "malformed" in detail:
        return _("This DOCX file is damaged and cannot be read.")
    if "name says" in detail or "not accepted" in detail or "is not a" in detail:
        return _("The content of the file does not match its name. Only PDF, JPEG, PNG and DOCX files are "
                 "accepted, and the name must end in the type the file really is.")
    return detail


@bp.route("/cases/<ref>/documents", methods=["POST"])
@roles(*UPLOAD_ROLES)
def upload_document(ref: str) -> Response | tuple[str, int]:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    form = _upload_form()
    if form.validate_on_submit():
        settings = _settings()
        upload = form.file.data
        content = upload.read(settings.max_document_bytes + 1)
        try:
            document = attach_document(session, settings, g.actor, case_row, form.kind.data, content,
                                       upload.filename or "upload")
        except ValidationFailed as err:
            session.rollback()  # nothing of the refused upload stays (the store refuses before writing)
            if "kind" in err.errors:
                form.kind.errors = [*form.kind.errors, _("Choose one of the kinds listed.")]
            if "file" in err.errors or "kind" not in err.errors:
                form.file.errors = [*form.file.errors, _rejection_text(err.errors.get("file", err.message))]
        else:
            flash(_("Added: %(kind)s, version %(version)s.", kind=label("document", document.kind),
                    version=document.version), "success")
            return redirect(url_for("pages.case", ref=ref, _anchor="h-documents"), 303)  # type: ignore[return-value]
    html = _render_case(ref, upload_form=form)
    keep_despite_error_status()  # the identity read of the page shown again stays audited
    return html, 422


@bp.errorhandler(RequestEntityTooLarge)
def too_large(err: RequestEntityTooLarge) -> tuple[str, int]:
    """The whole request was over the app's limit: refused before it was read, so nothing was stored."""
    ref = (request.view_args or {}).get("ref")
    back = url_for("pages.case", ref=ref, _anchor="h-documents") if ref else url_for("pages.my_tasks")
    message = _("The file is larger than the limit of %(limit)s. Nothing was stored; choose a smaller file.",
                limit=_size_text(_settings().max_document_bytes))
    return render_template("pages/task_error.html", status=413, message=message, back=back), 413


@bp.route("/cases/<ref>/documents/<int:document_id>")
@roles(*DOWNLOAD_ROLES)
def download(ref: str, document_id: int) -> Response:
    session = db()
    try:
        document = get_document(session, document_id, case=get_case(session, ref))
    except NotFound:
        abort(404, description=_("There is no such document in this case."))
    content = download_document(session, _settings(), g.actor, document, channel="web")
    return attachment(content, document.media_type, document.filename)


# -- forms for the complainant to sign (identity fields: intake only, never stored) ----------------------

@bp.route("/cases/<ref>/forms/<form>.docx")
@roles(*FORM_ROLES)
def form_to_sign(ref: str, form: str) -> Response:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    language = request.args.get("lang") or ("ru" if g.actor.locale == "ru" else "en")
    if form not in CONSENT_FORMS:
        abort(404, description=_("There is no such form."))
    if language not in FORM_LANGUAGES:
        abort(404, description=_("This form exists in Russian and English only."))
    settings = _settings()
    content = consent_form(session, g.actor, case_row, form, language, settings.organisation, channel="web")
    return attachment(content, DOCX, f"{ref}-{form}-{language}.docx")


# -- what the complainant allows -------------------------------------------------------------------------

OVERRIDE_CHOICES = ("", "allow", "deny")


class ConsentPermissionsForm(FlaskForm):
    share_name_with_government = BooleanField(_l("Name may be shared with the government concerned"))
    publish_name = BooleanField(_l("Name may appear in public reports"))
    initials_only = BooleanField(_l("Initials only"))
    anonymous = BooleanField(_l("Fully anonymous (excludes all of the above)"))
    risk_note = TextAreaField(_l("Risk note (reprisals, threats, detention)"), validators=[Length(max=RISK_NOTE_MAX)])


for _code in BODIES:
    setattr(ConsentPermissionsForm, f"body_{_code}",
            SelectField(_code, choices=list(OVERRIDE_CHOICES), default="", validate_choice=True))


def _consent_form_for(consent: ConsentRecord | None, **kwargs: Any) -> ConsentPermissionsForm:
    if "formdata" in kwargs:
        return ConsentPermissionsForm(prefix="consent", **kwargs)
    data: dict[str, Any] = {"share_name_with_government": True}  # the model's default for a new record
    if consent is not None:
        data = {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS}
        data["risk_note"] = consent.risk_note or ""
        data.update({f"body_{c}": v for c, v in (consent.body_overrides or {}).items() if c in BODIES})
    return ConsentPermissionsForm(prefix="consent", formdata=None, data=data)


def _consent_panel(session: Any, case_row: Case, *, show_risk_note: bool) -> dict[str, Any] | None:
    consent = case_row.consent
    if consent is None:
        return None
    verifier = session.get(User, consent.verified_by_id) if consent.verified_by_id else None
    proofs = {}
    for kind in ("form_of_appeal", "power_of_attorney"):
        versions = [d for d in case_row.documents if d.kind == kind]
        proofs[kind] = max(versions, key=lambda d: d.version) if versions else None
    return {
        "status": consent.status, "verified_at": consent.verified_at, "withdrawn_at": consent.withdrawn_at,
        "verified_by": (verifier.full_name or verifier.username) if verifier else None,
        "proofs": [(kind, getattr(consent, f"{kind}_verified"), doc) for kind, doc in proofs.items()],
        "flags": {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS},
        "overrides": {c: v for c, v in (consent.body_overrides or {}).items()},
        "risk_note": consent.risk_note if show_risk_note else None,
    }


@bp.route("/cases/<ref>/consent", methods=["POST"])
@roles(*CONSENT_EDITORS)
def update_consent(ref: str) -> Response | tuple[str, int]:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    back = url_for("pages.case", ref=ref, _anchor="h-consent")
    if case_row.consent is not None and case_row.consent.status == "withdrawn":
        return _consent_withdrawn(back)
    form = _consent_form_for(case_row.consent, formdata=request.form)
    if form.validate_on_submit():
        fields: dict[str, Any] = {f: bool(getattr(form, f).data) for f in PERMISSION_FLAGS}
        fields["body_overrides"] = {c: getattr(form, f"body_{c}").data for c in BODIES
                                    if getattr(form, f"body_{c}").data}
        fields["risk_note"] = form.risk_note.data or None
        try:
            update_consent_permissions(session, g.actor, case_row, **fields)
        except Conflict:
            return _consent_withdrawn(back)
        except ValidationFailed as err:
            session.rollback()
            for name in err.errors:
                target = "anonymous" if name.startswith("body_overrides") else name
                if hasattr(form, target):
                    getattr(form, target).errors = [*getattr(form, target).errors, _consent_error(name)]
        else:
            flash(_("Consent choices saved."), "success")
            return redirect(back, 303)  # type: ignore[return-value]
    html = _render_case(ref, consent_form=form)
    keep_despite_error_status()
    return html, 422


def _consent_error(name: str) -> str:
    if name == "anonymous":
        return _("Fully anonymous excludes sharing or publishing the name and initials: untick one.")
    if name.startswith("body_overrides"):
        return _("Fully anonymous excludes allowing any body to name the person.")
    if name == "risk_note":
        return _("The risk note is too long.")
    return _("This value is not valid.")


def _consent_withdrawn(back: str) -> tuple[str, int]:
    message = _("Consent for this case was withdrawn: what it allowed can no longer change.")
    return render_template("pages/task_error.html", status=409, message=message, back=back), 409


# -- legal facts (legal officers edit; managers read) -----------------------------------------------------

DATE_FACTS = ("remedies_exhausted_on", "other_procedure_concluded_on")
FACTS = LABELS["fact"]
# The service's reasons (English, for the API and logs) as sentences in the user's language.
FACT_ERRORS = {
    "must be a date (YYYY-MM-DD)": _l("Enter a date (year, month and day)."),
    "cannot be in the future": _l("This date is in the future."),
    "must be a two-letter country code (ISO 3166-1)": _l("Enter the state's two-letter code (ISO 3166-1), e.g. KZ."),
    "give the date the other procedure concluded": _l("Give the date the other procedure concluded."),
    "name the other procedure": _l("Name the other procedure."),
}
TOO_LONG = _l("At most %(max)d characters.")


class LegalFactsForm(FlaskForm):
    """Types and lengths only: the service checks the rest (dates, codes, what goes together) and says what is wrong."""

    state_code = StringField(FACTS["state_code"])
    deprived_of_liberty = BooleanField(FACTS["deprived_of_liberty"])
    torture_risk = BooleanField(FACTS["torture_risk"])
    remedies_exhausted_on = StringField(FACTS["remedies_exhausted_on"], widget=DateInput())
    remedies_summary = TextAreaField(FACTS["remedies_summary"], validators=[Length(max=SUMMARY_MAX, message=TOO_LONG)])
    remedies_ineffective = BooleanField(FACTS["remedies_ineffective"])
    other_procedure = SelectField(FACTS["other_procedure"])
    other_procedure_name = StringField(FACTS["other_procedure_name"],
                                       validators=[Length(max=NAME_MAX, message=TOO_LONG)])
    other_procedure_concluded_on = StringField(FACTS["other_procedure_concluded_on"], widget=DateInput())
    eu_status = SelectField(FACTS["eu_status"])
    eu_subject = BooleanField(FACTS["eu_subject"])


def _legal_facts_form(facts: LegalFacts | None = None) -> LegalFactsForm:
    """The posted form, or (``facts`` given) one filled from the case's facts."""
    if facts is None:
        form = LegalFactsForm(prefix="facts")
    else:
        data = {name: getattr(facts, name) for name in FACT_FIELDS}
        data.update({name: data[name].isoformat() if data[name] else "" for name in DATE_FACTS})
        form = LegalFactsForm(prefix="facts", formdata=None, data=data)
    form.other_procedure.choices = [SelectChoice(k, label("other_procedure", k)) for k in OTHER_PROCEDURES]
    form.eu_status.choices = [SelectChoice(k, label("eu_status", k)) for k in EU_STATUSES]
    return form


def _facts_panel(session: Any, case_row: Case) -> dict[str, Any]:
    stored = case_row.legal_facts
    by = page_support.user_names(session, {stored.updated_by_id}) if stored and stored.updated_by_id else {}
    return {"facts": legal_facts(case_row), "recorded": stored is not None,
            "updated_at": stored.updated_at if stored else None,
            "updated_by": by.get(stored.updated_by_id) if stored and stored.updated_by_id else None}


@bp.route("/cases/<ref>/legal-facts", methods=["POST"])
@roles(Role.LEGAL)
def update_legal_facts(ref: str) -> Response | tuple[str, int]:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    form = _legal_facts_form()
    if form.validate_on_submit():
        try:
            update_legal_facts_service(session, g.actor, case_row, {n: getattr(form, n).data for n in FACT_FIELDS})
        except ValidationFailed as err:
            session.rollback()  # the service may have applied some fields before refusing the combination
            for name, message in err.errors.items():
                if name in FACT_FIELDS:
                    getattr(form, name).errors = [*getattr(form, name).errors, _fact_error(message)]
        else:
            flash(_("Legal facts saved."), "success")
            return redirect(url_for("pages.case", ref=ref, _anchor="legal-facts"), 303)  # type: ignore[return-value]
    html = _render_case(ref, facts_form=form)
    keep_despite_error_status()
    return html, 422


def _fact_error(message: str) -> str:
    known = FACT_ERRORS.get(message)
    return str(known) if known is not None else _("This value is not valid.")


# -- completing a task from the case page ----------------------------------------------------------------

@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@roles(*CASEWORK)
def task(task_id: str) -> Response | tuple[str, int]:
    session = db()
    found = page_support.task_row(session, task_id)
    if found is None or (found.ref is None and found.collective_id is None):
        abort(404, description=_("There is no such task."))
    row = found.task
    home = _task_home(found)
    if request.method == "GET":  # a link to a task opens its form on its page
        return redirect(f"{home}#task-{task_id}")
    back_label = _("Back to the collective complaint") if found.collective_id is not None else None
    if row.state != "ready":
        return _task_conflict(home, back_label)
    if row.lane != g.actor.role:
        return _refused(_("This task is for the %(lane)s team.", lane=label("role", row.lane)), home, back_label)
    name = _task_name(row.bpmn_id, row.name)
    schema = page_support.task_schema(session, row) or {"type": "object", "properties": {}}
    data = forms.convert(schema, request.form)
    try:
        complete_task(session, _settings(), task_id, g.actor, data)
    except ValidationFailed as err:
        session.rollback()  # nothing of the refused attempt stays
        submitted = {task_id: (forms.typed_values(schema, request.form), _blocked_bodies_error(row.bpmn_id,
                                                                                                err.errors))}
        html = _render_task_home(found, submitted)
        keep_despite_error_status()
        return html, 422
    except Forbidden:
        return _refused(_("Four eyes: you did the step this one checks, so another person must do it."), home,
                        back_label)
    except Conflict:
        return _task_conflict(home, back_label)
    flash(_("Done: %(task)s.", task=name), "success")
    return redirect(home, 303)  # type: ignore[return-value]


def _task_home(found: page_support.TaskHome) -> str:
    if found.collective_id is not None:
        return url_for("collective.show", collective_id=found.collective_id)
    return url_for("pages.case", ref=found.ref)


def _render_task_home(found: page_support.TaskHome, submitted: dict[str, Any]) -> str:
    """The task's page again, with the refused form as typed and its errors."""
    if found.collective_id is not None:
        # web.collective builds its pages from this module's task panels, so it is imported here, not above.
        from web.collective import render_collective

        return render_collective(found.collective_id, submitted=submitted)
    return _render_case(str(found.ref), submitted=submitted)


# The field a review step reports blocked bodies under, as "code: reason code: reason" (English, for the API).
BLOCKED_FIELD = {"legal_review": "bodies", "approve_review": "decision"}


def _blocked_bodies_error(bpmn_id: str, errors: dict[str, str]) -> dict[str, str]:
    """A review refused because a body cannot take the case: the bodies by name in the user's language, pointing to
    the admissibility table above the form, which has the reasons translated."""
    name = BLOCKED_FIELD.get(bpmn_id)
    message = errors.get(name) if name else None
    if not message:
        return errors
    codes = [code for code in data_labels()["body"] if re.search(rf"(?:^| ){re.escape(code)}: ", message)]
    if not codes:  # refused for another reason (e.g. "is required"): the service's message stands
        return errors
    bodies = ", ".join(label("body", code) for code in codes)
    if bpmn_id == "legal_review":
        text = _("%(bodies)s cannot take this case: see the admissibility checks above.", bodies=bodies)
    else:
        text = _("The case changed since the review: %(bodies)s can no longer take it. Return it to the reviewer.",
                 bodies=bodies)
    return {**errors, name: text}


def _refused(message: str, back: str, back_label: str | None = None) -> tuple[str, int]:
    return render_template("pages/task_error.html", status=403, message=message, back=back,
                           back_label=back_label), 403


def _task_conflict(back: str, back_label: str | None = None) -> tuple[str, int]:
    message = _("Someone else completed this task first. Open its page again to see where it stands.")
    return render_template("pages/task_error.html", status=409, message=message, back=back,
                           back_label=back_label), 409


# -- withdrawal of consent -------------------------------------------------------------------------------

class WithdrawConsentForm(FlaskForm):
    reason = TextAreaField(_l("Why was consent withdrawn?"), validators=[
        DataRequired(message=_l("Give the reason.")), Length(max=5000)])


@bp.route("/cases/<ref>/consent/withdraw", methods=["GET", "POST"])
@roles(*CASEWORK)
def withdraw_consent(ref: str) -> Response | tuple[str, int]:
    session = db()
    try:
        case_row = get_case(session, ref)
    except NotFound:
        abort(404, description=_("There is no case with this reference."))
    form = WithdrawConsentForm()
    status = 200
    withdrawn = case_row.consent is not None and case_row.consent.status == "withdrawn"
    if request.method == "POST" and withdrawn:
        status = 409
    elif request.method == "POST":
        if form.validate_on_submit():
            try:
                withdraw_consent_service(session, _settings(), g.actor, case_row, form.reason.data)
            except ValidationFailed as err:
                form.reason.errors = [*form.reason.errors, _(err.errors.get("reason", err.message))]
            except Conflict:
                withdrawn = True
            else:
                flash(_("Consent withdrawn. Pending filings for %(ref)s were stopped.", ref=ref), "success")
                return redirect(url_for("pages.case", ref=ref), 303)  # type: ignore[return-value]
        status = 409 if withdrawn else 422
    return render_template("pages/withdraw_consent.html", form=form, ref=ref, withdrawn=withdrawn), status


# -- responses from bodies (intake and legal record them; legal and managers mark a reply to a body sent) ---

RESPONSE_ROLES = (Role.INTAKE, Role.LEGAL)
# Filings in these states may still be waiting for the body (the service decides: 409 when it is not).
OPEN_FILING_STATES = ("submitted", "acknowledged", "transmitted", "replied")
LABELS["response_kind"] = {
    "acknowledgement": _l("Acknowledgement of receipt"), "request_for_information": _l("Request for information"),
    "transmitted_to_state": _l("Transmitted to the state"), "state_reply": _l("The state's reply"),
    "decision": _l("Decision"), "follow_up": _l("Follow-up"),
}
LABELS["deadline"][RFI_LABEL] = _l("Reply to the request for information")


class ResponseForm(FlaskForm):
    """Types and lengths only: the service checks the kind, the date and the letter."""

    kind = SelectField(_l("Kind of response"), validate_choice=False,
                       validators=[DataRequired(message=_l("Choose the kind of response."))])
    received_on = StringField(_l("Received on"), widget=DateInput(),
                              validators=[DataRequired(message=_l("Enter a date (year, month and day)."))])
    reference = StringField(_l("The body's reference"), validators=[Length(max=200, message=TOO_LONG)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20000, message=TOO_LONG)])
    file = FileField(_l("The letter (PDF, JPEG, PNG or DOCX; optional)"))


def _response_form(filing_id: int, **kwargs: Any) -> ResponseForm:
    form = ResponseForm(prefix=f"response{filing_id}", **kwargs)
    form.kind.choices = [SelectChoice(k, label("response_kind", k)) for k in RESPONSE_KINDS]
    return form


def _responses_panel(case_row: Case, posted: ResponseForm | None, posted_for: int | None) -> dict[str, Any]:
    """Per filing: the responses recorded, and the form to record one (this user's role, a filing out)."""
    may = g.actor.role in RESPONSE_ROLES
    response_forms = {}
    for f in case_row.filings:
        if may and f.submitted_on is not None and f.state in OPEN_FILING_STATES:
            response_forms[f.id] = posted if posted is not None and posted_for == f.id else \
                _response_form(f.id, formdata=None)
    rfi = open_reply_deadlines(db(), case_row.id) if g.actor.role in CLOSE_ROLES else []
    return {"responses": {f.id: sorted(f.responses, key=lambda r: (r.received_on, r.id)) for f in case_row.filings},
            "response_forms": response_forms, "rfi_deadlines": rfi}


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.route("/filings/<int:filing_id>/responses", methods=["POST"])
@roles(*RESPONSE_ROLES)
def record_response(filing_id: int) -> Response | tuple[str, int]:
    session = db()
    filing = session.get(Filing, filing_id)
    if filing is None:
        abort(404, description=_("There is no such filing."))
    back = _filing_home(filing)
    form = _response_form(filing_id)
    valid = form.validate_on_submit()
    received_on = _parse_day(form.received_on.data or "")
    if form.received_on.data and received_on is None:
        form.received_on.errors = [_("Enter a date (year, month and day).")]
        valid = False
    if valid and received_on is not None:
        settings = _settings()
        upload = form.file.data
        document = None
        if upload is not None and getattr(upload, "filename", None):
            document = (upload.read(settings.max_document_bytes + 1), upload.filename)
            if len(document[0]) > settings.max_document_bytes:
                message = _("The file is larger than the limit of %(limit)s. Nothing was stored; choose a smaller "
                            "file.", limit=_size_text(settings.max_document_bytes))
                return render_template("pages/task_error.html", status=413, message=message, back=back), 413
        try:
            record_response_service(session, settings, g.actor, filing_id, kind=form.kind.data,
                                    received_on=received_on, reference=(form.reference.data or "").strip() or None,
                                    summary=(form.summary.data or "").strip() or None, document=document)
        except ValidationFailed as err:
            session.rollback()
            if "kind" in err.errors:
                form.kind.errors = [*form.kind.errors, _("Choose one of the kinds listed.")]
            if "received_on" in err.errors:
                form.received_on.errors = [*form.received_on.errors, _("This date is in the future.")]
            if "file" in err.errors or not ({"kind", "received_on"} & set(err.errors)):
                form.file.errors = [*form.file.errors, _rejection_text(err.errors.get("file", err.message))]
        except Conflict:
            session.rollback()
            message = _("This filing is not waiting for a response from the body (a follow-up or the outcome is "
                        "pending, or it was not submitted yet). Nothing was recorded.")
            return render_template("pages/task_error.html", status=409, message=message, back=back), 409
        except NotFound:
            abort(404, description=_("This filing has no running process."))
        else:
            flash(_("Response recorded: %(kind)s.", kind=label("response_kind", form.kind.data)), "success")
            return redirect(back, 303)  # type: ignore[return-value]
    if filing.case is None:  # a collective complaint's filing: its page shows no form, so the errors go here
        return render_template("pages/task_error.html", status=422, back=back, message=_(
            "Nothing was recorded: %(errors)s", errors=" ".join(e for f in form for e in f.errors))), 422
    html = _render_case(filing.case.ref, response_form=form, response_for=filing_id)
    keep_despite_error_status()
    return html, 422


def _filing_home(filing: Filing) -> str:
    if filing.case is not None:
        return url_for("pages.case", ref=filing.case.ref, _anchor=f"filing-{filing.id}")
    return url_for("collective.show", collective_id=filing.collective_id)


@bp.route("/deadlines/<int:deadline_id>/close", methods=["POST"])
@roles(*CLOSE_ROLES)
def close_deadline(deadline_id: int) -> Response | tuple[str, int]:
    session = db()
    try:
        row = close_deadline_service(session, g.actor, deadline_id)
    except NotFound:
        abort(404, description=_("There is no such deadline."))
    except Conflict:
        message = _("This deadline is already closed, or it closes by itself.")
        return render_template("pages/task_error.html", status=409, message=message,
                               back=url_for("pages.my_tasks")), 409
    case_row = session.get(Case, row.case_id) if row.case_id else None
    flash(_("Marked as replied."), "success")
    back = url_for("pages.case", ref=case_row.ref, _anchor="h-deadlines") if case_row else url_for("pages.my_tasks")
    return redirect(back, 303)  # type: ignore[return-value]
