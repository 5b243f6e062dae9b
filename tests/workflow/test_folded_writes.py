"""A save's rows written with the instance's state (workflow/runtime/folded_writes.py): on PostgreSQL one statement
that writes everything or, for a stale writer, nothing; and a stale save never leaves its changes for a later flush,
on either database, inside a savepoint (as a bulk run's item) or not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.helpers import open_sample_case, task
from workflow.db import late_write_session, session_factory
from workflow.errors import Conflict
from workflow.models import AuditEvent, Case, ConsentRecord, Deadline, HumanTask, ProcessInstance
from workflow.runtime import instances
from workflow.runtime.folded_writes import FOLDED
from workflow.services import processes
from workflow.services.tasks import complete_task
from workflow.states import ConsentStatus

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(*args: Any) -> None:
        sent.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _unwritten(session: Session) -> list[Any]:
    return [obj for obj in (*session.new, *session.dirty) if isinstance(obj, FOLDED) and session.is_modified(obj)]


def _snapshot(env: Any, ref: str) -> dict[str, Any]:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        return {
            "stage": case.stage,
            "tasks": sorted(session.execute(select(HumanTask.bpmn_id, HumanTask.state, HumanTask.completed_by_id)
                                            .where(HumanTask.case_id == case.id)).all()),
            "deadlines": sorted(session.execute(select(Deadline.label, Deadline.state)
                                                .where(Deadline.case_id == case.id)).all()),
            "consent": session.scalar(select(ConsentRecord.status).where(ConsentRecord.case_id == case.id)),
            "completions": session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.case_id == case.id, AuditEvent.action == "task_completed")),
        }


@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_a_completion_writes_its_rows_with_the_state_in_one_statement(env, staff):
    open_sample_case(env, "FW-001")
    row = task(env, "FW-001", "verify_consent")
    with env.uow() as session:
        actor = env.user(session, "ina")
        with _statements(session) as sent:
            complete_task(session, env.settings, row.id, actor, VERIFIED)
        writes = [s for s in sent if not s.lstrip().upper().startswith("SELECT")]
        assert len(writes) == 1 and writes[0].lstrip().startswith("WITH state AS"), writes
        assert not _unwritten(session), "the commit's flush has nothing of the save left but its audit event"
        # Written already, as the database sees it in this transaction: the task done, the next one open, the
        # case's stage, the consent and the deadlines.
        stored = session.connection().execute(select(HumanTask.bpmn_id, HumanTask.state)
                                              .where(HumanTask.case_id == row.case_id)).all()
        assert sorted(stored) == [("legal_review", "ready"), ("verify_consent", "completed")]
    after = _snapshot(env, "FW-001")
    assert after["stage"] == "legal_review" and after["consent"] == ConsentStatus.VERIFIED
    assert ("verify_consent", "completed", _user_id(env, "ina")) in after["tasks"]
    assert {state for _, state in after["deadlines"]} == {"met", "open"}
    assert after["completions"] == 1


def _user_id(env: Any, username: str) -> int:
    with env.uow() as session:
        return env.user(session, username).id


def _stale_save(session: Session, env: Any, row: HumanTask) -> None:
    """Load the instance without its lock, let another transaction complete the task, then complete it from the
    state read before: the save is stale."""
    instance = session.get(ProcessInstance, row.instance_id)
    loaded = processes.load(session, env.settings, instance, env.user(session, "ivan"))
    with env.uow() as other:
        complete_task(other, env.settings, row.id, env.user(other, "ina"), VERIFIED)
    ivan = env.user(session, "ivan")
    processes.run_task(loaded, instances.find_ready_task(loaded.workflow, row.id), {**VERIFIED,
                                                                                    "consent_verified": True})
    mine = session.get(HumanTask, row.id)  # marked after the engine ran, as complete_task marks it
    mine.state, mine.completed_by_id = "completed", ivan.id
    with pytest.raises(Conflict):
        processes.save(loaded, action="task_completed")
    assert not _unwritten(session), "a stale save's changes are dropped, not left for a later flush"


def _only_the_other_completion(env: Any, ref: str) -> None:
    """What the other transaction's completion wrote, and nothing of the stale save."""
    found = _snapshot(env, ref)
    ina = _user_id(env, "ina")
    assert found["tasks"] == [("legal_review", "ready", None), ("verify_consent", "completed", ina)]
    assert found["stage"] == "legal_review" and found["consent"] == ConsentStatus.VERIFIED
    assert sorted(state for _, state in found["deadlines"]) == ["met", "open"]
    assert found["completions"] == 1


@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_a_stale_save_writes_nothing_and_leaves_nothing_to_flush(env, staff):
    open_sample_case(env, "FW-002")
    row = task(env, "FW-002", "verify_consent")
    session = session_factory(env.engine)()
    try:
        _stale_save(session, env, row)
        session.commit()  # as a caller that caught the Conflict might: nothing of the stale save is in it
    finally:
        session.close()
    _only_the_other_completion(env, "FW-002")


def test_a_stale_save_inside_a_savepoint_commits_nothing_of_it(env, staff):
    """A bulk run's item (services/jobs.py): the Conflict is caught and the item's savepoint committed."""
    open_sample_case(env, "FW-003")
    row = task(env, "FW-003", "verify_consent")
    session = late_write_session(env.engine)  # on SQLite: a snapshot, no writer's lock held while the other writes
    try:
        session.get(HumanTask, row.id)
        if env.backend == "postgresql":
            savepoint = session.begin_nested()
            _stale_save(session, env, row)
            savepoint.commit()
            session.commit()
        else:  # SQLite refuses the stale write as "locked" (its snapshot is older): the transaction cannot go on
            _stale_save(session, env, row)
            session.rollback()
    finally:
        session.close()
    _only_the_other_completion(env, "FW-003")
