"""Collective complaints: one filing over many cases, with its own process (collective_complaint.bpmn).

Only cases whose consent is verified (not withdrawn) and whose review was approved may be included: the
complaint speaks for each of them. A review for collective complaints only (approve, no body of its own) needs
no separate approval (case.bpmn routes it straight to "approved"): the manager's approval of the complaint
(``approve_filing``) covers its cases, and four eyes hold there: the approver reviewed none of them
(``check_collective_approval``). Who is named in it is decided per person by the snapshot builder
(publication consent); everyone is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import vocab
from workflow.audit import audit
from workflow.bodies import SERVICE_LEVELS, active_codes
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import (
    Case,
    CollectiveComplaint,
    ConsentRecord,
    Filing,
    HumanTask,
    Person,
    ProcessInstance,
    Review,
    User,
    case_episodes,
    collective_cases,
    utcnow,
)
from workflow.paging import paginate
from workflow.problems import Problem, several
from workflow.roles import COLLECTIVE_CREATORS
from workflow.runtime.context import document_store
from workflow.schemas.collective import OFFICIAL_FIELDS, CollectiveInputSchema, CollectiveTextSchema
from workflow.services import processes
from workflow.services.collective_checks import collective_of_instance, review_accepted
from workflow.services.filing_documents import render_collective_filing
from workflow.states import ConsentStatus, Decision, FilingState


class KnownTerms:
    """The active bodies and vocabulary keys a complaint may name, read once, when first asked."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def bodies(self) -> set[str]:
        return set(active_codes(self.session))

    @cached_property
    def mandates(self) -> set[str]:
        return set(vocab.keys(self.session, "mandate"))

    @cached_property
    def legal_grounds(self) -> set[str]:
        return set(vocab.keys(self.session, "legal_ground"))


def get_collective(session: Session, collective_id: int) -> CollectiveComplaint:
    collective = session.get(CollectiveComplaint, collective_id)
    if collective is None:
        raise NotFound(f"no collective complaint {collective_id}")
    return collective


def create_collective(session: Session, settings: Settings, actor: User, **fields: Any) -> CollectiveComplaint:
    """Open a collective complaint and start its process (which generates the first version).

    ``fields``: those of ``schemas.collective.CollectiveInputSchema`` (body, language, title, cases, mandates, grounds,
    narrative, officials, appeals_received). Raises ValidationFailed naming each bad field; ``errors["cases"]``
    names the references that may not be included (unknown, without verified consent, without an approved review).
    """
    if actor.role not in COLLECTIVE_CREATORS:
        raise Forbidden("only legal officers open collective complaints")
    known = KnownTerms(session)
    message = "the collective complaint has errors"
    values = CollectiveInputSchema(known=lambda: known).load_or_fail(fields, message)
    included, refused = _eligible(session, list(dict.fromkeys(values["cases"])))
    if refused is not None:
        raise ValidationFailed(message, errors={"cases": refused})
    appeals = values["appeals_received"]
    collective = CollectiveComplaint(
        title=values["title"], body=values["body"], language=values["language"], mandates=values["mandates"],
        grounds=values["grounds"], narrative=values["narrative"],
        officials=[{k: official.get(k, "") for k in OFFICIAL_FIELDS} for official in values["officials"]],
        appeals_received=appeals if appeals is not None else _appeals_received(session, included),
        created_by_id=actor.id, cases=included)
    session.add(collective)
    session.flush()
    filing = Filing(case_id=None, collective_id=collective.id, body=collective.body, language=collective.language,
                    kind="collective", state=FilingState.DRAFT)
    session.add(filing)
    session.flush()
    session.expire(collective, ["filing"])
    loaded = processes.start(session, settings, processes.COLLECTIVE_PROCESS, case=None, actor=actor, data={
        "filing_kind": "collective", "collective_id": collective.id, "body": collective.body, "case_ref": None,
        **SERVICE_LEVELS,
    })
    collective.instance_id = loaded.instance.id
    session.flush()
    return collective


def update_narrative(session: Session, settings: Settings, actor: User, collective: CollectiveComplaint,
                     narrative: Any) -> CollectiveComplaint:
    """Rewrite the complaint's narrative (every section as it should now read) and generate the next version
    from it, so the version the legal officer checks is always the text on record. Legal officers only, and only
    while the legal check is waiting: a text changed after the check would reach the manager unchecked (the
    manager sends it back to revise instead). Audited by section name, never the text."""
    if actor.role not in COLLECTIVE_CREATORS:
        raise Forbidden("only legal officers write a collective complaint")
    if not any(task.bpmn_id == "check_filing" for task in collective_tasks(session, collective)):
        raise Conflict(f"collective complaint {collective.id} is not waiting for its check",
                       errors={"narrative": Problem("collective_text_locked")})
    values = CollectiveTextSchema().load_or_fail({"narrative": narrative}, "the collective complaint has errors")
    before = dict(collective.narrative or {})
    after = values["narrative"]
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        return collective
    collective.narrative = after
    session.flush()
    audit(session, actor, "collective_narrative_changed", "collective", collective.id, None,
          {"sections": changed})
    render_collective_filing(session, settings, document_store(settings), collective, actor)
    return collective


def _eligible(session: Session, refs: list[str]) -> tuple[list[Case], Problem | None]:
    """The cases, and the problem naming every reference that may not be included (None when all may)."""
    found = {c.ref: c for c in session.scalars(select(Case).where(Case.ref.in_(refs)))}
    approved = set(session.scalars(select(Case.id).where(Case.id.in_([c.id for c in found.values()]),
                                                         review_accepted())))
    unknown = [r for r in refs if r not in found]
    unconsented = [r for r in refs if r in found and (found[r].consent is None
                                                      or found[r].consent.status != ConsentStatus.VERIFIED)]
    unreviewed = [r for r in refs if r in found and found[r].id not in approved]
    parts = [Problem(code, {"refs": listed}) for code, listed in (
        ("unknown_cases", unknown), ("cases_without_consent", unconsented), ("cases_without_review", unreviewed))
        if listed]
    return [found[r] for r in refs if r in found], several(parts) if parts else None


def check_collective_approval(session: Session, instance: ProcessInstance, data: dict[str, Any],
                              actor: User, task_id: str) -> dict[str, Any]:
    """The domain rule of a collective complaint's ``approve_filing``: four eyes over its cases.

    The approver may not be the reviewer of any of its cases (their latest review), since for a case reviewed
    for collective complaints only this approval is the only one its review gets. An approval records itself on
    each such review (audited per case), so the case's history says who approved it and through which complaint.
    """
    if instance.case_id is not None:
        return data
    collective = collective_of_instance(session, instance.id)
    reviews = _latest_reviews(session, collective)
    refs = {c.id: c.ref for c in collective.cases}
    if own := sorted(refs[r.case_id] for r in reviews if r.reviewer_id == actor.id):
        raise Forbidden("four eyes: you reviewed cases of this complaint, so another manager must approve it",
                        errors={"decision": Problem("approver_reviewed_cases", {"refs": own})})
    if data.get("decision") == Decision.APPROVE:
        for review in reviews:
            if review.approval is None and review.decision == Decision.APPROVE and not review.bodies:
                review.approval, review.approver_id, review.approved_at = Decision.APPROVE, actor.id, utcnow()
                review.approval_notes = (data.get("notes") or "").strip()
                audit(session, actor, "review_approved_with_collective", "case", refs[review.case_id],
                      review.case_id, {"collective_id": collective.id, "review_id": review.id})
    return data


def _latest_reviews(session: Session, collective: CollectiveComplaint) -> list[Review]:
    """The latest review of each case of the complaint."""
    latest = (select(func.max(Review.id)).join(collective_cases, collective_cases.c.case_id == Review.case_id)
              .where(collective_cases.c.collective_id == collective.id).group_by(Review.case_id))
    return list(session.scalars(select(Review).where(Review.id.in_(latest)).order_by(Review.case_id)))


def reviewed_any_case(session: Session, instance_id: int, user: User) -> bool:
    """Whether ``user`` did the latest review of a case of the collective complaint run by this instance (four
    eyes then bar them from its ``approve_filing``); for a page that should not offer a form that is refused."""
    collective = session.scalar(select(CollectiveComplaint).where(CollectiveComplaint.instance_id == instance_id))
    return collective is not None and any(r.reviewer_id == user.id for r in _latest_reviews(session, collective))


def _appeals_received(session: Session, cases: list[Case]) -> int:
    """Every appeal about the same episodes, including those that lack a consent document (§1's "150"), and
    the complaint's own cases, some of which may belong to no episode yet."""
    episode_ids = {e.id for c in cases for e in c.episodes}
    own = {c.id for c in cases}
    if not episode_ids:
        return len(own)
    return len(own | set(session.scalars(select(case_episodes.c.case_id).where(
        case_episodes.c.episode_id.in_(episode_ids)))))


# -- reads ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EligibleCase:
    ref: str
    city: str | None


def eligible_cases(session: Session) -> list[EligibleCase]:
    """Cases a collective complaint may include, as ``create_collective`` checks them: consent verified (not
    withdrawn) and a review approved, or reviewed for collective complaints only."""
    rows = session.execute(
        select(Case.ref, Person.city).join(ConsentRecord, ConsentRecord.case_id == Case.id)
        .join(Person, Case.person_id == Person.id)
        .where(ConsentRecord.status == ConsentStatus.VERIFIED, review_accepted()).order_by(Case.ref))
    return [EligibleCase(ref, city) for ref, city in rows]


@dataclass(frozen=True)
class CollectiveRow:
    id: int
    title: str
    body: str
    language: str
    filing_id: int | None
    state: str | None  # its filing's
    case_count: int
    created_at: datetime


def collective_rows(session: Session, *, page: int = 1, per_page: int = 50) -> tuple[list[CollectiveRow], int]:
    """A page of collective complaints, newest first, with their filing's state and number of cases, and the total."""
    counts = (select(collective_cases.c.collective_id, func.count().label("cases"))
              .group_by(collective_cases.c.collective_id).subquery())
    rows = (
        select(CollectiveComplaint.id, CollectiveComplaint.title, CollectiveComplaint.body,
               CollectiveComplaint.language, Filing.id, Filing.state, func.coalesce(counts.c.cases, 0),
               CollectiveComplaint.created_at)
        .outerjoin(Filing, Filing.collective_id == CollectiveComplaint.id)
        .outerjoin(counts, counts.c.collective_id == CollectiveComplaint.id)
        .order_by(CollectiveComplaint.created_at.desc(), CollectiveComplaint.id.desc()))
    found, total = paginate(session, rows, page=page, per_page=per_page)
    return [CollectiveRow(*row) for row in found], total


def city_count(session: Session, collective: CollectiveComplaint) -> int:
    """How many cities the complaint's cases come from (the city is stored in clear; names are not)."""
    return session.scalar(
        select(func.count(func.distinct(Person.city))).select_from(collective_cases)
        .join(Case, collective_cases.c.case_id == Case.id).join(Person, Case.person_id == Person.id)
        .where(collective_cases.c.collective_id == collective.id, Person.city.is_not(None))) or 0


@dataclass(frozen=True)
class CollectiveRead:
    """A collective complaint with the ready tasks of its process."""

    collective: CollectiveComplaint
    tasks: list[HumanTask]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collective, name)


def read_collective(session: Session, collective: CollectiveComplaint) -> CollectiveRead:
    return CollectiveRead(collective, collective_tasks(session, collective))


def collective_tasks(session: Session, collective: CollectiveComplaint) -> list[HumanTask]:
    """The ready tasks of the complaint's process, oldest first."""
    if collective.instance_id is None:
        return []
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == collective.instance_id,
                                                        HumanTask.state == "ready")
                                .order_by(HumanTask.created_at)))
