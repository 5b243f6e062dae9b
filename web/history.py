"""Audit events as a history people read: who did what, when, in the user's language (case and complaint pages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from web.labels import label, task_name
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow.models import AuditEvent
from workflow.states import Decision

ACTION_LABELS: dict[str, Any] = {
    "case_opened": _l("Case opened"),
    "case_updated": _l("Case updated from an import"),
    "person_edited": _l("Complainant's details corrected"),
    "facts_edited": _l("Facts of the appeal corrected"),
    "process_started": _l("Process started"),
    "task_completed": _l("Task completed"),
    "document_uploaded": _l("Document added"),
    "document_downloaded": _l("Document opened"),
    "filing_bundle_downloaded": _l("Filings and annexes downloaded (zip)"),
    "consent_updated": _l("Consent choices changed"),
    "consent_form_downloaded": _l("Form to sign prepared"),
    "consent_withdrawn": _l("Consent withdrawn"),
    "filing_generated": _l("Filing document generated"),
    "collective_narrative_changed": _l("Complaint's text rewritten"),
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
    # The facts for the filings (services/facts.py): the detail names the fields, never their values.
    "person_facts_edited": _l("The person's facts changed"),
    "unknown_facts_changed": _l("Facts marked as not known changed"),
    "perpetrator_added": _l("Perpetrator added"), "perpetrator_updated": _l("Perpetrator changed"),
    "perpetrator_removed": _l("Perpetrator removed"),
    "incident_added": _l("Incident added"), "incident_updated": _l("Incident changed"),
    "incident_removed": _l("Incident removed"),
    "arrest_added": _l("Arrest added"), "arrest_updated": _l("Arrest changed"), "arrest_removed": _l("Arrest removed"),
    "ill_treatment_added": _l("Ill-treatment added"), "ill_treatment_updated": _l("Ill-treatment changed"),
    "ill_treatment_removed": _l("Ill-treatment removed"),
    "remedy_step_added": _l("Remedy step added"), "remedy_step_updated": _l("Remedy step changed"),
    "remedy_step_removed": _l("Remedy step removed"),
}
# The label group of a row's fields (web/labels.py), by the row's name in the audit log.
FACT_GROUPS = {"person_facts": "person", "perpetrator": "perpetrators", "incident": "incidents", "arrest": "arrests",
               "ill_treatment": "ill_treatments", "remedy_step": "remedy_steps"}
# The steps whose refusal or return carries the reason given (the form's notes) into the history.
REVIEW_STEPS = ("legal_review", "approve_review")


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    text: str
    detail: str


def history_entries(events: list[AuditEvent], reasons: dict[int, str] | None = None) -> list[HistoryEntry]:
    """``reasons``: audit event id -> the reason of a review's return or rejection (``services.history.review_reasons``:
    the audit log holds no text)."""
    return [HistoryEntry(event.at, event.actor.display_name if event.actor else _("Petitio (automatic)"),
                         *_text(event, (reasons or {}).get(event.id, ""))) for event in events]


def _text(event: AuditEvent, reason: str = "") -> tuple[str, str]:
    data = event.data or {}
    text = str(ACTION_LABELS.get(event.action) or event.action.replace("_", " ").capitalize())
    if event.action == "consent_withdrawn" and event.object_type == "process_instance":
        text = _("Process stopped: consent withdrawn")
    elif event.action == "escalated" and data.get("reason") == "urgent":
        text = _("Urgent case: a manager is alerted")
    return text, _detail(event.action, data, reason)


def _detail(action: str, data: dict[str, Any], reason: str = "") -> str:
    if action == "task_completed" and data.get("task"):
        return _completion(data["task"], data, reason)
    if action == "case_opened" and data.get("imported"):
        return _("imported")
    if action == "collective_narrative_changed":  # the sections, never their text
        return ", ".join(label("collective_section", s) for s in data.get("sections", ()))
    if action in ("person_edited", "facts_edited"):  # the names of the fields, never their values
        return ", ".join(label("appeal", f, label("person", f)) for f in data.get("fields", ()))
    if (group := FACT_GROUPS.get(action.rsplit("_", 1)[0])) is not None:
        return ", ".join(_("not known") if f == "unknown" else label(group, f) for f in data.get("fields", ()))
    if action == "unknown_facts_changed":
        return ", ".join(label("case_fact", k) for k in (*data.get("marked", ()), *data.get("unmarked", ())))
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
        return task_name(str(data.get("task", "")))
    if action in ("response_recorded", "response_received") and data.get("kind"):
        return label("response_kind", data["kind"])
    return ""


def _completion(bpmn_id: str, data: dict[str, Any], reason: str) -> str:
    """The step, the choice made, and for a review sent back or rejected the reason given (the review's notes)."""
    choice = data.get("decision") or data.get("action")
    detail = task_name(bpmn_id)
    if choice:
        detail += " — " + label("option", choice)
    reason = (reason or "").strip()
    if bpmn_id in REVIEW_STEPS and choice in (Decision.RETURN, Decision.REJECT) and reason:
        detail += " — " + _("reason: %(reason)s", reason=reason)
    return detail
