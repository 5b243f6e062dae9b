"""SQLite's WAL checkpoints in a serving process (workflow/wal_checkpoints.py): its commits leave them to a thread
of its own, which copies the log into the database file; any other process checkpoints in its commits, as SQLite
does by default. Observed through the files: the database file grows only when a checkpoint copies pages into it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from workflow import wal_checkpoints
from workflow.db import make_engine

ROWS, PER_COMMIT = 3_000, 100  # about one 4 KiB page each: three times SQLite's threshold of 1,000 pages
PAGE = 4096


@contextmanager
def pages_written(database: Path) -> Iterator[None]:
    """The pages written in many commits; the engine stays open meanwhile (SQLite checkpoints when the last
    connection to a database closes)."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)"))
        for _ in range(0, ROWS, PER_COMMIT):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO filler (body) VALUES (randomblob(3900))"),
                             [{} for _ in range(PER_COMMIT)])
        yield
    finally:
        engine.dispose()


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.fixture
def taken_over(monkeypatch: pytest.MonkeyPatch):
    """This test's process as a serving one, its checkpoint thread idle until the test wakes it."""
    checkpointer = wal_checkpoints._Checkpointer()
    monkeypatch.setattr(wal_checkpoints, "_TAKEN_OVER", checkpointer)
    monkeypatch.setattr(wal_checkpoints, "INTERVAL_S", 3600.0)
    yield checkpointer
    checkpointer.stop(5.0)


def test_a_process_that_did_not_take_over_checkpoints_in_its_commits(tmp_path: Path) -> None:
    database = tmp_path / "plain.sqlite3"
    with pages_written(database):
        assert size(database) > ROWS * PAGE // 2  # the commits copied the log in as it passed 1,000 pages


def test_a_serving_process_leaves_the_checkpoints_to_its_thread(tmp_path: Path, taken_over, monkeypatch) -> None:
    database = tmp_path / "served.sqlite3"
    with pages_written(database):
        # No commit checkpointed: the pages are all in the log, below the backstop, none in the database file.
        assert size(database) < 100 * PAGE
        assert size(Path(f"{database}-wal")) > ROWS * PAGE
        assert taken_over.databases == {str(database)}

        taken_over.stop(5.0)  # the same thread, now on a short round (it runs every second when serving)
        monkeypatch.setattr(wal_checkpoints, "INTERVAL_S", 0.01)
        taken_over.thread = None
        taken_over.watch(str(database))
        deadline = time.monotonic() + 30
        while size(database) < ROWS * PAGE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert size(database) >= ROWS * PAGE


def test_the_thread_never_creates_a_database_that_is_gone(tmp_path: Path, taken_over, monkeypatch, caplog) -> None:
    monkeypatch.setattr(wal_checkpoints, "INTERVAL_S", 0.01)
    gone = tmp_path / "gone.sqlite3"
    with caplog.at_level("WARNING", logger="workflow.wal_checkpoints"):
        taken_over.watch(str(gone))
        deadline = time.monotonic() + 30
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "WAL checkpoint skipped: OperationalError" in caplog.text
    assert not gone.exists()
