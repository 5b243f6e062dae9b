"""What a collective complaint may truthfully say, checked where every path passes: the service layer.

- Why each appeal received but not included was left out, counted per reason from the consent model and the
  documents on file (``exclusion_reasons``), so that the complaint never says "all lacked both documents" of
  appeals that lacked one, or none.
- A complaint that still prints "[To be completed ...]" for an empty narrative section may not pass the legal
  officer's check nor the manager's approval (``check_collective_finished``, a domain rule of
  ``services/tasks.complete_task``, so the pages, the API and the bulk actions all obey it).
- Which sections had the name of a complainant who may not be named cut out (``sections_with_names_cut``), so
  the legal officer is told to read them again. Never the name itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from filings.collective import unfinished_sections as template_gaps
from filings.snapshot import EXCLUSION_REASONS
from workflow.errors import NotFound, Unfinished
from workflow.models import (
    Case,
    CollectiveComplaint,
    ConsentRecord,
    Document,
    ProcessInstance,
    Review,
    User,
    case_episodes,
)
from workflow.problems import Problem
from workflow.snapshots import load_cases, redact_collective_texts, unnamed_scrubber
from workflow.states import ConsentStatus, Decision, DocumentKind, Stage

CONSENT_DOCUMENTS = (DocumentKind.FORM_OF_APPEAL.value, DocumentKind.POWER_OF_ATTORNEY.value)


def review_accepted() -> ColumnElement[bool]:
    """A case whose review stands for a collective complaint: a manager approved a review of it, or its process
    ended as approved for collective complaints (reviewed with no body of its own, which needs no approval)."""
    approved = exists().where(Review.case_id == Case.id, Review.approval == Decision.APPROVE)
    return approved | (Case.stage == Stage.APPROVED)


def collective_of_instance(session: Session, instance_id: int) -> CollectiveComplaint:
    """The collective complaint a process instance without a case belongs to."""
    collective = session.scalar(select(CollectiveComplaint).where(CollectiveComplaint.instance_id == instance_id))
    if collective is None:
        raise NotFound(f"process instance {instance_id} belongs to no case or collective complaint")
    return collective


def left_out_cases(session: Session, collective: CollectiveComplaint) -> list[int]:
    """The cases about the complaint's episodes that it does not include: the appeals received and left out."""
    included = {c.id for c in collective.cases}
    episode_ids = select(case_episodes.c.episode_id).where(case_episodes.c.case_id.in_(included)).distinct()
    about = session.scalars(select(case_episodes.c.case_id).where(case_episodes.c.episode_id.in_(episode_ids))
                            .distinct())
    return sorted(set(about) - included)


def exclusion_reasons(session: Session, collective: CollectiveComplaint) -> list[tuple[str, int]]:
    """(reason, appeals) for every appeal about the complaint's episodes that it leaves out, one reason each,
    the first that applies: consent withdrawn; a consent document missing (which, or both); documents on file
    but consent not verified; no approved review; else the legal officer left it out. Reasons are the keys of
    ``filings.snapshot.EXCLUSION_REASONS``."""
    ids = left_out_cases(session, collective)
    if not ids:
        return []
    status = dict(session.execute(select(Case.id, ConsentRecord.status).outerjoin(
        ConsentRecord, ConsentRecord.case_id == Case.id).where(Case.id.in_(ids))).all())
    held: dict[int, set[str]] = {}
    for case_id, kind in session.execute(select(Document.case_id, Document.kind).where(
            Document.case_id.in_(ids), Document.kind.in_(CONSENT_DOCUMENTS)).distinct()):
        held.setdefault(case_id, set()).add(kind)
    reviewed = set(session.scalars(select(Case.id).where(Case.id.in_(ids), review_accepted())))
    counted: Counter[str] = Counter()
    for case_id in ids:
        kinds = held.get(case_id, set())
        if status.get(case_id) == ConsentStatus.WITHDRAWN:
            reason = "withdrawn"
        elif not kinds:
            reason = "missing_both"
        elif DocumentKind.FORM_OF_APPEAL.value not in kinds:
            reason = "missing_form_of_appeal"
        elif DocumentKind.POWER_OF_ATTORNEY.value not in kinds:
            reason = "missing_power_of_attorney"
        elif status.get(case_id) != ConsentStatus.VERIFIED:
            reason = "not_verified"
        elif case_id not in reviewed:
            reason = "not_reviewed"
        else:
            reason = "not_included"
        counted[reason] += 1
    return [(reason, counted[reason]) for reason in EXCLUSION_REASONS if counted[reason]]


def unfinished_sections(collective: CollectiveComplaint) -> tuple[str, ...]:
    """The narrative sections the complaint prints as "[To be completed ...]", in the document's order."""
    return template_gaps(collective.narrative or {}, collective.language)


def check_collective_finished(session: Session, instance: ProcessInstance, data: dict[str, Any], actor: User,
                              task_id: str) -> dict[str, Any]:
    """The legal check (``check_filing``) and the manager's approval (``approve_filing``) of a collective
    complaint pass only when no section still waits for the legal officer's text; sending it back to revise
    always may. ``Unfinished`` (409, code ``sections_unfinished``) naming each section as ``narrative.<key>``."""
    if instance.case_id is not None or data.get("decision") != Decision.APPROVE:
        return data
    collective = collective_of_instance(session, instance.id)
    if sections := unfinished_sections(collective):
        raise Unfinished("sections of the collective complaint are still to be completed: " + ", ".join(sections),
                         errors={f"narrative.{key}": Problem("section_unfinished", {"section": key})
                                 for key in sections})
    return data


def sections_with_names_cut(session: Session, collective: CollectiveComplaint) -> list[str]:
    """The sections (narrative keys, ``episodes``, ``officials``) from which the complaint cuts the name of a
    complainant it may not name: what the legal officer should read again. The names are not returned."""
    cases = load_cases(session, [c.id for c in collective.cases])
    episodes = {e.id: e for c in cases for e in c.episodes}.values()
    *_texts, cut = redact_collective_texts(unnamed_scrubber(cases), collective.narrative or {},
                                           list(episodes), collective.officials or [])
    return cut

