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
from workflow.admissibility import CaseFacts, Choices, Finding
from workflow.audit import audit
from workflow.bodies import all_bodies, get_body
from workflow.errors import ValidationFailed
from workflow.models import Case, LegalFacts, Review, User, utcnow
from workflow.services.deadlines import sync_time_bar

SUMMARY_MAX = 10000
NAME_MAX = 200
FACT_FIELDS = ("state_code", "torture_risk", "deprived_of_liberty", "remedies_exhausted_on", "remedies_summary",
               "remedies_ineffective", "other_procedure", "other_procedure_name", "other_procedure_concluded_on",
               "eu_status", "eu_subject")
_BOOLEANS = ("torture_risk", "deprived_of_liberty", "remedies_ineffective", "eu_subject")
_DATES = ("remedies_exhausted_on", "other_procedure_concluded_on")


def legal_facts(case: Case) -> LegalFacts:
    """The case's legal facts; a case nobody has looked at yet has the defaults (not yet stored)."""
    return case.legal_facts or LegalFacts(state_code="KZ", torture_risk=False, deprived_of_liberty=False,
                                          remedies_summary="", remedies_ineffective=False, other_procedure="none",
                                          other_procedure_name="", eu_status="unknown", eu_subject=False)


def update_legal_facts(session: Session, actor: User, case: Case, changes: dict[str, Any]) -> LegalFacts:
    """Change the legal facts (fields not given keep their value); audited with old and new values."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in FACT_FIELDS:
            errors[name] = "not a legal fact"
            continue
        try:
            clean[name] = _clean_fact(name, value)
        except ValueError as err:
            errors[name] = str(err)
    today = utcnow().date()
    for name in _DATES:
        if clean.get(name) and clean[name] > today:
            errors[name] = "cannot be in the future"
    if errors:
        raise ValidationFailed("the legal facts have errors", errors=errors)
    facts = case.legal_facts
    if facts is None:
        facts = legal_facts(case)
        facts.case = case
        session.add(facts)
    before = {name: getattr(facts, name) for name in clean}
    changed = sorted(name for name in clean if before[name] != clean[name])
    for name in changed:
        setattr(facts, name, clean[name])
    merged = {name: getattr(facts, name) for name in FACT_FIELDS}
    if merged["other_procedure"] == "concluded" and merged["other_procedure_concluded_on"] is None:
        raise ValidationFailed("the legal facts have errors",
                               errors={"other_procedure_concluded_on": "give the date the other procedure concluded"})
    if merged["other_procedure"] != "none" and not merged["other_procedure_name"]:
        raise ValidationFailed("the legal facts have errors",
                               errors={"other_procedure_name": "name the other procedure"})
    if changed:
        facts.updated_at = utcnow()
        facts.updated_by_id = actor.id
        audit(session, actor, "legal_facts_changed", "case", case.ref, case.id,
              {"fields": changed, "before": {n: _jsonable(before[n]) for n in changed},
               "after": {n: _jsonable(clean[n]) for n in changed if n != "remedies_summary"}})
    if "remedies_exhausted_on" in changed:
        sync_time_bar(session, case)  # the HRC time bar counts from this date
    session.flush()
    return facts


def _clean_fact(name: str, value: Any) -> Any:
    if name in _BOOLEANS:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if name in _DATES:
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError("must be a date (YYYY-MM-DD)") from None
    if name == "state_code":
        if not isinstance(value, str) or len(value) != 2 or not value.isalpha() or not value.isascii():
            raise ValueError("must be a two-letter country code (ISO 3166-1)")
        return value.upper()
    if name == "other_procedure":
        if value not in admissibility.OTHER_PROCEDURES:
            raise ValueError(f"must be one of {', '.join(admissibility.OTHER_PROCEDURES)}")
        return value
    if name == "eu_status":
        if value not in admissibility.EU_STATUSES:
            raise ValueError(f"must be one of {', '.join(admissibility.EU_STATUSES)}")
        return value
    limit = SUMMARY_MAX if name == "remedies_summary" else NAME_MAX
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"must be text of at most {limit} characters")
    return value.strip()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def case_facts(session: Session, case: Case) -> CaseFacts:
    """Everything the rules read about a case."""
    deprivation_types = {t.key for t in vocab.terms(session, "incident_type", include_retired=True)
                         if t.extra.get("deprivation_of_liberty")}
    legal = legal_facts(case)
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
        remedies_ineffective=legal.remedies_ineffective,
        other_procedure=legal.other_procedure,
        other_procedure_name=legal.other_procedure_name,
        other_procedure_concluded_on=legal.other_procedure_concluded_on,
        eu_status=legal.eu_status,
        eu_subject=legal.eu_subject,
    )


def is_urgent(session: Session, case: Case) -> bool:
    """Detained now or at risk of torture (DESIGN.md §4: the urgent track), or marked urgent by a person."""
    return case.urgent or case.detained_now or legal_facts(case).torture_risk


def check_case(session: Session, case: Case, codes: list[str] | None = None, choices: Choices | None = None,
               today: date | None = None) -> dict[str, list[Finding]]:
    """Body code -> findings, for ``codes`` (default: every active body of the catalogue)."""
    facts = case_facts(session, case)
    choices = choices or Choices(urgent=is_urgent(session, case))
    today = today or utcnow().date()
    bodies = all_bodies(session) if codes is None else [get_body(session, code) for code in codes]
    return {b.code: admissibility.check(b.code, b.rules, tuple(b.required_consent), facts, choices, today)
            for b in bodies}


def blocking_errors(findings: dict[str, list[Finding]]) -> dict[str, str]:
    """Per body, the text of its blocking findings (for a ValidationFailed)."""
    return {code: " ".join(f.text for f in admissibility.blocking(found))
            for code, found in findings.items() if admissibility.blocking(found)}


def record_review(session: Session, actor: User, case: Case, task_id: str, data: dict[str, Any],
                  findings: dict[str, list[Finding]]) -> Review:
    review = Review(case_id=case.id, task_id=task_id, decision=data["decision"], bodies=list(data["bodies"]),
                    mandates=list(data.get("mandates", [])), grounds=list(data.get("grounds", [])),
                    communication_type=data.get("communication_type"),
                    wgad_categories=list(data.get("wgad_categories", [])), urgent=bool(data.get("urgent")),
                    notes=data.get("notes", ""), checks=[f.as_dict() for found in findings.values() for f in found],
                    reviewer_id=actor.id, reviewed_at=utcnow(), approval_notes="")
    session.add(review)
    session.flush()
    return review


def latest_review(session: Session, case: Case) -> Review | None:
    return session.scalar(select(Review).where(Review.case_id == case.id).order_by(Review.id.desc()).limit(1))


def record_approval(session: Session, actor: User, case: Case, decision: str, notes: str) -> Review | None:
    review = latest_review(session, case)
    if review is not None:
        review.approval = decision
        review.approval_notes = notes
        review.approver_id = actor.id
        review.approved_at = utcnow()
    return review
