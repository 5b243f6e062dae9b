"""A late writer (workflow/db.py late_write_session, the task completions' pages and API): on SQLite it reads and runs
the process engine on a snapshot holding no lock, takes the one writer's lock at its first write, and a completion
whose instance changed meanwhile is a Conflict that writes nothing. On SQLite and PostgreSQL (where it is a plain
session, and the same race ends in the same Conflict)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import open_sample_case, ready_ids, task
from workflow.db import late_write_session
from workflow.errors import Conflict
from workflow.models import AuditEvent, HumanTask
from workflow.services.tasks import complete_task

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def test_a_late_writer_lets_another_writer_commit_while_it_reads(env, staff):
    open_sample_case(env, "LW-001")
    open_sample_case(env, "LW-002")
    first, second = task(env, "LW-001", "verify_consent"), task(env, "LW-002", "verify_consent")
    late = late_write_session(env.engine)
    try:
        assert late.get(HumanTask, first.id).state == "ready"  # its snapshot began: no writer's lock is held
        with env.uow() as other:  # on SQLite this would wait out the busy timeout behind a writer
            complete_task(other, env.settings, second.id, env.user(other, "ina"), VERIFIED)
        complete_task(late, env.settings, first.id, env.user(late, "ivan"), VERIFIED)
        late.commit()
    finally:
        late.close()
    assert "verify_consent" not in ready_ids(env, "LW-001") and "verify_consent" not in ready_ids(env, "LW-002")


def test_a_completion_read_before_another_one_committed_is_a_conflict_and_writes_nothing(env, staff):
    open_sample_case(env, "LW-003")
    row = task(env, "LW-003", "verify_consent")
    late = late_write_session(env.engine)
    try:
        assert late.get(HumanTask, row.id).state == "ready"  # read before the other completion commits
        with env.uow() as other:
            complete_task(other, env.settings, row.id, env.user(other, "ina"), VERIFIED)
        with pytest.raises(Conflict):
            complete_task(late, env.settings, row.id, env.user(late, "ivan"), VERIFIED)
        late.rollback()
    finally:
        late.close()
    with env.uow() as session:
        completions = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "task_completed", AuditEvent.case_id == row.case_id))
        assert session.get(HumanTask, row.id).completed_by_id == env.user(session, "ina").id
    assert completions == 1
