"""The job runner on its own (SQLite and PostgreSQL): items in order, each in its own transaction; a refusal and a
crash of one item leave the others going; a running job is not claimed twice; the worker resumes a dead one.

The job kind here is the test's own (a handler that records an audit event per item), so that what the runner
does is seen apart from any bulk action built on it (tests/workflow/test_bulk.py covers those).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from workflow.audit import audit
from workflow.errors import ValidationFailed
from workflow.models import AuditEvent, Job, JobItem, utcnow
from workflow.problems import Problem
from workflow.services import jobs
from workflow.services.jobs import ItemResult, ItemState, Subject

KIND = "test_records"


@jobs.handler(KIND)
def _record(session, settings, actor, job, item):  # type: ignore[no-untyped-def]
    audit(session, actor, "test_item", "job", job.id, None, {"item": item.subject})
    if item.subject == "refuse":
        raise ValidationFailed("refused", errors={"item": Problem("required")})
    if item.subject == "crash":
        raise RuntimeError("a bug, with a name in it: Aida Fictionova")
    if item.subject == "skip":
        return ItemResult(ItemState.SKIPPED, problems=[Problem("task_not_ready")])
    return None


def _start(env, subjects: list[str]) -> int:
    with env.uow() as session:
        return jobs.create_job(session, env.user(session, "ina"), KIND, {"note": "free text"},
                               [Subject(s) for s in subjects]).id


def _items(env, job_id: int) -> list[tuple[str, str]]:
    with env.uow() as session:
        return [(i.subject, i.state) for i in session.scalars(select(JobItem).where(JobItem.job_id == job_id)
                                                             .order_by(JobItem.position))]


def _recorded(env) -> list[str]:
    with env.uow() as session:
        return [e.data["item"] for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "test_item")
                                                        .order_by(AuditEvent.id))]


def test_each_item_on_its_own_refusals_and_crashes_set_aside(env, staff, caplog) -> None:
    job_id = _start(env, ["a", "refuse", "crash", "skip", "b"])
    assert jobs.run(env.engine, env.settings, job_id)
    assert _items(env, job_id) == [("a", "done"), ("refuse", "refused"), ("crash", "refused"), ("skip", "skipped"),
                                   ("b", "done")]
    # A refused or crashed item's work is rolled back with it; the others' stays.
    assert _recorded(env) == ["a", "skip", "b"]
    with env.uow() as session:
        crashed = session.scalar(select(JobItem).where(JobItem.job_id == job_id, JobItem.subject == "crash"))
        assert crashed.problems == [{"field": None, "code": "item_failed", "params": {}}]
        progress = jobs.progress(session, session.get(Job, job_id))
        assert progress.finished and progress.processed == 5 and progress.counts == {
            "done": 2, "refused": 2, "skipped": 1}
    assert "RuntimeError" in caplog.text and "Fictionova" not in caplog.text


def test_a_job_cut_off_is_resumed_by_the_worker_only_once_stale(env, staff) -> None:
    job_id = _start(env, ["a", "b", "c", "d"])
    assert not jobs.run(env.engine, env.settings, job_id, limit=2)  # the runner "dies" after two items
    assert _items(env, job_id)[:2] == [("a", "done"), ("b", "done")]
    now = utcnow()
    # Its heartbeat is fresh: another runner does not take it over, the worker leaves it alone.
    assert not jobs.run(env.engine, env.settings, job_id)
    assert jobs.run_pending(env.engine, env.settings, now) == 0
    later = now + jobs.STALE_AFTER + timedelta(seconds=1)
    assert jobs.run_pending(env.engine, env.settings, later) == 1
    assert [s for _, s in _items(env, job_id)] == ["done"] * 4
    assert _recorded(env) == ["a", "b", "c", "d"]  # nothing done twice


def test_job_parameters_are_encrypted_at_rest(env, staff) -> None:
    _start(env, ["a"])
    with env.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT params FROM jobs").scalar_one()
    assert b"free text" not in bytes(raw)
