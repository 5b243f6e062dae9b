"""Engine and session factory. SQLite (one file, WAL) is the embedded default; PostgreSQL in production."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from workflow import wal_checkpoints
from workflow.row_changes import changed_columns, new_row_values
from workflow.writer_queue import QueuedConnection, lock_path

log = logging.getLogger(__name__)
# An execution option: this connection only reads. On SQLite its transactions begin DEFERRED (see _sqlite_begin).
READ_ONLY = "petitio_read_only"
# An execution option: this connection writes late. On SQLite its transactions begin DEFERRED and take the writers'
# lock at their first write (see late_write_session).
WRITE_LATE = "petitio_write_late"
BUSY_TIMEOUT_MS = 10_000
# Every engine of this process, for ``forget_inherited_connections`` in a forked child.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _private(path: str | None) -> None:
    """The database holds identity data: readable by its owner only (WAL files inherit the mode)."""
    if path and path != ":memory:" and os.path.exists(path):
        os.chmod(path, 0o600)


def _on_sqlite_connect(dbapi_connection: QueuedConnection, database: str | None, writers: str | None) -> None:
    # WAL lets the worker write while pages read; busy_timeout waits for the lock instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    _wait_for_writers(dbapi_connection, BUSY_TIMEOUT_MS)
    dbapi_connection.writers_path = writers
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed, not left holding old ciphertext
    cursor.close()
    wal_checkpoints.on_connect(dbapi_connection, database)


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take control of it
    # (the recipe from SQLAlchemy's SQLite dialect documentation). Writers begin IMMEDIATE, taking the write
    # lock at the start: SQLite has one writer anyway, and a deferred transaction that reads, then writes
    # after another commit, fails with "database is locked" instead of waiting; so they queue (writer_queue).
    # Readers (``read_session``) begin DEFERRED: a WAL snapshot that takes no lock and never waits for a
    # writer, however long its transaction; they hold their few writes back for ``write_held_back``.
    options = conn.get_execution_options()
    raw: QueuedConnection = conn.connection.dbapi_connection
    raw.writes_late = False
    if options.get(READ_ONLY) or options.get(WRITE_LATE):
        conn.exec_driver_sql("BEGIN")
        raw.writes_late = bool(options.get(WRITE_LATE))  # from the next statement on
        return
    _begin_writing(raw, lambda sql: conn.exec_driver_sql(sql))


def _begin_writing(raw: QueuedConnection, execute: Callable[[str], object]) -> None:
    """BEGIN IMMEDIATE, once this connection's turn in the writers' queue came (workflow/writer_queue.py says why);
    the queue's lock is held until the transaction ends."""
    try:
        if raw.queue_for_write():
            execute("BEGIN IMMEDIATE")
        else:  # waited the whole busy timeout already: locked now, or free by chance, without a second wait
            raw.execute("PRAGMA busy_timeout=0")
            try:
                execute("BEGIN IMMEDIATE")
            finally:
                raw.execute(f"PRAGMA busy_timeout={raw.wait_ms}")
    except BaseException:
        raw.let_go()
        raise


# What a late writer may send before it writes (anything else, SAVEPOINT included, takes the writers' lock first).
_READS = ("SELECT", "PRAGMA")


def _write_when_writing(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
    """A late writer's first write: its snapshot ends (it wrote nothing) and a writer's transaction begins, in the
    writers' queue, on the same connection; the ORM's transaction goes on over it."""
    raw: QueuedConnection = _conn.connection.dbapi_connection
    if not raw.writes_late or statement.lstrip()[:6].upper() in _READS:
        return
    raw.writes_late = False
    raw.execute("COMMIT")
    try:
        _begin_writing(raw, raw.execute)
    except sqlite3.OperationalError as err:
        raise WriterWaitedTooLong(str(err)) from err


class WriterWaitedTooLong(sqlite3.OperationalError):
    """A late writer's first write waited the whole busy timeout for SQLite's writer ("database is locked"): the
    request is refused as busy (a page's 503, the API's 409, as a writer that cannot begin is), never taken for a
    stale version (``runtime.folded_writes``)."""


def _wait_for_writers(raw: QueuedConnection, wait_ms: int) -> None:
    """How long this connection's next writes wait for the lock: in the writers' queue, then in SQLite."""
    raw.wait_ms = int(wait_ms)
    raw.execute(f"PRAGMA busy_timeout={raw.wait_ms}")


def _on_psycopg_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # With the numeric_dollar paramstyle (make_engine) statements arrive with PostgreSQL's own $1 placeholders:
    # raw cursors pass them through. psycopg's default cursors rewrite %(name)s placeholders with a Python
    # regular expression and cache only short statements, so each multi-row INSERT of an import's flush was
    # parsed anew: about 1 ms of CPU per imported row (docs/BENCHMARKS.md).
    dbapi_connection.cursor_factory = psycopg.RawCursor
    dbapi_connection.server_cursor_factory = psycopg.RawServerCursor  # stream_results (backups)


def make_engine(url: str, **kwargs: object) -> Engine:
    # A database error's text would otherwise carry the statement's parameters (identities, notes, tokens'
    # digests) into every log and traceback that prints it.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        writers = lock_path(database) if database and database != ":memory:" else None
        engine = create_engine(url, connect_args={"timeout": 10, "isolation_level": None,
                                                  "factory": QueuedConnection}, **kwargs)
        event.listen(engine, "connect",
                     lambda dbapi_connection, _: _on_sqlite_connect(dbapi_connection, database, writers))
        event.listen(engine, "first_connect", lambda *_: _private(database))
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _write_when_writing)
    else:
        raw = make_url(url).get_driver_name() == "psycopg"
        if raw:
            kwargs.setdefault("paramstyle", "numeric_dollar")
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if raw:
            event.listen(engine, "connect", _on_psycopg_connect)
    _ENGINES.add(engine)
    return engine


def forget_inherited_connections() -> None:
    """In a process just forked (a gunicorn worker): drop the pooled connections the parent opened, without
    closing them, so that the parent's sockets and SQLite handles are never used by two processes; each
    engine opens its own from now on (SQLAlchemy's recipe for pools across fork)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


@cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. Services only flush."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# -- reads on SQLite: a snapshot now, their few writes (audit events of reads) in a short transaction after --

HELD_BACK = "petitio_held_back"  # Session.info key: the writes a read session holds back
WRITE_ATTEMPTS = 5  # each waits up to the busy timeout for the writer's lock


@dataclass
class HeldBack:
    """What a read session would have written: rows to insert, column changes of loaded rows."""

    inserts: list[tuple[type, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[type, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates)


@cache
def _read_only(engine: Engine) -> Engine:
    return engine.execution_options(**{READ_ONLY: True})


def read_session(engine: Engine) -> Session:
    """A session for a request that only reads: on SQLite, a deferred transaction (a WAL snapshot that never
    waits for a writer) whose flushes write nothing; what they would have written (the audit events of what
    was read, a token's last use) is held back for ``write_held_back``. A ``commit()`` of it ends the read and
    loses nothing: the held-back writes stay on ``session.info``. Other databases read and write as usual."""
    if not is_sqlite(str(engine.url)):
        return session_factory(engine)()
    session = session_factory(_read_only(engine))()
    session.info[HELD_BACK] = HeldBack()
    event.listen(session, "before_flush", _hold_back)
    return session


@cache
def _write_late(engine: Engine) -> Engine:
    return engine.execution_options(**{WRITE_LATE: True})


def late_write_session(engine: Engine) -> Session:
    """A session for a request that works long before it writes (a task completion runs the process engine): on
    SQLite its transaction begins DEFERRED, a WAL snapshot that holds no lock, and its first write ends that
    snapshot and begins a writer's transaction in the writers' queue, on the same connection. SQLite's one writer
    is then held for the writes alone, not for the reading and computing before them.

    What was read before the first write may have changed by then: only a request whose writes are checked
    against what changed may use this. A task completion's are: the instance's UPDATE is version-checked
    (``runtime.instances``), and another completion of the same instance, or of the same task, changed that
    version, so the stale one is a Conflict and writes nothing; what else it reads (the case's consent, its
    documents) is read under the same guard as on PostgreSQL, whose transactions read committed data and lock
    only the instance row. Other databases: a plain session."""
    if not is_sqlite(str(engine.url)):
        return session_factory(engine)()
    return session_factory(_write_late(engine))()


def held_back(session: Session) -> HeldBack:
    return session.info.get(HELD_BACK) or HeldBack()


def _hold_back(session: Session, _context: Any, _instances: Any) -> None:
    held: HeldBack = session.info[HELD_BACK]
    if session.deleted:
        raise RuntimeError("a read-only request must not delete rows")
    for obj in list(session.new):
        held.inserts.append((type(obj), {k: v for k, v in new_row_values(obj).items() if v is not None}))
        session.expunge(obj)
    for obj in list(session.dirty):
        changes = changed_columns(obj)
        if changes:
            held.updates.append((type(obj), inspect(obj).identity, changes))
            for key, value in changes.items():  # the object keeps its new values, as clean ones
                set_committed_value(obj, key, value)


# The database refusing a write because another transaction holds or changed the same data: on SQLite the
# writer's lock stayed taken for the whole busy timeout, or a transaction that read before another writer
# committed ("database is locked", SQLITE_BUSY_SNAPSHOT); on PostgreSQL a serialization failure, deadlock or
# lock timeout. Like a stale version in instances.save(), nothing was written: the caller may retry.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_write_conflict(err: OperationalError) -> bool:
    message = str(err.orig)
    return ("locked" in message or "busy" in message
            or getattr(err.orig, "sqlstate", None) in RETRYABLE_SQLSTATES)


def write_held_back(engine: Engine, held: HeldBack, *, attempts: int = WRITE_ATTEMPTS,
                    wait_ms: int = BUSY_TIMEOUT_MS) -> bool:
    """Write what a read session held back, in one short transaction; retried while another writer holds
    SQLite's lock, each attempt waiting up to ``wait_ms`` for it. False when it stayed locked."""
    for attempt in range(attempts):
        try:
            _write(engine, held, wait_ms)
            return True
        except OperationalError as err:
            if not is_write_conflict(err):
                raise
            time.sleep(min(0.05 * 2 ** attempt, 1.0))  # the busy timeout already waited: a short pause more
    return False


def _write(engine: Engine, held: HeldBack, wait_ms: int) -> None:
    with engine.connect() as conn:
        raw: QueuedConnection = conn.connection.dbapi_connection  # type: ignore[assignment]
        # Straight on the driver's connection, outside any transaction: SQLAlchemy would begin one first.
        _wait_for_writers(raw, wait_ms)
        try:
            with Session(bind=conn) as session:  # its first statement begins IMMEDIATE, waiting up to wait_ms
                for cls, values in held.inserts:
                    session.add(cls(**values))
                for cls, identity, changes in held.updates:
                    row = session.get(cls, identity)
                    if row is not None:
                        for key, value in changes.items():
                            setattr(row, key, value)
                session.commit()
        finally:
            _wait_for_writers(raw, BUSY_TIMEOUT_MS)


_WRITERS: set[threading.Thread] = set()


def write_held_back_later(engine: Engine, held: HeldBack) -> None:
    """Keep trying in the background, so that the page answers now; the writes are not given up."""

    def run() -> None:
        try:
            for _ in range(60):  # ten minutes of busy timeouts
                if write_held_back(engine, held):
                    return
            log.error("the audit events of a read could not be written: the database stayed locked")
        finally:
            _WRITERS.discard(thread)

    thread = threading.Thread(target=run, name="petitio-held-back-writes", daemon=True)
    _WRITERS.add(thread)
    thread.start()


def wait_for_held_back(timeout: float | None = None) -> None:
    """Wait for the background writes of reads (at shutdown, and in tests)."""
    for thread in list(_WRITERS):
        thread.join(timeout)
