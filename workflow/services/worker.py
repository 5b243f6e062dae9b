"""The worker: fire due timers, one instance per transaction, never touching what is not due; then close
the rule deadlines whose clock stopped, run the queued (or interrupted) jobs, send the day's digests and
tell the administrators of instances gone into error (``tick``, one loop of ``petitio worker``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from workflow.config import Settings
from workflow.db import session_factory, unit_of_work
from workflow.errors import WorkflowFailed
from workflow.models import ProcessInstance, utcnow
from workflow.runtime import instances

# Imported for their job handlers: the worker runs every kind of job.
from workflow.services import bulk, consent_queue, deadlines, import_jobs, jobs, processes, repair  # noqa: F401
from workflow.services.digest import DigestReport, send_digests
from workflow.services.repair_alerts import send_error_alerts

log = logging.getLogger(__name__)
# Job handlers register when their module is imported: the worker must know every kind it may resume.
JOB_MODULES = (consent_queue,)
BATCH = 50


@dataclass
class SweepReport:
    fired: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class TickReport:
    sweep: SweepReport
    settled: int  # rule deadlines closed (met or missed)
    digests: DigestReport
    jobs: int = 0  # jobs finished (imports, bulk actions)
    alerts: int = 0  # mails to administrators about instances gone into error


def tick(engine: Engine, settings: Settings, *, now: datetime | None = None) -> TickReport:
    """One loop of the worker. Timers go first: a failing mail server only delays the digests."""
    now = now or utcnow()
    report = sweep(engine, settings, now=now)
    with unit_of_work(engine) as session:
        settled = deadlines.settle(session, now)
    finished = jobs.run_pending(engine, settings, now)
    digests = send_digests(engine, settings, now)
    return TickReport(report, settled, digests, finished, send_error_alerts(engine, settings, now))


def due_instance_ids(session, now: datetime, limit: int = BATCH) -> list[int]:  # type: ignore[no-untyped-def]
    """Claim due instances; on PostgreSQL rows locked by another worker are skipped, not waited for."""
    return list(session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.next_timer_at <= now, ProcessInstance.status == "running")
        .order_by(ProcessInstance.next_timer_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def fire_one(session, settings: Settings, instance_id: int, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Fire the due timers of one instance if it is still due (another worker may have been first)."""
    instance = instances.lock(session, instance_id)
    if instance.status != "running" or instance.next_timer_at is None or instance.next_timer_at > now:
        return False
    loaded = processes.load(session, settings, instance, None)
    processes.fire_timers(loaded)
    processes.save(loaded, action="timers_fired")
    return True


def sweep(engine: Engine, settings: Settings, *, now: datetime | None = None, limit: int = 10_000) -> SweepReport:
    """One pass over everything due now. Each instance is its own unit of work, so one failure
    (recorded on the instance and skipped from then on) does not hold the others back."""
    now = now or utcnow()
    report = SweepReport()
    make_session = session_factory(engine)
    seen: set[int] = set()
    while report.fired + report.failed < limit:
        with make_session() as session, session.begin():
            # Claim a batch inside this transaction; the locks hold until each is processed below.
            batch = [i for i in due_instance_ids(session, now) if i not in seen]
            if not batch:
                break
            for instance_id in batch:
                seen.add(instance_id)
                savepoint = session.begin_nested()
                try:
                    if fire_one(session, settings, instance_id, now):
                        report.fired += 1
                    savepoint.commit()
                except WorkflowFailed as err:
                    savepoint.rollback()
                    repair.record_failure(session, instance_id, err)
                    report.failed += 1
                    report.failures.append(f"instance {instance_id}: {err}")
                    # The kind of error only: its text may quote the process data (stored with the instance).
                    log.warning("timer failed on process instance %s: %s", instance_id, type(err).__name__)
    return report
