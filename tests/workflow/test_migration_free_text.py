"""The migration that encrypts every free text (e41a7c3d5b92) on an installation with rows, SQLite and PostgreSQL:
rows written at the previous head read back unchanged through the models, the raw columns hold ciphertext
only, nothing that referred to the converted tables was lost, and a downgrade gives the plain values back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tests.conftest import BACKENDS, PG_URL
from workflow import crypto, schema
from workflow.config import load_settings
from workflow.db import make_engine
from workflow.models import (
    CollectiveComplaint,
    ConsentRecord,
    Document,
    Filing,
    HumanTask,
    Incident,
    LegalFacts,
    Person,
    ProcessInstance,
    Response,
    Review,
)

BEFORE = "8bd7ed95f046"
NOW = datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None)
STATE = '{"data":{"notes":"Fictional note about Ulfrida Gnarlwick"},"tasks":{}}'
NARRATIVE = {"summary": "Fictional riverkeepers detained"}
OFFICIALS = [{"position": "Fictional colonel", "agency": "Police", "name": "Hortensio Vexbarrow", "role": ""}]
CHECKS = [{"body": "un_hrc", "rule": "same_matter", "level": "error", "params": {"procedure": "Fictional commission"}}]
# model attribute -> the value written in the clear before the migration
EXPECTED: dict[Any, Any] = {
    Person.occupation: "Fictional yarnspinner", Person.organisation: "Fictional river friends",
    Incident.place: "Fictional square", Incident.description: "Fictional beating at the bakery",
    ConsentRecord.risk_note: "Fictional grey sedan", ConsentRecord.withdrawal_reason: None,
    Review.notes: "Fictional witness notes", Review.approval_notes: "", Review.checks: CHECKS,
    LegalFacts.remedies_summary: "Fictional appeal dismissed", LegalFacts.other_procedure_name: "Fictional commission",
    CollectiveComplaint.title: "Fictional persecution", CollectiveComplaint.narrative: NARRATIVE,
    CollectiveComplaint.officials: OFFICIALS, Document.filename: "Vexbarrow_Hortensio_statement.pdf",
    Response.reference: "FICT-REF-1", Response.summary: "Fictional request for information",
    Filing.external_reference: "FICT-EXT-2", ProcessInstance.state_json: STATE,
    ProcessInstance.last_error: "Fictional failure quoting Gnarlwick",
}


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    home = tmp_path / "home"
    overrides = {"PETITIO_HOME": str(home)}
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


def _filler(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return date(2025, 1, 1)
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.JSON):
        return []
    return "x"


def _insert(conn: sa.Connection, meta: sa.MetaData, table: str, **values: Any) -> None:
    """One row with ``values``; every other NOT NULL column without a default gets a harmless filler."""
    reflected = meta.tables[table]
    for column in reflected.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and column.name == "id":
            continue
        values[column.name] = _filler(column)
    conn.execute(sa.insert(reflected).values(**values))


def _rows_at_previous_head(engine: Engine) -> None:
    plain = {attr.class_.__tablename__ + "." + attr.key: value for attr, value in EXPECTED.items()}

    def of(table: str) -> dict[str, Any]:
        return {k.split(".", 1)[1]: v for k, v in plain.items() if k.startswith(table + ".")}

    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        _insert(conn, meta, "users", id=1, username="fict-legal", role="legal", active=True)
        _insert(conn, meta, "persons", id=1, full_name=crypto.encrypt("persons.full_name", "Fictional Person"),
                **of("persons"))
        _insert(conn, meta, "cases", id=1, ref="MIG-1", person_id=1, unknown_facts=[], import_marks={})
        _insert(conn, meta, "incidents", id=1, case_id=1, types=[], unknown=[], **of("incidents"))
        _insert(conn, meta, "perpetrators", id=1, case_id=1, agency="police", unknown=[])
        _insert(conn, meta, "incident_perpetrators", incident_id=1, perpetrator_id=1)
        _insert(conn, meta, "consent_records", id=1, case_id=1, body_overrides={}, **of("consent_records"))
        _insert(conn, meta, "legal_facts", id=1, case_id=1, **of("legal_facts"))
        _insert(conn, meta, "reviews", id=1, case_id=1, task_id="t", decision="approve", reviewer_id=1,
                bodies=[], mandates=[], grounds=[], wgad_categories=[], languages={}, **of("reviews"))
        _insert(conn, meta, "process_definitions", id=1, process_id="case", version=1, sha256="0" * 64,
                sources={}, spec_json="{}")
        _insert(conn, meta, "process_instances", id=1, definition_id=1, case_id=1, status="running",
                serializer_version="1.5", version=1, **of("process_instances"))
        _insert(conn, meta, "human_tasks", id="task-1", instance_id=1, case_id=1, bpmn_id="legal_review",
                name="Legal review", state="ready")
        _insert(conn, meta, "deadlines", id=1, instance_id=1, case_id=1, label="Review", due_at=NOW, state="open")
        _insert(conn, meta, "collective_complaints", id=1, body="un_sp", language="en", mandates=[], grounds=[],
                instance_id=1, appeals_received=0, **of("collective_complaints"))
        _insert(conn, meta, "collective_cases", collective_id=1, case_id=1)
        _insert(conn, meta, "filings", id=1, case_id=1, body="un_sp", **of("filings"))
        _insert(conn, meta, "documents", id=1, case_id=1, kind="form_of_appeal", media_type="application/pdf",
                size=1, sha256="0" * 64, storage_key="k" * 64, **of("documents"))
        _insert(conn, meta, "responses", id=1, filing_id=1, kind="acknowledgement", document_id=1,
                **of("responses"))


def test_the_migration_encrypts_existing_free_texts_and_keeps_every_row(engine: Engine) -> None:
    _migrate(engine, BEFORE)
    _rows_at_previous_head(engine)
    _migrate(engine, "head")

    with Session(engine) as session:
        for attr, value in EXPECTED.items():
            assert session.scalar(select(attr)) == value, attr
        # Nothing that referred to a converted table went with it (a recreated SQLite table would cascade).
        assert session.get(HumanTask, "task-1") is not None
        assert session.scalar(select(sa.func.count()).select_from(sa.table("incident_perpetrators"))) == 1
        assert session.scalar(select(sa.func.count()).select_from(sa.table("collective_cases"))) == 1
        assert session.scalar(select(sa.func.count()).select_from(sa.table("deadlines"))) == 1
    with engine.connect() as conn:
        for attr, value in EXPECTED.items():
            raw = conn.execute(text(f"SELECT {attr.key} FROM {attr.class_.__tablename__}")).scalar_one()
            assert raw is None if value is None else bytes(raw).startswith(b"PTO1"), attr

    _migrate(engine, BEFORE, down=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT description FROM incidents")).scalar_one() == EXPECTED[Incident.description]
        assert conn.execute(text("SELECT filename FROM documents")).scalar_one() == EXPECTED[Document.filename]
        assert conn.execute(text("SELECT state_json FROM process_instances")).scalar_one() == STATE
        officials = conn.execute(sa.select(sa.column("officials", sa.JSON())).select_from(
            sa.table("collective_complaints"))).scalar_one()
        assert officials == OFFICIALS
    _migrate(engine, "head")
