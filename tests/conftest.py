"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from workflow import schema
from workflow.config import Settings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Base, User
from workflow.services.install import initialise
from workflow.services.users import add_user

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
if os.environ.get("CI") and not PG_URL:
    raise pytest.UsageError("CI is set but TEST_DATABASE_URL is not: PostgreSQL tests would be skipped")


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
        settings = load_settings({"PETITIO_HOME": str(home)})
        engine = make_engine(settings.database_url)
    else:
        settings = load_settings({"PETITIO_HOME": str(home), "DATABASE_URL": PG_URL or ""})
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
            add_user(session, None, username, role, full_name=username.title(), password="correct horse battery")
    return STAFF
