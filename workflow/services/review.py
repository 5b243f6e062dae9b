"""Legal review: the facts admissibility rests on, the checks per body, and the review as decided.

The legal officer records facts (domestic remedies, other procedures, EU links, deprivation of liberty,
torture risk) on the case; the checks are computed from them, the consent record and the incidents
against the catalogue's rules, shown in the review form, and stored with the decision (``Review.checks``)
so that what the reviewer saw stays on record even after the facts change. The manager's approval checks
again: a fact that changed since the review and now blocks a body sends the review back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import admissibility, vocab
from workflow.admissibility import CaseFacts, Choices, Finding, final_remedy_on
from workflow.audit import audit
from workflow.bodies import all_bodies, get_body
from workflow.errors import ValidationFailed
from workflow.models import Case, LegalFacts, Review, User, utcnow
from workflow.problems import Problem
from workflow.schemas.legal_facts import FIELDS as FACT_FIELDS
from workflow.schemas.legal_facts import LegalFactsUpdateSchema
from workflow.services.deadlines import sync_time_bar
from workflow.states import Decision, OtherProcedure


def update_legal_facts(session: Session, actor: User, case: Case, changes: dict[str, Any]) -> LegalFacts:
    """Change the legal facts (fields not given keep their value); audited with the names of the changed fields.

    ``changes`` is checked by ``LegalFactsUpdateSchema``; the combination (a procedure pending or concluded needs its
    name, a concluded one its date) on the facts as they will be. Nothing changes when anything is wrong.
    """
    clean = LegalFactsUpdateSchema().load_or_fail(changes, "the legal facts have errors")
    current = LegalFacts.for_case(case)  # the stored facts, or the defaults (not stored yet)
    before = {name: getattr(current, name) for name in clean}
    merged = {**{name: getattr(current, name) for name in FACT_FIELDS}, **clean}
    if merged["other_procedure"] == OtherProcedure.CONCLUDED and merged["other_procedure_concluded_on"] is None:
        raise ValidationFailed("the legal facts have errors",
                               errors={"other_procedure_concluded_on": Problem("other_procedure_date_missing")})
    if merged["other_procedure"] != OtherProcedure.NONE and not merged["other_procedure_name"]:
        raise ValidationFailed("the legal facts have errors",
                               errors={"other_procedure_name": Problem("other_procedure_name_missing")})
    facts = current
    if case.legal_facts is None:
        facts.case = case
        session.add(facts)
    changed = sorted(name for name in clean if before[name] != clean[name])
    for name in changed:
        setattr(facts, name, clean[name])
    if changed:
        facts.updated_at = utcnow()
        facts.updated_by_id = actor.id
        audit(session, actor, "legal_facts_changed", "case", case.ref, case.id,
              {"fields": changed})  # the names of the changed facts, never their values
    if "remedies_exhausted_on" in changed:
        sync_time_bar(session, case)  # the HRC time bar counts from this date
    session.flush()
    return facts


def case_facts(session: Session, case: Case) -> CaseFacts:
    """Everything the rules read about a case."""
    deprivation_types = {t.key for t in vocab.terms(session, "incident_type", include_retired=True)
                         if t.extra.get("deprivation_of_liberty")}
    legal = LegalFacts.for_case(case)
    consent = case.consent
    dated = tuple(sorted(i.occurred_on for i in case.incidents if i.occurred_on is not None))
    return CaseFacts(
        consent_verified=bool(consent and consent.status == "verified"),
        consent_withdrawn=bool(consent and consent.status == "withdrawn"),
        share_name_with_government=bool(consent and consent.share_name_with_government),
        publish_name=bool(consent and consent.publish_name),
        anonymous=bool(consent and consent.anonymous),
        body_overrides=dict(consent.body_overrides or {}) if consent else {},
        detained_now=case.detained_now,
        torture_risk=legal.torture_risk,
        deprived_of_liberty=legal.deprived_of_liberty or any(
            deprivation_types.intersection(i.types) for i in case.incidents),
        incident_dates=dated,
        state_code=legal.state_code,
        remedies_exhausted_on=legal.remedies_exhausted_on,
        final_remedy_on=final_remedy_on(case.remedy_steps),
        remedies_ineffective=legal.remedies_ineffective,
        other_procedure=legal.other_procedure,
        other_procedure_name=legal.other_procedure_name,
        other_procedure_concluded_on=legal.other_procedure_concluded_on,
        eu_status=legal.eu_status,
        eu_subject=legal.eu_subject,
    )


def is_urgent(session: Session, case: Case) -> bool:
    """Detained now or at risk of torture (DESIGN.md §4: the urgent track), or marked urgent by a person."""
    return case.urgent or case.detained_now or LegalFacts.for_case(case).torture_risk


def check_case(session: Session, case: Case, codes: list[str] | None = None, choices: Choices | None = None,
               today: date | None = None) -> dict[str, list[Finding]]:
    """Body code -> findings, for ``codes`` (default: every active body of the catalogue)."""
    facts = case_facts(session, case)
    choices = choices or Choices(urgent=is_urgent(session, case))
    today = today or utcnow().date()
    bodies = all_bodies(session) if codes is None else [get_body(session, code) for code in codes]
    return {b.code: admissibility.check(b.code, b.rules, tuple(b.required_consent), facts, choices, today)
            for b in bodies}


def blocked_bodies(findings: dict[str, list[Finding]], code: str) -> Problem | None:
    """The bodies whose blocking findings refuse the case, as one problem (``code``) naming them; None if none."""
    blocked = {body: admissibility.blocking(found) for body, found in findings.items() if admissibility.blocking(found)}
    if not blocked:
        return None
    details = " ".join(f"{body}: {' '.join(f.text for f in found)}" for body, found in blocked.items())
    return Problem(code, {"bodies": list(blocked), "details": details})


def record_review(session: Session, actor: User, case: Case, task_id: str, data: dict[str, Any],
                  findings: dict[str, list[Finding]]) -> Review:
    review = Review(case_id=case.id, task_id=task_id, decision=data["decision"], bodies=list(data["bodies"]),
                    mandates=list(data.get("mandates", [])), grounds=list(data.get("grounds", [])),
                    communication_type=data.get("communication_type"),
                    wgad_categories=list(data.get("wgad_categories", [])),
                    languages=dict(data.get("languages", {})), urgent=bool(data.get("urgent")),
                    notes=data.get("notes", ""), checks=[f.as_dict() for found in findings.values() for f in found],
                    reviewer_id=actor.id, reviewed_at=utcnow(), approval_notes="")
    session.add(review)
    session.flush()
    return review


def latest_review(session: Session, case: Case) -> Review | None:
    return session.scalar(select(Review).where(Review.case_id == case.id).order_by(Review.id.desc()).limit(1))


def approved_review(session: Session, case: Case) -> Review | None:
    """The review a filing rests on: the latest one a manager approved."""
    return session.scalar(select(Review).where(Review.case_id == case.id, Review.approval == Decision.APPROVE)
                          .order_by(Review.id.desc()).limit(1))


def admissibility_now(session: Session, case: Case, under: Review | None = None) -> dict[str, list[Finding]]:
    """Every active body -> its findings today; ``under`` a review, with that review's choices (urgency, kind of
    communication, WGAD categories), which is how the manager's approval checks again."""
    if under is None:
        return check_case(session, case)
    return check_case(session, case, choices=choices_of(under))


def choices_of(review: Review) -> Choices:
    return Choices(urgent=review.urgent, communication_type=review.communication_type,
                   wgad_categories=tuple(review.wgad_categories))


def record_approval(session: Session, actor: User, case: Case, decision: str, notes: str) -> Review | None:
    review = latest_review(session, case)
    if review is not None:
        review.approval = decision
        review.approval_notes = notes
        review.approver_id = actor.id
        review.approved_at = utcnow()
    return review
