"""Read models: a case as the JSON API and the CLI show it, with identity fields limited by role.

Every read that includes identity fields leaves an audit event naming the fields read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.models import Deadline, HumanTask, Role, User
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
    return {
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
    }
