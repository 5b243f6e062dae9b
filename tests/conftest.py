"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

TEST_BACKENDS (comma-separated: sqlite, postgresql) picks a part of the run, so that CI can run two halves
side by side: ``postgresql`` alone keeps only the tests parametrized with PostgreSQL; ``sqlite`` alone keeps
everything else (the tests that need no database, the browser and CLI tests, the SQLite parametrizations).
The tests left out are reported as deselected. Unset, it is both when TEST_DATABASE_URL is set, else SQLite.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Before any workflow module is imported: passwords are hashed at argon2's cheapest cost in this process and in
# every server, worker and CLI the tests start (they inherit the environment). The standard cost is 0.15 s and
# 64 MiB a hash: over a thousand tests each creating seven accounts and signing in spent a third of the run on it.
# tests/web/test_passwords.py checks the standard cost in a process without this, and the re-hash at sign-in.
os.environ.setdefault("PETITIO_PASSWORD_COST", "test")

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from tests import bpmn_coverage, log_watch
from tests.second_factor import TOTP_SECRET
from workflow import schema
from workflow.config import Settings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Base, User
from workflow.roles import second_factor_required
from workflow.services import two_factor
from workflow.services.install import initialise
from workflow.services.users import add_user

PG_URL = os.environ.get("TEST_DATABASE_URL")
# "database": every test instance keeps its documents in the document_blobs table (default: the filesystem).
DOCUMENT_STORAGE = os.environ.get("TEST_DOCUMENT_STORAGE", "filesystem")
_SESSION_LOG = pytest.StashKey[log_watch.SessionLog]()
_BPMN_REACHED = pytest.StashKey[bpmn_coverage.Recorder]()


def pytest_configure(config: pytest.Config) -> None:
    """Every log record of the run, at DEBUG, to a file scanned at the end (tests/log_watch.py); every flow node
    a process reaches, recorded at each save of an instance (tests/bpmn_coverage.py)."""
    config.stash[_SESSION_LOG] = log_watch.SessionLog()
    recorder = config.stash[_BPMN_REACHED] = bpmn_coverage.Recorder()
    recorder.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a whole run when a flow node of a shipped BPMN file was reached by no test, naming the nodes; fail
    any run when a log line holds an identity, a note, a password or a token, printing the line."""
    recorder = session.config.stash.get(_BPMN_REACHED, None)
    if recorder is not None:
        bpmn_coverage.report(session, recorder, BACKENDS)
    watch = session.config.stash.get(_SESSION_LOG, None)
    if watch is None:
        return
    found = watch.close()
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            reporter.write_sep("=", f"secrets in the logs of this run ({watch.path})", red=True)
            for line in found[:20]:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
KNOWN_BACKENDS = ("sqlite", "postgresql")


def _selected_backends(value: str) -> list[str]:
    if not value.strip():
        return ["sqlite"] + (["postgresql"] if PG_URL else [])
    names = {name.strip() for name in value.split(",") if name.strip()}
    if unknown := sorted(names - set(KNOWN_BACKENDS)):
        raise pytest.UsageError(f"TEST_BACKENDS: unknown backend(s) {', '.join(unknown)} "
                                f"(known: {', '.join(KNOWN_BACKENDS)})")
    return [backend for backend in KNOWN_BACKENDS if backend in names]


BACKENDS = _selected_backends(os.environ.get("TEST_BACKENDS", ""))
if "postgresql" in BACKENDS and not PG_URL:
    raise pytest.UsageError("TEST_BACKENDS names postgresql but TEST_DATABASE_URL is not set")
if os.environ.get("CI") and not PG_URL and not os.environ.get("TEST_BACKENDS", "").strip():
    raise pytest.UsageError("CI is set but TEST_DATABASE_URL is not: PostgreSQL tests would be skipped")


def _backends_of(item: pytest.Item) -> set[str]:
    """The backends an item is parametrized with (``env``, ``cli_env`` or any other backend fixture)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return set()
    return {value for value in callspec.params.values() if isinstance(value, str) and value in KNOWN_BACKENDS}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the selected backends' part of the run: a test without a backend belongs to the SQLite part."""
    selected = set(BACKENDS)
    if selected == set(KNOWN_BACKENDS):
        return
    kept, deselected = [], []
    for item in items:
        (kept if (_backends_of(item) or {"sqlite"}) <= selected else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@dataclass
class Env:
    settings: Settings
    engine: Engine
    backend: str

    @contextmanager
    def uow(self) -> Iterator[Session]:
        with unit_of_work(self.engine) as session:
            yield session

    def user(self, session: Session, username: str) -> User:
        from workflow.services.users import get_user

        return get_user(session, username)


_TEMPLATES: dict[str, Path] = {}
_PG_ENGINE: dict[str, Engine] = {}


def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "sqlite" not in _TEMPLATES:
        home = tmp_path_factory.mktemp("template")
        settings = load_settings({"PETITIO_HOME": str(home)})
        engine = make_engine(settings.database_url)
        initialise(engine, settings)
        engine.dispose()
        _TEMPLATES["sqlite"] = Path(settings.database_url.removeprefix("sqlite:///"))
    return _TEMPLATES["sqlite"]


def _pg_engine() -> Engine:
    if "pg" not in _PG_ENGINE:
        engine = make_engine(PG_URL)  # type: ignore[arg-type]
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        schema.upgrade(engine)
        _PG_ENGINE["pg"] = engine
    return _PG_ENGINE["pg"]


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "sqlite":
        db_file = home / "petitio.sqlite3"
        shutil.copy(_sqlite_template(tmp_path_factory), db_file)
        settings = load_settings({"PETITIO_HOME": str(home), "PETITIO_DOCUMENT_STORAGE": DOCUMENT_STORAGE})
        engine = make_engine(settings.database_url)
    else:
        settings = load_settings({"PETITIO_HOME": str(home), "DATABASE_URL": PG_URL or "",
                                  "PETITIO_DOCUMENT_STORAGE": DOCUMENT_STORAGE})
        engine = _pg_engine()
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    initialise(engine, settings)
    yield Env(settings, engine, request.param)
    if request.param == "sqlite":
        engine.dispose()


STAFF = {
    "ina": "intake",
    "ivan": "intake",
    "lena": "legal",
    "leo": "legal",
    "mara": "manager",
    "max": "manager",
    "ada": "admin",
}


@pytest.fixture
def staff(env: Env) -> dict[str, str]:
    with env.uow() as session:
        for username, role in STAFF.items():
            user = add_user(session, None, username, role, full_name=username.title(),
                            password="correct horse battery")
            if second_factor_required(role):  # their app holds tests/second_factor.py TOTP_SECRET
                two_factor.enrol_known_secret(session, None, user, TOTP_SECRET)
    return STAFF


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """`make` compiles the catalogs; a bare `pytest` run gets the same from here (digests and feeds translate too).

    Written to a temporary file and renamed, so that two halves of a run started side by side never read half a file.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from workflow.i18n import CATALOGS

    for po in Path(CATALOGS).glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            partial = mo.with_suffix(f".{os.getpid()}.tmp")
            with po.open("rb") as source, partial.open("wb") as target:
                write_mo(target, read_po(source))
            partial.replace(mo)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent while the fixture is active, on any engine."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)
