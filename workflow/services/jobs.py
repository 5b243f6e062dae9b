"""Jobs: long work (an import, a bulk action) done item by item, resumable after a crash.

Each item runs in its own transaction, and its outcome (``JobItem.state``) is committed in that same
transaction: an item is either done and recorded, or neither. A runner that dies halfway leaves the rest
pending; ``resume_stale`` (the worker) picks the job up and goes on with the pending items only, so no item
is done twice. A handler signals a refusal by raising a ``PetitioError`` (its work is rolled back, the item is
recorded as refused with the error's code and problems) or returns ``ItemResult`` to skip or to say what it did.

Small jobs run at once in the request (``run``); larger ones (over ``INLINE_LIMIT`` items) are left to the
worker, and the page polls ``progress``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.db import session_factory
from workflow.errors import Forbidden, NotFound, PetitioError
from workflow.models import Job, JobItem, User, utcnow
from workflow.problems import Problem

log = logging.getLogger(__name__)
# Above this many items a job goes to the worker instead of running inside the request.
INLINE_LIMIT = 50
# A running job whose runner has not beaten its heart for this long is taken to be dead and resumed.
STALE_AFTER = timedelta(minutes=2)


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ItemState:
    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"
    SKIPPED = "skipped"


@dataclass
class ItemResult:
    state: str = ItemState.DONE
    outcome: str | None = None  # what was done, when the kind has several (created / updated / unchanged)
    problems: list[Problem] = field(default_factory=list)  # why it was skipped


# handler(session, settings, actor, job, item) -> ItemResult | None (None: done)
Handler = Callable[[Session, Settings, User, Job, JobItem], "ItemResult | None"]
HANDLERS: dict[str, Handler] = {}
# Called once when a job has no pending item left (e.g. to delete an import's staged files).
FINISHERS: dict[str, Callable[[Session, Settings, Job], None]] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does one item of jobs of ``kind``."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function
    return register


@dataclass(frozen=True)
class Subject:
    subject: str  # what the item is about, as the result page lists it (a task id, a case reference, a row)
    case_id: int | None = None


def create_job(session: Session, actor: User, kind: str, params: dict[str, Any],
               subjects: Iterable[Subject]) -> Job:
    """A queued job with one pending item per subject, in order; flushes."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    job = Job(kind=kind, state=JobState.QUEUED, created_by_id=actor.id, params=params)
    session.add(job)
    session.flush()
    items = [{"job_id": job.id, "position": n, "subject": s.subject, "case_id": s.case_id,
              "state": ItemState.PENDING, "problems": []} for n, s in enumerate(subjects)]
    if items:
        session.execute(JobItem.__table__.insert(), items)
    job.total = len(items)
    session.flush()
    return job


def job_for(session: Session, job_id: int, actor: User) -> Job:
    """A job its creator may see (managers and admins see every job); NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.created_by_id != actor.id and actor.role not in ("manager", "admin"):
        raise Forbidden("this job was started by someone else")
    return job


@dataclass(frozen=True)
class Progress:
    state: str
    total: int
    processed: int
    counts: dict[str, int]  # item state -> how many

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)


def progress(session: Session, job: Job) -> Progress:
    counts = dict(session.execute(select(JobItem.state, func.count()).where(JobItem.job_id == job.id)
                                  .group_by(JobItem.state)).all())
    return Progress(job.state, job.total, job.processed, counts)


def _claim(session: Session, job_id: int, now: datetime) -> bool:
    """Mark the job running under this runner; False when another live runner has it (or it is finished)."""
    claimed = session.execute(
        update(Job).where(Job.id == job_id,
                          (Job.state == JobState.QUEUED)
                          | ((Job.state == JobState.RUNNING) & ((Job.heartbeat_at.is_(None))
                                                                | (Job.heartbeat_at < now - STALE_AFTER))))
        .values(state=JobState.RUNNING, heartbeat_at=now, started_at=func.coalesce(Job.started_at, now))
        .execution_options(synchronize_session=False))
    return bool(claimed.rowcount)


def _problems_of(err: PetitioError) -> list[dict[str, Any]]:
    if err.errors:
        return [{"field": name, "code": p.code, "params": p.params} for name, p in err.errors.items()]
    return [{"field": None, "code": err.code, "message": err.message}]


def _run_item(session: Session, settings: Settings, actor: User, job: Job, item: JobItem) -> None:
    work = HANDLERS[job.kind]
    savepoint = session.begin_nested()
    try:
        result = work(session, settings, actor, job, item) or ItemResult()
        savepoint.commit()
        item.state, item.outcome = result.state, result.outcome
        item.problems = [{"field": None, "code": p.code, "params": p.params} for p in result.problems]
    except PetitioError as err:
        savepoint.rollback()
        item.state, item.problems = ItemState.REFUSED, _problems_of(err)
    except Exception as err:  # a bug: the item is set aside (its work undone) rather than retried for ever
        savepoint.rollback()
        # The kind of error only: its text may quote the data it choked on.
        log.error("job %s: item %s failed with %s", job.id, item.position, type(err).__name__)
        item.state = ItemState.REFUSED
        item.problems = [{"field": None, "code": "item_failed", "params": {}}]
    item.finished_at = utcnow()


def run(engine: Engine, settings: Settings, job_id: int, *, limit: int | None = None,
        clock: Callable[[], datetime] = utcnow) -> bool:
    """Do the job's pending items, each in its own transaction; True when the job is finished.

    ``limit`` stops after that many items (tests use it to stand for a runner killed halfway). Returns
    False at once if another runner holds the job.
    """
    make_session = session_factory(engine)
    with make_session() as session, session.begin():
        if not _claim(session, job_id, clock()):
            return False
    done = 0
    while limit is None or done < limit:
        with make_session() as session, session.begin():
            job = session.get(Job, job_id)
            if job is None:
                return True
            item = session.scalars(select(JobItem).where(JobItem.job_id == job_id,
                                                         JobItem.state == ItemState.PENDING)
                                   .order_by(JobItem.position).limit(1).with_for_update()).first()
            if item is None:
                _finish(session, settings, job)
                return True
            actor = session.get(User, job.created_by_id) if job.created_by_id else None
            if actor is None or not actor.active:
                job.state, job.error, job.finished_at = JobState.FAILED, "actor_inactive", utcnow()
                return True
            _run_item(session, settings, actor, job, item)
            job.processed += 1
            job.heartbeat_at = clock()
        done += 1
    return False


def _finish(session: Session, settings: Settings, job: Job) -> None:
    if (finisher := FINISHERS.get(job.kind)) is not None:
        finisher(session, settings, job)
    job.state, job.finished_at = JobState.DONE, utcnow()


def runnable_job_ids(session: Session, now: datetime) -> list[int]:
    """Queued jobs, and running jobs whose runner stopped beating (killed): the worker's share."""
    return list(session.scalars(
        select(Job.id).where((Job.state == JobState.QUEUED)
                             | ((Job.state == JobState.RUNNING) & (Job.heartbeat_at < now - STALE_AFTER)))
        .order_by(Job.id)))


def run_pending(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Run every job the worker should (``runnable_job_ids``); how many it finished."""
    at = now or utcnow()
    with session_factory(engine)() as session:
        ids = runnable_job_ids(session, at)
    # The same clock for the claim as for the selection: a job found stale at ``now`` is claimable at ``now``.
    clock = (lambda: at) if now is not None else utcnow
    return sum(1 for job_id in ids if run(engine, settings, job_id, clock=clock))


def items(session: Session, job: Job, states: Sequence[str] | None = None) -> list[JobItem]:
    query = select(JobItem).where(JobItem.job_id == job.id).order_by(JobItem.position)
    if states:
        query = query.where(JobItem.state.in_(states))
    return list(session.scalars(query))
