"""Imports written in batches (``services/import_batches.py``: by writer processes side by side on PostgreSQL) and
cases opened many at once (``open_cases``), on every configured database, no mocks."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import Env
from tests.workflow.fixtures import ensure_test_episodes, others_still_busy, write_appeals_csv
from workflow.audit_chain import verify_chain
from workflow.errors import ImportWriterFailed, ValidationFailed
from workflow.models import AuditEvent, Case, Deadline, Document, HumanTask, Person, ProcessInstance
from workflow.schemas.appeal import Appeal
from workflow.services import importer
from workflow.services.cases import open_case, open_cases
from workflow.services.import_batches import RemoteTraceback, _Handed, write_plan
from workflow.services.users import add_user
from workflow.storage import PENDING_SUFFIX

ROWS, BATCH = 120, 50  # three batches: 50, 50, 20


def _plan(env: Env, path: Path) -> importer.ImportPlan:
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        plan = importer.plan_appeals_file(session, env.settings, path, path.parent / "docs")
        session.rollback()
    assert plan.report.ok and len(plan.rows) == ROWS
    return plan


def _counts(env: Env) -> dict[str, int]:
    with env.uow() as session:
        counted = {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                   for model in (Case, Person, ProcessInstance, Document)}
        counted["ready"] = session.scalar(select(func.count()).select_from(HumanTask)
                                          .where(HumanTask.state == "ready")) or 0
        counted["refs"] = session.scalar(select(func.count(func.distinct(Case.ref)))) or 0
    return counted


def _server_still_busy(env: Env) -> bool:
    with env.uow() as session:
        return others_still_busy(session)


def _files(env: Env) -> tuple[int, int]:
    root = env.settings.documents_dir
    found = [p for p in root.glob("??/??/*") if p.is_file()] if root.exists() else []
    return sum(not p.name.endswith(PENDING_SUFFIX) for p in found), sum(p.name.endswith(PENDING_SUFFIX) for p in found)


def test_each_batch_is_committed_and_a_second_run_finishes_the_rest(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    seen: list[tuple[int, int]] = []

    first = write_plan(env.engine, env.settings, None, plan, batch=BATCH, batches=1,
                       progress=lambda done, total: seen.append((done, total)))

    assert first == {"created": BATCH, "updated": 0, "unchanged": 0}
    assert seen == [(BATCH, ROWS)]
    assert _counts(env) == {"Case": BATCH, "Person": BATCH, "ProcessInstance": BATCH, "Document": 2 * BATCH,
                            "ready": BATCH, "refs": BATCH}
    assert _files(env) == (2 * BATCH, 0)

    seen.clear()
    again = write_plan(env.engine, env.settings, None, _plan(env, path), batch=BATCH, workers=1,
                       progress=lambda done, total: seen.append((done, total)))

    assert again == {"created": ROWS - BATCH, "updated": 0, "unchanged": BATCH}
    assert seen == [(50, ROWS), (100, ROWS), (120, ROWS)]  # after each committed batch, rising to the total
    assert _counts(env) == {"Case": ROWS, "Person": ROWS, "ProcessInstance": ROWS, "Document": 2 * ROWS,
                            "ready": ROWS, "refs": ROWS}
    assert _files(env) == (2 * ROWS, 0)


def _writers(env: Env, record: Path) -> Callable[[], set[int]]:
    """The processes that opened a connection to the database from now on, but this one (``record`` collects them:
    a forked writer inherits this listener, not this process's memory)."""

    def note(*_args: Any) -> None:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")

    event.listen(env.engine, "connect", note)

    def found() -> set[int]:
        event.remove(env.engine, "connect", note)
        return {int(pid) for pid in record.read_text().split()} - {os.getpid()} if record.exists() else set()

    return found


def _steps(seen: list[tuple[int, int]]) -> list[int]:
    done = [written for written, _total in seen]
    assert done == sorted(done), seen
    return sorted(b - a for a, b in zip([0, *done], done, strict=False))


def test_the_batches_are_written_side_by_side_on_postgresql_and_by_one_process_on_sqlite(
        env: Env, tmp_path: Path) -> None:
    """Every row once, the progress summed here up to the total, the acting user's name on every event, the audit
    chain unbroken by commits that raced for it; a run stopped after two batches is finished by the next."""
    with env.uow() as session:
        add_user(session, None, "ina", "intake", full_name="Ina Testova", password="correct horse battery")
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    with env.uow() as session:
        actor = env.user(session, "ina")
    before = _audit_ids(env)
    seen: list[tuple[int, int]] = []
    writers = _writers(env, tmp_path / "writers")

    first = write_plan(env.engine, env.settings, actor, plan, batch=BATCH, batches=2, workers=2,
                       progress=lambda done, total: seen.append((done, total)))

    assert len(writers()) == (2 if env.backend == "postgresql" else 0)  # SQLite: this process writes, alone
    assert first == {"created": 2 * BATCH, "updated": 0, "unchanged": 0}
    assert _steps(seen) == [BATCH, BATCH] and seen[-1] == (2 * BATCH, ROWS)
    assert _counts(env) == {"Case": 2 * BATCH, "Person": 2 * BATCH, "ProcessInstance": 2 * BATCH,
                            "Document": 4 * BATCH, "ready": 2 * BATCH, "refs": 2 * BATCH}

    seen.clear()
    again = write_plan(env.engine, env.settings, actor, _plan(env, path), batch=BATCH, workers=2,
                       progress=lambda done, total: seen.append((done, total)))

    assert again == {"created": ROWS - 2 * BATCH, "updated": 0, "unchanged": 2 * BATCH}
    assert _steps(seen) == [ROWS - 2 * BATCH, BATCH, BATCH] and seen[-1] == (ROWS, ROWS)
    assert _counts(env) == {"Case": ROWS, "Person": ROWS, "ProcessInstance": ROWS, "Document": 2 * ROWS,
                            "ready": ROWS, "refs": ROWS}
    assert _files(env) == (2 * ROWS, 0)
    with env.uow() as session:
        actors = session.scalars(select(AuditEvent.actor_id).where(AuditEvent.id.not_in(before))).all()
        report = verify_chain(session)
    assert set(actors) == {actor.id} and len(actors) >= 4 * ROWS  # uploads, opening, process start (at least)
    assert report.broken is None and report.verified == len(before) + len(actors)


def _audit_ids(env: Env) -> list[int]:
    with env.uow() as session:
        return list(session.scalars(select(AuditEvent.id)))


def test_a_batch_that_fails_is_rolled_back_whole_and_the_batches_before_it_stay(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "DOCUMENT_CACHE_BYTES", 0)  # documents are read again when written
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    # A scan of the second batch is deleted between the check and the import: its row cannot be written.
    lost = path.parent / "docs" / plan.rows[BATCH + 7].documents["power_of_attorney"][0]
    kept = lost.read_bytes()
    lost.unlink()
    seen: list[int] = []

    with pytest.raises(ValidationFailed, match="can no longer be read") as caught:
        write_plan(env.engine, env.settings, None, plan, batch=BATCH, workers=2,
                   progress=lambda done, _total: seen.append(done))

    # On PostgreSQL the error came from a writer process, with its traceback; the other writer's batch stays, and
    # it took no batch after the error (raised in the first moments of the second batch, as its documents are read).
    remote = caught.value.__cause__
    assert (isinstance(remote, RemoteTraceback) and "can no longer be read" in str(remote)) is (
        env.backend == "postgresql")
    assert seen == [BATCH]
    assert _counts(env) == {"Case": BATCH, "Person": BATCH, "ProcessInstance": BATCH, "Document": 2 * BATCH,
                            "ready": BATCH, "refs": BATCH}
    assert _files(env) == (2 * BATCH, 0)  # the failed batch's files were written pending, then deleted

    lost.write_bytes(kept)
    again = write_plan(env.engine, env.settings, None, _plan(env, path), batch=BATCH, workers=2)

    assert again == {"created": ROWS - BATCH, "updated": 0, "unchanged": BATCH}
    assert _counts(env)["Case"] == _counts(env)["refs"] == ROWS and _files(env) == (2 * ROWS, 0)


# PostgreSQL only (deselected from a run without it): SQLite's writers queue for the whole file instead
# (tests/workflow/test_writer_queue.py).
@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_a_database_error_in_the_writers_fails_the_import_with_its_type_and_code(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another transaction holds the cases table; the writers' inserts give up waiting for it (lock_timeout): the
    import fails at once with that error, as it would in one process, and a run after the lock is gone finishes."""
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=200")  # read by libpq for the writers' new connections
    with env.engine.connect() as holder:
        holder.execute(text("LOCK TABLE cases IN SHARE MODE"))
        with pytest.raises(OperationalError) as caught:
            write_plan(env.engine, env.settings, None, plan, batch=BATCH, workers=2)
        holder.rollback()
    monkeypatch.delenv("PGOPTIONS")

    assert getattr(caught.value.orig, "sqlstate", None) == "55P03"  # lock_not_available: the driver's error kept
    assert isinstance(caught.value.__cause__, RemoteTraceback)
    assert _counts(env)["Case"] == 0 and _files(env) == (0, 0)
    assert write_plan(env.engine, env.settings, None, plan, batch=BATCH, workers=2)["created"] == ROWS
    assert _counts(env)["refs"] == ROWS


# PostgreSQL only (deselected from a run without it): SQLite's batches are written by the calling process itself.
@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_a_writer_process_that_dies_without_a_word_fails_the_import(env: Env, tmp_path: Path) -> None:
    """Killed (out of memory, an operator): the import says so instead of waiting for it; what was committed stays
    whole, and a re-run finishes the rest."""
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    seen: list[int] = []
    # Twelve small batches: when the first commit is reported, work is left however late the report comes (with
    # three batches, a loaded machine's late report could come after the last one was written).
    batch = 10

    def kill_a_writer(done: int, _total: int) -> None:
        seen.append(done)
        if len(seen) == 1:  # both writers are in a batch: each began with one, and ten are left to hand out
            writer = multiprocessing.active_children()[0].pid
            assert writer is not None
            os.kill(writer, signal.SIGKILL)

    with pytest.raises(ImportWriterFailed, match="ended with code -9"):
        write_plan(env.engine, env.settings, None, _plan(env, path), batch=batch, workers=2, progress=kill_a_writer)
    deadline = time.monotonic() + 30
    while _server_still_busy(env):
        assert time.monotonic() < deadline, "the server never ended the killed writer's session"
        time.sleep(0.05)  # the server's own progress: no clock of ours to move

    committed = _counts(env)
    # Every batch reported, and the killed writer's, if it died after its COMMIT had reached the server but
    # before it could report it (a window a loaded machine widens): whole batches only, never part of one.
    assert committed["Case"] == committed["refs"] and committed["Case"] in (seen[-1], seen[-1] + batch)
    assert committed["Case"] % batch == 0 and committed["Case"] < ROWS
    again = write_plan(env.engine, env.settings, None, _plan(env, path), batch=BATCH)
    assert again["unchanged"] == committed["Case"] and again["created"] == ROWS - committed["Case"]
    final, pending = _files(env)
    assert _counts(env)["refs"] == ROWS and final == 2 * ROWS
    assert pending <= 2 * batch  # the batch the killed writer was in, if any: `petitio storage check` removes them


def test_a_writer_killed_while_it_takes_a_batch_leaves_the_hand_out_free(tmp_path: Path) -> None:
    """The batches' hand-out lock outlives no holder: with a multiprocessing lock, a writer killed inside it hung the
    other writers and the import for ever (seen once in CI as a test that never ended)."""
    context = multiprocessing.get_context("fork")
    lock = tmp_path / "hand-out.lock"
    lock.touch()
    handed = _Handed(context.Value("q", 0, lock=False), str(lock), 3)
    inside, ready = context.Pipe(duplex=False)

    def take_and_hang() -> None:
        with handed._held():
            ready.send("holding")
            signal.pause()

    holder = context.Process(target=take_and_hang, daemon=True)
    holder.start()
    assert inside.poll(10) and inside.recv() == "holding"
    os.kill(holder.pid, signal.SIGKILL)  # type: ignore[arg-type]
    holder.join()
    taken: list[int | None] = []
    taker = threading.Thread(target=lambda: taken.append(handed.next()), daemon=True)
    taker.start()
    taker.join(10)
    assert taken == [0], "the lock of a killed writer was never released"
    handed.no_more()
    assert handed.next() is None


def _appeal(ref: str, *, detained: bool) -> Appeal:
    return Appeal(ref=ref, full_name="Test-Person Batchova", city="Almaty", episodes=("online_posts_2022",),
                  incident_types=("interrogation",), incident_date=date(2022, 3, 1), description="Fictional.",
                  form_of_appeal="a.pdf", power_of_attorney=None, consent_publish_name=False,
                  received_on=date(2022, 4, 1), detained_now=detained, perpetrator_agencies=("police",),
                  arrest_date=date(2022, 3, 1), arrest_place="Fictional Square", incident_place="Fictional Square")


def _as_opened(env: Env, ref: str) -> dict[str, Any]:
    """What opening the case left, without what differs between any two cases (ids, refs, times)."""
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        assert case is not None
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
        assert instance is not None
        state = json.loads(instance.state_json)
        data = {k: v for k, v in state["data"].items() if k != "case_ref"}
        tasks = sorted((t["task_spec"], t["state"], json.dumps({k: v for k, v in t["data"].items() if k != "case_ref"},
                                                               sort_keys=True, default=str))
                       for t in state["tasks"].values())
        return {
            "stage": case.stage, "urgent": case.urgent, "status": instance.status, "data": data, "tasks": tasks,
            "timer": instance.next_timer_at is not None,
            "inbox": sorted((t.bpmn_id, t.lane, t.form, t.state, t.due_at is not None) for t in session.scalars(
                select(HumanTask).where(HumanTask.case_id == case.id))),
            "deadlines": sorted((d.label, d.owner_role, d.state, d.source) for d in session.scalars(
                select(Deadline).where(Deadline.case_id == case.id))),
            "documents": [(d.kind, d.version) for d in session.scalars(select(Document)
                                                                        .where(Document.case_id == case.id))],
            "facts": ([p.agency for p in case.perpetrators], [a.place for a in case.arrests],
                      sorted(case.import_marks or {}), case.incidents[0].place, case.incidents[0].city),
            "audit": [(e.action, e.object_type) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))],
        }


@pytest.mark.parametrize("detained", [False, True], ids=["routine", "urgent"])
def test_a_case_opened_in_a_batch_is_the_case_opened_alone(env: Env, detained: bool) -> None:
    document = {"form_of_appeal": (b"%PDF-1.4\n% Fictional test document\n%%EOF\n", "a.pdf")}
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        open_case(session, env.settings, None, _appeal("ALONE-1", detained=detained), document, imported=True)
    with env.uow() as session:
        open_cases(session, env.settings, None, [(_appeal(f"BATCH-{i}", detained=detained), document)
                                                 for i in range(3)], imported=True)

    alone = _as_opened(env, "ALONE-1")
    assert alone["inbox"] and alone["audit"][-1] == ("process_started", "process_instance")
    assert alone["urgent"] is detained and alone["documents"] == [("form_of_appeal", 1)] and alone["deadlines"]
    for i in range(3):
        assert _as_opened(env, f"BATCH-{i}") == alone
