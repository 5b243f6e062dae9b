"""Completing user tasks: the one path by which people move a case through its process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from workflow.admissibility import Choices
from workflow.audit import is_code
from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import (
    Case,
    CollectiveComplaint,
    ConsentRecord,
    Document,
    Filing,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    User,
    utcnow,
)
from workflow.problems import Problem
from workflow.runtime import instances
from workflow.runtime.specs import FORM_PROPERTY, UI_PROPERTY, current_definition, form_schema, specs_for
from workflow.services import collective, collective_checks, processes, review
from workflow.session_cache import remembered
from workflow.states import ConsentStatus, Decision
from workflow.task_forms import fill_enums, validate_form


def complete_task(session: Session, settings: Settings, task_id: str, actor: User,
                  data: dict[str, Any]) -> ProcessInstance:
    """Validate and complete a READY user task as ``actor``; raises Forbidden/Conflict/ValidationFailed."""
    row, instance = processes.lock_task(session, task_id)  # the inbox row and the instance, in one round trip
    if not actor.active:
        raise Forbidden("this account is deactivated")
    if row.lane != actor.role:
        raise Forbidden(f"task {row.bpmn_id!r} is for the {row.lane} role, not {actor.role}")
    check_not_held(session, row, actor)
    loaded = processes.load(session, settings, instance, actor)
    task = instances.find_ready_task(loaded.workflow, task_id)
    # SpiffWorkflow's Task.run() has no state guard: without this check a double submit runs twice.
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(f"task {task_id} is no longer ready")
    _check_four_eyes(session, instance, task, actor)
    properties = task.task_spec.extensions.get("properties", {})
    schema = fill_enums(session, form_schema(instance.definition, properties[FORM_PROPERTY]))
    data = validate_form(schema, data)
    data = apply_domain_rules(session, instance, row.bpmn_id, data, actor, task_id)
    processes.run_task(loaded, task, data)
    row.state = "completed"
    row.completed_at = utcnow()
    row.completed_by_id = actor.id
    processes.save(loaded, action="task_completed", data=_completion_record(row.bpmn_id, task_id, data))
    return instance


# The choice a completion made and the review it recorded are codes; everything else in a form may be free text.
_RECORDED_CHOICES = ("decision", "action")


def completion_outcome(data: dict[str, Any]) -> str | None:
    """The choice a completion made (a review's ``decision``, a step's ``action``), if its form has one."""
    return next((data[key] for key in _RECORDED_CHOICES if is_code(data.get(key))), None)


@dataclass(frozen=True)
class Completion:
    """What a completion changed, for its answer: the task, where its case (or collective complaint) stands, and
    the ready tasks of the case or of the complaint's process now. Read from what the completion loaded, plus one
    indexed query for the ready tasks, instead of rebuilding the whole case."""

    task: HumanTask
    ref: str | None  # the case; None for a collective complaint's task
    stage: str | None
    collective_id: int | None
    status: str  # the process instance's: running or complete
    tasks: list[HumanTask]


def completion_of(session: Session, instance: ProcessInstance, task_id: str) -> Completion:
    row = session.get(HumanTask, task_id)  # in the identity map: complete_task marked it completed
    assert row is not None
    case = instance.case
    query = select(HumanTask).where(HumanTask.state == "ready").order_by(HumanTask.created_at)
    if case is not None:
        ready = session.scalars(query.where(HumanTask.case_id == case.id))
        return Completion(row, case.ref, case.stage, None, instance.status, list(ready))
    collective_id = session.scalar(select(CollectiveComplaint.id).where(CollectiveComplaint.instance_id == instance.id))
    ready = session.scalars(query.where(HumanTask.instance_id == instance.id))
    return Completion(row, None, None, collective_id, instance.status, list(ready))


def _completion_record(bpmn_id: str, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a completion: the field names, the choice made and the review's id, never the
    values typed (notes name people). The history reads a review's reason from the review (``Review.notes``)."""
    record: dict[str, Any] = {"task": bpmn_id, "task_id": task_id, "fields": sorted(data)}
    record.update({key: data[key] for key in _RECORDED_CHOICES if is_code(data.get(key))})
    if isinstance(data.get("review_id"), int):
        record["review_id"] = data["review_id"]
    return record


def held_by_other(row: HumanTask, actor: User) -> int | None:
    """The id of the user who claimed or was given ``row`` (``services/queues.py``), when that is not ``actor``.

    A process's own ``assignTo`` (a review returned to its reviewer) names someone without holding the task:
    only a claim or a manager's assignment (``assigned_at`` set) keeps the rest of the lane out."""
    if row.assigned_at is not None and row.assignee_id is not None and row.assignee_id != actor.id:
        return row.assignee_id
    return None


def check_not_held(session: Session, row: HumanTask, actor: User) -> None:
    """Conflict (code ``task_held``) when someone else holds the task: they, or a manager, release it first."""
    if (holder_id := held_by_other(row, actor)) is not None:
        holder = session.get(User, holder_id)
        raise Conflict(f"task {row.id} is held by another user",
                       errors={"task": Problem("task_held", {"user": holder.display_name if holder else "?"})})


def four_eyes_partner(definition: ProcessDefinition, bpmn_id: str) -> str | None:
    """The task whose completer may not do ``bpmn_id`` (its ``fourEyesWith`` property), if any."""
    return _task_property(definition, bpmn_id, instances.FOUR_EYES_PROPERTY)


def _task_property(definition: ProcessDefinition, bpmn_id: str, name: str) -> str | None:
    """A ``spiffworkflow:property`` of the task ``bpmn_id`` in a deployed version."""
    spec, subprocess_specs = specs_for(definition)
    for process in (spec, *subprocess_specs.values()):
        task_spec = next((t for t in process.task_specs.values() if getattr(t, "bpmn_id", None) == bpmn_id), None)
        if task_spec is not None:
            return getattr(task_spec, "extensions", {}).get("properties", {}).get(name)
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
        # The problem names the step, so a bulk action's result page can say why this item was refused.
        raise Forbidden(f"four eyes: you completed {other!r}, so another person must do this step",
                        errors={"task": Problem("four_eyes", {"task": other})})


def apply_domain_rules(session: Session, instance: ProcessInstance, bpmn_id: str, data: dict[str, Any],
                       actor: User, task_id: str) -> dict[str, Any]:
    """Rules a JSON Schema cannot express; may add derived values to the task data."""
    rule = _RULES.get(bpmn_id)
    return rule(session, instance, data, actor, task_id) if rule else data


_DOCUMENT_KINDS = select(Document.kind).where(Document.case_id == bindparam("case_id"))  # built once


def _verify_consent(session: Session, instance: ProcessInstance, data: dict[str, Any],
                    actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    kinds = set(session.scalars(_DOCUMENT_KINDS, {"case_id": case.id}))
    errors = {
        field: Problem("document_not_on_case")
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
    consent.status = ConsentStatus.VERIFIED if verified else ConsentStatus.PENDING
    consent.verified_by_id = actor.id if verified else None
    consent.verified_at = utcnow() if verified else None
    return {**data, "consent_verified": verified}


def _legal_review(session: Session, instance: ProcessInstance, data: dict[str, Any],
                  actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    approve = data["decision"] == Decision.APPROVE
    bodies = sorted(set(data.get("bodies", [])))
    errors = {}
    if data["decision"] == Decision.REJECT and not (data.get("notes") or "").strip():
        errors["notes"] = Problem("reject_reason_missing")
    if data["decision"] == Decision.RETURN and not (data.get("notes") or "").strip():
        errors["notes"] = Problem("return_reason_missing")
    if data.get("mandates") and "un_sp" not in bodies:
        errors["mandates"] = Problem("mandates_need_un_sp")
    if "un_sp" in bodies and approve and not data.get("mandates"):
        errors["mandates"] = Problem("mandate_missing")
    if data.get("communication_type") and "un_sp" not in bodies and "un_wgad" not in bodies:
        errors["communication_type"] = Problem("communication_type_scope")
    if data.get("wgad_categories") and "un_wgad" not in bodies:
        errors["wgad_categories"] = Problem("wgad_categories_scope")
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
    if approve and (blocked := review.blocked_bodies(findings, "bodies_blocked")):
        raise ValidationFailed("a chosen body cannot take this case", errors={"bodies": blocked})
    # Only an approval carries bodies forward; a return or reject must not start filings later. The form offers a
    # language for every body (the schema checked each against the body's filing languages): keep the chosen bodies'.
    languages = {body: language for body, language in data.get("languages", {}).items() if body in bodies}
    data = {**data, "bodies": bodies if approve else [], "urgent": urgent, "communication_type": communication_type,
            "languages": languages if approve else {}}
    recorded = review.record_review(session, actor, case, task_id, data, findings)
    case.urgent = urgent
    return {**data, "review_notes": data.get("notes", ""), "reviewed_by": actor.username, "reviewer_id": actor.id,
            "review_id": recorded.id}


def _approve_review(session: Session, instance: ProcessInstance, data: dict[str, Any],
                    actor: User, task_id: str) -> dict[str, Any]:
    case = instance.case
    assert case is not None
    notes = (data.get("notes") or "").strip()
    if data["decision"] == Decision.RETURN and not notes:
        raise ValidationFailed("the approval has errors", errors={"notes": Problem("approval_return_notes_missing")})
    latest = review.latest_review(session, case)
    if data["decision"] == Decision.APPROVE and latest is not None:
        # Facts may have changed since the review: approve only what is still admissible.
        findings = review.check_case(session, case, list(latest.bodies), review.choices_of(latest))
        if blocked := review.blocked_bodies(findings, "bodies_blocked_since_review"):
            raise ValidationFailed("the case changed since the review: return it to the reviewer",
                                   errors={"decision": blocked})
    review.record_approval(session, actor, case, data["decision"], notes)
    return {**data, "approval_notes": notes, **({"review_id": latest.id} if latest is not None else {})}


def _submit_filing(session: Session, instance: ProcessInstance, data: dict[str, Any],
                   actor: User, task_id: str) -> dict[str, Any]:
    if date.fromisoformat(data["submitted_on"]) > utcnow().date():
        raise ValidationFailed("the submission date is in the future",
                               errors={"submitted_on": Problem("future_date")})
    return data


def _approved_version(session: Session, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An approval of a filing names the version approved: the current one, which the approver sees on the page
    (``services/filing_versions``: nothing can be added while the manager's approval waits, nor once checked)."""
    row = session.get(HumanTask, task_id)
    filing = session.get(Filing, row.filing_id) if row is not None and row.filing_id is not None else None
    if data.get("decision") != Decision.APPROVE or filing is None or not filing.documents:
        return data
    current = max(filing.documents, key=lambda d: d.version)
    return {**data, "filing_version": current.version, "filing_document_id": current.id}


def _check_filing(session: Session, instance: ProcessInstance, data: dict[str, Any],
                  actor: User, task_id: str) -> dict[str, Any]:
    data = collective_checks.check_collective_finished(session, instance, data, actor, task_id)
    return _approved_version(session, task_id, data)


def _approve_filing(session: Session, instance: ProcessInstance, data: dict[str, Any],
                    actor: User, task_id: str) -> dict[str, Any]:
    data = collective.check_collective_approval(session, instance, data, actor, task_id)
    data = collective_checks.check_collective_finished(session, instance, data, actor, task_id)
    return _approved_version(session, task_id, data)


_RULES = {
    "verify_consent": _verify_consent,
    "legal_review": _legal_review,
    "approve_review": _approve_review,
    "check_filing": _check_filing,
    "approve_filing": _approve_filing,
    "submit_filing": _submit_filing,
}


# -- reads: the inbox, a task and its form ---------------------------------------------------------------------

@dataclass(frozen=True)
class InboxRow:
    task: HumanTask
    ref: str | None  # the case; None for a collective complaint's task
    overdue: bool
    body: str | None  # the filing's body for tasks of a filing subprocess
    collective_id: int | None = None  # a collective complaint's task: its page, named by its title
    title: str | None = None


def inbox_rows(session: Session, role: str, *, now: datetime | None = None) -> list[InboxRow]:
    """The role's ready tasks, overdue first, then by due date, then oldest; a row names either a case or a
    collective complaint (whose tasks belong to no case)."""
    now = now or utcnow()
    rows = session.execute(
        select(HumanTask, Case.ref, Filing.body, CollectiveComplaint.id, CollectiveComplaint.title)
        .outerjoin(Case, HumanTask.case_id == Case.id)
        .outerjoin(Filing, HumanTask.filing_id == Filing.id)
        .outerjoin(CollectiveComplaint, Filing.collective_id == CollectiveComplaint.id)
        .where(HumanTask.state == "ready", HumanTask.lane == role,
               or_(Case.id.is_not(None), CollectiveComplaint.id.is_not(None)))
        .order_by(~func.coalesce(HumanTask.overdue(now), False), HumanTask.due_at.is_(None), HumanTask.due_at,
                  HumanTask.created_at)).all()
    return [InboxRow(task, ref, task.overdue(now), body, collective_id, title)
            for task, ref, body, collective_id, title in rows]


@dataclass(frozen=True)
class TaskHome:
    """A task of the inbox in any state, and the page it belongs to: its case's or its collective complaint's."""

    task: HumanTask
    ref: str | None
    collective_id: int | None


def task_home(session: Session, task_id: str) -> TaskHome | None:
    row = session.execute(select(HumanTask, Case.ref, Filing.collective_id)
                          .outerjoin(Case, HumanTask.case_id == Case.id)
                          .outerjoin(Filing, HumanTask.filing_id == Filing.id)
                          .where(HumanTask.id == task_id)).first()
    return None if row is None else TaskHome(row[0], row[1], row[2])


def _definition(session: Session, task: HumanTask) -> ProcessDefinition:
    """The definition version the task's instance runs (a page asks three times for each task it offers)."""
    def read() -> ProcessDefinition:
        instance = session.identity_map.get(identity_key(ProcessInstance, task.instance_id))
        if instance is not None:  # a completion loaded it: its definition is at hand
            return instance.definition
        # A page: the definition alone, without loading the instance (its state is decrypted with its row).
        return session.scalars(select(ProcessDefinition).join(ProcessInstance,
                                                              ProcessInstance.definition_id == ProcessDefinition.id)
                               .where(ProcessInstance.id == task.instance_id)).one()

    return remembered(session, ProcessInstance, ("definition", task.instance_id), read)


def task_schema(session: Session, task: HumanTask) -> dict[str, Any]:
    """The JSON Schema of the task's form, as deployed with its instance's definition version, its vocabularies
    filled in exactly as ``complete_task`` checks them (so the page offers what will be accepted)."""
    if not task.form:
        return {"type": "object", "properties": {}}
    return fill_enums(session, form_schema(_definition(session, task), task.form))


def task_ui_schema(session: Session, task: HumanTask) -> dict[str, Any]:
    """How the task's form is drawn: the UI schema its step names (``formUiSchemaFilename``, ``workflow/form_ui.py``),
    as deployed with its instance's version; empty when it names none (every field gets its type's widget).

    A version deployed before UI schemas existed names none: its step is drawn as the active version draws the same
    step when that step has the very same form, so running cases keep their widgets (a note stays a text area)
    until they are migrated."""
    definition = _definition(session, task)
    name = _task_property(definition, task.bpmn_id, UI_PROPERTY)
    if name:
        return form_schema(definition, name)
    active = current_definition(session, definition.process_id)
    if active is None or active.id == definition.id or not task.form:
        return {}
    same_form = (_task_property(active, task.bpmn_id, FORM_PROPERTY) == task.form
                 and active.sources.get(f"forms/{task.form}") == definition.sources.get(f"forms/{task.form}"))
    name = _task_property(active, task.bpmn_id, UI_PROPERTY) if same_form else None
    return form_schema(active, name) if name else {}


def four_eyes_blocks(session: Session, task: HumanTask, user: User) -> str | None:
    """The bpmn id of the step ``user`` did that bars them from ``task`` (four eyes), or None: the rule
    ``complete_task`` enforces, for a page that should not offer a form that would be refused."""
    other = four_eyes_partner(_definition(session, task), task.bpmn_id)
    if other and did_last(session, task.instance_id, other, user):
        return other
    if task.bpmn_id == "approve_filing" and collective.reviewed_any_case(session, task.instance_id, user):
        return "legal_review"  # the complaint's approval is its cases' approval (check_collective_approval)
    return None
