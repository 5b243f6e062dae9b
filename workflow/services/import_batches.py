"""Writing a planned import in batches, each batch its own transaction (``petitio intake import``, the benchmark).

A commit every ``IMPORT_BATCH`` rows keeps memory bounded (the session forgets each batch's objects) and other
users' requests are never locked out for the whole file; a run killed halfway keeps the batches it committed,
and the same file imported again finishes the rest: rows are idempotent by reference and content, so a row a
committed batch wrote is "unchanged" the second time.

On PostgreSQL the batches are written by forked processes side by side (``import_workers``: one per CPU, at most
``IMPORT_WORKERS_MAX``): starting each case's workflow is Python's work, about 90 % of an import's time, and one
process uses one core. Each takes the next batch not handed out yet, writes it in its own connection and
transaction and tells the calling process, which reports the progress. Their commits meet only at the audit
chain's lock (``workflow/audit.py``). SQLite has one writer: one process writes every batch, as before.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import os
import pickle
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait

from sqlalchemy import Engine

from workflow.config import Settings
from workflow.db import forget_inherited_connections, unit_of_work
from workflow.errors import ImportWriterFailed, NotFound
from workflow.models import User
from workflow.services.importer import ImportPlan, apply_plan

IMPORT_BATCH = 250  # rows per transaction
IMPORT_WORKERS_MAX = 4  # processes writing an import's batches on PostgreSQL, at most (one per CPU below it)
# progress(rows written, rows to write): after each committed batch.
ProgressCallback = Callable[[int, int], None]
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def import_workers(engine: Engine, workers: int | None = None) -> int:
    """How many processes write an import's batches: one on SQLite (one writer anyway); on PostgreSQL ``workers``,
    by default one per CPU this process may use, at most ``IMPORT_WORKERS_MAX``."""
    if engine.dialect.name != "postgresql":
        return 1
    if workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = min(IMPORT_WORKERS_MAX, cpus)
    return max(1, workers)


def write_plan(engine: Engine, settings: Settings, actor: User | None, plan: ImportPlan, *,
               batch: int = IMPORT_BATCH, progress: ProgressCallback | None = None,
               batches: int | None = None, workers: int | None = None) -> dict[str, int]:
    """Write the plan's valid rows, ``batch`` rows per committed transaction; {outcome: count}.

    ``batches`` writes only the first that many batches (what a run killed there leaves behind). ``workers``: the
    processes that write them on PostgreSQL (``import_workers``). ``actor`` must be usable in every batch's session:
    None (the command line) or a user the caller re-reads is fine (a writer process reads it again by id). An error
    in any batch stops the import: the batches committed stay, and the error is raised here.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    total = len(plan.rows)
    spans = [(start, min(start + batch, total)) for start in range(0, total, batch)][:batches]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    written = 0

    def committed(rows: int, outcomes: dict[str, int]) -> None:
        nonlocal written
        for outcome, count in outcomes.items():
            counts[outcome] += count
        written += rows
        if progress is not None:
            progress(written, total)

    # The plan (every row, checked) and all that was loaded before lives until the import ends: frozen, the
    # collector's full passes, which the batches' many short-lived objects set off again and again, skip it
    # (their CPU more than halved at 6,000 rows); and forked writers share it with this process, copy-on-write,
    # instead of each copying the pages a pass touches. Only the command line runs this, in a process of its own.
    gc.freeze()
    try:
        processes = min(import_workers(engine, workers), len(spans))
        if processes > 1:
            _write_in_processes(engine, settings, actor, plan, spans, processes, committed)
        else:
            for start, end in spans:
                with unit_of_work(engine) as session:
                    outcomes = apply_plan(session, settings, actor, plan, plan.rows[start:end])
                committed(end - start, outcomes)
    finally:
        gc.unfreeze()
    return counts


# -- the writer processes (PostgreSQL) -----------------------------------------------------------------------------

class RemoteTraceback(Exception):
    """The traceback of an error raised in a writer process: the ``__cause__`` of the error raised here."""

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.args[0]}\"\"\""


def _write_in_processes(engine: Engine, settings: Settings, actor: User | None, plan: ImportPlan,
                        spans: Sequence[tuple[int, int]], processes: int,
                        committed: Callable[[int, dict[str, int]], None]) -> None:
    context = get_context("fork")  # the children share the plan with this process instead of receiving a copy
    fd, lock = tempfile.mkstemp(prefix="petitio-import-", suffix=".lock")
    os.close(fd)
    handed = _Handed(context.Value("q", 0, lock=False), lock, len(spans))
    actor_id = actor.id if actor is not None else None
    children = {}
    try:
        for _ in range(processes):
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=_writer, name="petitio-import-writer", daemon=True,
                                    args=(engine, settings, actor_id, plan, spans, handed, sender, os.getpid()))
            child.start()
            sender.close()  # the child holds the only sending end: its exit is this end's EOF
            children[receiver] = child
        failure: BaseException | None = None
        while children:
            for receiver in wait(list(children)):
                assert isinstance(receiver, Connection)
                try:
                    message = receiver.recv()
                except EOFError:  # the writer has ended
                    child = children.pop(receiver)
                    child.join()
                    receiver.close()
                    if child.exitcode != 0 and failure is None:  # killed (out of memory?) before it could say why
                        failure = ImportWriterFailed(f"an import writer process ended with code {child.exitcode}")
                        handed.no_more()
                    continue
                if message[0] == "committed":
                    committed(message[1], message[2])
                elif failure is None:  # the first error is the one raised; the writers stop after their batch
                    failure = pickle.loads(message[1])
                    failure.__cause__ = RemoteTraceback(message[2])
                    handed.no_more()
        if failure is not None:
            raise failure
    finally:
        for child in children.values():  # only when this process failed itself (a progress callback, Ctrl-C)
            child.kill()
            child.join()
        os.unlink(lock)


def _writer(engine: Engine, settings: Settings, actor_id: int | None, plan: ImportPlan,
            spans: Sequence[tuple[int, int]], handed: _Handed, sender: Connection, parent: int) -> None:
    """A writer process: the next batch not handed out yet, one transaction each, until none is left."""
    try:
        _die_with(parent)
        forget_inherited_connections()  # the parent's pooled connections are its own (as in gunicorn's workers)
        while (number := handed.next()) is not None:
            start, end = spans[number]
            with unit_of_work(engine) as session:
                actor = session.get(User, actor_id) if actor_id is not None else None
                if actor_id is not None and actor is None:
                    raise NotFound(f"user {actor_id} not found")
                outcomes = apply_plan(session, settings, actor, plan, plan.rows[start:end])
            sender.send(("committed", end - start, outcomes))
    except BaseException as err:  # every error ends the import: raised in the parent
        handed.no_more()
        sender.send(("failed", _portable(err), "".join(traceback.format_exception(err))))
    finally:
        sender.close()
        engine.dispose()


def _portable(err: BaseException) -> bytes:
    """The error, pickled for the parent: the same type, message and code when it survives the trip."""
    try:
        payload = pickle.dumps(err)
        pickle.loads(payload)
    except Exception:  # an error that cannot be pickled (or restored) is named by its type
        code = getattr(err, "code", None)
        payload = pickle.dumps(ImportWriterFailed(f"an import writer failed: {type(err).__name__}"
                                                  + (f" ({code})" if isinstance(code, str) else "")))
    return payload


class _Handed:
    """The next batch to hand out, shared by the writers and the calling process: ``count`` once none is left (or
    after an error). Its lock is a file lock, taken by each process on a descriptor of its own: the kernel releases
    it when its holder dies. A multiprocessing lock held by a writer killed inside it (out of memory, an operator)
    stayed taken, and the other writers and the calling process waited for it for ever."""

    def __init__(self, value: ctypes.c_longlong, lock: str, count: int) -> None:
        self.value, self.lock, self.count = value, lock, count

    @contextmanager
    def _held(self) -> Iterator[None]:
        fd = os.open(self.lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock, as the holder's death would

    def next(self) -> int | None:
        with self._held():
            number = self.value.value
            if number >= self.count:
                return None
            self.value.value = number + 1
            return number

    def no_more(self) -> None:
        with self._held():
            self.value.value = self.count


def _die_with(parent: int) -> None:
    """Be killed when the parent dies: an import killed (or crashed) must not leave writers committing while it is
    run again. Linux signals the death of the parent's forking thread: ``write_plan`` runs in the main thread."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the line above: no signal will come
        os._exit(1)


__all__ = ["IMPORT_BATCH", "IMPORT_WORKERS_MAX", "ProgressCallback", "RemoteTraceback", "import_workers",
           "write_plan"]
