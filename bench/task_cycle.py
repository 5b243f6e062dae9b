"""Cost of one task cycle: load an instance, complete a user task, save it (with inbox, deadlines, audit).

Printed next to the bare SpiffWorkflow cost of the same step, measured in the same run: deserialize the
full JSON (specs included), complete the task, run the engine, serialize the full JSON, in memory.
Target: Petitio's cycle costs at most 2x the bare engine's.
Also printed: the SQL statements one cycle sends (counted by an engine event during the timed steps).

    .venv/bin/python bench/task_cycle.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/task_cycle.py
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import cast

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine, event, select, text

from workflow.bodies import SERVICE_LEVELS
from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Case, HumanTask
from workflow.runtime.context import ServiceContext
from workflow.runtime.scripting import PetitioScriptEngine, make_script_engine
from workflow.runtime.specs import parse_bundle, read_directory
from workflow.schemas.appeal import Appeal
from workflow.services.cases import open_case
from workflow.services.episodes import upsert_episode
from workflow.services.install import initialise
from workflow.services.operations import OPERATIONS
from workflow.services.tasks import complete_task
from workflow.services.users import add_user, get_user

N = int(os.environ.get("BENCH_N", "200"))
DATA = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
PDF = b"%PDF-1.4\n%bench\n%%EOF\n"


def _not_urgent(context: object, case_ref: str) -> dict[str, bool]:
    return {"urgent": False, "alert": False}


# The bare engine has no database: its triage answers what the real one answers for these cases.
BARE_OPERATIONS = {"triage_case": _not_urgent}
NO_DATABASE = cast(ServiceContext, object())


def bare_engine() -> PetitioScriptEngine:
    return make_script_engine(NO_DATABASE, BARE_OPERATIONS)


def bare_engine_step() -> Callable[[], float]:
    """SpiffWorkflow alone: the same case process, waiting at verify_consent, as full JSON."""
    sources, forms = read_directory(load_settings().bpmn_dir)
    bundle = parse_bundle(sources, forms, operations=OPERATIONS)["case"]
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=bare_engine())
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update({"case_ref": "B-1", "imported": True, "consent_verified": False, "detained_now": False,
                          "urgent": False, **SERVICE_LEVELS})
    wf.do_engine_steps()
    stored = serializer.serialize_json(wf)

    def step() -> float:
        start = time.perf_counter()
        loaded = serializer.deserialize_json(stored)
        loaded.script_engine = bare_engine()
        task = loaded.get_next_task(state=TaskState.READY, manual=True)
        task.set_data(**DATA, consent_verified=True)
        task.run()
        loaded.do_engine_steps()
        serializer.serialize_json(loaded)
        return time.perf_counter() - start

    return step


def petitio_steps(url: str | None, n: int) -> tuple[Engine, Iterator[Callable[[], float]]]:
    """n cases waiting at verify_consent; each step completes one, as one request would."""
    home = Path(tempfile.mkdtemp(prefix="petitio-bench-"))
    env = {"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {})
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    initialise(engine, settings)
    with unit_of_work(engine) as session:
        add_user(session, None, "bench", "intake", password="bench-password")
        upsert_episode(session, None, "ep", "Episode", date(2022, 1, 1), None)
        for i in range(n):
            appeal = Appeal(ref=f"B-{i:05d}", full_name="Bench Person", city="Almaty", episodes=("ep",),
                            incident_types=("interrogation",), incident_date=date(2022, 1, 2), description="x",
                            form_of_appeal="a.pdf", power_of_attorney="b.pdf", consent_publish_name=False,
                            received_on=date(2022, 2, 1))
            open_case(session, settings, None, appeal, {"form_of_appeal": (PDF, "a.pdf"),
                                                        "power_of_attorney": (PDF, "b.pdf")}, imported=True)
    with unit_of_work(engine) as session:
        task_ids = list(session.scalars(select(HumanTask.id).join(Case, HumanTask.case_id == Case.id)
                                        .where(HumanTask.state == "ready").order_by(Case.ref)))

    def step_for(task_id: str) -> Callable[[], float]:
        def step() -> float:
            start = time.perf_counter()
            with unit_of_work(engine) as session:  # one request: its own session, transaction and commit
                complete_task(session, settings, task_id, get_user(session, "bench"), DATA)
            return time.perf_counter() - start

        return step

    return engine, (step_for(task_id) for task_id in task_ids)


class StatementCounter:
    """SQL statements sent during the timed steps (an executemany counts once: one round trip with pipelining)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.count += 1


def describe(timings: list[float]) -> str:
    ms = sorted(t * 1000 for t in timings)
    return (f"median {statistics.median(ms):6.2f} ms   p90 {ms[int(len(ms) * 0.9)]:6.2f} ms   "
            f"mean {statistics.fmean(ms):6.2f} ms   (n={len(ms)})")


def main() -> None:
    logging.disable(logging.INFO)
    url = os.environ.get("BENCH_DATABASE_URL")
    bare_step = bare_engine_step()
    engine, our_steps = petitio_steps(url, N)
    bare, ours = [], []
    statements = StatementCounter(engine)  # the cases are opened by now: only the cycles are counted
    for our_step in our_steps:  # interleaved, so both see the same machine at the same moment
        bare.append(bare_step())
        ours.append(our_step())
    backend = engine.dialect.name
    engine.dispose()
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"bare SpiffWorkflow (deserialize, complete, serialize; in memory): {describe(bare)}")
    print(f"Petitio on {backend:<10} (load, validate, complete, save, commit):  {describe(ours)}")
    # SQLite's BEGIN IMMEDIATE is sent as a statement (workflow/db.py) and counted; PostgreSQL's BEGIN and
    # COMMIT (the driver's) and the pool's ping are round trips this count does not see.
    print(f"statements per cycle: {statements.count / len(ours):.1f}   (SQL statements sent to {backend})")
    print(f"ratio (median): {ratio:.2f}x   target: <= 2.00x   {'OK' if ratio <= 2 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
