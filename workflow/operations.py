"""Service operations that BPMN service tasks call (``spiffworkflow:serviceTaskOperator``).

Each takes the ``ServiceContext`` of the unit of work it runs in and returns small JSON data: ids and
dates, never documents (those go to the document store; task data holds only their ids).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

import filings
from workflow.audit import audit
from workflow.bodies import get_body
from workflow.models import AuditEvent, Document, DocumentKind, Filing
from workflow.runtime.context import ServiceContext
from workflow.runtime.scripting import service_operation
from workflow.services.review import is_urgent
from workflow.snapshots import case_snapshot

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FROZEN_STATES = frozenset({"checked", "submitted", "acknowledged", "transmitted", "replied", "decided",
                           "closed", "cancelled"})
PENDING_STATES = frozenset({"draft", "checked"})


def _filing(ctx: ServiceContext, filing_id: int) -> Filing:
    filing = ctx.session.get(Filing, filing_id)
    if filing is None or filing.case_id != ctx.case.id:
        raise LookupError(f"filing {filing_id} does not belong to case {ctx.case.ref}")
    return filing


@service_operation("generate_filing")
def generate_filing(ctx: ServiceContext, case_ref: str, body: str, filing_id: int | None = None,
                   grounds: list[str] | None = None, mandates: list[str] | None = None) -> dict[str, Any]:
    case = ctx.case
    if case.ref != case_ref:
        raise LookupError(f"case {case_ref} is not this instance's case")
    info = get_body(ctx.session, body)
    if filing_id is None:
        filing = Filing(case=case, body=body, language=info.languages[0], kind="individual", state="draft")
        ctx.session.add(filing)
        ctx.session.flush()
    else:
        filing = _filing(ctx, filing_id)
        if filing.state in FROZEN_STATES:
            raise ValueError(f"filing {filing.id} is {filing.state} and can no longer be regenerated")
    snapshot = case_snapshot(case, body, filing.language, ctx.settings.organisation,
                             grounds=tuple(grounds or ()), mandates=tuple(mandates or ()), urgent=case.urgent)
    content = filings.render(snapshot)
    blob = ctx.store.put_generated(content, DOCX)
    version = len(filing.documents) + 1
    document = Document(case_id=case.id, filing_id=filing.id, kind=DocumentKind.FILING,
                        filename=f"{case.ref}-{body}-v{version}.docx", media_type=blob.media_type,
                        size=blob.size, sha256=blob.sha256, storage_key=blob.key, version=version,
                        uploaded_by_id=None)
    ctx.session.add(document)
    ctx.session.flush()
    ctx.session.expire(filing, ["documents"])
    audit(ctx.session, ctx.actor, "filing_generated", "filing", filing.id, case.id,
          {"body": body, "version": version, "document_id": document.id})
    return {"filing_id": filing.id, "document_id": document.id, "version": version, "body": body,
            "language": filing.language, "follow_up_days": info.follow_up_days}


@service_operation("set_filing_state")
def set_filing_state(ctx: ServiceContext, filing_id: int, state: str) -> str:
    filing = _filing(ctx, filing_id)
    filing.state = state
    audit(ctx.session, ctx.actor, f"filing_{state}", "filing", filing.id, ctx.case.id, {"body": filing.body})
    return state


@service_operation("record_filing_submission")
def record_filing_submission(ctx: ServiceContext, filing_id: int, submitted_on: str, channel: str,
                      reference: str | None = None) -> dict[str, Any]:
    filing = _filing(ctx, filing_id)
    filing.state = "submitted"
    filing.submitted_on = date.fromisoformat(submitted_on)
    filing.channel = channel
    filing.external_reference = reference or None
    # The window runs from the day it was sent, not from when someone recorded it.
    # Read from the catalogue now: editing a window changes the clocks that start after the edit only.
    due = datetime.combine(filing.submitted_on, time(9, 0), tzinfo=UTC) + timedelta(
        days=get_body(ctx.session, filing.body).response_days)
    audit(ctx.session, ctx.actor, "filing_submitted", "filing", filing.id, ctx.case.id,
          {"body": filing.body, "channel": channel, "response_due": due.isoformat()})
    return {"response_due": due.isoformat()}


@service_operation("escalate")
def escalate(ctx: ServiceContext, task: str, role: str, reason: str = "late") -> dict[str, Any]:
    """Leave an alert for a role: a service level was missed (``late``) or an urgent case arrived (``urgent``)."""
    audit(ctx.session, None, "escalated", "case", ctx.case.ref, ctx.case.id,
          {"task": task, "role": role, "reason": reason})
    return {"task": task, "role": role, "reason": reason, "at": ctx.now.isoformat()}


@service_operation("triage_case")
def triage_case(ctx: ServiceContext, case_ref: str) -> dict[str, Any]:
    """Urgent (detained now, risk of torture, or marked so)? And has a manager not been alerted yet?"""
    case = ctx.case
    if case.ref != case_ref:
        raise LookupError(f"case {case_ref} is not this instance's case")
    urgent = is_urgent(ctx.session, case)
    case.urgent = urgent
    alerted = ctx.session.scalar(
        select(AuditEvent.id).where(AuditEvent.case_id == case.id, AuditEvent.action == "escalated",
                                    AuditEvent.data["reason"].as_string() == "urgent").limit(1))
    return {"urgent": urgent, "alert": urgent and alerted is None}


@service_operation("cancel_pending_filings")
def cancel_pending_filings(ctx: ServiceContext, case_ref: str) -> list[dict[str, Any]]:
    """Consent withdrawn: cancel filings not yet sent; list those already with a body (to inform it)."""
    submitted = []
    for filing in ctx.case.filings:
        if filing.state in PENDING_STATES:
            filing.state = "cancelled"
            audit(ctx.session, ctx.actor, "filing_cancelled", "filing", filing.id, ctx.case.id,
                  {"body": filing.body, "reason": "consent withdrawn"})
        elif filing.state not in ("cancelled", "closed"):
            submitted.append({"filing_id": filing.id, "body": filing.body,
                              "reference": filing.external_reference})
    return submitted
