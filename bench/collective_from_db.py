"""A collective complaint of 1,000 complainants from the database: snapshot building plus rendering.

`bench/render_filings.py` times the renderer alone; this adds what `workflow/snapshots.py` does first (load the
cases, their people with decrypted names, incidents, episodes and consent; count; redact). The 1,000 cases
are written straight into a fresh database (consent verified, review approved) so that setting up does
not dominate; the timed part is exactly what `generate_collective` runs. Figures only, no assertions.

    .venv/bin/python bench/collective_from_db.py                      # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/collective_from_db.py
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, timedelta

from sqlalchemy import select, text

import filings
from workflow import crypto
from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Case, ConsentRecord, Episode, Incident, Person, Review, User
from workflow.services.install import initialise
from workflow.services.users import add_user
from workflow.snapshots import collective_snapshot, load_cases

COMPLAINANTS = int(os.environ.get("BENCH_N", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CITIES = [f"Fictional City {n:02d}" for n in range(40)]
TYPES = ("detention_at_rally", "preventive_detention", "interrogation", "symbol_confiscation",
         "criminal_prosecution_online_speech", "torture_ill_treatment")


def populate(engine, settings) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(1000)
    with unit_of_work(engine) as session:
        reviewer = add_user(session, None, "bench-legal", "legal", password="bench-password-2026")
        episodes = [Episode(key=f"ep{n}", title=f"Fictional episode {n}", start_date=date(2022, n + 1, 1),
                            end_date=date(2022, n + 1, 20), known_totals=f"more than {100 + 10 * n} detained")
                    for n in range(6)]
        session.add_all(episodes)
        for n in range(COMPLAINANTS):
            person = Person(full_name=f"Bench Person {n:04d} Fictionova", city=rng.choice(CITIES), gender="female")
            case = Case(ref=f"BEN-{n:04d}", person=person, received_on=date(2022, 9, 1), stage="approved",
                        episodes=rng.sample(episodes, rng.choice((1, 1, 2))))
            case.incidents = [Incident(types=rng.sample(TYPES, rng.choice((1, 2))),
                                       occurred_on=date(2022, 1, 5) + timedelta(days=rng.randrange(300)),
                                       place=person.city, description="Detained at a peaceful rally.")]
            session.add_all([case, ConsentRecord(case=case, status="verified", publish_name=rng.random() < 0.4,
                                                 share_name_with_government=True)])
            session.flush()
            session.add(Review(case_id=case.id, task_id="bench", decision="approve", bodies=[], reviewer_id=reviewer.id,
                               approval="approve", approver_id=reviewer.id))


def build_and_render(engine) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with unit_of_work(engine) as session:  # a fresh session each time: nothing cached from the last run
        cases = load_cases(session, session.scalars(select(Case.id).where(Case.ref.like("BEN-%"))))
        snapshot = collective_snapshot(
            session, cases, reference="COL-001", title="Bench complaint", body="un_sp", language="en",
            organisation="Bench NGO", appeals_received=1100, narrative={"summary": "Fictional."},
            officials=[{"position": "Head of police"}], grounds_keys=["iccpr_21"], mandate_keys=["assembly"])
        content = filings.render_collective(snapshot)
        session.rollback()
    return time.perf_counter() - started, len(content)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings({"PETITIO_HOME": home, **({"DATABASE_URL": url} if url else {})})
        engine = make_engine(settings.database_url)
        if url:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        initialise(engine, settings)
        crypto.configure(settings)
        populate(engine, settings)
        with unit_of_work(engine) as session:
            assert session.scalar(select(User.id).where(User.username == "bench-legal"))
        times = [build_and_render(engine)[0] for _ in range(RUNS)]
        tracemalloc.start()
        _, size = build_and_render(engine)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        backend = engine.dialect.name
        print(f"collective complaint from the database ({backend}), {COMPLAINANTS} complainants, "
              f"{len(CITIES)} cities, 6 episodes")
        print(f"  snapshot + render, median of {RUNS}: {statistics.median(times):.2f} s (target 5 s); "
              f"runs {', '.join(f'{t:.2f}' for t in times)}")
        print(f"  Python peak memory (tracemalloc): {peak / 2**20:.1f} MiB; document {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
