"""Service operations that BPMN service tasks call (``spiffworkflow:serviceTaskOperator``), and their registry.

Each takes the ``ServiceContext`` of the unit of work it runs in and returns small JSON data: ids and
dates, never documents (those go to the document store; task data holds only their ids). ``OPERATIONS`` is
handed to the runtime explicitly (``services/processes.py``, ``services/install.py``): the runtime imports
nothing above it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from workflow.audit import audit
from workflow.bodies import get_body
from workflow.models import AuditEvent, CollectiveComplaint, Deadline, Filing
from workflow.runtime.context import ServiceContext
from workflow.runtime.scripting import Operations
from workflow.services.filing_documents import filing_language, render_case_filing, render_collective_filing
from workflow.services.review import approved_review, is_urgent
from workflow.states import PENDING_FILING_STATES, DeadlineState, FilingState


def _filing(ctx: ServiceContext, filing_id: int) -> Filing:
    """The filing, if it belongs to this instance: its case's, or its collective complaint's."""
    filing = ctx.session.get(Filing, filing_id)
    if filing is not None and ctx.instance.case_id is not None and filing.case_id == ctx.instance.case_id:
        return filing
    if filing is not None and filing.collective_id is not None and ctx.instance.case_id is None:
        owner = ctx.session.get(CollectiveComplaint, filing.collective_id)
        if owner is not None and owner.instance_id == ctx.instance.id:
            return filing
    raise LookupError(f"filing {filing_id} does not belong to process instance {ctx.instance.id}")


def generate_filing(ctx: ServiceContext, case_ref: str, body: str, filing_id: int | None = None) -> dict[str, Any]:
    """Render a new version of the case's filing for ``body`` (grounds and mandates: the approved review)."""
    case = ctx.case
    if case.ref != case_ref:
        raise LookupError(f"case {case_ref} is not this instance's case")
    if filing_id is None:
        # The language the legal officer chose for this body at the review (default: the body's first).
        review = approved_review(ctx.session, case)
        chosen = review.languages.get(body) if review is not None and review.languages else None
        filing = Filing(case=case, body=body, kind="individual", state=FilingState.DRAFT,
                        language=filing_language(ctx.session, body, chosen, ctx.settings.templates_dir))
        ctx.session.add(filing)
        ctx.session.flush()
    else:
        filing = _filing(ctx, filing_id)
    document = render_case_filing(ctx.session, ctx.settings, ctx.store, filing, ctx.actor)
    return {"filing_id": filing.id, "document_id": document.id, "version": document.version, "body": body,
            "language": filing.language}


def generate_collective(ctx: ServiceContext, collective_id: int) -> dict[str, Any]:
    """Render a new version of a collective complaint (its filing exists from the moment it is opened)."""
    collective = ctx.session.get(CollectiveComplaint, collective_id)
    if collective is not None and collective.instance_id is None:
        collective.instance_id = ctx.instance.id  # the process started for it claims it on its first step
    if collective is None or collective.instance_id != ctx.instance.id or collective.filing is None:
        raise LookupError(f"collective complaint {collective_id} is not this instance's")
    document = render_collective_filing(ctx.session, ctx.settings, ctx.store, collective, ctx.actor)
    return {"filing_id": collective.filing.id, "document_id": document.id, "version": document.version,
            "body": collective.body, "language": collective.language}


def set_filing_state(ctx: ServiceContext, filing_id: int, state: str) -> str:
    filing = _filing(ctx, filing_id)
    filing.state = state
    audit(ctx.session, ctx.actor, f"filing_{state}", "filing", filing.id, filing.case_id, {"body": filing.body})
    return state


def record_filing_submission(ctx: ServiceContext, filing_id: int, submitted_on: str, channel: str,
                      reference: str | None = None) -> dict[str, Any]:
    filing = _filing(ctx, filing_id)
    filing.state = FilingState.SUBMITTED
    filing.submitted_on = date.fromisoformat(submitted_on)
    filing.channel = channel
    filing.external_reference = reference or None
    # The window runs from the day it was sent, not from when someone recorded it.
    # Read from the catalogue now: editing a window changes the clocks that start after the edit only.
    due = datetime.combine(filing.submitted_on, time(9, 0), tzinfo=UTC) + timedelta(
        days=get_body(ctx.session, filing.body).response_days)
    # What went out: the current version, which nothing could follow once the filing was checked.
    sent = max(filing.documents, key=lambda d: d.version, default=None)
    audit(ctx.session, ctx.actor, "filing_submitted", "filing", filing.id, filing.case_id,
          {"body": filing.body, "channel": channel, "response_due": due.isoformat(),
           "version": sent.version if sent else None, "document_id": sent.id if sent else None})
    return {"response_due": due.isoformat()}


def follow_up_window(ctx: ServiceContext, filing_id: int) -> str:
    """When to look again after a follow-up: the body's follow-up interval as the catalogue says today."""
    filing = _filing(ctx, filing_id)
    return (ctx.now + timedelta(days=get_body(ctx.session, filing.body).follow_up_days)).isoformat()


def escalate(ctx: ServiceContext, task: str, role: str, reason: str = "late") -> dict[str, Any]:
    """Leave an alert for a role: a service level was missed (``late``) or an urgent case arrived (``urgent``)."""
    case = ctx.instance.case  # None for a collective complaint's process
    if case is None and ctx.session.scalar(
            select(CollectiveComplaint.id).where(CollectiveComplaint.instance_id == ctx.instance.id)) is None:
        raise LookupError("this process instance belongs to no case or collective complaint")
    if reason == "late" and ctx.session.scalar(
            select(Deadline.id).where(Deadline.instance_id == ctx.instance.id, Deadline.state == DeadlineState.OPEN,
                                      Deadline.escalated_at.is_not(None), Deadline.filing_id.is_(None)).limit(1)):
        # The case's work is already late, a manager alerted and the deadline still on the overdue list
        # (runtime/instances.py keeps it open): the fresh clock of the same work alerts nobody again.
        return {"task": task, "role": role, "reason": reason, "at": ctx.now.isoformat(), "repeated": True}
    audit(ctx.session, None, "escalated", "case" if case else "process_instance",
          case.ref if case else ctx.instance.id, ctx.instance.case_id, {"task": task, "role": role, "reason": reason})
    return {"task": task, "role": role, "reason": reason, "at": ctx.now.isoformat()}


def triage_case(ctx: ServiceContext, case_ref: str) -> dict[str, Any]:
    """Urgent (detained now, risk of torture, or marked so)? And has a manager not been alerted yet?"""
    case = ctx.case
    if case.ref != case_ref:
        raise LookupError(f"case {case_ref} is not this instance's case")
    urgent = is_urgent(ctx.session, case)
    case.urgent = urgent
    if not urgent:  # most cases: no alert to look for (the query runs on every completion that triages)
        return {"urgent": False, "alert": False}
    alerted = ctx.session.scalar(
        select(AuditEvent.id).where(AuditEvent.case_id == case.id, AuditEvent.action == "escalated",
                                    AuditEvent.data["reason"].as_string() == "urgent").limit(1))
    return {"urgent": True, "alert": alerted is None}


def cancel_pending_filings(ctx: ServiceContext, case_ref: str) -> list[dict[str, Any]]:
    """Consent withdrawn: cancel filings not yet sent; list those already with a body (to inform it)."""
    submitted = []
    for filing in ctx.case.filings:
        if filing.state in PENDING_FILING_STATES:
            filing.state = FilingState.CANCELLED
            audit(ctx.session, ctx.actor, "filing_cancelled", "filing", filing.id, ctx.case.id,
                  {"body": filing.body, "reason": "consent_withdrawn"})
        elif filing.state not in (FilingState.CANCELLED, FilingState.CLOSED):
            submitted.append({"filing_id": filing.id, "body": filing.body,
                              "reference": filing.external_reference})
    return submitted


OPERATIONS: Operations = {
    "generate_filing": generate_filing,
    "generate_collective": generate_collective,
    "set_filing_state": set_filing_state,
    "record_filing_submission": record_filing_submission,
    "follow_up_window": follow_up_window,
    "escalate": escalate,
    "triage_case": triage_case,
    "cancel_pending_filings": cancel_pending_filings,
}
