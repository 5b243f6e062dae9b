"""HTTP load on the loopback: p50/p99 latency and throughput of the case list, a case page and a task completion
at 1, 4, 16 and 32 concurrent clients, with 100,000 cases. Target: p99 under 300 ms at 16 clients.

The data: bench/dashboard.py's 100,000 cases built straight into a fresh database (its builder, imported), then
real cases opened through the services as intake would (open_case with both documents, each waiting at
verify_consent) — one per task completion to measure, so every POST completes a task that is really ready.
Then ``petitio serve`` as a subprocess on a free port against that PETITIO_HOME (PETITIO_WEB_WORKERS and
PETITIO_WEB_THREADS pass through, so the bench drives whichever server ``serve`` runs), and one client thread per
concurrent user: each an intake officer signed in through the real form (CSRF, password; intake needs no second
factor), with its own ``http.client`` connection (``petitio serve`` closes it after each answer; the next request
opens a new one, inside the time measured). What is measured:

    GET  /cases            the case list, first page (100,000 cases match; it counts up to 10,000: "more than")
    GET  /cases/<ref>      a real case's page, its verify_consent form included
    POST /tasks/<id>       verify_consent completed from that form (the answer is a 303 to the case page)

Bounded: BENCH_N requests per request and level (shared out among that level's clients), one request in flight
per client, a timeout per request, and at most BENCH_SECONDS per request and level. A 4xx or a connection error
counts as an error and is printed; any 5xx fails the bench (exit status 1). Each run's figures go to
bench/results/http-<backend>.json (only at the full 100,000 cases, or to BENCH_RESULTS); the previous run's are
printed beside the new ones with the change.

    .venv/bin/python bench/http_load.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_http .venv/bin/python bench/http_load.py
    BENCH_CASES=20000 BENCH_N=100 ...         # fewer cases, fewer requests per level
    PETITIO_WEB_WORKERS=2 PETITIO_WEB_THREADS=8 ...   # the server's processes and threads, if it has them

The PostgreSQL database must exist; its public schema is dropped and recreated.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from dashboard import CASES, analyze, build, fresh_database
from journey_stage import clean_environ, serving
from sqlalchemy import Engine, func, select, text

from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Base, Case, HumanTask
from workflow.schemas.appeal import Appeal
from workflow.services.cases import open_case
from workflow.services.episodes import upsert_episode
from workflow.services.users import add_user

N = int(os.environ.get("BENCH_N", "200"))
LEVELS = tuple(int(n) for n in os.environ.get("BENCH_LEVELS", "1,4,16,32").split(","))
# More clients than requests per level would sit idle (and each costs a sign-in): the tiny run signs in BENCH_N.
CLIENTS = min(max(LEVELS), N)
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))  # per request and level
TIMEOUT = 30.0  # per request
TARGET_MS, TARGET_LEVEL = 300.0, 16
PASSWORD = "bench-load-passphrase-2026"
PDF = b"%PDF-1.4\n%bench\n%%EOF\n"
VERIFIED = {"form_of_appeal_verified": "true", "power_of_attorney_verified": "true"}
RESULTS = Path(__file__).resolve().parent / "results"
REQUESTS = ("case list", "case page", "complete task")
SHOWN_ERRORS = 5  # per request and level: the first few are printed, all are counted


class Client:
    """One signed-in person: a connection (kept while the server keeps it), the session cookie and the CSRF token."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        self.cookie = ""
        self.csrf = ""

    def request(self, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                return answer.status, answer.read(), answer
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection before this request reached it: open a new one.
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def keep_cookie(self, answer: http.client.HTTPResponse) -> None:
        for header in answer.headers.get_all("Set-Cookie") or ():
            if header.startswith("petitio_session="):
                self.cookie = header.split(";", 1)[0]

    def sign_in(self, username: str) -> None:
        """The real sign-in form. The cookie it ends with is kept for the whole run: later answers only add
        flash messages to it (nobody reads them here) and renew its expiry (the run is shorter)."""
        status, page, answer = self.request("GET", "/login")
        self.keep_cookie(answer)
        status, _, answer = self.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                            "csrf_token": csrf_of(page)})
        if status != 302 or answer.headers["Location"].startswith("/login"):
            raise RuntimeError(f"{username} could not sign in: {status} {answer.headers.get('Location')}")
        self.keep_cookie(answer)
        status, page, answer = self.request("GET", "/cases")
        if status != 200:
            raise RuntimeError(f"the case list answered {status} to {username}")
        self.keep_cookie(answer)  # the sign-in started a new session: its CSRF token is set with this page
        self.csrf = csrf_of(page)


def csrf_of(page: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).decode()


@dataclass
class Level:
    """One request at one level of concurrency: every latency (seconds) and every error."""

    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_errors: int = 0
    wall: float = 0.0

    def figures(self) -> dict[str, float]:
        ms = sorted(s * 1000 for s in self.seconds)

        def rank(p: float) -> float:  # nearest rank
            return ms[max(math.ceil(p * len(ms)) - 1, 0)] if ms else math.nan

        return {"p50_ms": round(rank(0.50), 1), "p99_ms": round(rank(0.99), 1),
                "req_per_s": round(len(ms) / self.wall, 1) if self.wall else 0.0,
                "requests": len(ms), "errors": len(self.errors)}


Request = Callable[[Client, int], tuple[str, str, dict[str, str] | None, int]]


def run_level(clients: list[Client], request: Request) -> Level:
    """N requests shared out among the clients, one in flight per client, until N are sent or SECONDS pass."""
    level, lock, next_index = Level(), threading.Lock(), iter(range(N))
    stop_at = time.monotonic() + SECONDS

    def work(client: Client) -> None:
        while time.monotonic() < stop_at:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            method, path, form, expected = request(client, i)
            start = time.perf_counter()
            try:
                status, _, _ = client.request(method, path, form)
            except (OSError, http.client.HTTPException) as err:  # timeouts included
                client.connection.close()  # its answer may still come: the next request needs a new connection
                status, problem = 0, f"{type(err).__name__}: {err}"
            else:
                problem = "" if status == expected else f"answered {status}, not {expected}"
            elapsed = time.perf_counter() - start
            with lock:
                level.seconds.append(elapsed)
                if problem:
                    level.errors.append(f"{method} {path}: {problem}")
                    level.server_errors += status >= 500

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    level.wall = time.perf_counter() - start
    return level


def requests_for(refs: list[str], task_ids: list[str], used: list[int]) -> dict[str, Request]:
    def case_list(client: Client, i: int) -> tuple[str, str, None, int]:
        return "GET", "/cases", None, 200

    def case_page(client: Client, i: int) -> tuple[str, str, None, int]:
        return "GET", f"/cases/{refs[i % len(refs)]}", None, 200

    def complete(client: Client, i: int) -> tuple[str, str, dict[str, str], int]:
        with lock:  # each POST completes its own ready task, never one an earlier level completed
            task_id = task_ids[used[0]]
            used[0] += 1
        return "POST", f"/tasks/{task_id}", VERIFIED | {"csrf_token": client.csrf}, 303

    lock = threading.Lock()
    return dict(zip(REQUESTS, (case_list, case_page, complete), strict=True))


def prepare(url: str | None, home: Path, real: int) -> tuple[Engine, list[str], list[str]]:
    """The bulk cases, then ``real`` cases opened through the services, and one intake user per client."""
    engine = fresh_database(url, home)
    build(engine, datetime.now(UTC).replace(microsecond=0))
    if engine.dialect.name == "postgresql":
        # The bulk rows carry their ids; the sequences must start after them for the services' own inserts.
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is not False and table.c.id.type.python_type is int:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"coalesce(max(id), 0) + 1, false) FROM {table.name}"))
    settings = load_settings({"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {}))
    refs = [f"H-{i:05d}" for i in range(1, real + 1)]
    with unit_of_work(engine) as session:
        for n in range(1, CLIENTS + 1):
            add_user(session, None, f"bench{n:02d}", "intake", full_name=f"Bench Officer {n}", password=PASSWORD)
        upsert_episode(session, None, "bench", "Bench episode", date(2022, 1, 1), None)
    for ref in refs:
        with unit_of_work(engine) as session:  # one intake form each, as the pages would open them
            appeal = Appeal(ref=ref, full_name="Bench Person", city="Almaty", episodes=("bench",),
                            incident_types=("interrogation",), incident_date=date(2022, 1, 2), description="x",
                            form_of_appeal="a.pdf", power_of_attorney="b.pdf", consent_publish_name=False,
                            received_on=date(2022, 2, 1))
            open_case(session, settings, None, appeal, {"form_of_appeal": (PDF, "a.pdf"),
                                                        "power_of_attorney": (PDF, "b.pdf")}, imported=True)
    analyze(engine)
    with unit_of_work(engine) as session:
        task_ids = list(session.scalars(
            select(HumanTask.id).join(Case, HumanTask.case_id == Case.id)
            .where(Case.ref.in_(refs), HumanTask.state == "ready", HumanTask.bpmn_id == "verify_consent")
            .order_by(Case.ref)))
    if len(task_ids) != real:
        raise RuntimeError(f"{len(task_ids)} of {real} real cases wait at verify_consent")
    return engine, refs, task_ids


def previous_figures(path: Path) -> dict[str, dict[str, dict[str, float]]]:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        print(f"previous run: {stored['at']}, {stored['cases']:,} cases, {stored['requests_per_level']} requests "
              f"per level, load average {stored['load_average']}")
        return stored["figures"]
    except (OSError, ValueError, KeyError):
        return {}


def beside(new: float, old: float | None) -> str:
    if old is None or math.isnan(new):
        return f"{new:8.1f}" + " " * 18
    return f"{new:8.1f} (was {old:7.1f}, {new - old:+7.1f})"


def report(backend: str, figures: dict[str, dict[str, dict[str, float]]],
           before: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f"{backend}: figures (previous run's beside them)")
    print(f"  {'request':<14} {'clients':>7}  {'p50 ms':<34} {'p99 ms':<34} {'req/s':<34} errors")
    for name in REQUESTS:
        for clients, now in figures[name].items():
            old = before.get(name, {}).get(clients, {})
            print(f"  {name:<14} {clients:>7}  {beside(now['p50_ms'], old.get('p50_ms')):<34} "
                  f"{beside(now['p99_ms'], old.get('p99_ms')):<34} "
                  f"{beside(now['req_per_s'], old.get('req_per_s')):<34} {now['errors']}")
    for name in REQUESTS:
        at_target = figures[name].get(str(TARGET_LEVEL))
        if at_target:
            verdict = "OK" if at_target["p99_ms"] < TARGET_MS else "OVER TARGET"
            print(f"  {name}: p99 at {TARGET_LEVEL} clients {at_target['p99_ms']:.1f} ms   "
                  f"target < {TARGET_MS:.0f} ms   {verdict}")


def main() -> int:
    logging.disable(logging.INFO)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows while it runs
    url = os.environ.get("BENCH_DATABASE_URL")
    home = Path(tempfile.mkdtemp(prefix="petitio-bench-"))
    real = N * len(LEVELS)  # one ready task per completion
    start = time.perf_counter()
    engine, refs, task_ids = prepare(url, home, real)
    backend = engine.dialect.name
    with engine.connect() as conn:
        total = conn.scalar(text("SELECT count(*) FROM cases"))
    engine.dispose()
    print(f"{backend}: {total:,} cases ({real} opened through the services); built in "
          f"{time.perf_counter() - start:.1f} s" + ("" if CASES == 100_000 else f" (BENCH_CASES={CASES})"))
    web = {k: os.environ[k] for k in ("PETITIO_WEB_WORKERS", "PETITIO_WEB_THREADS") if k in os.environ}
    environ = clean_environ(home, **({"DATABASE_URL": url} if url else {}), **web)
    figures: dict[str, dict[str, dict[str, float]]] = {name: {} for name in REQUESTS}
    server_errors = 0
    with serving(home, environ) as base:
        where = urlsplit(base)
        clients = [Client(str(where.hostname), int(where.port or 80)) for _ in range(CLIENTS)]
        for n, client in enumerate(clients, start=1):
            client.sign_in(f"bench{n:02d}")
        for n, client in enumerate(clients):  # warm-up, not timed: templates compiled, caches and pools filled
            client.request("GET", f"/cases/{refs[n % len(refs)]}")
        used = [0]
        requests = requests_for(refs, task_ids, used)
        print(f"load average {os.getloadavg()[0]:.1f}; {N} requests per request and level; server {web or 'defaults'}")
        for clients_now in LEVELS:
            for name in REQUESTS:
                level = run_level(clients[:clients_now], requests[name])
                figures[name][str(clients_now)] = level.figures()
                server_errors += level.server_errors
                for error in level.errors[:SHOWN_ERRORS]:
                    print(f"  error ({name}, {clients_now} clients): {error}")
        for client in clients:
            client.connection.close()
    print(f"load average {os.getloadavg()[0]:.1f} after the run")
    engine = fresh_engine(url, home)
    with unit_of_work(engine) as session:
        done = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.id.in_(task_ids[:used[0]]), HumanTask.state == "completed"))
    engine.dispose()
    print(f"tasks completed through HTTP: {done} of {used[0]} posted")
    results = Path(os.environ.get("BENCH_RESULTS") or RESULTS / f"http-{backend}.json")
    report(backend, figures, previous_figures(results))
    if CASES == 100_000 or os.environ.get("BENCH_RESULTS"):
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps({"cases": total, "requests_per_level": N, "at": datetime.now(UTC).isoformat(
            timespec="seconds"), "load_average": round(os.getloadavg()[0], 1), "server": web, "figures": figures},
            indent=1) + "\n", encoding="utf-8")
        print(f"stored in {results}")
    if server_errors:
        print(f"FAILED: {server_errors} answers were 5xx (a 5xx is always a bug); the server's log: "
              f"{home / 'serve.log'}")
        return 1
    shutil.rmtree(home)
    return 0


def fresh_engine(url: str | None, home: Path) -> Engine:
    return make_engine(load_settings({"PETITIO_HOME": str(home)} | ({"DATABASE_URL": url} if url else {}))
                       .database_url)


if __name__ == "__main__":
    sys.exit(main())
