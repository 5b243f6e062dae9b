"""Server time of the managers' dashboard with 100,000 cases and 300,000 deadlines. Target: under 150 ms.

Builds the rows straight into a fresh database with INSERT ... SELECT over an integer series (generate_series
on PostgreSQL, a recursive CTE on SQLite), so the same deterministic data lands on both: per case a person,
an incident (and its types as rows of case_incident_types), an instance, three deadlines (one open), five
completed inbox rows and, for two cases in three, a ready one; filings for 60% of the cases, responses for a
quarter of those. Then VACUUM ANALYZE (ANALYZE on SQLite) and the timings: ``dashboard.deadline_board``
(median of 20) and ``dashboard.statistics`` (median of 5), each in its own session and transaction as a request
would, after a warm-up. The load average is printed beside the figures: on a busy machine, read them as upper
bounds.

    .venv/bin/python bench/dashboard.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard .venv/bin/python bench/dashboard.py
    BENCH_CASES=20000 ...                          # fewer rows (deadlines are always three per case)
    BENCH_RUNS=1 ...                               # one timed run of each (make test runs it tiny)

The PostgreSQL database must exist (``psql -h 127.0.0.1 -U postgres -c 'create database bench_dashboard'``);
its public schema is dropped and recreated.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from workflow import crypto
from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.roles import CASEWORK
from workflow.schemas.catalogue import BODY_CODES
from workflow.services import dashboard
from workflow.services.install import initialise
from workflow.states import FilingState, ResponseKind, Stage

CASES = int(os.environ.get("BENCH_CASES", "100000"))
BOARD_RUNS, STATISTICS_RUNS = (int(os.environ["BENCH_RUNS"]),) * 2 if os.environ.get("BENCH_RUNS") else (20, 5)
OFFICERS = 20
TARGET_MS = 150.0
CITIES = tuple(f"Fictional City {n:02d}" for n in range(19))
EPISODES = ("rally", "preventive", "symbols", "online")
TYPES = ("detention_at_rally", "preventive_detention", "interrogation", "symbol_confiscation", "search_and_seizure",
         "torture_ill_treatment", "surveillance_threats", "forced_renunciation", "punitive_psychiatry")
STAGES = Stage.codes()
BODIES = BODY_CODES
FILING_STATES = FilingState.codes()
RESPONSE_KINDS = ResponseKind.codes()
ROLES = tuple(str(role) for role in CASEWORK)
LABELS = ("Consent verification due", "Legal review due", "Filing check due", "Response window")


def pick(expr: str, values: tuple[str, ...]) -> str:
    """The value at ``expr`` modulo len(values), as SQL (the values are this file's constants)."""
    assert all("'" not in v for v in values)
    whens = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


class Dialect:
    """The few SQL fragments that differ: the series, date arithmetic and JSON literals."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def series(self) -> str:
        if self.pg:
            return "generate_series(1, :n) AS s(i)"
        return "(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < :n) SELECT i FROM r) AS s"

    def at(self, days: str, minutes: str = "0") -> str:
        """:now plus a number of days and minutes (UTC; SQLite stores it as naive text like SQLAlchemy)."""
        if self.pg:
            return f"(CAST(:now AS timestamptz) + ({days}) * interval '1 day' + ({minutes}) * interval '1 minute')"
        return f"datetime(:now, ({days}) || ' days', ({minutes}) || ' minutes')"

    def day(self, days: str) -> str:
        return f"(CAST(:today AS date) + ({days}))" if self.pg else f"date(:today, ({days}) || ' days')"

    def json(self, expr: str) -> str:
        return f"CAST({expr} AS json)" if self.pg else expr

    def params(self, now: datetime) -> dict[str, object]:
        if self.pg:
            return {"now": now, "today": now.date()}
        return {"now": now.strftime("%Y-%m-%d %H:%M:%S"), "today": now.date().isoformat()}


def deadline_due(sql: Dialect, j: str) -> str:
    # Spread over 30 days past to 90 days ahead: a quarter of the open ones overdue, ~6% due within 7 days.
    return sql.at(f"(({j}) * 37) % 120 - 30", f"({j}) % 1440")


def inserts(sql: Dialect) -> dict[str, tuple[str, int]]:
    """table -> (INSERT ... SELECT over the series s(i), series length). Case i has person i, incident i,
    instance i and, when i % 5 < 3, filing i. Deadlines and tasks are numbered past N: row i belongs to case
    ``owner_case``, so each case has three deadlines and up to six tasks."""
    n = CASES
    owner_case = f"(1 + (i - 1) % {n})"
    has_filing = f"{owner_case} % 5 < 3"
    empty_list = sql.json("'[]'")
    officer = f"(CASE WHEN i % 4 = 0 THEN NULL ELSE 1 + i % {OFFICERS} END)"
    types = (f"'[\"' || {pick('i', TYPES)} || '\"' || "
             f"(CASE WHEN i % 3 = 0 THEN ',\"' || {pick('i / 3 + 1', TYPES)} || '\"' ELSE '' END) || ']'")
    return {
        "users": (f"INSERT INTO users (id, username, full_name, role, locale, active, created_at) "
                  f"SELECT i, 'officer' || i, 'Officer ' || i, {pick('i', ROLES[:2])}, 'en', TRUE, {sql.at('-400')} "
                  f"FROM {sql.series()}", OFFICERS),
        "episodes": (f"INSERT INTO episodes (id, key, title) "
                     f"SELECT i, {pick('i', EPISODES)}, 'Episode ' || i FROM {sql.series()}", len(EPISODES)),
        "persons": (f"INSERT INTO persons (id, full_name, city, created_at) "
                    f"SELECT i, :name, CASE WHEN i % 97 = 0 THEN NULL ELSE {pick('i', CITIES)} END, {sql.at('-400')} "
                    f"FROM {sql.series()}", n),
        "cases": (f"INSERT INTO cases (id, ref, person_id, received_on, stage, urgent, detained_now, "
                  f"assigned_officer_id, created_at, updated_at) "
                  f"SELECT i, 'B-' || i, i, {sql.day('-(i % 700)')}, {pick('i', STAGES)}, i % 10 = 0, i % 20 = 0, "
                  f"{officer}, {sql.at('-(i % 700)')}, {sql.at('-(i % 30)')} FROM {sql.series()}", n),
        "case_episodes": (f"INSERT INTO case_episodes (case_id, episode_id) "
                          f"SELECT i, 1 + i % {len(EPISODES)} FROM {sql.series()} WHERE i % 5 <> 0", n),
        "incidents": (f"INSERT INTO incidents (id, case_id, types, occurred_on, unknown, description) "
                      f"SELECT i, i, {sql.json(types)}, {sql.day('-(i % 900)')}, {empty_list}, :description "
                      f"FROM {sql.series()}", n),
        # The incident's types as the flush hook (models.sync_incident_types) keeps them: a row per case and
        # type; UNION drops a second type equal to the first.
        "case_incident_types": (f"INSERT INTO case_incident_types (incident_type, case_id) "
                                f"SELECT {pick('i', TYPES)}, i FROM {sql.series()} UNION "
                                f"SELECT {pick('i / 3 + 1', TYPES)}, i FROM {sql.series()} WHERE i % 3 = 0", n),
        "process_instances": (f"INSERT INTO process_instances (id, definition_id, case_id, status, state_json, "
                              f"serializer_version, version, created_at, updated_at) "
                              f"SELECT i, (SELECT min(id) FROM process_definitions WHERE process_id = 'case'), i, "
                              f"'running', :state, '1.5', 1, {sql.at('-(i % 700)')}, {sql.at('-(i % 30)')} "
                              f"FROM {sql.series()}", n),
        "filings": (f"INSERT INTO filings (id, case_id, body, language, kind, state, submitted_on, created_at) "
                    f"SELECT i, i, {pick('i / 5', BODIES)}, 'en', 'individual', {pick('i / 30', FILING_STATES)}, "
                    f"CASE WHEN (i / 30) % 9 >= 2 THEN {sql.day('-(i % 400)')} END, {sql.at('-(i % 500)')} "
                    f"FROM {sql.series()} WHERE i % 5 < 3", n),
        "responses": (f"INSERT INTO responses (id, filing_id, kind, received_on, recorded_at) "
                      f"SELECT i, i, {pick('i / 4', RESPONSE_KINDS)}, {sql.day('-(i % 300)')}, {sql.at('-(i % 300)')} "
                      f"FROM {sql.series()} WHERE i % 5 < 3 AND i % 4 = 0", n),
        # Five completed tasks per case (the inbox keeps its history), then a ready one for two cases in
        # three, guarded by the case's open deadline (same lane and due time); one in ten of those assigned.
        "human_tasks": (f"INSERT INTO human_tasks (id, instance_id, case_id, filing_id, bpmn_id, name, lane, due_at, "
                        f"state, created_at, completed_at, completed_by_id, assignee_id) "
                        f"SELECT 't' || i, {owner_case}, {owner_case}, CASE WHEN {has_filing} THEN {owner_case} END, "
                        f"'task', 'Task', {pick(f'({owner_case} + {2 * n}) / 7', ROLES)}, "
                        f"{deadline_due(sql, f'{owner_case} + {2 * n}')}, "
                        f"CASE WHEN i > {5 * n} THEN 'ready' ELSE 'completed' END, {sql.at('-(i % 60)')}, "
                        f"CASE WHEN i <= {5 * n} THEN {sql.at('-(i % 50)')} END, "
                        f"CASE WHEN i <= {5 * n} THEN 1 + i % {OFFICERS} END, "
                        f"CASE WHEN i > {5 * n} AND i % 10 = 1 THEN 1 + i % {OFFICERS} END "
                        f"FROM {sql.series()} WHERE i <= {5 * n} OR {owner_case} % 3 <> 0", 6 * n),
        # Each case's third deadline is its running clock (open); the first two are history (met or missed).
        # The last two belong to the case's filing when it has one.
        "deadlines": (f"INSERT INTO deadlines (id, instance_id, case_id, filing_id, timer_task_id, label, owner_role, "
                      f"source, due_at, state, closed_at) "
                      f"SELECT i, {owner_case}, {owner_case}, "
                      f"CASE WHEN i > {n} AND {has_filing} THEN {owner_case} END, "
                      f"'d' || i, {pick('i', LABELS)}, {pick('i / 7', ROLES)}, 'bpmn_timer', {deadline_due(sql, 'i')}, "
                      f"CASE WHEN i > {2 * n} THEN 'open' WHEN i % 2 = 0 THEN 'met' ELSE 'missed' END, "
                      f"CASE WHEN i <= {2 * n} THEN {deadline_due(sql, 'i')} END "
                      f"FROM {sql.series()}", 3 * n),
    }


def fresh_database(url: str | None, home: Path) -> Engine:
    settings = load_settings({"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {}))
    engine = make_engine(settings.database_url)
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    initialise(engine, settings)  # schema, catalogue, vocabularies, process definitions; configures crypto
    return engine


def build(engine: Engine, now: datetime) -> float:
    sql = Dialect(engine.dialect.name)
    # Every row gets the same ciphertext: only the encrypted columns' type matters here, never their value.
    params = sql.params(now) | {"name": crypto.encrypt("persons.full_name", "Bench Person"),
                                "description": crypto.encrypt("incidents.description", ""),
                                "state": crypto.encrypt("process_instances.state_json", "{}")}
    start = time.perf_counter()
    with engine.begin() as conn:
        for statement, n in inserts(sql).values():
            conn.execute(text(statement), params | {"n": n})
    return time.perf_counter() - start


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        # VACUUM sets the visibility map (what autovacuum gives a live database) so index-only scans work.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def median_ms(engine: Engine, fn: Callable[[Session], object], runs: int) -> float:
    def once() -> float:
        start = time.perf_counter()
        with unit_of_work(engine) as session:  # one request: its own session and transaction
            fn(session)
        return (time.perf_counter() - start) * 1000

    once()  # warm-up: connection, statement compilation, database caches
    return statistics.median(once() for _ in range(runs))


def report(label: str, engine: Engine, now: datetime) -> None:
    board = median_ms(engine, lambda session: dashboard.deadline_board(session, now), BOARD_RUNS)
    stats = median_ms(engine, dashboard.statistics, STATISTICS_RUNS)
    print(f"{label} (load average {os.getloadavg()[0]:.1f})")
    for name, ms in ((f"deadline_board, median of {BOARD_RUNS:<2}", board),
                     (f"statistics,     median of {STATISTICS_RUNS:<2}", stats)):
        verdict = "OK" if ms < TARGET_MS else "OVER TARGET"
        print(f"  {name}: {ms:7.1f} ms   target (PostgreSQL) < {TARGET_MS:.0f} ms   {verdict}")


def main() -> None:
    logging.disable(logging.INFO)
    url = os.environ.get("BENCH_DATABASE_URL")
    now = datetime.now(UTC).replace(microsecond=0)
    home = Path(tempfile.mkdtemp(prefix="petitio-bench-"))  # keys, and the SQLite database
    engine = fresh_database(url, home)
    backend = engine.dialect.name
    seconds = build(engine, now)
    analyze(engine)
    with engine.connect() as conn:
        counts = ", ".join(f"{conn.scalar(text(f'SELECT count(*) FROM {table}')):,} {table}"
                           for table in ("cases", "deadlines", "human_tasks", "filings", "responses"))
    print(f"{backend}: {counts}; built in {seconds:.1f} s"
          + ("" if CASES == 100_000 else f" (BENCH_CASES={CASES}: fewer cases than the issue's 100,000)"))
    with unit_of_work(engine) as session:
        board = dashboard.deadline_board(session, now)
    print(f"board: {board.overdue:,} overdue, {board.due_soon:,} due within 7 days, of {CASES:,} open deadlines")
    report("the schema's indexes", engine, now)
    engine.dispose()
    shutil.rmtree(home)


if __name__ == "__main__":
    main()
