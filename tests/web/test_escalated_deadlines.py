"""A missed service level stays visible until the work is done (issue 12, item 7), on SQLite and PostgreSQL.

The clock is moved as elsewhere in the suite: the waiting timers are set to when they would have been due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.helpers import PDF, case_instance, do, expire_timers, open_sample_case, ready, ready_ids, task
from workflow.models import AuditEvent, Case, Deadline
from workflow.runtime import instances
from workflow.services import processes
from workflow.services.dashboard import deadline_board
from workflow.services.documents import attach_document
from workflow.services.tasks import complete_task
from workflow.services.worker import tick

MISSING = {"form_of_appeal_verified": True, "power_of_attorney_verified": False}
REFS = [f"APL-7{n:02d}" for n in range(21)]
DOCUMENTS = "Missing documents overdue"


def _asked_days_ago(env, ref: str, days: int) -> None:
    """The documents were requested ``days`` ago: the 30-day clock ran out ``days - 30`` days ago."""
    with env.uow() as session:
        loaded = processes.load(session, env.settings, case_instance(session, ref), None)
        due = datetime.now(UTC) - timedelta(days=days - 30)
        assert instances.reschedule_timers(loaded, due, only="Missing documents") == 1
        instances.save(loaded, action="timers_rescheduled")


def _overdue(client, headers) -> list[dict]:
    response = client.get("/api/v1/deadlines?status=overdue&per_page=100", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["items"]


def test_forty_days_after_asking_for_documents_all_21_stay_overdue_until_the_work_is_done(env, staff, client, token,
                                                                                          login):
    for ref in REFS:
        open_sample_case(env, ref, documents=("form_of_appeal",))
        do(env, ref, "verify_consent", "ina", MISSING)
        _asked_days_ago(env, ref, 40)
    tick(env.engine, env.settings)
    for ref in REFS[:5]:  # the fresh 7-day clock of verify_consent runs out too: the same work, no new alert
        assert expire_timers(env, ref, only="Consent verification") == 1
    tick(env.engine, env.settings)
    manager = token("mara")
    with env.uow() as session:
        alerts = dict(session.execute(
            select(Case.ref, func.count()).join(AuditEvent, AuditEvent.case_id == Case.id)
            .where(AuditEvent.action == "escalated").group_by(Case.ref)).all())
        assert alerts == {ref: 1 for ref in REFS}
        # The loop back to verify_consent started a fresh 7-day clock: it adds no second row for the same work.
        assert session.scalar(select(func.count()).select_from(Deadline).where(Deadline.state == "open")) == 21
        assert deadline_board(session, datetime.now(UTC)).overdue == 21
    overdue = _overdue(client, manager)
    assert sorted(d["case"] for d in overdue) == REFS
    assert all(d["label"] == DOCUMENTS and d["manager_alerted"] and d["escalated_at"] for d in overdue)
    assert ready_ids(env, REFS[0]) == ["verify_consent"]

    mara = login("mara")
    page = mara.get("/dashboard/deadlines?status=overdue")
    assert page.status_code == 200 and page.get_data(as_text=True).count("manager alerted") == 21
    assert "manager alerted" in mara.get(f"/cases/{REFS[3]}").get_data(as_text=True)  # the case's own panel

    # The documents arrive for the first case: verified, it goes on to review and its deadline closes (missed).
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == REFS[0]))
        attach_document(session, env.settings, None, case, "power_of_attorney", PDF, "poa.pdf")
    do(env, REFS[0], "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    # The second case is still incomplete: asked again, then the family answers (request_documents completed).
    do(env, REFS[1], "verify_consent", "ina", MISSING)
    assert ready_ids(env, REFS[1]) == ["request_documents"]
    assert sorted(d["case"] for d in _overdue(client, manager)) == REFS[1:]  # still open while asked again
    do(env, REFS[1], "request_documents", "ivan", {"received": True, "notes": "Posted by the family."})
    # The third is given up: the case closes, and its deadline with it.
    do(env, REFS[2], "verify_consent", "ina", MISSING)
    do(env, REFS[2], "request_documents", "ivan", {"received": False, "abandon": True})
    assert sorted(d["case"] for d in _overdue(client, manager)) == REFS[3:]
    with env.uow() as session:
        closed = session.scalars(select(Deadline).join(Case, Case.id == Deadline.case_id)
                                 .where(Case.ref.in_(REFS[:3]), Deadline.label == DOCUMENTS)).all()
        assert [(d.state, d.escalated_at is not None) for d in closed] == [("missed", True)] * 3
        # A fresh clock for new work is a deadline again (the second case is back in verify_consent).
        assert session.scalar(select(func.count()).select_from(Deadline).join(Case, Case.id == Deadline.case_id)
                              .where(Case.ref == REFS[1], Deadline.state == "open")) == 1


def test_a_non_interrupting_service_level_stays_open_until_its_task_is_done(env, staff, client, token):
    open_sample_case(env, "APL-790")
    expire_timers(env, "APL-790", only="Consent verification")
    tick(env.engine, env.settings)
    overdue = _overdue(client, token("mara"))
    assert [(d["case"], d["label"], d["manager_alerted"]) for d in overdue] == [
        ("APL-790", "Consent verification due", True)]
    do(env, "APL-790", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    assert _overdue(client, token("mara")) == []
    assert task(env, "APL-790", "legal_review")
    with env.uow() as session:
        row = session.scalar(select(Deadline).where(Deadline.label == "Consent verification due"))
        assert row.state == "missed" and row.escalated_at is not None


def test_a_late_review_and_late_filing_checks_stay_open_each_until_its_own_work_is_done(env, staff, client, token):
    from tests.workflow.test_process import APPROVE_UN_SP

    manager = token("mara")
    open_sample_case(env, "APL-791")
    do(env, "APL-791", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    expire_timers(env, "APL-791", only="Legal review")
    tick(env.engine, env.settings)
    assert [(d["label"], d["manager_alerted"]) for d in _overdue(client, manager)] == [("Legal review due", True)]
    do(env, "APL-791", "legal_review", "lena", {**APPROVE_UN_SP, "bodies": ["un_wgad", "un_sp"],
                                                "wgad_categories": ["II"]})
    assert _overdue(client, manager) == []
    do(env, "APL-791", "approve_review", "mara", {"decision": "approve", "notes": "Agreed."})
    checks = [t for t in ready(env, "APL-791") if t.bpmn_id == "check_filing"]
    assert len(checks) == 2
    expire_timers(env, "APL-791", only="Filing check")
    tick(env.engine, env.settings)
    late = _overdue(client, manager)
    assert sorted(d["filing_id"] for d in late) == sorted(t.filing_id for t in checks)
    assert all(d["label"] == "Filing check due" and d["manager_alerted"] for d in late)
    with env.uow() as session:  # each filing's check is its own work: each alerted a manager
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "escalated", AuditEvent.data["task"].as_string() == "check_filing")) == 2
        complete_task(session, env.settings, checks[0].id, env.user(session, "leo"), {"decision": "approve"})
    assert [d["filing_id"] for d in _overdue(client, manager)] == [checks[1].filing_id]
