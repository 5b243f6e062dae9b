"""Small services the JSON API needs beyond the shared ones: appeal intake, list rows, filings, downloads.

Nothing here knows HTTP; the web layer turns the errors raised (workflow.errors) into status codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from workflow import vocab
from workflow.appeals import OPTIONAL, REQUIRED, AppealErrors, parse_appeal
from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.models import Case, Deadline, Document, Episode, Filing, User, utcnow
from workflow.runtime.context import document_store
from workflow.services import queries
from workflow.services.cases import open_case

DOCUMENT_FIELDS = ("form_of_appeal", "power_of_attorney")


def _cell(value: Any) -> Any:
    """A JSON value as parse_appeal reads a spreadsheet cell (lists of keys are `;`-separated there)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def open_appeal(session: Session, settings: Settings, actor: User, fields: Mapping[str, Any]) -> Case:
    """Intake of one appeal typed in (no documents yet: those are uploaded to the case afterwards).

    Raises ValidationFailed naming each bad field (domain rules of workflow.appeals), Conflict when the
    reference is taken. The case starts its process at ``complete_intake``.
    """
    errors = {f: "upload the document to the case after creating it" for f in DOCUMENT_FIELDS if fields.get(f)}
    if errors:
        raise ValidationFailed("documents are uploaded separately", errors=errors)
    row = {column: _cell(fields.get(column)) for column in REQUIRED + OPTIONAL}
    try:
        appeal = parse_appeal(row, set(session.scalars(select(Episode.key))), set(vocab.keys(session, "incident_type")))
    except AppealErrors as err:
        raise ValidationFailed("the appeal has errors", errors=err.errors) from None
    if session.scalar(select(Case.id).where(Case.ref == appeal.ref)) is not None:
        raise Conflict(f"a case {appeal.ref!r} already exists", errors={"ref": "already exists"})
    try:
        return open_case(session, settings, actor, appeal, {}, imported=False)
    except IntegrityError:  # the same reference created by a concurrent request
        raise Conflict(f"a case {appeal.ref!r} already exists", errors={"ref": "already exists"}) from None


def case_rows(session: Session, cases: Sequence[Case], now: datetime | None = None) -> list[dict[str, Any]]:
    """List rows without identity fields: reference, stage, urgency, city, overdue, ready tasks."""
    return [{"ref": r.case.ref, "stage": r.case.stage, "urgent": r.case.urgent, "received_on": r.case.received_on,
             "city": r.city, "overdue": r.overdue, "ready_tasks": len(r.tasks)}
            for r in queries.case_rows(session, list(cases), now=now)]


def deadline_rows(rows: Sequence[tuple[Deadline, str | None]], now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    return [{"id": d.id, "label": d.label, "due_at": d.due_at, "state": d.state, "owner_role": d.owner_role,
             "case": ref, "filing_id": d.filing_id, "overdue": d.state == "open" and d.due_at < now}
            for d, ref in rows]


def get_filing(session: Session, filing_id: int) -> Filing:
    filing = session.scalar(select(Filing).where(Filing.id == filing_id).options(
        selectinload(Filing.documents), selectinload(Filing.responses), selectinload(Filing.case)))
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    return filing


def response_view(response: Any) -> dict[str, Any]:
    return {"id": response.id, "filing_id": response.filing_id, "kind": response.kind,
            "received_on": response.received_on, "reference": response.reference, "summary": response.summary,
            "recorded_at": response.recorded_at}


def filing_view(session: Session, filing_id: int) -> dict[str, Any]:
    filing = get_filing(session, filing_id)
    return {
        "id": filing.id,
        "case": filing.case.ref if filing.case else None,
        "body": filing.body,
        "language": filing.language,
        "kind": filing.kind,
        "state": filing.state,
        "submitted_on": filing.submitted_on,
        "channel": filing.channel,
        "reference": filing.external_reference,
        "versions": [{"version": d.version, "document_id": d.id, "sha256": d.sha256, "size": d.size,
                      "created": d.uploaded_at} for d in filing.documents],
        "responses": [response_view(r) for r in filing.responses],
    }


def latest_filing_document(session: Session, settings: Settings, actor: User,
                           filing_id: int) -> tuple[Document, bytes]:
    """The newest generated .docx of a filing and its bytes; the read is audited."""
    filing = get_filing(session, filing_id)
    if not filing.documents:
        raise NotFound(f"filing {filing_id} has no document yet")
    document = max(filing.documents, key=lambda d: d.version)
    content = document_store(settings).get(document.storage_key)
    audit(session, actor, "document_downloaded", "document", document.id, filing.case_id,
          {"filing_id": filing.id, "version": document.version, "sha256": document.sha256})
    return document, content
