"""The timer worker (timers, rule deadlines, digests) and concurrent completion, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.helpers import case_instance, do, expire_timers, open_sample_case, ready_ids, stage, task
from tests.workflow.mailbox import free_port, mailbox
from workflow.cli import main
from workflow.errors import Conflict
from workflow.models import AuditEvent, Case, Deadline, HumanTask, ProcessInstance
from workflow.services.digest import set_email
from workflow.services.review import update_legal_facts
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


# -- petitio worker: timers, rule deadlines and the daily digest -----------------------------------------------

FIRED = re.compile(r"fired due timers on (\d+) process instance\(s\); (\d+) failed")


def run_worker_once(env, smtp_port: int) -> tuple[int, str]:
    """``petitio worker --once`` in this process, with the mail server's settings in its environment."""
    result = CliRunner().invoke(main, ["worker", "--once"], env={
        "PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url,
        "PETITIO_SMTP_HOST": "127.0.0.1", "PETITIO_SMTP_PORT": str(smtp_port),
        "PETITIO_SMTP_FROM": "petitio@example.org"})
    return result.exit_code, result.output


def test_the_worker_fires_each_timer_once_and_mails_the_digest_once(env, staff):
    with env.uow() as session:
        for username in ("ina", "lena", "mara"):
            set_email(session, None, env.user(session, username), f"{username}@example.org")
    for ref in ("APL-151", "APL-152"):
        open_sample_case(env, ref)
        expire_timers(env, ref)
    open_sample_case(env, "APL-153")  # due in a week: listed, not fired
    with env.uow() as session:  # a time bar that lapsed long ago: settled as missed by the worker
        case = session.scalar(select(Case).where(Case.ref == "APL-153"))
        update_legal_facts(session, env.user(session, "lena"), case, {"remedies_exhausted_on": "2015-01-10"})
    with mailbox() as box:
        code, first = run_worker_once(env, box.port)
        assert code == 0, first
        assert FIRED.search(first).groups() == ("2", "0") and "sent 3 digest(s)" in first
        code, second = run_worker_once(env, box.port)
        assert code == 0, second
        assert FIRED.search(second).groups() == ("0", "0") and "sent 0 digest(s)" in second
    assert sorted(m["To"] for m in box.messages) == ["ina@example.org", "lena@example.org", "mara@example.org"]
    [ina] = box.to("ina@example.org")
    text = ina.get_content()
    assert "Overdue (2)" in text and "APL-151" in text and "APL-152" in text and "Due within 7 days (1)" in text
    assert "APL-153: HRC time bar (5 years after exhaustion)" in box.to("lena@example.org")[0].get_content()
    with env.uow() as session:
        states = session.execute(select(Case.ref, Deadline.state, Deadline.escalated_at.is_not(None)).join(Case)
                                 .where(Deadline.source == "bpmn_timer", Case.ref.in_(["APL-151", "APL-152"]))
                                 .order_by(Case.ref)).all()
        # Missed and escalated, the service level stays open until the consent is verified.
        assert [tuple(s) for s in states] == [("APL-151", "open", True), ("APL-152", "open", True)]
        assert session.scalar(select(Deadline.state).where(Deadline.source == "rule")) == "missed"
        escalations = session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "escalated")).all()
        assert len(escalations) == len(set(escalations)) == 2


def test_a_failing_mail_server_does_not_stop_the_timers(env, staff):
    with env.uow() as session:
        set_email(session, None, env.user(session, "ina"), "ina@example.org")
    open_sample_case(env, "APL-161")
    expire_timers(env, "APL-161")
    code, output = run_worker_once(env, free_port())  # nothing listens there
    assert code == 1 and "digests not sent" in output
    assert FIRED.search(output).groups() == ("1", "0")
    with mailbox() as box:  # the next loop sends what could not go
        code, output = run_worker_once(env, box.port)
    assert code == 0 and "sent 1 digest(s)" in output and FIRED.search(output).groups() == ("0", "0")


# -- two workers on PostgreSQL ---------------------------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MANY = 1000


def _fresh_task_ids(state_json: str) -> str:
    """The same state under new task ids: the inbox keys its rows by task id, so copies must not share them."""
    renamed: dict[str, str] = {}
    return UUID.sub(lambda m: renamed.setdefault(m[0], str(uuid.uuid4())), state_json)


def _copy_instance(env, template_ref: str, count: int) -> None:
    """``count`` more cases whose instances wait exactly like the template's (same state, their own ids)."""
    with env.uow() as session:
        template = case_instance(session, template_ref)
        cases = [Case(ref=f"APL-C{n:04d}", person_id=template.case.person_id, stage=template.case.stage)
                 for n in range(count)]
        session.add_all(cases)
        session.flush()
        session.add_all(ProcessInstance(
            definition_id=template.definition_id, case_id=case.id, status="running",
            state_json=_fresh_task_ids(template.state_json.replace(f'"case_ref":"{template_ref}"',
                                                                   f'"case_ref":"{case.ref}"')),
            serializer_version=template.serializer_version, next_timer_at=template.next_timer_at)
            for case in cases)


# PostgreSQL only: SQLite has a single writer, so two workers cannot overlap there. A run without PostgreSQL
# deselects it (tests/conftest.py; CI refuses to run without it).
@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_two_workers_fire_a_thousand_timers_each_exactly_once(env, staff):
    open_sample_case(env, "APL-900")
    expire_timers(env, "APL-900")
    _copy_instance(env, "APL-900", MANY - 1)
    now = datetime.now(UTC)
    barrier = threading.Barrier(2)
    reports = []

    def work() -> None:
        barrier.wait()
        reports.append(sweep(env.engine, env.settings, now=now))  # its own sessions and connections

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started
    assert len(reports) == 2 and all(r.failed == 0 for r in reports), [r.failures[:3] for r in reports]
    assert sum(r.fired for r in reports) == MANY and all(r.fired > 0 for r in reports), [r.fired for r in reports]
    with env.uow() as session:
        per_instance = session.execute(select(AuditEvent.object_id, func.count()).where(
            AuditEvent.action == "timers_fired").group_by(AuditEvent.object_id)).all()
        assert len(per_instance) == MANY and {count for _, count in per_instance} == {1}
        per_case = session.execute(select(AuditEvent.case_id, func.count()).where(
            AuditEvent.action == "escalated").group_by(AuditEvent.case_id)).all()
        assert len(per_case) == MANY and {count for _, count in per_case} == {1}
        assert session.scalar(select(func.count(ProcessInstance.id)).where(
            ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now)) == 0
    assert elapsed < 60, f"two workers took {elapsed:.1f} s for {MANY} timers"
