"""A collective complaint's process ends with its filing (collective_complaint.bpmn's `collective_end`): after the
body's final decision, or after a follow-up that gives up on a silent body; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers import COLLECTIVE_TEXT, do, open_sample_case, stage
from workflow.models import AuditEvent, CollectiveComplaint, Deadline, Filing, HumanTask, ProcessInstance
from workflow.runtime import instances
from workflow.services import processes
from workflow.services.collective import create_collective
from workflow.services.responses import record_response
from workflow.services.tasks import complete_task
from workflow.services.worker import sweep

TODAY = datetime.now(UTC).date()


def submitted_collective(env, ref: str) -> tuple[int, int]:
    """A collective complaint over one approved case, checked, approved and submitted: (its id, its filing's id)."""
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    do(env, ref, "legal_review", "lena", {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    with env.uow() as session:
        collective = create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                                       title="Detentions at the rally", cases=[ref], grounds=["iccpr_21"],
                                       narrative=COLLECTIVE_TEXT)
        collective_id, filing_id = collective.id, collective.filing.id
    for bpmn_id, username, data in (("check_filing", "leo", {"decision": "approve"}),
                                    ("approve_filing", "mara", {"decision": "approve"}),
                                    ("submit_filing", "ina", {"submitted_on": TODAY.isoformat(), "channel": "email"})):
        complete(env, filing_id, bpmn_id, username, data)
    return collective_id, filing_id


def complete(env, filing_id: int, bpmn_id: str, username: str, data: dict) -> None:
    with env.uow() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready",
                                                     HumanTask.filing_id == filing_id))
        assert row is not None, f"{bpmn_id} is not ready"
        complete_task(session, env.settings, row.id, env.user(session, username), data)


def ready_of(env, instance_id: int) -> list[str]:
    with env.uow() as session:
        return sorted(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                                      HumanTask.state == "ready")))


def assert_ended(env, collective_id: int, filing_id: int, ref: str) -> None:
    """The complaint's instance is complete, its filing closed, no deadline or task of it left open, the case
    it speaks for untouched, and the last step audited on the instance."""
    with env.uow() as session:
        instance = session.get(ProcessInstance, session.get(CollectiveComplaint, collective_id).instance_id)
        assert (instance.status, instance.next_timer_at, instance.case_id) == ("complete", None, None)
        assert session.get(Filing, filing_id).state == "closed"
        assert session.scalars(select(Deadline).where(Deadline.filing_id == filing_id,
                                                      Deadline.state == "open")).all() == []
        last = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "process_instance",
                                                        AuditEvent.object_id == str(instance.id))
                               .order_by(AuditEvent.id.desc())).first()
        assert last.action == "task_completed" and last.data["task"] == "record_outcome"
        instance_id = instance.id
    assert ready_of(env, instance_id) == []
    assert stage(env, ref) == "approved"  # the case was approved for the complaint and stays so


def test_the_bodys_final_decision_and_its_outcome_close_the_collective_complaint(env, staff):
    collective_id, filing_id = submitted_collective(env, "APL-801")
    with env.uow() as session:
        record_response(session, env.settings, env.user(session, "lena"), filing_id, kind="decision",
                        received_on=TODAY, summary="The communication was transmitted.")
    with env.uow() as session:
        window = session.scalar(select(Deadline).where(Deadline.filing_id == filing_id,
                                                       Deadline.label == "Response window"))
        assert window.state == "met"  # answered within its window
    complete(env, filing_id, "record_outcome", "lena", {"outcome": "communication_sent"})
    assert_ended(env, collective_id, filing_id, "APL-801")


def test_a_follow_up_that_gives_up_on_a_silent_body_closes_the_collective_complaint(env, staff):
    collective_id, filing_id = submitted_collective(env, "APL-802")
    with env.uow() as session:  # the response window ends: move its clock, then let the worker fire it
        instance = session.get(ProcessInstance, session.get(CollectiveComplaint, collective_id).instance_id)
        loaded = processes.load(session, env.settings, instance, None)
        assert instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1)) == 1
        instances.save(loaded, action="timers_rescheduled")
        instance_id = instance.id
    assert sweep(env.engine, env.settings).fired == 1
    assert ready_of(env, instance_id) == ["follow_up"]
    with env.uow() as session:
        window = session.scalar(select(Deadline).where(Deadline.filing_id == filing_id,
                                                       Deadline.label == "Response window"))
        assert (window.state, window.owner_role) == ("missed", "legal")
    complete(env, filing_id, "follow_up", "lena", {"action": "close", "notes": "No answer after the window."})
    assert ready_of(env, instance_id) == ["record_outcome"]
    complete(env, filing_id, "record_outcome", "leo", {"outcome": "no_reply"})
    assert_ended(env, collective_id, filing_id, "APL-802")
