"""SQLite's WAL checkpoints on a thread of a serving process, not in a request's COMMIT.

SQLite copies its write-ahead log back into the database file once the log passes 1,000 pages, and it does so
inside the COMMIT of whichever connection crossed the mark. That request waits for the copy and its fsync (120 to
150 ms on a database of 100,000 cases, docs/BENCHMARKS.md) while it still holds the writers' lock
(``workflow.writer_queue``), so every other writer waits too. A case page writes one audit event, so under load one
page in two or three hundred paid it.

A process that serves (a gunicorn worker, ``web.serve``) takes this over with ``take_over_checkpoints``: its SQLite
connections opened from then on raise the automatic threshold to a backstop, and a daemon thread runs a PASSIVE
checkpoint every second on a connection of its own. PASSIVE takes no lock that a reader or a writer waits for and
leaves what it cannot copy now (pages a reader's snapshot still needs) to the next round; two processes' checkpoints
do not wait for each other either (the second finds the log copied, or is told busy and tries a second later). The
backstop keeps SQLite's own checkpoint should the thread fall behind, so the log cannot grow without bound. Every
other process (the command line, ``petitio worker``, tests) keeps SQLite's default.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

INTERVAL_S = 1.0
# Pages of log (4 KiB each) after which a committing connection checkpoints after all: eight times SQLite's default,
# reached only if the thread stopped or a reader kept its snapshot for long.
BACKSTOP_PAGES = 8_000


class _Checkpointer:
    """The databases this process writes to, and the thread that checkpoints them."""

    def __init__(self) -> None:
        self.databases: set[str] = set()
        self.guard = threading.Lock()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def watch(self, database: str) -> None:
        with self.guard:
            self.databases.add(database)
            # Started in the process that connects: a thread does not survive a fork, the set of databases does.
            if self.thread is None or self.pid != os.getpid():
                self.pid = os.getpid()
                self.stopping = threading.Event()
                self.thread = threading.Thread(target=self._run, args=(self.stopping,),
                                               name="petitio-wal-checkpoints", daemon=True)
                self.thread.start()

    def _run(self, stopping: threading.Event) -> None:
        connections: dict[str, sqlite3.Connection] = {}
        try:
            while not stopping.wait(INTERVAL_S):
                with self.guard:
                    databases = sorted(self.databases)
                for database in databases:
                    self._checkpoint(connections, database)
        finally:
            for connection in connections.values():
                connection.close()

    @staticmethod
    def _checkpoint(connections: dict[str, sqlite3.Connection], database: str) -> None:
        try:
            connection = connections.get(database)
            if connection is None:
                # mode=rw: a database moved or deleted meanwhile is not created again, empty, by this thread.
                connection = sqlite3.connect(f"{Path(database).as_uri()}?mode=rw", uri=True,
                                             isolation_level=None, check_same_thread=False)
                connections[database] = connection
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as err:  # the next round opens a new connection; the backstop covers the gap
            log.warning("WAL checkpoint skipped: %s", type(err).__name__)
            stale = connections.pop(database, None)
            if stale is not None:
                stale.close()

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        if self.thread is not None and self.pid == os.getpid():
            self.thread.join(timeout)


_TAKEN_OVER: _Checkpointer | None = None


def take_over_checkpoints() -> None:
    """From now on this process checkpoints its SQLite databases on a thread (a serving process calls it once,
    before it opens its connections)."""
    global _TAKEN_OVER
    if _TAKEN_OVER is None:
        _TAKEN_OVER = _Checkpointer()


def stop_checkpoints(timeout: float = 5.0) -> None:
    """At the process's exit: the thread finishes its round and closes its connections."""
    if _TAKEN_OVER is not None:
        _TAKEN_OVER.stop(timeout)


def on_connect(connection: sqlite3.Connection, database: str | None) -> None:
    """For each new SQLite connection (``workflow.db``): in a process that took the checkpoints over, this
    connection leaves them to the thread, up to the backstop."""
    if _TAKEN_OVER is None or not database or database == ":memory:":
        return
    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    _TAKEN_OVER.watch(os.path.abspath(database))
