"""Small services the JSON API needs beyond the shared ones: appeal intake, list rows, filings, collectives.

Nothing here knows HTTP; the web layer turns the errors raised (workflow.errors) into status codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from workflow import vocab
from workflow.appeals import OPTIONAL, REQUIRED, AppealErrors, parse_appeal
from workflow.config import Settings
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.models import (
    Case,
    CollectiveComplaint,
    Deadline,
    Episode,
    Filing,
    HumanTask,
    User,
    collective_cases,
    utcnow,
)
from workflow.services import queries
from workflow.services.cases import open_case
from workflow.services.filing_documents import FROZEN_STATES
from workflow.services.views import task_view

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
    return _filing(get_filing(session, filing_id))


def _filing(filing: Filing) -> dict[str, Any]:
    # Every version of a checked (or later) filing is frozen: no new version will be generated.
    frozen = filing.state in FROZEN_STATES
    return {
        "id": filing.id,
        "case": filing.case.ref if filing.case else None,
        "collective_id": filing.collective_id,
        "body": filing.body,
        "language": filing.language,
        "kind": filing.kind,
        "state": filing.state,
        "submitted_on": filing.submitted_on,
        "channel": filing.channel,
        "reference": filing.external_reference,
        "versions": [{"version": d.version, "document_id": d.id, "sha256": d.sha256, "size": d.size,
                      "created": d.uploaded_at, "frozen": frozen} for d in filing.documents],
        "responses": [response_view(r) for r in filing.responses],
    }


def collective_rows(session: Session, *, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """A page of collective complaints, newest first, with their filing's state and number of cases."""
    counts = (select(collective_cases.c.collective_id, func.count().label("cases"))
              .group_by(collective_cases.c.collective_id).subquery())
    rows = session.execute(
        select(CollectiveComplaint, Filing.id, Filing.state, func.coalesce(counts.c.cases, 0))
        .outerjoin(Filing, Filing.collective_id == CollectiveComplaint.id)
        .outerjoin(counts, counts.c.collective_id == CollectiveComplaint.id)
        .order_by(CollectiveComplaint.id.desc()).offset((page - 1) * per_page).limit(per_page))
    total = session.scalar(select(func.count()).select_from(CollectiveComplaint)) or 0
    return [{"id": c.id, "title": c.title, "body": c.body, "language": c.language, "filing_id": filing_id,
             "state": state, "case_count": count, "created_at": c.created_at}
            for c, filing_id, state, count in rows], total


def collective_view(session: Session, collective: CollectiveComplaint) -> dict[str, Any]:
    """A collective complaint with its cases' references, its filing and the ready tasks of its process."""
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == collective.instance_id,
                                                    HumanTask.state == "ready").order_by(HumanTask.created_at))
    creator = session.get(User, collective.created_by_id) if collective.created_by_id is not None else None
    return {
        "id": collective.id,
        "title": collective.title,
        "body": collective.body,
        "language": collective.language,
        "mandates": collective.mandates,
        "grounds": collective.grounds,
        "narrative": collective.narrative,
        "officials": collective.officials,
        "appeals_received": collective.appeals_received,
        "cases": [c.ref for c in collective.cases],
        "created_at": collective.created_at,
        "created_by": creator.username if creator else None,
        "filing": _filing(collective.filing) if collective.filing else None,
        "tasks": [task_view(t) for t in tasks],
    }


def collective_of_instance(session: Session, instance_id: int) -> CollectiveComplaint:
    """The collective complaint a process instance without a case belongs to."""
    collective = session.scalar(select(CollectiveComplaint).where(CollectiveComplaint.instance_id == instance_id))
    if collective is None:
        raise NotFound(f"process instance {instance_id} belongs to no case or collective complaint")
    return collective
