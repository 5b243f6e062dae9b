"""Completing user tasks: the one path by which people move a case through its process."""

from __future__ import annotations

from datetime import date
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import vocab
from workflow.admissibility import Choices
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.forms import validate_form
from workflow.models import ConsentRecord, Document, HumanTask, ProcessDefinition, ProcessInstance, User, utcnow
from workflow.runtime import instances
from workflow.runtime.specs import FORM_PROPERTY, form_schema, specs_for
from workflow.services import review


def complete_task(session: Session, settings: Settings, task_id: str, actor: User,
                  data: dict[str, Any]) -> ProcessInstance:
    """Validate and complete a READY user task as ``actor``; raises Forbidden/Conflict/ValidationFailed."""
    # Locking the inbox row first makes two people completing one task queue up on PostgreSQL; the
    # second then reads the row as completed. (SQLite has one writer; the version column catches it.)
    row = instances.require_ready_row(session, task_id, lock=True)
    if not actor.active:
        raise Forbidden("this account is deactivated")
    if row.lane != actor.role:
        raise Forbidden(f"task {row.bpmn_id!r} is for the {row.lane} role, not {actor.role}")
    instance = instances.lock(session, row.instance_id)
    loaded = instances.load(session, settings, instance, actor)
    task = instances.find_ready_task(loaded.workflow, task_id)
    # SpiffWorkflow's Task.run() has no state guard: without this check a double submit runs twice.
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(f"task {task_id} is no longer ready")
    _check_four_eyes(session, instance, task, actor)
    properties = task.task_spec.extensions.get("properties", {})
    schema = vocab.fill_enums(session, form_schema(instance.definition, properties[FORM_PROPERTY]))
    data = validate_form(schema, data)
    data = apply_domain_rules(session, instance, row.bpmn_id, data, actor, task_id)
    instances.run_task(loaded, task, data)
    row.state = "completed"
    row.completed_at = utcnow()
    row.completed_by_id = actor.id
    instances.save(loaded, action="task_completed", data={"task": row.bpmn_id, "task_id": task_id,
                                                          "form": data})
    return instance


def four_eyes_partner(definition: ProcessDefinition, bpmn_id: str) -> str | None:
    """The task whose completer may not do ``bpmn_id`` (its ``fourEyesWith`` property), if any."""
    spec, subprocess_specs = specs_for(definition)
    for process in (spec, *subprocess_specs.values()):
        task_spec = next((t for t in process.task_specs.values() if getattr(t, "bpmn_id", None) == bpmn_id), None)
        if task_spec is not None:
            return getattr(task_spec, "extensions", {}).get("properties", {}).get(instances.FOUR_EYES_PROPERTY)
    return None


def did_last(session: Session, instance_id: int, bpmn_id: str, user: User) -> bool:
    """Whether ``user`` completed the latest ``bpmn_id`` task of the instance."""
    last = session.scalar(
        select(HumanTask.completed_by_id)
        .where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.state == "completed")
        .order_by(HumanTask.completed_at.desc())
        .limit(1)
    )
    return last == user.id


def _check_four_eyes(session: Session, instance: ProcessInstance, task: Any, actor: User) -> None:
    other = task.task_spec.extensions.get("properties", {}).get(instances.FOUR_EYES_PROPERTY)
    if other and did_last(session, instance.id, other, actor):
        raise Forbidden(f"four eyes: you completed {other!r}, so another person must do this step")


def apply_domain_rules(session: Session, instance: ProcessInstance, bpmn_id: str, data: dict[str, Any],
                       actor: User, task_id: str) -> dict[str, Any]:
    """Rules a JSON Schema cannot express; may add derived values to the task data."""
    rule = _RULES.get(bpmn_id)
    return rule(session, instance, data, actor, task_id) if rule else data


def _verify_consent(session: Session, instance: ProcessInstance, data: dict[str, Any],
                    actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    kinds = {kind for (kind,) in session.execute(select(Document.kind).where(Document.case_id == case.id))}
    errors = {
        field: "the case has no such document"
        for field, kind in (("form_of_appeal_verified", "form_of_appeal"),
                            ("power_of_attorney_verified", "power_of_attorney"))
        if data.get(field) and kind not in kinds
    }
    if errors:
        raise ValidationFailed("cannot verify a document the case does not have", errors=errors)
    consent = case.consent or ConsentRecord(case=case)
    session.add(consent)
    consent.form_of_appeal_verified = bool(data["form_of_appeal_verified"])
    consent.power_of_attorney_verified = bool(data["power_of_attorney_verified"])
    verified = consent.form_of_appeal_verified and consent.power_of_attorney_verified
    consent.status = "verified" if verified else "pending"
    consent.verified_by_id = actor.id if verified else None
    consent.verified_at = utcnow() if verified else None
    return {**data, "consent_verified": verified}


def _legal_review(session: Session, instance: ProcessInstance, data: dict[str, Any],
                  actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    approve = data["decision"] == "approve"
    bodies = sorted(set(data.get("bodies", [])))
    errors = {}
    if data["decision"] == "reject" and not (data.get("notes") or "").strip():
        errors["notes"] = "give the reason for rejecting the case"
    if data["decision"] == "return" and not (data.get("notes") or "").strip():
        errors["notes"] = "say what is missing"
    if data.get("mandates") and "un_sp" not in bodies:
        errors["mandates"] = "mandates apply only to a filing with un_sp"
    if "un_sp" in bodies and approve and not data.get("mandates"):
        errors["mandates"] = "choose at least one Special Procedures mandate"
    if data.get("communication_type") and "un_sp" not in bodies and "un_wgad" not in bodies:
        errors["communication_type"] = "applies only to the Special Procedures and the WGAD"
    if data.get("wgad_categories") and "un_wgad" not in bodies:
        errors["wgad_categories"] = "categories apply only to a filing with un_wgad"
    if errors:
        raise ValidationFailed("the review has errors", errors=errors)
    urgent = bool(data.get("urgent")) or review.is_urgent(session, case)
    communication_type = data.get("communication_type")
    if communication_type is None and ("un_sp" in bodies or "un_wgad" in bodies):
        # The urgent track: an urgent case goes as an urgent appeal unless the reviewer chose otherwise.
        communication_type = "urgent_appeal" if urgent else "letter_of_allegation"
    choices = Choices(urgent=urgent, communication_type=communication_type,
                      wgad_categories=tuple(data.get("wgad_categories", [])))
    findings = review.check_case(session, case, bodies, choices)
    if approve and (blocked := review.blocking_errors(findings)):
        raise ValidationFailed("a chosen body cannot take this case",
                               errors={"bodies": " ".join(f"{code}: {text}" for code, text in blocked.items())})
    # Only an approval carries bodies forward; a return or reject must not start filings later.
    data = {**data, "bodies": bodies if approve else [], "urgent": urgent, "communication_type": communication_type}
    recorded = review.record_review(session, actor, case, task_id, data, findings)
    case.urgent = urgent
    return {**data, "review_notes": data.get("notes", ""), "reviewed_by": actor.username, "reviewer_id": actor.id,
            "review_id": recorded.id}


def _approve_review(session: Session, instance: ProcessInstance, data: dict[str, Any],
                    actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    notes = (data.get("notes") or "").strip()
    if data["decision"] == "return" and not notes:
        raise ValidationFailed("the approval has errors", errors={"notes": "tell the reviewer what to change"})
    latest = review.latest_review(session, case)
    if data["decision"] == "approve" and latest is not None:
        # Facts may have changed since the review: approve only what is still admissible.
        choices = Choices(urgent=latest.urgent, communication_type=latest.communication_type,
                          wgad_categories=tuple(latest.wgad_categories))
        blocked = review.blocking_errors(review.check_case(session, case, list(latest.bodies), choices))
        if blocked:
            raise ValidationFailed("the case changed since the review: return it to the reviewer",
                                   errors={"decision": " ".join(f"{code}: {text}" for code, text in blocked.items())})
    review.record_approval(session, actor, case, data["decision"], notes)
    return {**data, "approval_notes": notes}


def _submit_filing(session: Session, instance: ProcessInstance, data: dict[str, Any],
                   actor: User, task_id: str) -> dict[str, Any]:
    if date.fromisoformat(data["submitted_on"]) > utcnow().date():
        raise ValidationFailed("the submission date is in the future",
                               errors={"submitted_on": "cannot be in the future"})
    return data


_RULES = {
    "verify_consent": _verify_consent,
    "legal_review": _legal_review,
    "approve_review": _approve_review,
    "submit_filing": _submit_filing,
}
