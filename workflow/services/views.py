"""Read models: a case as the JSON API and the CLI show it, with identity fields limited by role.

Every read that includes identity fields leaves an audit event naming the fields read. Legal facts and
admissibility findings carry no identity fields: they are limited by role only because intake has no use
for them (least privilege).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.admissibility import Finding
from workflow.audit import audit
from workflow.models import Case, Deadline, HumanTask, Review, Role, User
from workflow.services import review
from workflow.services.cases import get_case

# Least privilege: intake registers people; legal officers need what a filing needs; managers see the
# case through its reference and city only; admins manage accounts and processes, not cases. OPERATOR is
# the command line on the server itself, whose user can read the database anyway.
OPERATOR = "operator"
PERSON_FIELDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.INTAKE: ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
                  "address", "occupation", "organisation", "city"),
    Role.LEGAL: ("full_name", "full_name_native", "gender", "birth_date", "occupation", "organisation", "city"),
    Role.MANAGER: ("city",),
    OPERATOR: ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
               "address", "occupation", "organisation", "city"),
}
IDENTITY_FIELDS = frozenset({"full_name", "full_name_native", "birth_date", "phone", "email", "passport_number",
                             "address"})
LEGAL_FACTS_READERS = frozenset({Role.LEGAL, Role.MANAGER, OPERATOR})


def _username(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user is not None else None


def legal_facts_view(session: Session, case: Case) -> dict[str, Any]:
    """The facts admissibility rests on; a case nobody has looked at yet shows the defaults, never changed."""
    stored = case.legal_facts
    facts = review.legal_facts(case)
    return {**{name: getattr(facts, name) for name in review.FACT_FIELDS},
            "updated_at": stored.updated_at if stored is not None else None,
            "updated_by": _username(session, stored.updated_by_id) if stored is not None else None}


def finding_view(body: str, rule: str, level: str, text: str, params: dict[str, Any]) -> dict[str, Any]:
    """One finding as the API gives it: ``message`` is the filled-in English text (pages translate the template)."""
    return {"body": body, "rule": rule, "level": level, "message": text, "params": dict(params)}


def _finding(finding: Finding) -> dict[str, Any]:
    return finding_view(finding.body, finding.rule, finding.level, finding.text, dict(finding.params))


def admissibility_view(session: Session, case: Case) -> dict[str, Any]:
    """Every active body of the catalogue -> what its rules say about the case today."""
    return {"bodies": {code: [_finding(f) for f in found] for code, found in review.check_case(session, case).items()}}


def review_view(session: Session, found: Review | None) -> dict[str, Any] | None:
    """The latest review as decided, with the checks recorded with it and the manager's approval, if any."""
    if found is None:
        return None
    checks = [finding_view(c["body"], c["rule"], c["level"], c.get("text") or c["message"], c.get("params") or {})
              for c in found.checks]
    return {"decision": found.decision, "bodies": list(found.bodies), "mandates": list(found.mandates),
            "grounds": list(found.grounds), "communication_type": found.communication_type,
            "wgad_categories": list(found.wgad_categories), "urgent": found.urgent, "notes": found.notes,
            "checks": checks, "reviewer": _username(session, found.reviewer_id), "reviewed_at": found.reviewed_at,
            "approval": found.approval, "approval_notes": found.approval_notes,
            "approver": _username(session, found.approver_id), "approved_at": found.approved_at}


def task_view(row: HumanTask) -> dict[str, Any]:
    return {"id": row.id, "bpmn_id": row.bpmn_id, "name": row.name, "lane": row.lane, "due_at": row.due_at,
            "form": row.form, "filing_id": row.filing_id}


def case_view(session: Session, ref: str, *, actor: User | None, role: str, channel: str) -> dict[str, Any]:
    case = get_case(session, ref)
    fields = PERSON_FIELDS_BY_ROLE.get(role, ())
    person = {f: getattr(case.person, f) for f in fields}
    read = sorted(IDENTITY_FIELDS.intersection(fields))
    if read:
        audit(session, actor, "identity_read", "case", case.ref, case.id, {"fields": read, "channel": channel})
    tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready")
                            .order_by(HumanTask.created_at))
    deadlines = session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.due_at))
    consent = case.consent
    view = {
        "ref": case.ref,
        "stage": case.stage,
        "urgent": case.urgent,
        "received_on": case.received_on,
        "person": person,
        "episodes": [{"key": e.key, "title": e.title} for e in case.episodes],
        "incidents": [{"types": i.types, "occurred_on": i.occurred_on, "place": i.place,
                       "description": i.description} for i in case.incidents],
        "documents": [{"id": d.id, "kind": d.kind, "filename": d.filename, "media_type": d.media_type,
                       "size": d.size, "sha256": d.sha256, "version": d.version, "uploaded_at": d.uploaded_at}
                      for d in case.documents],
        "consent": None if consent is None else {
            "status": consent.status, "publish_name": consent.publish_name,
            "share_name_with_government": consent.share_name_with_government,
            "initials_only": consent.initials_only, "anonymous": consent.anonymous,
            "body_overrides": consent.body_overrides or {},
            "form_of_appeal_verified": consent.form_of_appeal_verified,
            "power_of_attorney_verified": consent.power_of_attorney_verified,
            "verified_at": consent.verified_at, "withdrawn_at": consent.withdrawn_at},
        "tasks": [task_view(t) for t in tasks],
        "deadlines": [{"label": d.label, "due_at": d.due_at, "state": d.state, "owner_role": d.owner_role,
                       "filing_id": d.filing_id} for d in deadlines],
        "filings": [{"id": f.id, "body": f.body, "language": f.language, "state": f.state,
                     "submitted_on": f.submitted_on, "reference": f.external_reference} for f in case.filings],
        "review": review_view(session, review.latest_review(session, case)),
    }
    if role in LEGAL_FACTS_READERS:
        view["legal_facts"] = legal_facts_view(session, case)
    return view
