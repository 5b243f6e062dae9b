"""Collective complaints: one filing over many cases, with its own process (collective_complaint.bpmn).

Only cases whose consent is verified (not withdrawn) and whose review a manager approved may be included:
the complaint speaks for each of them. Who is named in it is decided per person by the snapshot builder
(publication consent); everyone is counted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import filings
from workflow import vocab
from workflow.bodies import SERVICE_LEVELS, active_codes
from workflow.config import Settings
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.models import Case, CollectiveComplaint, Filing, Review, Role, User, case_episodes
from workflow.runtime import instances

CREATOR_ROLES = (Role.LEGAL,)
NARRATIVE_SECTIONS = ("summary", "legal_basis", "context", "methods", "patterns", "pressure_on_defenders",
                      "requests")
OFFICIAL_FIELDS = ("position", "agency", "name", "role")
TITLE_MAX = 300
SECTION_MAX = 20000
FIELD_MAX = 300
MAX_CASES = 5000
MAX_OFFICIALS = 200


def get_collective(session: Session, collective_id: int) -> CollectiveComplaint:
    collective = session.get(CollectiveComplaint, collective_id)
    if collective is None:
        raise NotFound(f"no collective complaint {collective_id}")
    return collective


def create_collective(session: Session, settings: Settings, actor: User, *, body: str, language: str,
                      title: str, cases: list[str], mandates: list[str] | None = None,
                      grounds: list[str] | None = None, narrative: dict[str, str] | None = None,
                      officials: list[dict[str, str]] | None = None,
                      appeals_received: int | None = None) -> CollectiveComplaint:
    """Open a collective complaint and start its process (which generates the first version).

    Raises ValidationFailed naming each bad field; ``errors["cases"]`` lists the offending references
    (unknown, without verified consent, without an approved review).
    """
    if actor.role not in CREATOR_ROLES:
        raise Forbidden("only legal officers open collective complaints")
    mandates, grounds = list(mandates or []), list(grounds or [])
    narrative, officials = dict(narrative or {}), list(officials or [])
    errors = _check_fields(session, body=body, language=language, title=title, mandates=mandates,
                           grounds=grounds, narrative=narrative, officials=officials,
                           appeals_received=appeals_received)
    included, case_errors = _eligible_cases(session, cases)
    if case_errors:
        errors["cases"] = case_errors
    if errors:
        raise ValidationFailed("the collective complaint has errors", errors=errors)
    collective = CollectiveComplaint(
        title=title.strip(), body=body, language=language, mandates=mandates, grounds=grounds,
        narrative={k: v.strip() for k, v in narrative.items() if v.strip()},
        officials=[{k: o.get(k, "").strip() for k in OFFICIAL_FIELDS} for o in officials],
        appeals_received=appeals_received if appeals_received is not None else _appeals_received(session, included),
        created_by_id=actor.id, cases=included)
    session.add(collective)
    session.flush()
    filing = Filing(case_id=None, collective_id=collective.id, body=body, language=language, kind="collective",
                    state="draft")
    session.add(filing)
    session.flush()
    session.expire(collective, ["filing"])
    loaded = instances.start(session, settings, "collective_complaint", case=None, actor=actor, data={
        "filing_kind": "collective", "collective_id": collective.id, "body": body, "case_ref": None,
        **SERVICE_LEVELS,
    })
    collective.instance_id = loaded.instance.id
    session.flush()
    return collective


def _check_fields(session: Session, *, body: str, language: str, title: str, mandates: list[str],
                  grounds: list[str], narrative: dict[str, Any], officials: list[Any],
                  appeals_received: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if body not in active_codes(session):
        errors["body"] = f"must be one of {', '.join(active_codes(session))}"
    if language not in filings.available_collective():
        errors["language"] = f"no collective complaint template in {language!r} " \
                             f"(available: {', '.join(filings.available_collective())})"
    if not isinstance(title, str) or not title.strip() or len(title) > TITLE_MAX:
        errors["title"] = f"give a title of at most {TITLE_MAX} characters"
    if mandates and body != "un_sp":
        errors["mandates"] = "mandates apply only to un_sp"
    elif unknown := sorted(set(mandates) - set(vocab.keys(session, "mandate"))):
        errors["mandates"] = f"unknown: {', '.join(unknown)}"
    if unknown := sorted(set(grounds) - set(vocab.keys(session, "legal_ground"))):
        errors["grounds"] = f"unknown: {', '.join(unknown)}"
    for key, text in narrative.items():
        if key not in NARRATIVE_SECTIONS:
            errors[f"narrative.{key}"] = f"not a section (sections: {', '.join(NARRATIVE_SECTIONS)})"
        elif not isinstance(text, str) or len(text) > SECTION_MAX:
            errors[f"narrative.{key}"] = f"must be text of at most {SECTION_MAX} characters"
    if len(officials) > MAX_OFFICIALS:
        errors["officials"] = f"at most {MAX_OFFICIALS}"
    for index, official in enumerate(officials[:MAX_OFFICIALS]):
        if not isinstance(official, dict) or set(official) - set(OFFICIAL_FIELDS) or not all(
                isinstance(v, str) and len(v) <= FIELD_MAX for v in official.values()):
            errors[f"officials.{index}"] = f"must have text fields among {', '.join(OFFICIAL_FIELDS)}"
        elif not official.get("position", "").strip():
            errors[f"officials.{index}"] = "give the official's position"
    if appeals_received is not None and (isinstance(appeals_received, bool) or not isinstance(appeals_received, int)
                                         or appeals_received < 0):
        errors["appeals_received"] = "must be a whole number"
    return errors


def _eligible_cases(session: Session, refs: list[str]) -> tuple[list[Case], str]:
    """The cases, and one message naming every reference that may not be included (or "" when none)."""
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
        return [], "give the references of the cases to include"
    if len(refs) > MAX_CASES:
        return [], f"at most {MAX_CASES} cases"
    wanted = list(dict.fromkeys(refs))
    found = {c.ref: c for c in session.scalars(select(Case).where(Case.ref.in_(wanted)))}
    approved = set(session.scalars(select(Review.case_id).where(Review.approval == "approve",
                                                                Review.case_id.in_([c.id for c in found.values()]))))
    unknown = [r for r in wanted if r not in found]
    unconsented = [r for r in wanted if r in found and (found[r].consent is None
                                                        or found[r].consent.status != "verified")]
    unreviewed = [r for r in wanted if r in found and found[r].id not in approved]
    problems = [f"{label}: {', '.join(items)}" for label, items in (
        ("unknown", unknown), ("no verified consent", unconsented), ("no approved review", unreviewed)) if items]
    return [found[r] for r in wanted if r in found], "; ".join(problems)


def _appeals_received(session: Session, cases: list[Case]) -> int:
    """Every appeal about the same episodes, including those that lack a consent document (§1's "150")."""
    episode_ids = {e.id for c in cases for e in c.episodes}
    if not episode_ids:
        return len(cases)
    return len(set(session.scalars(select(case_episodes.c.case_id).where(
        case_episodes.c.episode_id.in_(episode_ids)))))
