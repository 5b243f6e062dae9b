"""Responses from bodies: recorded on the filing, then sent to its process as ``response_received``.

The next clock counts from the day the response arrived, not from when someone recorded it (as a
filing's first window counts from its submission): a state's reply window after a transmittal is the
body's ``response_days``, anything else waits ``follow_up_days``. A request for information also opens a
deadline of our own, the reply (``services/deadlines.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.bodies import get_body
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import CollectiveComplaint, Document, Filing, ProcessInstance, Response, User, utcnow
from workflow.roles import RESPONSE_RECORDERS
from workflow.runtime import instances
from workflow.runtime.pending_blobs import put_document
from workflow.runtime.tasktree import filing_id_of
from workflow.schemas.responses import ResponseInputSchema
from workflow.services import processes
from workflow.services.deadlines import RFI, RFI_LABEL, close_response_deadlines, open_response_deadline
from workflow.services.documents import attach_document
from workflow.states import DocumentKind, FilingState, ResponseKind
from workflow.uploads import DocumentRejected

RESPONSE_KINDS = ResponseKind.codes()
# The state a filing moves to with each kind of response.
FILING_STATE = {ResponseKind.ACKNOWLEDGEMENT: FilingState.ACKNOWLEDGED,
                ResponseKind.REQUEST_FOR_INFORMATION: FilingState.ACKNOWLEDGED,
                ResponseKind.TRANSMITTED_TO_STATE: FilingState.TRANSMITTED,
                ResponseKind.STATE_REPLY: FilingState.REPLIED,
                ResponseKind.DECISION: FilingState.DECIDED, ResponseKind.FOLLOW_UP: FilingState.DECIDED}
RFI_DAYS = 30  # our reply to a request for information; no body's rules fix a figure
CLOCK_TIME = time(9, 0)  # windows end at 09:00 UTC, as a submission's first window does


def _next_window_days(session: Session, filing: Filing, kind: str) -> int:
    """How long to wait for the body's next step after this response, from the catalogue as it is today.

    After a request for information the body waits on us (that reply has its own deadline), so the
    process waits the usual follow-up interval.
    """
    info = get_body(session, filing.body)
    if kind == ResponseKind.TRANSMITTED_TO_STATE:
        return info.response_days  # e.g. the government's 60 days after a communication
    return info.follow_up_days


def _window_end(received_on: date, days: int) -> datetime:
    return datetime.combine(received_on, CLOCK_TIME, tzinfo=UTC) + timedelta(days=days)


def _instance_of(session: Session, filing: Filing) -> ProcessInstance | None:
    """The process waiting on the filing: its case's, or its collective complaint's."""
    if filing.collective_id is not None:
        collective = session.get(CollectiveComplaint, filing.collective_id)
        return session.get(ProcessInstance, collective.instance_id) if collective and collective.instance_id else None
    return instances.of_case(session, filing.case_id)


def record_response(session: Session, settings: Settings, actor: User, filing_id: int, *, kind: Any,
                    received_on: Any, reference: Any = None, summary: Any = None,
                    document: tuple[bytes, str] | None = None) -> Response:
    """Record what a body sent (checked by ``schemas.responses.ResponseInputSchema``; ``document``: the letter's
    bytes and file name, stored encrypted)."""
    if actor.role not in RESPONSE_RECORDERS:
        raise Forbidden("only intake staff and legal officers record responses")
    now = utcnow()
    values = ResponseInputSchema().load_or_fail({"kind": kind, "received_on": received_on, "reference": reference,
                                                 "summary": summary}, "the response has errors")
    kind, received_on, reference, summary = (values[k] for k in ("kind", "received_on", "reference", "summary"))
    filing = session.get(Filing, filing_id)
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    if filing.submitted_on is None:
        raise Conflict(f"filing {filing_id} has not been submitted yet")
    instance = _instance_of(session, filing)
    if instance is None:
        raise NotFound(f"filing {filing_id} has no running process")
    loaded = processes.load_locked(session, settings, instance.id, actor)
    instance = loaded.instance
    catcher = next((t for t in processes.waiting_catchers(loaded.workflow, "response_received")
                    if filing_id_of(t) == filing.id), None)
    if catcher is None:
        raise Conflict(f"filing {filing_id} is not awaiting a response (a follow-up or outcome is pending)")
    stored = _store_document(session, settings, actor, filing, *document) if document is not None else None
    response = Response(filing=filing, kind=kind, received_on=received_on, reference=reference, summary=summary,
                        document_id=stored.id if stored else None, recorded_by_id=actor.id)
    session.add(response)
    filing.state = FILING_STATE[kind]
    if reference and not filing.external_reference:
        filing.external_reference = reference
    session.flush()
    close_response_deadlines(session, filing.id, now)
    if kind == RFI:
        open_response_deadline(session, filing, instance_id=instance.id, kind=RFI, label=RFI_LABEL,
                               due_at=_window_end(received_on, RFI_DAYS))
    # The process computes its timer as "now + window_days"; handing it the days left until the window's
    # end (fractional, negative when it already passed) makes the clock run from ``received_on``.
    window_end = _window_end(received_on, _next_window_days(session, filing, kind))
    payload = {"response_id": response.id, "kind": kind, "final": kind == ResponseKind.DECISION,
               "window_days": (window_end - now) / timedelta(days=1)}
    # Only this filing's sub-process may catch it: the case may be waiting on several bodies at once.
    processes.deliver_message(loaded, "response_received", payload, target=catcher.workflow)
    audit(session, actor, "response_recorded", "filing", filing.id, filing.case_id,
          {"kind": kind, "response_id": response.id, "document_id": response.document_id})
    processes.save(loaded, action="response_received", data={"filing_id": filing.id, "kind": kind})
    return response


def _store_document(session: Session, settings: Settings, actor: User, filing: Filing, content: bytes,
                    filename: str) -> Document:
    if filing.case is not None:
        return attach_document(session, settings, actor, filing.case, DocumentKind.RESPONSE, content, filename)
    # A collective complaint's filing belongs to no case: its answers are kept on the filing itself.
    try:
        blob = put_document(session, settings, content, filename)
    except DocumentRejected as err:
        raise ValidationFailed(f"{filename}: {err}", errors={"file": err.problem}) from None
    previous = session.scalar(select(func.max(Document.version)).where(Document.filing_id == filing.id,
                                                                       Document.kind == DocumentKind.RESPONSE))
    stored = Document(case_id=None, filing_id=filing.id, kind=DocumentKind.RESPONSE, filename=filename[-255:],
                      media_type=blob.media_type, size=blob.size, sha256=blob.sha256, storage_key=blob.key,
                      version=(previous or 0) + 1, uploaded_by_id=actor.id)
    session.add(stored)
    session.flush()
    audit(session, actor, "document_uploaded", "document", stored.id, None,
          {"kind": stored.kind, "filing_id": filing.id, "sha256": blob.sha256, "size": blob.size,
           "version": stored.version})
    return stored
