"""A case driven through every path of case.bpmn and filing.bpmn, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import docx
import pytest
from sqlalchemy import func, select

from tests.helpers import (
    audit_actions,
    case_instance,
    do,
    expire_timers,
    open_sample_case,
    ready,
    ready_ids,
    stage,
    task,
)
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import Case, ConsentRecord, Deadline, Document, Filing, HumanTask, ProcessInstance
from workflow.problems import Problem
from workflow.runtime.context import document_store
from workflow.services.consent import withdraw_consent
from workflow.services.responses import record_response
from workflow.services.tasks import complete_task
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
APPROVE_UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"],
                 "notes": "Peaceful assembly."}


def to_approval(env, ref: str, review: dict | None = None) -> None:
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", review or APPROVE_UN_SP)


def to_filings(env, ref: str, review: dict | None = None) -> None:
    to_approval(env, ref, review)
    do(env, ref, "approve_review", "mara", {"decision": "approve", "notes": "Agreed."})


def submit_all(env, ref: str, submitted_on: str | None = None) -> None:
    for row in ready(env, ref):
        if row.bpmn_id == "check_filing":
            with env.uow() as session:
                complete_task(session, env.settings, row.id, env.user(session, "leo"), {"decision": "approve"})
    for row in ready(env, ref):
        with env.uow() as session:
            complete_task(session, env.settings, row.id, env.user(session, "ina"), {
                "submitted_on": submitted_on or date.today().isoformat(), "channel": "email",
                "reference": f"G/SO 214 ({row.filing_id})"})


def filings_of(env, ref: str) -> list[Filing]:
    with env.uow() as session:
        return list(session.scalars(select(Filing).join(Case).where(Case.ref == ref).order_by(Filing.body)))


def test_imported_case_waits_at_verify_consent_with_its_service_level(env, staff):
    open_sample_case(env, "APL-001")
    assert stage(env, "APL-001") == "consent"
    [row] = ready(env, "APL-001")
    assert (row.bpmn_id, row.lane, row.form) == ("verify_consent", "intake", "verify_consent.json")
    assert timedelta(days=6, hours=23) < row.due_at - datetime.now(UTC) <= timedelta(days=7)
    with env.uow() as session:
        [deadline] = session.scalars(select(Deadline)).all()
        instance = case_instance(session, "APL-001")
        assert (deadline.label, deadline.owner_role, deadline.state) == ("Consent verification due", "intake", "open")
        assert instance.next_timer_at == deadline.due_at == row.due_at
        assert instance.serializer_version == "1.5"
        assert "process_started" in audit_actions(session, "APL-001")


def test_a_new_appeal_starts_at_complete_intake(env, staff):
    open_sample_case(env, "APL-002", imported=False)
    assert ready_ids(env, "APL-002") == ["complete_intake"]
    assert stage(env, "APL-002") == "intake"
    do(env, "APL-002", "complete_intake", "ivan", {"notes": "Documents scanned."})
    assert ready_ids(env, "APL-002") == ["verify_consent"]


def test_complete_consent_goes_to_legal_review_with_a_14_day_deadline(env, staff):
    open_sample_case(env, "APL-003")
    do(env, "APL-003", "verify_consent", "ina", VERIFIED)
    assert stage(env, "APL-003") == "legal_review"
    row = task(env, "APL-003", "legal_review")
    assert timedelta(days=13, hours=23) < row.due_at - datetime.now(UTC) <= timedelta(days=14)
    with env.uow() as session:
        consent = session.scalar(select(ConsentRecord).join(Case).where(Case.ref == "APL-003"))
        assert consent.status == "verified" and consent.verified_by_id is not None
        states = dict(session.execute(select(Deadline.label, Deadline.state)).all())
        assert states == {"Consent verification due": "met", "Legal review due": "open"}


def test_a_detained_complainant_gets_a_48_hour_review(env, staff):
    open_sample_case(env, "APL-004", detained_now=True)
    do(env, "APL-004", "verify_consent", "ina", VERIFIED)
    row = task(env, "APL-004", "legal_review")
    assert timedelta(hours=47) < row.due_at - datetime.now(UTC) <= timedelta(hours=48)


def test_verifying_a_document_the_case_lacks_is_refused_and_changes_nothing(env, staff):
    open_sample_case(env, "APL-005", documents=("form_of_appeal",))
    with pytest.raises(ValidationFailed) as err:
        do(env, "APL-005", "verify_consent", "ina", VERIFIED)
    assert err.value.errors == {"power_of_attorney_verified": Problem("document_not_on_case")}
    assert ready_ids(env, "APL-005") == ["verify_consent"]
    with env.uow() as session:
        consent = session.scalar(select(ConsentRecord).join(Case).where(Case.ref == "APL-005"))
        assert consent.status == "pending" and not consent.form_of_appeal_verified


def test_incomplete_consent_requests_documents_and_the_timer_escalates_and_loops_back(env, staff):
    open_sample_case(env, "APL-006", documents=("form_of_appeal",))
    do(env, "APL-006", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": False})
    row = task(env, "APL-006", "request_documents")
    assert stage(env, "APL-006") == "consent"
    assert timedelta(days=29, hours=23) < row.due_at - datetime.now(UTC) <= timedelta(days=30)
    assert expire_timers(env, "APL-006", only="Missing documents") == 1
    report = sweep(env.engine, env.settings)
    assert report.fired == 1 and report.failed == 0
    assert ready_ids(env, "APL-006") == ["verify_consent"]  # looped back after alerting a manager
    with env.uow() as session:
        assert session.get(HumanTask, row.id).state == "cancelled"
        assert "escalated" in audit_actions(session, "APL-006")
        missed = session.scalar(select(Deadline).where(Deadline.label == "Missing documents overdue"))
        # Open and overdue, marked as escalated, until the documents arrive (tests/web/test_escalated_deadlines.py).
        assert missed.state == "open" and missed.escalated_at is not None
    assert sweep(env.engine, env.settings).fired == 0  # nothing fires twice


def test_documents_received_loop_back_and_abandoning_closes_the_case(env, staff):
    open_sample_case(env, "APL-007", documents=())
    do(env, "APL-007", "verify_consent", "ina", {"form_of_appeal_verified": False, "power_of_attorney_verified": False})
    do(env, "APL-007", "request_documents", "ina", {"received": True, "notes": "Posted by the family."})
    assert ready_ids(env, "APL-007") == ["verify_consent"]
    do(env, "APL-007", "verify_consent", "ina", {"form_of_appeal_verified": False, "power_of_attorney_verified": False})
    do(env, "APL-007", "request_documents", "ivan", {"received": False, "abandon": True})
    assert stage(env, "APL-007") == "closed"
    assert ready_ids(env, "APL-007") == []


def test_legal_review_return_goes_back_to_intake_and_then_straight_to_review(env, staff):
    open_sample_case(env, "APL-008")
    do(env, "APL-008", "verify_consent", "ina", VERIFIED)
    with pytest.raises(ValidationFailed) as err:
        do(env, "APL-008", "legal_review", "lena", {"decision": "return"})
    assert err.value.errors == {"notes": Problem("return_reason_missing")}
    do(env, "APL-008", "legal_review", "lena", {"decision": "return", "notes": "Court decision missing."})
    assert stage(env, "APL-008") == "intake" and ready_ids(env, "APL-008") == ["complete_intake"]
    do(env, "APL-008", "complete_intake", "ina", {"notes": "Court decision attached."})
    assert ready_ids(env, "APL-008") == ["legal_review"]  # consent is already verified


def test_legal_review_reject_closes_the_case_with_the_reason_in_its_history(env, staff):
    open_sample_case(env, "APL-009")
    do(env, "APL-009", "verify_consent", "ina", VERIFIED)
    do(env, "APL-009", "legal_review", "lena", {"decision": "reject", "notes": "Not a human-rights matter."})
    assert stage(env, "APL-009") == "rejected"
    with env.uow() as session:
        assert case_instance(session, "APL-009").status == "complete"
        from workflow.models import AuditEvent

        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "task_completed")
                                .order_by(AuditEvent.id.desc())).first()
        # The form's field names, never its values: the note stays out of the audit log (workflow/audit.py).
        assert "notes" in event.data["fields"] and "form" not in event.data
        assert "human-rights matter" not in json.dumps(event.data)


def test_four_eyes_the_reviewer_cannot_approve_their_own_review(env, staff):
    open_sample_case(env, "APL-010")
    to_approval(env, "APL-010")
    with pytest.raises(Forbidden):  # a legal officer cannot take a manager's task at all
        do(env, "APL-010", "approve_review", "lena", {"decision": "approve"})
    with env.uow() as session:  # lena is promoted; she still may not approve what she reviewed
        env.user(session, "lena").role = "manager"
    with pytest.raises(Forbidden, match="four eyes"):
        do(env, "APL-010", "approve_review", "lena", {"decision": "approve"})
    assert ready_ids(env, "APL-010") == ["approve_review"]
    do(env, "APL-010", "approve_review", "mara", {"decision": "approve"})
    assert stage(env, "APL-010") == "filing"


def test_manager_return_sends_the_case_back_to_the_reviewer(env, staff):
    open_sample_case(env, "APL-011")
    to_approval(env, "APL-011")
    do(env, "APL-011", "approve_review", "mara", {"decision": "return", "notes": "Add article 19."})
    assert stage(env, "APL-011") == "legal_review"
    do(env, "APL-011", "legal_review", "lena", {**APPROVE_UN_SP, "grounds": ["iccpr_19", "iccpr_21"]})
    do(env, "APL-011", "approve_review", "max", {"decision": "approve"})
    assert stage(env, "APL-011") == "filing"


def test_a_review_without_bodies_leaves_the_case_for_collective_complaints_without_an_approval(env, staff):
    open_sample_case(env, "APL-012")
    to_approval(env, "APL-012", {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    assert stage(env, "APL-012") == "approved" and ready_ids(env, "APL-012") == []  # no approve_review
    assert filings_of(env, "APL-012") == []


def test_one_filing_per_body_with_a_real_document_and_revisions(env, staff):
    open_sample_case(env, "APL-013")
    to_filings(env, "APL-013", {"decision": "approve", "bodies": ["un_wgad", "un_sp"], "wgad_categories": ["II"],
                                "mandates": ["torture"],
                                "grounds": ["iccpr_7", "iccpr_9"]})
    checks = ready(env, "APL-013")
    assert [r.bpmn_id for r in checks] == ["check_filing", "check_filing"]
    assert {r.lane for r in checks} == {"legal"} and all(r.due_at for r in checks)
    un_sp, un_wgad = filings_of(env, "APL-013")
    assert (un_sp.body, un_wgad.body) == ("un_sp", "un_wgad")
    assert {r.filing_id for r in checks} == {un_sp.id, un_wgad.id}
    revise = next(r for r in checks if r.filing_id == un_sp.id)
    with env.uow() as session:
        complete_task(session, env.settings, revise.id, env.user(session, "leo"), {"decision": "revise"})
        documents = session.scalars(select(Document).where(Document.filing_id == un_sp.id)
                                    .order_by(Document.version)).all()
        assert [d.version for d in documents] == [1, 2]
        content = document_store(env.settings).get(documents[-1].storage_key)
    document = docx.Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "APL-013" in document.sections[0].header.paragraphs[0].text
    assert "Detained at the square" in text and "ICCPR art. 7" in text + cells
    assert "Torture" in text + cells  # the mandate chosen in the review, by its label
    assert sorted(r.bpmn_id for r in ready(env, "APL-013")) == ["check_filing", "check_filing"]


def test_a_response_received_before_the_window_ends_and_a_final_decision(env, staff):
    open_sample_case(env, "APL-014")
    to_filings(env, "APL-014")
    submit_all(env, "APL-014")
    assert stage(env, "APL-014") == "awaiting_response"
    [filing] = filings_of(env, "APL-014")
    assert filing.state == "submitted" and filing.channel == "email"
    with env.uow() as session:
        window = session.scalar(select(Deadline).where(Deadline.label == "Response window"))
        assert window.state == "open" and window.filing_id == filing.id
        expected = datetime.combine(date.today() + timedelta(days=60), datetime.min.time(), UTC) + timedelta(hours=9)
        assert window.due_at == expected
    with env.uow() as session:
        record_response(session, env.settings, env.user(session, "lena"), filing.id, kind="acknowledgement",
                        received_on=date.today(), reference="AL KAZ 1/2026")
    assert stage(env, "APL-014") == "awaiting_response"
    with env.uow() as session:
        states = sorted(session.execute(select(Deadline.state).where(Deadline.label == "Response window")).scalars())
        assert states == ["met", "open"]  # the first window was met; a new one runs
        record_response(session, env.settings, env.user(session, "lena"), filing.id, kind="decision",
                        received_on=date.today(), summary="Communication transmitted.")
    assert ready_ids(env, "APL-014") == ["record_outcome"]
    do(env, "APL-014", "record_outcome", "lena", {"outcome": "communication_sent"})
    assert stage(env, "APL-014") == "closed"
    assert filings_of(env, "APL-014")[0].state == "closed"


def test_response_window_expired_brings_follow_up_to_the_legal_officer(env, staff):
    open_sample_case(env, "APL-015")
    to_filings(env, "APL-015")
    submit_all(env, "APL-015")
    expire_timers(env, "APL-015", only="Awaiting response")
    assert sweep(env.engine, env.settings).fired == 1
    row = task(env, "APL-015", "follow_up")
    assert row.lane == "legal" and stage(env, "APL-015") == "follow_up"
    [filing] = filings_of(env, "APL-015")
    with env.uow() as session, pytest.raises(Conflict, match="not awaiting a response"):
        record_response(session, env.settings, env.user(session, "lena"), filing.id, kind="state_reply",
                        received_on=date.today())
    do(env, "APL-015", "follow_up", "lena", {"action": "reminder_sent"})
    assert stage(env, "APL-015") == "awaiting_response"  # waiting again, with a follow-up window
    expire_timers(env, "APL-015")
    sweep(env.engine, env.settings)
    do(env, "APL-015", "follow_up", "leo", {"action": "close", "notes": "No answer after two reminders."})
    do(env, "APL-015", "record_outcome", "lena", {"outcome": "no_reply"})
    assert stage(env, "APL-015") == "closed"


def test_two_bodies_one_answers_the_other_stays_silent(env, staff):
    open_sample_case(env, "APL-016")
    to_filings(env, "APL-016", {"decision": "approve", "bodies": ["un_wgad", "osce_odihr"], "wgad_categories": ["I"],
                                "grounds": ["iccpr_9"]})
    submit_all(env, "APL-016")
    _odihr, wgad = filings_of(env, "APL-016")
    with env.uow() as session:
        record_response(session, env.settings, env.user(session, "lena"), wgad.id, kind="decision",
                        received_on=date.today())
    # Only the WGAD filing caught the message; ODIHR still waits.
    assert [(r.bpmn_id, r.filing_id) for r in ready(env, "APL-016")] == [("record_outcome", wgad.id)]
    assert filings_of(env, "APL-016")[0].state == "submitted"


def test_withdrawal_after_submission_cancels_pending_filings_and_asks_to_inform_the_body(env, staff):
    open_sample_case(env, "APL-017")
    to_filings(env, "APL-017", {"decision": "approve", "bodies": ["un_sp", "un_wgad"], "wgad_categories": ["II"],
                                "mandates": ["assembly"],
                                "grounds": ["iccpr_21"]})
    [sp_check] = [r for r in ready(env, "APL-017") if r.filing_id == filings_of(env, "APL-017")[0].id]
    with env.uow() as session:  # submit un_sp only; un_wgad stays pending
        complete_task(session, env.settings, sp_check.id, env.user(session, "leo"), {"decision": "approve"})
    do(env, "APL-017", "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "post"})
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-017"))
        withdraw_consent(session, env.settings, env.user(session, "ina"), case, "Fears reprisals.")
    un_sp, un_wgad = filings_of(env, "APL-017")
    assert (un_sp.state, un_wgad.state) == ("submitted", "cancelled")
    [inform] = ready(env, "APL-017")
    assert (inform.bpmn_id, inform.lane, inform.filing_id) == ("inform_body", "legal", un_sp.id)
    assert stage(env, "APL-017") == "withdrawn"
    do(env, "APL-017", "inform_body", "lena", {"informed_on": date.today().isoformat(), "channel": "email"})
    with env.uow() as session:
        assert case_instance(session, "APL-017").status == "complete"
        assert session.scalar(select(func.count()).select_from(Deadline).where(Deadline.state == "open")) == 0


def test_withdrawal_before_any_filing_ends_the_case(env, staff):
    open_sample_case(env, "APL-018")
    do(env, "APL-018", "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-018"))
        withdraw_consent(session, env.settings, env.user(session, "lena"), case, "Changed their mind.")
    assert stage(env, "APL-018") == "withdrawn" and ready_ids(env, "APL-018") == []
    with env.uow() as session:
        assert case_instance(session, "APL-018").status == "complete"
        assert session.scalar(select(ConsentRecord.status).join(Case).where(Case.ref == "APL-018")) == "withdrawn"


def test_completing_a_task_twice_is_a_conflict_and_changes_nothing(env, staff):
    open_sample_case(env, "APL-019")
    row = task(env, "APL-019", "verify_consent")
    with env.uow() as session:
        complete_task(session, env.settings, row.id, env.user(session, "ina"), VERIFIED)
    with env.uow() as session:
        before = case_instance(session, "APL-019").version
    with env.uow() as session, pytest.raises(Conflict):
        complete_task(session, env.settings, row.id, env.user(session, "ina"), VERIFIED)
    with env.uow() as session:
        assert case_instance(session, "APL-019").version == before


def test_wrong_role_and_invalid_data_are_refused(env, staff):
    open_sample_case(env, "APL-020")
    with pytest.raises(Forbidden):
        do(env, "APL-020", "verify_consent", "lena", VERIFIED)
    with pytest.raises(ValidationFailed) as err:
        do(env, "APL-020", "verify_consent", "ina", {"form_of_appeal_verified": "yes", "extra": 1})
    assert set(err.value.errors) == {"form_of_appeal_verified", "power_of_attorney_verified", "extra"}
    assert ready_ids(env, "APL-020") == ["verify_consent"]


def test_a_stale_write_raises_a_conflict_and_loses_nothing(env, staff):
    """Optimistic locking across transactions: a state loaded earlier cannot overwrite a newer one."""
    from workflow.runtime import instances
    from workflow.services import processes

    open_sample_case(env, "APL-021")
    row = task(env, "APL-021", "verify_consent")
    with env.uow() as stale_session:
        stale = processes.load(stale_session, env.settings, case_instance(stale_session, "APL-021"), None)
        stale_session.commit()  # the request that loaded it has ended; its objects keep the old version
        with env.uow() as session:  # someone else completes the task meanwhile
            complete_task(session, env.settings, row.id, env.user(session, "ina"), VERIFIED)
        with pytest.raises(Conflict):
            instances.save(stale, action="stale")
        stale_session.rollback()
    assert ready_ids(env, "APL-021") == ["legal_review"]
    with env.uow() as session:
        assert session.scalar(select(ProcessInstance.status)) == "running"
