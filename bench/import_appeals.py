"""Importing a large appeals file: 10,000 fictional rows with their consent documents, as `petitio intake import`
writes them (``services.import_batches.write_plan``, a commit per batch; on PostgreSQL by forked writer processes
side by side, one per CPU up to four, or BENCH_WORKERS). Target: under 60 s, memory bounded.

Prints how many processes wrote, rows per second, the total time (checking and writing) and the CPU time within it
of this process and of the writers (what a busy machine inflates less), the peak memory of this process and of the
largest writer, the SQL statements per row of them all (each statement sent counts once: on SQLite the ORM sends the
inserts of rows with generated ids one by one) and the target line.

    .venv/bin/python bench/import_appeals.py            # SQLite in a temporary folder
    BENCH_N=1000 .venv/bin/python bench/import_appeals.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/import_appeals.py
    BENCH_WORKERS=1 BENCH_DATABASE_URL=... .venv/bin/python bench/import_appeals.py     # one process on PostgreSQL
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from journey_data import CITIES, EPISODES, FAMILY, GIVEN, INCIDENT_TYPES, pdf
from sqlalchemy import event, text

from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.services.episodes import upsert_episode
from workflow.services.import_batches import IMPORT_BATCH, import_workers, write_plan
from workflow.services.importer import plan_appeals_file
from workflow.services.install import initialise

N = int(os.environ.get("BENCH_N", "10000"))
WORKERS = int(os.environ["BENCH_WORKERS"]) if os.environ.get("BENCH_WORKERS") else None
TARGET_S = 60.0
HEADER = ("ref", "full_name", "city", "episodes", "incident_types", "incident_date", "description",
          "form_of_appeal", "power_of_attorney", "consent_publish_name", "received_on", "gender", "detained_now")


def write_file(folder: Path, n: int) -> tuple[Path, Path]:
    """``n`` fictional appeals as a CSV and their PDFs in a folder (one in seven lacks its power of attorney)."""
    docs = folder / "docs"
    docs.mkdir(parents=True)
    path = folder / "appeals.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(n):
            ref = f"BA-{i + 1:05d}"
            form, power = f"{ref}-form.pdf", ("" if i % 7 == 6 else f"{ref}-poa.pdf")
            (docs / form).write_bytes(pdf(f"Form of appeal {ref}"))
            if power:
                (docs / power).write_bytes(pdf(f"Power of attorney {ref}"))
            occurred = date(2022, 1, 5) + timedelta(days=i % 200)
            writer.writerow((
                ref, f"{GIVEN[i % len(GIVEN)]} {FAMILY[(i // len(GIVEN)) % len(FAMILY)]} {i + 1}",
                CITIES[i % len(CITIES)], EPISODES[i % len(EPISODES)][0], INCIDENT_TYPES[i % 4] + ";interrogation",
                occurred.isoformat(), f"Detained after the peaceful assembly; appeal number {i + 1}.", form, power,
                "yes" if i % 3 else "no", (occurred + timedelta(days=30)).isoformat(), "female" if i % 2 else "male",
                "yes" if i % 97 == 3 else "no"))
    return path, docs


def main() -> None:
    logging.disable(logging.INFO)
    url = os.environ.get("BENCH_DATABASE_URL")
    folder = Path(tempfile.mkdtemp(prefix="petitio-bench-"))
    env = {"PETITIO_HOME": str(folder / "home")} | ({"DATABASE_URL": url} if url else {})
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    initialise(engine, settings)
    with unit_of_work(engine) as session:
        for key, title, start, end in EPISODES:
            upsert_episode(session, None, key, title, start, end, None)
    path, docs = write_file(folder, N)

    # In memory shared with the forked writers, which inherit the listener.
    statements = multiprocessing.get_context("fork").Value("q", 0)

    def count(*_args: Any) -> None:
        with statements.get_lock():
            statements.value += 1

    event.listen(engine, "before_cursor_execute", count)
    shown = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal shown
        if time.perf_counter() - shown > 5 or done == total:
            shown = time.perf_counter()
            print(f"  {done} / {total} rows", file=sys.stderr)

    start, cpu_start = time.perf_counter(), time.process_time()
    with unit_of_work(engine) as session:
        plan = plan_appeals_file(session, settings, path, docs)
        session.rollback()
    checked = time.perf_counter() - start
    if plan.report.problems:
        raise SystemExit(f"the generated file has problems: {plan.report.errors[:3]}")
    counts = write_plan(engine, settings, None, plan, progress=progress, workers=WORKERS)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    backend, workers = engine.dialect.name, min(import_workers(engine, WORKERS), -(-N // IMPORT_BATCH))
    engine.dispose()
    own, writers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    by = f"{workers} writer processes" if workers > 1 else "this process"
    spread = f" + the writers' {writers.ru_utime + writers.ru_stime:.1f} s" if workers > 1 else ""
    largest = f", largest writer {writers.ru_maxrss / 1024:.0f} MB" if workers > 1 else ""  # kilobytes on Linux
    print(f"imported {counts['created']} appeals on {backend} by {by}: {N / total:.0f} rows/s, total {total:.1f} s "
          f"(checking {checked:.1f} s; CPU: this process's {cpu:.1f} s{spread}), peak memory "
          f"{own.ru_maxrss / 1024:.0f} MB{largest}, {statements.value / N:.1f} statements per row")
    print(f"target: < {TARGET_S:.0f} s {'OK' if total < TARGET_S else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
