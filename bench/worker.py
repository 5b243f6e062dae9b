"""Cost of the worker: per fired timer, and of a loop that finds nothing due among many waiting instances.

1. N imported cases whose consent service level is moved into the past; one ``sweep`` fires them all
   (lock, load, fire, escalate, save with inbox, deadlines and audit, commit per batch): ms per instance.
2. 10,000 instances waiting on a timer that is not due: ``sweep`` alone, and ``tick`` (sweep, rule
   deadlines, the digest check with SMTP configured and today's digests already sent), median of R runs.

    .venv/bin/python bench/worker.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_worker .venv/bin/python bench/worker.py
"""

from __future__ import annotations

import dataclasses
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from workflow.config import Settings, SmtpSettings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Case, DigestLog, ProcessInstance
from workflow.runtime import instances
from workflow.schemas.appeal import Appeal
from workflow.services import processes
from workflow.services.cases import open_case
from workflow.services.digest import set_email
from workflow.services.episodes import upsert_episode
from workflow.services.install import initialise
from workflow.services.users import add_user
from workflow.services.worker import sweep, tick

N = int(os.environ.get("BENCH_N", "200"))
WAITING = int(os.environ.get("BENCH_WAITING", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
PDF = b"%PDF-1.4\n%bench\n%%EOF\n"


def setup(url: str | None) -> tuple[Engine, Settings]:
    home = Path(tempfile.mkdtemp(prefix="petitio-bench-"))
    settings = load_settings({"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {}))
    engine = make_engine(settings.database_url)
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    initialise(engine, settings)
    # An unreachable relay: the bench must show that a loop with nothing to send never talks to it.
    return engine, dataclasses.replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=9, sender="b@example.org"))


def open_cases(engine: Engine, settings: Settings, n: int, prefix: str) -> None:
    with unit_of_work(engine) as session:
        upsert_episode(session, None, "ep", "Episode", date(2022, 1, 1), None)
        for i in range(n):
            appeal = Appeal(ref=f"{prefix}-{i:05d}", full_name="Bench Person", city="Almaty", episodes=("ep",),
                            incident_types=("interrogation",), incident_date=date(2022, 1, 2), description="x",
                            form_of_appeal="a.pdf", power_of_attorney="b.pdf", consent_publish_name=False,
                            received_on=date(2022, 2, 1))
            open_case(session, settings, None, appeal, {"form_of_appeal": (PDF, "a.pdf"),
                                                        "power_of_attorney": (PDF, "b.pdf")}, imported=True)


def expire_all(engine: Engine, settings: Settings) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    with unit_of_work(engine) as session:
        for instance in session.scalars(select(ProcessInstance)):
            loaded = processes.load(session, settings, instance, None)
            instances.reschedule_timers(loaded, past)
            instances.save(loaded, action="timers_rescheduled")


def fired_cost(engine: Engine, settings: Settings) -> str:
    open_cases(engine, settings, N, "F")
    expire_all(engine, settings)
    start = time.perf_counter()
    report = sweep(engine, settings)
    elapsed = time.perf_counter() - start
    assert report.fired == N and report.failed == 0, report
    return f"{elapsed * 1000 / N:6.2f} ms per fired instance   ({N} in {elapsed:.2f} s, one worker)"


def add_waiting(engine: Engine, count: int) -> None:
    """``count`` copies of one waiting instance, not due for a week: the sweep must never read their state."""
    with unit_of_work(engine) as session:
        template = session.scalar(select(ProcessInstance).join(Case).where(Case.ref == "W-00000"))
        rows = [{"definition_id": template.definition_id, "case_id": None, "status": "running",
                 "state_json": template.state_json, "serializer_version": template.serializer_version,
                 "next_timer_at": template.next_timer_at, "version": 1, "created_at": template.created_at,
                 "updated_at": template.updated_at} for _ in range(count)]
        session.execute(insert(ProcessInstance), rows)


def digests_already_sent(engine: Engine) -> None:
    today = datetime.now(UTC).date()
    with unit_of_work(engine) as session:
        user = add_user(session, None, "bench", "intake", password="bench-password")
        set_email(session, None, user, "bench@example.org")
        session.add(DigestLog(user_id=user.id, day=today, sent_at=datetime.now(UTC), deadlines=1))


def median_ms(step: Callable[[], object]) -> str:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        step()
        timings.append((time.perf_counter() - start) * 1000)
    ms = sorted(timings)
    return f"median {statistics.median(ms):7.2f} ms   p90 {ms[int(len(ms) * 0.9)]:7.2f} ms   (n={len(ms)})"


def main() -> None:
    logging.disable(logging.INFO)
    engine, settings = setup(os.environ.get("BENCH_DATABASE_URL"))
    backend = engine.dialect.name
    print(f"worker on {backend}")
    print(f"  {'fire due timers':<48}{fired_cost(engine, settings)}")
    open_cases(engine, settings, 1, "W")
    add_waiting(engine, WAITING - 1)
    digests_already_sent(engine)

    def empty_sweep() -> None:
        assert sweep(engine, settings).fired == 0

    def empty_tick() -> None:
        report = tick(engine, settings)
        assert report.sweep.fired == 0 and report.digests.sent == 0 and report.digests.error is None, report

    print(f"  {f'sweep, nothing due, {WAITING} waiting':<48}{median_ms(empty_sweep)}")
    print(f"  {'tick: the same + rule deadlines + digest check':<48}{median_ms(empty_tick)}")
    engine.dispose()


if __name__ == "__main__":
    main()
