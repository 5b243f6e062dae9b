"""Cost of a filing's follow-up round at round 1 and at round N: does a years-long case stay as fast as a new one?

One case is driven to a filing awaiting the body's answer, then looped N rounds through the real services: the
response window is moved a minute into the past (as the tests move clocks), the worker's sweep fires it, and the
legal officer completes the ``follow_up`` task ("reminder sent"), which opens the next window. Printed: the cost
of completing ``follow_up`` (median of the first rounds and of the last ones) and the stored state's size at
both ends. Target: round N costs at most 1.2x round 1 (the state must not grow with the rounds).

    .venv/bin/python bench/follow_up_rounds.py              # SQLite in a temporary folder, 500 rounds
    BENCH_N=50 .venv/bin/python bench/follow_up_rounds.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/follow_up_rounds.py
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, text

from workflow.config import Settings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Case, HumanTask, ProcessInstance
from workflow.runtime import instances
from workflow.schemas.appeal import Appeal
from workflow.services import processes
from workflow.services.cases import open_case
from workflow.services.episodes import upsert_episode
from workflow.services.install import initialise
from workflow.services.tasks import complete_task
from workflow.services.users import add_user, get_user
from workflow.services.worker import sweep

N = max(2, int(os.environ.get("BENCH_N", "500")))
SAMPLE = 5  # rounds timed at each end (the median is printed)
PDF = b"%PDF-1.4\n%bench\n%%EOF\n"
REF = "B-LOOP"
USERS = {"ina": "intake", "lena": "legal", "mara": "manager"}


def setup(url: str | None) -> tuple[Engine, Settings]:
    home = Path(tempfile.mkdtemp(prefix="petitio-bench-"))
    settings = load_settings({"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {}))
    engine = make_engine(settings.database_url)
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    initialise(engine, settings)
    with unit_of_work(engine) as session:
        for username, role in USERS.items():
            add_user(session, None, username, role, password="bench-password-long")
        upsert_episode(session, None, "ep", "Episode", date(2022, 1, 1), None)
        appeal = Appeal(ref=REF, full_name="Bench Person", city="Almaty", episodes=("ep",),
                        incident_types=("detention_at_rally",), incident_date=date(2022, 1, 2),
                        description="Detained at a rally.", form_of_appeal="a.pdf", power_of_attorney="b.pdf",
                        consent_publish_name=False, received_on=date(2022, 2, 1))
        open_case(session, settings, None, appeal, {"form_of_appeal": (PDF, "a.pdf"),
                                                    "power_of_attorney": (PDF, "b.pdf")}, imported=True)
    return engine, settings


def complete(engine: Engine, settings: Settings, bpmn_id: str, username: str, data: dict) -> float:
    with unit_of_work(engine) as session:
        task_id = session.scalar(select(HumanTask.id).join(Case, HumanTask.case_id == Case.id)
                                 .where(Case.ref == REF, HumanTask.state == "ready", HumanTask.bpmn_id == bpmn_id))
        if task_id is None:
            raise SystemExit(f"{bpmn_id} is not ready")
    start = time.perf_counter()
    with unit_of_work(engine) as session:  # one request: its own session, transaction and commit
        complete_task(session, settings, task_id, get_user(session, username), data)
    return time.perf_counter() - start


def to_awaiting_response(engine: Engine, settings: Settings) -> None:
    complete(engine, settings, "verify_consent", "ina",
             {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    complete(engine, settings, "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"],
                                                        "mandates": ["assembly"], "grounds": ["iccpr_21"]})
    complete(engine, settings, "approve_review", "mara", {"decision": "approve"})
    complete(engine, settings, "check_filing", "lena", {"decision": "approve"})
    complete(engine, settings, "submit_filing", "ina", {"submitted_on": date.today().isoformat(),
                                                        "channel": "email", "reference": "G/SO 214"})


def window_passes(engine: Engine, settings: Settings) -> None:
    """The response window ends: its timer is moved into the past and the worker's sweep fires it."""
    with unit_of_work(engine) as session:
        instance = session.scalar(select(ProcessInstance).join(Case).where(Case.ref == REF))
        loaded = processes.load(session, settings, instance, None)
        instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1))
        instances.save(loaded, action="timers_rescheduled")
    sweep(engine, settings)


def state_size(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        instance = session.scalar(select(ProcessInstance).join(Case).where(Case.ref == REF))
        return len(instance.state_json.encode())


def main() -> None:
    logging.disable(logging.INFO)
    url = os.environ.get("BENCH_DATABASE_URL")
    engine, settings = setup(url)
    to_awaiting_response(engine, settings)
    timings: list[float] = []
    sizes: list[int] = []
    for _round in range(N):
        window_passes(engine, settings)
        timings.append(complete(engine, settings, "follow_up", "lena", {"action": "reminder_sent"}))
        sizes.append(state_size(engine))
    backend = engine.dialect.name
    engine.dispose()
    sample = min(SAMPLE, N // 2)
    first, last = statistics.median(timings[:sample]) * 1000, statistics.median(timings[-sample:]) * 1000
    ratio = last / first
    print(f"follow-up rounds on {backend}: {N}")
    print(f"round 1:   complete follow_up median {first:7.2f} ms (rounds 1-{sample})   state {sizes[0]:>8} bytes")
    print(f"round {N}: complete follow_up median {last:7.2f} ms (last {sample} rounds)   state {sizes[-1]:>8} bytes")
    print(f"ratio round {N} / round 1: {ratio:.2f}x   target: <= 1.20x   {'OK' if ratio <= 1.2 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
