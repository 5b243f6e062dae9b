"""SQLite's writers queue for a lock file next to the database (workflow/writer_queue.py, issue 16): held from
BEGIN IMMEDIATE to COMMIT or ROLLBACK whatever ends the transaction, never by a reader, never let go by a forked
child for its parent, and a writer that waits out its busy timeout is refused as SQLite would refuse it."""

from __future__ import annotations

import fcntl
import gc
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from workflow import db
from workflow.db import is_write_conflict, make_engine, read_session, session_factory
from workflow.writer_queue import QueuedConnection, let_go, lock_path, take


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    return engine


def _free(path: Path) -> bool:
    """Nobody holds the writers' lock: one non-blocking try, taken and let go at once. (Not ``take(path, 0)``: a
    try that fails there leaves a waiter behind, which takes the lock for a moment when it is let go, and a
    check just after a commit could then find it held.)"""
    fd = os.open(lock_path(str(path)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing lets go of a lock taken through this descriptor
    return True


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM t")) or 0)


def test_concurrent_writers_all_write_and_leave_the_lock_free(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "q.sqlite3")

    def write() -> None:
        for n in range(20):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _count(engine) == 120
    assert _free(tmp_path / "q.sqlite3")


def test_the_lock_is_held_for_the_write_transaction_and_let_go_however_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    engine = _engine(path)
    with engine.begin() as conn:  # committed
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not _free(path)
    assert _free(path)
    with pytest.raises(ZeroDivisionError), engine.begin() as conn:  # rolled back by an error
        conn.execute(text("INSERT INTO t VALUES (2)"))
        raise ZeroDivisionError
    assert _free(path)
    with session_factory(engine)() as session:  # a session's rollback
        session.execute(text("INSERT INTO t VALUES (3)"))
        session.rollback()
        assert _free(path)
        session.execute(text("INSERT INTO t VALUES (4)"))
    assert _free(path)  # closed with its transaction open
    with engine.connect() as conn:  # the connection invalidated in the middle of its transaction
        conn.execute(text("INSERT INTO t VALUES (5)"))
        conn.invalidate()
    assert _free(path)
    assert _count(engine) == 1


def test_a_reader_takes_no_lock_and_a_writer_beside_it_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    engine = _engine(path)
    with read_session(engine) as reading:
        assert reading.scalar(text("SELECT count(*) FROM t")) == 0  # its snapshot is open
        assert _free(path)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert reading.scalar(text("SELECT count(*) FROM t")) == 0
    assert _count(engine) == 1


def test_a_writer_that_waits_out_the_busy_timeout_is_refused_as_locked(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "q.sqlite3"
    engine = _engine(path)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # new connections wait 0.2 s
    impatient = make_engine(f"sqlite:///{path}")
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(OperationalError) as refused, impatient.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert is_write_conflict(refused.value)
    finally:
        done.set()
        holder.join()
    with impatient.begin() as conn:  # once the lock is let go, the same connection writes (its wait is back)
        conn.execute(text("INSERT INTO t VALUES (3)"))
    assert _count(engine) == 2 and _free(path)


def test_a_forked_child_never_lets_go_of_its_parents_lock(tmp_path: Path) -> None:
    path = lock_path(str(tmp_path / "q.sqlite3"))
    fd = take(path, 0)
    assert fd is not None
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # the child's copy of the descriptor is the parent's lock: let_go only closes it
        let_go(fd, parent)
        os._exit(0)
    os.waitpid(child, 0)
    assert not _free(tmp_path / "q.sqlite3")
    let_go(fd, parent)
    assert _free(tmp_path / "q.sqlite3")


def test_a_lock_file_that_cannot_be_opened_leaves_the_writes_to_sqlite_alone(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    engine = _engine(path)
    engine.dispose()
    Path(lock_path(str(path))).unlink()
    Path(lock_path(str(path))).mkdir()  # a directory where the lock file should be: it cannot be opened
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _count(engine) == 1


def test_a_connection_dropped_without_a_close_lets_go_too(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    connection = sqlite3.connect(path, factory=QueuedConnection)
    connection.writers_path, connection.wait_ms = lock_path(str(path)), 1000
    assert connection.queue_for_write() and not _free(path)
    del connection
    gc.collect()
    assert _free(path)
