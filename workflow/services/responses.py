"""Responses from bodies: recorded on the filing, then sent to its process as ``response_received``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.bodies import get_body
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import CollectiveComplaint, Filing, ProcessInstance, Response, Role, User, utcnow
from workflow.runtime import instances

RESPONSE_KINDS = ("acknowledgement", "request_for_information", "transmitted_to_state", "state_reply", "decision",
                  "follow_up")
# The state a filing moves to with each kind of response.
FILING_STATE = {"acknowledgement": "acknowledged", "request_for_information": "acknowledged",
                "transmitted_to_state": "transmitted", "state_reply": "replied", "decision": "decided",
                "follow_up": "decided"}
RFI_DAYS = 30


def _next_window_days(session: Session, filing: Filing, kind: str) -> int:
    """How long to wait for the next step after this response, from the catalogue as it is today."""
    info = get_body(session, filing.body)
    if kind == "transmitted_to_state":
        return info.response_days  # e.g. the government's 60 days after a communication
    if kind == "request_for_information":
        return RFI_DAYS
    return info.follow_up_days


def _instance_of(session: Session, filing: Filing) -> ProcessInstance | None:
    """The process waiting on the filing: its case's, or its collective complaint's."""
    if filing.collective_id is not None:
        collective = session.get(CollectiveComplaint, filing.collective_id)
        return session.get(ProcessInstance, collective.instance_id) if collective and collective.instance_id else None
    return session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == filing.case_id))


def record_response(session: Session, settings: Settings, actor: User, filing_id: int, *, kind: str,
                    received_on: date, reference: str | None = None, summary: str | None = None) -> Response:
    if actor.role not in (Role.INTAKE, Role.LEGAL):
        raise Forbidden("only intake staff and legal officers record responses")
    errors = {}
    if kind not in RESPONSE_KINDS:
        errors["kind"] = f"must be one of {', '.join(RESPONSE_KINDS)}"
    if received_on > utcnow().date():
        errors["received_on"] = "cannot be in the future"
    if errors:
        raise ValidationFailed("the response has errors", errors=errors)
    filing = session.get(Filing, filing_id)
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    if filing.submitted_on is None:
        raise Conflict(f"filing {filing_id} has not been submitted yet")
    instance = _instance_of(session, filing)
    if instance is None:
        raise NotFound(f"filing {filing_id} has no running process")
    instance = instances.lock(session, instance.id)
    loaded = instances.load(session, settings, instance, actor)
    catcher = next((t for t in instances.waiting_catchers(loaded.workflow, "response_received")
                    if instances.filing_id_of(t) == filing.id), None)
    if catcher is None:
        raise Conflict(f"filing {filing_id} is not awaiting a response (a follow-up or outcome is pending)")
    response = Response(filing=filing, kind=kind, received_on=received_on, reference=reference, summary=summary,
                        recorded_by_id=actor.id)
    session.add(response)
    filing.state = FILING_STATE[kind]
    if reference and not filing.external_reference:
        filing.external_reference = reference
    session.flush()
    payload = {"response_id": response.id, "kind": kind, "final": kind == "decision",
               "window_days": _next_window_days(session, filing, kind)}
    # Only this filing's sub-process may catch it: the case may be waiting on several bodies at once.
    instances.deliver_message(loaded, "response_received", payload, target=catcher.workflow)
    audit(session, actor, "response_recorded", "filing", filing.id, filing.case_id,
          {"kind": kind, "response_id": response.id})
    instances.save(loaded, action="response_received", data={"filing_id": filing.id, "kind": kind})
    return response
