"""SQLite stays usable during long writes (issue 12, item 5): reads never wait for a writer.

A GET reads from a WAL snapshot (a deferred transaction) and writes its audit events afterwards in one short
transaction; while a writer holds the lock the page still answers, and the events follow once it is free.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.helpers import open_sample_case, task
from tests.web.conftest import csrf_token
from workflow import db
from workflow.db import engine_for, read_session, wait_for_held_back
from workflow.models import AuditEvent, HumanTask, User

PAGES = ("/cases", "/tasks", "/cases/APL-501")
API = ("/api/v1/cases", "/api/v1/cases/APL-501")


# SQLite's single writer is what these tests are about: they run on SQLite only (PostgreSQL readers never wait).
pytestmark = pytest.mark.parametrize("env", ["sqlite"], indirect=True)


def _db_file(env) -> str:
    return env.settings.database_url.removeprefix("sqlite:///")


def _reads(env) -> int:
    with read_session(env.engine) as session:  # a snapshot: counts even while a writer holds the lock
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "identity_read"))


class Writer:
    """Another process's long write transaction, on its own connection."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)

    def hold(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE users SET active = active")  # a real write: the lock is taken

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")


@pytest.fixture
def writer(env) -> Iterator[Writer]:
    held = Writer(_db_file(env))
    yield held
    held.release()
    held.conn.close()


def test_pages_and_the_api_answer_while_a_writer_holds_the_lock(env, login, token, client, writer):
    open_sample_case(env, "APL-501")
    lena, headers = login("lena"), token("lena")
    before = _reads(env)
    writer.hold()
    for url in PAGES:
        response = lena.get(url)
        assert response.status_code == 200, (url, response.status_code)  # before: 500 after the busy timeout
    for url in API:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)  # before: 409
    assert _reads(env) == before  # held back while the writer holds the lock
    writer.release()
    wait_for_held_back(30)
    # Every read of identity fields was audited, after the writer let go: the page, and the API's case.
    assert _reads(env) == before + 2


def test_reads_answer_quickly_during_a_long_job_that_commits_in_batches(env, login, token, client):
    open_sample_case(env, "APL-501")
    lena, headers, api = login("lena"), token("lena"), client
    before = _reads(env)
    done = threading.Event()

    def long_job() -> None:  # batches of writes, each holding the lock ~50 ms, like jobs.run
        conn = sqlite3.connect(_db_file(env), isolation_level=None, timeout=10)
        while not done.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE users SET active = active")
            done.wait(0.05)
            conn.execute("COMMIT")
        conn.close()

    job = threading.Thread(target=long_job)
    job.start()
    try:  # how quickly is for the benchmarks (bench/http_load.py); here: every read answers, none is refused
        for _ in range(2):
            for url in PAGES:
                assert lena.get(url).status_code == 200, url
            for url in API:
                assert api.get(url, headers=headers).status_code == 200, url
    finally:
        done.set()
        job.join()
    wait_for_held_back(30)
    assert _reads(env) == before + 4


def test_a_read_that_commits_keeps_its_held_back_writes(env, staff):
    """``session.commit()`` of a read session ends the snapshot and keeps what it held back."""
    from workflow.audit import audit
    from workflow.db import held_back, read_session, write_held_back

    session = read_session(env.engine)
    actor = session.scalar(select(User).where(User.username == "lena"))
    audit(session, actor, "identity_read", "case", "APL-000", None, {"fields": ["full_name"]})
    session.commit()
    assert held_back(session) and session.scalar(select(func.count()).select_from(AuditEvent)) is not None
    session.close()
    assert write_held_back(env.engine, held_back(session))
    with env.uow() as check:
        event = check.scalar(select(AuditEvent).where(AuditEvent.object_id == "APL-000"))
        assert event.actor_id == actor.id and event.data == {"fields": ["full_name"]} and event.at is not None


def test_a_write_that_cannot_get_the_lock_is_a_503_and_changes_nothing(env, login, writer, monkeypatch):
    """A form posted while another writer keeps the lock past the busy timeout: 503 with Retry-After, never
    a 500, and the task is still to do (the API answers 409 in the same case: web/api/base.py)."""
    open_sample_case(env, "APL-502")
    ina = login("ina")
    page = ina.get("/cases/APL-502").get_data(as_text=True)
    verify = task(env, "APL-502", "verify_consent")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # the pool's new connections wait 0.2 s instead of 10 s
    engine_for(env.settings.database_url).dispose()
    writer.hold()
    response = ina.post(f"/tasks/{verify.id}", data={"form_of_appeal_verified": "true",
                                                     "power_of_attorney_verified": "true",
                                                     "csrf_token": csrf_token(page)})
    writer.release()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "Nothing was changed" in response.get_data(as_text=True)
    with env.uow() as session:
        assert session.get(HumanTask, verify.id).state == "ready"


def test_an_api_completion_that_cannot_get_the_lock_is_a_409_and_changes_nothing(env, token, client, writer,
                                                                                  monkeypatch):
    """The API's completion reads and runs the engine without the lock (a late writer): when its write then finds
    the lock held past the busy timeout, the answer is the API's busy 409, and the task is still to do."""
    open_sample_case(env, "APL-503")
    headers = token("ina")
    verify = task(env, "APL-503", "verify_consent")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    engine_for(env.settings.database_url).dispose()
    writer.hold()
    response = client.post(f"/api/v1/tasks/{verify.id}/complete", headers=headers,
                           json={"data": {"form_of_appeal_verified": True, "power_of_attorney_verified": True}})
    writer.release()
    assert response.status_code == 409, response.get_json()
    with env.uow() as session:
        assert session.get(HumanTask, verify.id).state == "ready"


def test_a_read_whose_snapshot_is_behind_the_chain_still_writes_its_events_in_place(env, staff):
    """Two readers of the same moment, one writer in between: each read's events are chained when written,
    after the writer's, never numbered from the reader's old snapshot (UNIQUE seq)."""
    from workflow.audit import audit
    from workflow.audit_chain import verify_chain
    from workflow.db import held_back, write_held_back

    readers = [read_session(env.engine) for _ in range(2)]
    for reader in readers:  # each snapshot starts now
        reader.scalar(select(func.count()).select_from(AuditEvent))
    with env.uow() as session:
        audit(session, None, "identity_read", "case", "APL-W", None, {"fields": ["full_name"]})
    for n, reader in enumerate(readers):
        actor = reader.scalar(select(User).where(User.username == "lena"))
        audit(reader, actor, "identity_read", "case", f"APL-R{n}", None, {"fields": ["full_name"]})
        reader.commit()
        reader.close()
    for reader in readers:
        assert write_held_back(env.engine, held_back(reader))
    with env.uow() as session:
        assert verify_chain(session).broken is None
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.object_id.in_(("APL-W", "APL-R0", "APL-R1")))) == 3
