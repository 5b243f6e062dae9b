"""SQLite's writers wait for one another in the kernel, woken the moment the writer before them is done.

SQLite lets one transaction write at a time. The others wait in its busy handler, which polls the lock in growing
sleeps (up to 100 ms each): a writer that has waited a while sleeps longest and is passed by newcomers whose first
polls are a millisecond apart, so under load a few writers wait seconds. Every writer of ours (the web workers,
``petitio worker``, the command line: all open their engines with ``workflow.db.make_engine``) therefore first takes
an exclusive ``flock`` on a file next to the database, from just before its ``BEGIN IMMEDIATE`` to just after its
COMMIT or ROLLBACK: blocked in the kernel, the next writer wakes as soon as the lock file is let go, with no sleep
to finish.

The lock file only orders the writers; SQLite's own lock still guards the data. So a path that lets go early, or
a writer that is not ours (the sqlite3 shell), costs at most a wait in the busy handler, never a wrong write; and
a writer that waited its whole busy timeout here goes on to ``BEGIN IMMEDIATE`` without waiting there again
(``workflow.db`` then answers "database is locked" at once, as the busy timeout would have). The kernel drops the
lock of a process that dies, so a killed writer leaves nobody waiting.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading


def lock_path(database: str) -> str:
    return f"{database}.writers"


def _open(path: str) -> int:
    # A descriptor per transaction: flock belongs to an open file, so two threads (two connections) of one
    # process exclude each other too, and none is held across a fork by a connection the child forgot.
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


class _Waiter:
    """A thread blocked in ``flock`` for a writer that waits with a time limit (flock itself has none). A writer
    that gives up leaves the thread behind: when it gets the lock at last, it lets go of it at once."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.done = threading.Event()
        self.guard = threading.Lock()
        self.handed = self.abandoned = False
        threading.Thread(target=self._block, name="petitio-writer-queue", daemon=True).start()

    def _block(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            locked = True
        except OSError:
            locked = False  # the writer goes on to SQLite's own busy handler
        with self.guard:
            self.handed = locked and not self.abandoned
            self.done.set()
        if not self.handed:
            if locked:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)

    def wait(self, seconds: float) -> bool:
        self.done.wait(seconds)
        with self.guard:
            self.abandoned = not self.done.is_set()
            return self.handed


def take(path: str, wait_s: float) -> int | None:
    """The writers' lock (its descriptor), waiting up to ``wait_s`` for it; None when another writer kept it."""
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    return fd if _Waiter(fd).wait(wait_s) else None


def let_go(fd: int, owner_pid: int) -> None:
    # In a forked child the descriptor is the parent's lock too: unlocking it there would let go of the parent's.
    if os.getpid() == owner_pid:
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


class QueuedConnection(sqlite3.Connection):
    """pysqlite's connection, letting go of the writers' lock as soon as its transaction has ended (the
    ``factory`` of ``sqlite3.connect``: SQLAlchemy's commit, rollback and pool reset call these methods)."""

    writers_path: str | None = None  # set on connect; None for a database in memory
    wait_ms: int = 0  # how long a writer waits for the lock: the busy timeout, set with it
    writes_late: bool = False  # in a late writer's snapshot, before its first write (workflow.db late_write_session)
    _held: tuple[int, int] | None = None  # descriptor and pid of the lock this connection holds

    def queue_for_write(self) -> bool:
        """Take the writers' lock before ``BEGIN IMMEDIATE``; False when the wait ran out."""
        if self.writers_path is None or self._held is not None:
            return True
        try:
            fd = take(self.writers_path, self.wait_ms / 1000)
        except OSError:  # the lock file cannot be opened: SQLite's busy handler alone orders this writer
            return True
        if fd is None:
            return False
        self._held = (fd, os.getpid())
        return True

    def let_go(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            let_go(*held)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.writes_late = False
            self.let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.writes_late = False
            self.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.let_go()

    def __del__(self) -> None:
        # Dropped without a close (a checkout the pool lost to the garbage collector): SQLite's lock goes with
        # the handle, and the writers' lock must go with it too.
        self.let_go()
