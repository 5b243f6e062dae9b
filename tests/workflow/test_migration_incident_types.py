"""The migration that adds ``case_incident_types`` (3b8d5f2e6a41), SQLite and PostgreSQL: incidents written at the
previous head give the same rows the flush hook writes (a row per case and type, a repeated type once, a case
without types none), and the statistics read the same counts as the JSON lists; a downgrade drops the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, text

from tests.conftest import BACKENDS, PG_URL
from workflow import crypto, schema
from workflow.config import load_settings
from workflow.db import make_engine
from workflow.models import case_incident_types

BEFORE = "7c3e9a1f5b20"
AFTER = "3b8d5f2e6a41"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    overrides = {"PETITIO_HOME": str(tmp_path / "home")}
    if request.param == "postgresql":
        overrides["DATABASE_URL"] = PG_URL or ""
    settings = load_settings(overrides)
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    if request.param == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield engine
    if request.param == "postgresql":
        schema.upgrade(engine)  # the other PostgreSQL tests share this database at the head revision
    engine.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = schema.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _rows(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(case_incident_types.c.incident_type, case_incident_types.c.case_id)))


def test_the_backfill_writes_a_row_per_case_and_type(engine):
    _migrate(engine, BEFORE)
    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        persons, cases, incidents = meta.tables["persons"], meta.tables["cases"], meta.tables["incidents"]
        for n in (1, 2, 3):
            conn.execute(persons.insert().values(id=n, full_name=crypto.encrypt("persons.full_name", "Fictional"),
                                                 created_at=sa.func.current_timestamp()))
            conn.execute(cases.insert().values(id=n, ref=f"MIG-{n}", person_id=n, stage="intake", urgent=False,
                                               detained_now=False, unknown_facts=[], import_marks={},
                                               created_at=sa.func.current_timestamp(),
                                               updated_at=sa.func.current_timestamp()))
        for n, case_id, types in ((1, 1, ["interrogation", "detention_at_rally"]), (2, 1, ["interrogation"]),
                                  (3, 2, ["symbol_confiscation"]), (4, 3, [])):
            conn.execute(incidents.insert().values(id=n, case_id=case_id, types=types, unknown=[],
                                                   description=crypto.encrypt("incidents.description", "")))
    _migrate(engine, AFTER)
    assert _rows(engine) == [("detention_at_rally", 1), ("interrogation", 1), ("symbol_confiscation", 2)]

    _migrate(engine, BEFORE, down=True)
    with engine.connect() as conn:
        assert "case_incident_types" not in sa.inspect(conn).get_table_names()
    _migrate(engine, AFTER)
    assert len(_rows(engine)) == 3
