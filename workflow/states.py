"""The states and kinds the data stores as codes, each with its English title marked for translation.

A member is its code (a ``str``: compared, stored and sent as such); ``member.label`` is the title the pages
and mails translate (``web/labels.py``, ``workflow/i18n.py``). Adding a state means adding it here, once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from workflow.problems import N_


class Titled(StrEnum):
    """``NAME = "code", N_("Title")``."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        return member

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def label_of(cls, code: Any) -> str | None:
        """The title of a stored code; None for a code that is not (or no longer) a member."""
        try:
            return cls(code).label
        except ValueError:
            return None


class Stage(Titled):
    """Where a case stands; the case page shows the earliest open step, so the order matters."""

    INTAKE = "intake", N_("Intake")
    CONSENT = "consent", N_("Consent")
    LEGAL_REVIEW = "legal_review", N_("Legal review")
    APPROVAL = "approval", N_("Approval")
    FILING = "filing", N_("Filing")
    FOLLOW_UP = "follow_up", N_("Follow-up")
    AWAITING_RESPONSE = "awaiting_response", N_("Awaiting response")
    APPROVED = "approved", N_("Approved (collective complaints only)")
    CLOSED = "closed", N_("Closed")
    REJECTED = "rejected", N_("Rejected")
    WITHDRAWN = "withdrawn", N_("Consent withdrawn")


# Cases whose process has ended: nothing waits on them any more.
ENDED_STAGES = (Stage.APPROVED, Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN)


class FilingState(Titled):
    DRAFT = "draft", N_("Draft")
    CHECKED = "checked", N_("Checked")
    SUBMITTED = "submitted", N_("Submitted")
    ACKNOWLEDGED = "acknowledged", N_("Acknowledged")
    TRANSMITTED = "transmitted", N_("Transmitted to the state")
    REPLIED = "replied", N_("Replied")
    DECIDED = "decided", N_("Decided")
    CLOSED = "closed", N_("Closed")
    CANCELLED = "cancelled", N_("Cancelled")


# From checked on, what a legal officer approved is what goes out: no new version is generated.
FROZEN_FILING_STATES = frozenset(set(FilingState) - {FilingState.DRAFT})
# Not yet with a body: a withdrawal of consent cancels these.
PENDING_FILING_STATES = frozenset({FilingState.DRAFT, FilingState.CHECKED})
# With a body and perhaps waiting for it (the process decides whether it really is).
OPEN_FILING_STATES = (FilingState.SUBMITTED, FilingState.ACKNOWLEDGED, FilingState.TRANSMITTED,
                      FilingState.REPLIED)


class DeadlineState(Titled):
    OPEN = "open", N_("Open")
    MET = "met", N_("Met")
    MISSED = "missed", N_("Missed")


class ConsentStatus(Titled):
    PENDING = "pending", N_("Not verified yet")
    VERIFIED = "verified", N_("Verified")
    WITHDRAWN = "withdrawn", N_("Withdrawn")


class Decision(Titled):
    """The choices of the review and approval forms (bpmn/forms: ``decision``)."""

    APPROVE = "approve", N_("Approve")
    RETURN = "return", N_("Return")
    REJECT = "reject", N_("Reject")
    REVISE = "revise", N_("Revise")


class DocumentKind(Titled):
    FORM_OF_APPEAL = "form_of_appeal", N_("Form of appeal")
    POWER_OF_ATTORNEY = "power_of_attorney", N_("Power of attorney")
    COURT_DECISION = "court_decision", N_("Court decision")
    MEDICAL = "medical", N_("Medical report")
    EVIDENCE = "evidence", N_("Evidence")
    FILING = "filing", N_("Filing")
    RESPONSE = "response", N_("Response")


# What people upload to a case (filings are generated; a body's letters come with its response).
UPLOAD_KINDS = tuple(k.value for k in DocumentKind if k not in (DocumentKind.FILING,))
CONSENT_DOCUMENTS = (DocumentKind.FORM_OF_APPEAL, DocumentKind.POWER_OF_ATTORNEY)


class ResponseKind(Titled):
    ACKNOWLEDGEMENT = "acknowledgement", N_("Acknowledgement of receipt")
    REQUEST_FOR_INFORMATION = "request_for_information", N_("Request for information")
    TRANSMITTED_TO_STATE = "transmitted_to_state", N_("Transmitted to the state")
    STATE_REPLY = "state_reply", N_("The state's reply")
    DECISION = "decision", N_("Decision")
    FOLLOW_UP = "follow_up", N_("Follow-up")


class Gender(Titled):
    FEMALE = "female", N_("Female")
    MALE = "male", N_("Male")
    OTHER = "other", N_("Other")
    UNDISCLOSED = "undisclosed", N_("Undisclosed")


class OtherProcedure(Titled):
    NONE = "none", N_("No other procedure")
    PENDING = "pending", N_("Pending")
    CONCLUDED = "concluded", N_("Concluded")


class EuStatus(Titled):
    UNKNOWN = "unknown", N_("Not known")
    CITIZEN = "citizen", N_("EU citizen")
    RESIDENT = "resident", N_("EU resident")
    NONE = "none", N_("Neither citizen nor resident")


class FindingLevel(Titled):
    ERROR = "error", N_("blocks filing")
    WARNING = "warning", N_("warning")
