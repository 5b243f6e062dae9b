"""The timer worker and concurrent completion, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.helpers import case_instance, do, expire_timers, open_sample_case, ready_ids, stage, task
from workflow.errors import Conflict
from workflow.models import HumanTask, ProcessInstance
from workflow.services.tasks import complete_task
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def test_the_worker_never_loads_an_instance_that_is_not_due(env, staff):
    open_sample_case(env, "APL-101", documents=())
    open_sample_case(env, "APL-102")
    do(env, "APL-101", "verify_consent", "ina", {"form_of_appeal_verified": False,
                                                 "power_of_attorney_verified": False})
    expire_timers(env, "APL-101", only="Missing documents")
    with env.uow() as session:
        # Make the instance that is not due unreadable: if the worker deserialized it, the sweep would fail.
        not_due = case_instance(session, "APL-102")
        not_due.state_json = "{ this is not JSON"
    report = sweep(env.engine, env.settings)
    assert (report.fired, report.failed) == (1, 0)
    assert ready_ids(env, "APL-101") == ["verify_consent"]
    with env.uow() as session:
        untouched = case_instance(session, "APL-102")
        assert untouched.state_json == "{ this is not JSON" and untouched.status == "running"


def test_each_due_timer_fires_exactly_once(env, staff):
    for ref in ("APL-111", "APL-112", "APL-113"):
        open_sample_case(env, ref)
        expire_timers(env, ref)
    assert sweep(env.engine, env.settings).fired == 3
    assert sweep(env.engine, env.settings).fired == 0
    with env.uow() as session:
        from tests.helpers import audit_actions

        assert audit_actions(session, "APL-111").count("escalated") == 1
    # The service level is missed but the work stays with intake (non-interrupting timer).
    assert ready_ids(env, "APL-111") == ["verify_consent"]


def test_a_failing_timer_is_recorded_and_does_not_block_the_others(env, staff):
    open_sample_case(env, "APL-121")
    open_sample_case(env, "APL-122")
    for ref in ("APL-121", "APL-122"):
        expire_timers(env, ref)
    with env.uow() as session:  # detached from its case, the escalation's service task cannot run
        case_instance(session, "APL-121").case_id = None
    report = sweep(env.engine, env.settings)
    assert report.fired == 1 and report.failed == 1
    with env.uow() as session:
        failed = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id.is_(None)))
        assert failed.status == "error" and "escalate_consent" in failed.last_error
        assert "belongs to no case or collective complaint" in failed.last_error
    assert sweep(env.engine, env.settings).failed == 0  # an instance in error is not retried in a loop


def race(env, task_id: str, usernames: tuple[str, str] = ("ina", "ivan")) -> list[str]:
    """Two threads complete one task at the same moment; returns their outcomes."""
    barrier = threading.Barrier(len(usernames))
    outcomes: list[str] = []

    def complete(username: str) -> None:
        barrier.wait()
        try:
            with env.uow() as session:
                complete_task(session, env.settings, task_id, env.user(session, username), VERIFIED)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_threads_completing_one_task_exactly_one_wins(env, staff):
    open_sample_case(env, "APL-131")
    row = task(env, "APL-131", "verify_consent")
    assert race(env, row.id) == ["conflict", "won"]
    assert ready_ids(env, "APL-131") == ["legal_review"] and stage(env, "APL-131") == "legal_review"
    with env.uow() as session:
        assert session.scalar(select(ProcessInstance.status)) == "running"
        assert session.get(HumanTask, row.id).state == "completed"


def test_repeated_races_never_corrupt_the_state(env, staff):
    """Every round has one winner and the process goes on normally afterwards."""
    for n in range(5):
        ref = f"APL-14{n}"
        open_sample_case(env, ref)
        assert race(env, task(env, ref, "verify_consent").id) == ["conflict", "won"]
        do(env, ref, "legal_review", "lena", {"decision": "reject", "notes": "Test round."})
        assert stage(env, ref) == "rejected"
