"""The legal facts panel of the case page, and what the review steps' task panels show above their forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from web.panel import CasePage
from web.review.forms import LegalFactsForm, legal_facts_form
from web.translate import gettext as _
from workflow.admissibility import Finding
from workflow.models import Review
from workflow.roles import LEGAL_FACT_EDITORS, LEGAL_FACT_READERS
from workflow.schemas.reads import recorded_findings
from workflow.services.cases import CaseRead
from workflow.services.review import admissibility_now
from workflow.states import Decision
from workflow.visibility import Seen

REVIEW_STEPS = ("legal_review", "approve_review")


def legal_facts_panel(page: CasePage, posted: LegalFactsForm | None) -> dict[str, Any] | None:
    """Legal officers edit the facts, managers read them; intake has no use for them (None: not shown)."""
    read = page.read.legal_facts
    if read is None:
        return None
    editable = page.actor.role in LEGAL_FACT_EDITORS
    return {"read": read, "facts": read.facts,
            "form": (posted or legal_facts_form(read.facts)) if editable else None,
            "open": any(t.bpmn_id == "legal_review" for t in page.read.tasks)}


@dataclass(frozen=True)
class CheckLine:
    level: str  # error (blocks the body) | warning
    text: str  # translated and filled in


@dataclass(frozen=True)
class BodyChecks:
    """One body's row of an admissibility table."""

    code: str
    chosen: bool  # chosen in the review being approved
    findings: list[CheckLine]


@dataclass(frozen=True)
class Returned:
    """A manager sent the review back: who, when and why."""

    by: str
    at: datetime | None
    notes: str


# What a reviewer needs of the person beside the form; contact details and identity numbers never help a review.
SUMMARY_FIELDS = ("full_name", "full_name_native", "gender", "birth_date", "occupation", "organisation", "city")


@dataclass(frozen=True)
class ReviewFacts:
    """The facts beside a review step's form, so the reviewer need not scroll the case page."""

    person: dict[str, Any]  # only fields the role reads (``read_case`` audited the read)
    episodes: list[Any]
    incidents: list[Any]
    consent: str | None  # the consent status
    detained: bool
    urgent: bool


def review_parts(session: Session, bpmn_id: str, read: CaseRead, role: str) -> dict[str, Any]:
    """What the reviewer, or the manager approving, decides on: the facts of the case as ``role`` may read them
    (``read`` comes from ``read_case``), the checks per body today, the review so far and the checks recorded with
    it, or the manager's reasons for sending it back. Empty for other steps. The checks follow from the legal
    facts: a role that may not read those (intake, refused ``/legal-facts`` and ``/admissibility`` by the API
    too) sees the review's decision without them."""
    if bpmn_id not in REVIEW_STEPS:
        return {}
    parts = _review_parts(session, bpmn_id, read)
    if role not in LEGAL_FACT_READERS:
        parts["admissibility"], parts["recorded"] = [], []
    return parts


def _review_parts(session: Session, bpmn_id: str, read: CaseRead) -> dict[str, Any]:
    case = read.case
    facts = ReviewFacts({k: v for k, v in read.person.items() if k in SUMMARY_FIELDS}, list(case.episodes),
                        read.incidents, case.consent.status if case.consent else None,
                        bool(case.detained_now), bool(case.urgent))
    # The review read_case read (as the role sees it, the stored row beneath): the parts below withhold what
    # the role may not read themselves (review_parts).
    latest = read.review.stored if isinstance(read.review, Seen) else read.review
    if bpmn_id == "legal_review":
        returned = None
        if latest is not None and latest.approval == Decision.RETURN:
            by = latest.approver.display_name if latest.approver else "—"
            returned = Returned(by, latest.approved_at, latest.approval_notes)
        return {"facts": facts, "returned": returned,
                "admissibility": _table(admissibility_now(session, case), chosen=())}
    return {"facts": facts, "review": latest, "recorded": _recorded(latest) if latest is not None else [],
            "admissibility": _table(admissibility_now(session, case, under=latest),
                                    chosen=tuple(latest.bodies) if latest is not None else ())}


def _recorded(review: Review) -> list[BodyChecks]:
    found = recorded_findings(review.checks)
    return [BodyChecks(code, True, [_line(f) for f in found if f.body == code]) for code in review.bodies]


def _table(findings: dict[str, list[Finding]], *, chosen: tuple[str, ...]) -> list[BodyChecks]:
    return [BodyChecks(code, code in chosen, [_line(f) for f in found]) for code, found in findings.items()]


def _line(finding: Finding) -> CheckLine:
    """A rule's English template (marked with N_ in workflow/admissibility.py) in the user's language, filled in."""
    return CheckLine(finding.level, _(finding.message, **dict(finding.params)))
