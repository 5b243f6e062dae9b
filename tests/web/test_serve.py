"""`petitio serve` as production runs it (issue 16): gunicorn's master and workers with threads, as a subprocess.

Signed-in pages answer from every worker (they share the session key and read the sessions from the database),
the access log goes through the request-log redaction, SIGTERM stops the server cleanly, a port in use is refused
before anything starts, and `--dev` still runs werkzeug's server.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import children_of
from tests.workflow.test_cli import (  # noqa: F401  (_pg_schema_restored: a fixture)
    BACKENDS,
    PASSWORD,
    PETITIO,
    Cli,
    _free_port,
    _make_cli,
    _pg_schema_restored,
    _reset_pg_schema,
    one_line_error,
)
from workflow.config import load_settings, web_defaults
from workflow.models import AuditEvent

START_WITHIN_S = 60  # gunicorn's master and workers import the app on a busy machine


@pytest.fixture(params=BACKENDS)
def any_cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """A fresh installation on SQLite, or on an empty PostgreSQL schema when TEST_DATABASE_URL names one."""
    if request.param == "postgresql":
        request.getfixturevalue("_pg_schema_restored")
        _reset_pg_schema()
    return _make_cli(tmp_path, request.param)


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return _make_cli(tmp_path, "sqlite")


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.base = f"http://127.0.0.1:{port}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def booted(self, count: int, timeout: float = 30) -> set[int]:
        """The workers, once ``count`` are running: the master forks them one after another, and the first may
        answer before the last is forked (a busy machine)."""
        deadline = time.monotonic() + timeout
        while len(found := self.workers()) < count and time.monotonic() < deadline:
            time.sleep(0.1)  # another process forking: no clock of ours to move
        return found

    def workers(self) -> set[int]:
        """The master's children (gunicorn's workers)."""
        return children_of(self.process.pid)


@contextmanager
def serving(cli: Cli, *args: str) -> Iterator[Served]:
    port, log = _free_port(), cli.work / "serve.log"
    with log.open("ab") as sink:
        process = subprocess.Popen([str(PETITIO), "serve", "--port", str(port), *args], stdin=subprocess.DEVNULL,
                                   stdout=sink, stderr=subprocess.STDOUT, env=cli.environ, cwd=cli.work)
    served = Served(process, port, log)
    try:
        deadline = time.monotonic() + START_WITHIN_S
        while True:
            assert process.poll() is None, f"serve exited {process.returncode}:\n{served.text()}"
            assert time.monotonic() < deadline, f"no answer in {START_WITHIN_S} s:\n{served.text()}"
            try:
                with Browser(served.base).open("/api/v1/health") as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class Browser:
    """Cookies as a browser keeps them for http://127.0.0.1 (a secure context: the session cookie is Secure)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(secure_protocols=("http", "https")))
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(jar))

    def open(self, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        return self.opener.open(self.base + path, data=body, timeout=30)

    def page(self, path: str) -> tuple[int, str, str]:
        """Status, the final path (after redirects) and the body."""
        with self.open(path) as answer:
            return answer.status, urllib.parse.urlsplit(answer.url).path, answer.read().decode()

    def sign_in(self, username: str) -> None:
        _, _, html = self.page("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        assert token, html[:500]
        with self.open("/login", {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}) as answer:
            assert urllib.parse.urlsplit(answer.url).path != "/login", answer.read().decode()[:500]


def _stop(served: Served) -> int:
    served.process.send_signal(signal.SIGTERM)
    return served.process.wait(timeout=60)  # gunicorn's graceful timeout is 30 s


def test_gunicorn_serves_signed_in_pages_from_every_worker_and_stops_on_sigterm(any_cli: Cli) -> None:
    any_cli.seed()
    with serving(any_cli, "--workers", "3", "--threads", "2") as served:
        assert len(served.booted(3)) == 3, served.text()
        anonymous = Browser(served.base)
        status, path, html = anonymous.page("/login")
        assert (status, path) == (200, "/login") and 'name="password"' in html
        browser = Browser(served.base)
        browser.sign_in("ina")
        # Each request on a new connection: the workers take them in turn as they accept. A worker with its own
        # session key, or its own idea of the sessions, would send some of them back to the sign-in page.
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: browser.page("/cases"), range(24)))
        assert {(status, path) for status, path, _ in answers} == {(200, "/cases")}
        assert all("APL-" in html for _, _, html in answers)
        # No connection is kept: every request waits in the one queue that the first free worker takes from.
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        try:
            connection.request("GET", "/login", headers={"Connection": "keep-alive"})
            answer = connection.getresponse()
            assert (answer.status, answer.getheader("Connection")) == (200, "close")
        finally:
            connection.close()
        # Calendar feeds' secrets and search queries never reach the access log (web/logs.py).
        for path in ("/calendar/s3cretfeedtoken.ics", "/search?q=Fictitious+Surname"):
            with contextlib.suppress(urllib.error.HTTPError):  # an unknown feed is 404: its log line matters
                browser.open(path).close()
        workers = served.workers()
        assert _stop(served) == 0, served.text()
    log = served.text()
    assert "Using worker: gthread" in log, log
    assert '"GET /cases HTTP/1.1" 200' in log, log
    assert "/calendar/[redacted].ics" in log and "/search?[redacted]" in log, log
    assert "s3cretfeedtoken" not in log and "Fictitious" not in log, log
    assert "Shutting down" in log and "Traceback" not in log, log
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker outlived its master"


def _db_file(cli: Cli) -> str:
    return cli.settings.database_url.removeprefix("sqlite:///")


def _identity_reads(cli: Cli) -> int:
    with sqlite3.connect(_db_file(cli)) as conn:  # a WAL snapshot: reads even while a writer holds the lock
        return conn.execute(f"SELECT count(*) FROM {AuditEvent.__tablename__} "
                            "WHERE action = 'identity_read'").fetchone()[0]


def test_reads_under_gunicorn_never_wait_for_the_sqlite_writer(sqlite_cli: Cli) -> None:
    """Several workers with threads, each with its own engine: while another process holds SQLite's write lock,
    pages that record what they showed answer, and their audit events are written once the lock is free."""
    sqlite_cli.seed()
    refs = sqlite_cli.refs()[:4]
    with serving(sqlite_cli, "--workers", "2", "--threads", "4") as served:
        browser = Browser(served.base)
        browser.sign_in("ina")
        before = _identity_reads(sqlite_cli)
        writer = sqlite3.connect(_db_file(sqlite_cli), isolation_level=None, timeout=10)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE users SET active = active")  # a real write: the lock is taken
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(lambda ref: browser.page(f"/cases/{ref}"), refs * 2))
            assert [status for status, _, _ in answers] == [200] * 8  # not 500 "database is locked"
            assert _identity_reads(sqlite_cli) == before  # held back while the writer holds the lock
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        deadline = time.monotonic() + 60
        while _identity_reads(sqlite_cli) < before + 8 and time.monotonic() < deadline:
            time.sleep(0.2)  # the workers' background threads retry as the lock comes free
        assert _identity_reads(sqlite_cli) == before + 8, served.text()
        assert _stop(served) == 0
    assert "Traceback" not in served.text() and "locked" not in served.text(), served.text()


def test_a_worker_checkpoints_sqlite_on_a_thread_of_its_own(sqlite_cli: Cli) -> None:
    """The pages' commits leave SQLite's WAL checkpoints to a thread of each worker (workflow/wal_checkpoints.py),
    which runs every second: the database file takes a sign-in's writes long before the log holds the 1,000
    pages after which a commit would have copied them in."""
    sqlite_cli.seed()
    database = Path(_db_file(sqlite_cli))
    with serving(sqlite_cli, "--workers", "1") as served:
        before = database.stat().st_mtime_ns
        Browser(served.base).sign_in("ina")  # a few pages of log: the session, the audit event
        deadline = time.monotonic() + 30
        while database.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker's thread, on its own clock
        assert database.stat().st_mtime_ns != before, served.text()
        assert _stop(served) == 0
    assert "Traceback" not in served.text() and "checkpoint" not in served.text(), served.text()


def test_a_port_in_use_is_refused_before_gunicorn_starts(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = sqlite_cli.run("serve", "--port", str(port))
    assert result.returncode == 1
    assert one_line_error(result) == f"Error: cannot listen on 127.0.0.1:{port}: the address is in use"


def test_bad_worker_counts_are_refused(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    refused = sqlite_cli.run("serve", "--workers", "0")
    assert refused.returncode == 2 and "Invalid value for '--workers'" in refused.stderr, refused.stderr
    sqlite_cli.environ["PETITIO_WEB_THREADS"] = "many"
    assert one_line_error(sqlite_cli.run("serve")) == "Error: PETITIO_WEB_THREADS must be a whole number, not 'many'"


def test_dev_runs_werkzeug_in_one_process(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    with serving(sqlite_cli, "--dev") as served:
        with Browser(served.base).open("/login") as answer:
            assert answer.status == 200
            assert answer.headers["Server"].startswith("Werkzeug/"), answer.headers["Server"]
        assert served.workers() == set()
        _stop(served)
    assert "Booting worker" not in served.text()


def test_gunicorn_refuses_an_oversized_request_line(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    with serving(sqlite_cli, "--workers", "1") as served:
        with pytest.raises(urllib.error.HTTPError) as refused:
            Browser(served.base).open("/login?" + "x" * 5000)
        refused.value.close()
        assert refused.value.code == 414  # URI Too Long, before the app sees it
        with Browser(served.base).open("/login") as answer:
            assert answer.headers["Server"] == "gunicorn", answer.headers["Server"]
        assert _stop(served) == 0



def test_the_settings_read_workers_and_threads_from_the_environment_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("web_workers = 3\nweb_threads = 6\n", encoding="utf-8")
    from_file = load_settings({"PETITIO_HOME": str(tmp_path)})
    assert (from_file.web_workers, from_file.web_threads) == (3, 6)
    from_env = load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_WEB_WORKERS": "5", "PETITIO_WEB_THREADS": "1"})
    assert (from_env.web_workers, from_env.web_threads) == (5, 1)
    for name, value in [("PETITIO_WEB_WORKERS", "0"), ("PETITIO_WEB_WORKERS", "33"), ("PETITIO_WEB_THREADS", "65"),
                        ("PETITIO_WEB_THREADS", "four")]:
        with pytest.raises(ValueError, match=name):
            load_settings({"PETITIO_HOME": str(tmp_path), name: value})


def test_the_default_worker_count_follows_the_database() -> None:
    sqlite_workers, sqlite_threads = web_defaults("sqlite:////srv/petitio/petitio.sqlite3")
    pg_workers, pg_threads = web_defaults("postgresql+psycopg://petitio@db/petitio")
    assert 1 <= sqlite_workers <= 2 and sqlite_threads == 2  # one writer: more processes would only queue for it
    assert sqlite_workers <= pg_workers <= 8 and pg_threads == 1
