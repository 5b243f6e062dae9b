"""Identity fields and documents at rest: someone who copies the database file or the storage folder learns
none of the (fictional) identities or document texts; exact-name search works through the blind index.

No mocks: real cases opened through the services and the CSV importer, then the raw bytes on disk (SQLite)
or the raw column values (PostgreSQL) are searched for every value we put in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import Env
from tests.helpers import PDF, appeal, docx_bytes, ensure_episode
from tests.workflow.fixtures import appeal_rows, ensure_test_episodes, write_documents, write_rows_csv
from workflow import crypto
from workflow.crypto import FieldDecryptionError, normalise_name
from workflow.models import Base, Case, Document, Person
from workflow.runtime.context import document_store
from workflow.services import facts
from workflow.services.cases import find_by_name, open_case
from workflow.services.importer import import_appeals
from workflow.services.users import add_user

# Import columns stored encrypted (persons.nationality/age/activity/situation, arrests.place/forces/legal_provision).
FACT_MARKERS = {"nationality": "Freedonian-Marker", "age": "Age-Marker-77", "activity": "Activity-Marker-Quill",
                "situation": "Situation-Marker-Heron", "arrest_place": "Arrest-Place-Marker-Dune",
                "arrest_forces": "Forces-Marker-Lantern", "legal_provision": "Provision-Marker-Article-999"}
IDENTITY = ("full_name", "full_name_native", "birth_date", "phone", "email", "passport_number", "address")
SENTENCE = "Fictional statement: Officer Zebedee Quarrington-Fakeman struck the complainant at the kiosk."
PDF_SENTENCE = "Fictional medical note: bruising consistent with baton blows, Dr Ottoline Fakeworth."

# The facts for the filings (services/facts.py) that name officials or carry the complainant's account.
FILING_FACTS: dict[str, dict[str, Any]] = {
    "person": {"nationality": "Freedonian-Zembla", "activity": "Runs the Quillfeather monitoring circle",
               "situation": "Summoned by Inspector Vantablack weekly"},
    "perpetrators": {"agency": "police", "unit": "Zorglub special patrol", "position": "Major Fakerank",
                     "name": "Officer Quentin Notreal-Bashir", "actions": "Hit the complainant with a zorblaxe"},
    "arrests": {"place": "Kiosk Plumtree corner", "forces": "Grumbleton riot squad", "warrant_issued_by": "Judge Xylo",
                "reasons_given": "Alleged snorkelling offence", "legal_provision": "Article 9999 of the Zog Code",
                "lawyer_access": "Denied until Flibbertuesday", "family_access": "Mother Ottoline not told",
                "release": "Bail by Quibbleshire court", "duration": "Nineteen fortnights",
                "custody": [{"place": "Wobblecourt holding cells", "authority": "Snarkville police"}]},
    "ill_treatments": {"methods": "Forced to hold the Plonkton stance", "effects": "Fractured wibblebone",
                       "medical_evidence": "Dr Fenwick Imaginary's certificate", "complaints": "To prosecutor Dorkin",
                       "outcome": "Prosecutor Dorkin declined", "duration": "Three Plinkdays"},
    "remedy_steps": {"authority": "Grand Snorlax appellate court", "outcome": "Dismissed by Judge Mumblecrust"},
}


def record_filing_facts(env: Env, ref: str) -> dict[str, object]:
    """The facts above recorded on the case through the services; returns them as needles by name."""
    with env.uow() as session:
        actor = add_user(session, None, "enc-intake", "intake", full_name="Enc Intake", password="horse battery staple")
        case = session.scalar(select(Case).where(Case.ref == ref))
        facts.update_person_facts(session, actor, case, FILING_FACTS["person"])
        for kind in ("perpetrators", "arrests", "ill_treatments", "remedy_steps"):
            facts.add_row(session, actor, case, kind, FILING_FACTS[kind])
    found: dict[str, object] = {}
    for kind, values in FILING_FACTS.items():
        for name, value in values.items():
            if name == "custody":
                found.update({f"{kind}.custody.{k}": v for place in value for k, v in place.items()})
            elif name != "agency":
                found[f"{kind}.{name}"] = value
    return found


PEOPLE: dict[str, dict[str, Any]] = {
    "ENC-001": {
        "full_name": "Zarina Fictionova-Kim",
        "full_name_native": "Зарина Фиктионова-Ким",
        "birth_date": date(1961, 2, 17),
        "phone": "+7 700 555 0143",
        "email": "zarina.fictionova@example.org",
        "passport_number": "N98765432",
        "address": "12 Imaginary Lane, Flat 3",
    },
    "ENC-002": {
        "full_name": "Bolat Madeupov",
        "full_name_native": "Болат Мэйдапов",
        "birth_date": date(1958, 11, 29),
        "phone": "+7 701 555 0199",
        "email": "bolat.madeupov@example.net",
        "passport_number": "ID-4455667788",
        "address": "7 Nowhere Street",
    },
}


@pytest.fixture
def fields(env: Env) -> Iterator[Env]:
    crypto.configure(env.settings)
    yield env


def fictional_pdf(sentence: str) -> bytes:
    return PDF.replace(b"%%EOF", f"% {sentence}\n%%EOF".encode())


def open_person(env: Env, ref: str, values: dict[str, Any], files: dict[str, tuple[bytes, str]] | None = None) -> None:
    identity = {k: v for k, v in values.items() if k != "address"}
    with env.uow() as session:
        ensure_episode(session)
        files = files if files is not None else {"form_of_appeal": (PDF, "foa.pdf")}
        case = open_case(session, env.settings, None, appeal(ref, **identity), files, imported=True)
        case.person.address = values.get("address")


def person(env: Env, ref: str) -> dict[str, Any]:
    with env.uow() as session:
        row = session.scalar(select(Person).join(Case, Case.person_id == Person.id).where(Case.ref == ref))
        return {f: getattr(row, f) for f in IDENTITY}


def needles(value: object) -> list[bytes]:
    """How a value could sit in a file: as text in UTF-8 or UTF-16 (either byte order)."""
    text_value = value.isoformat() if isinstance(value, date) else str(value)
    return [text_value.encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")]


def raw_sqlite_bytes(env: Env) -> dict[str, bytes]:
    env.engine.dispose()
    database = Path(env.settings.database_url.removeprefix("sqlite:///"))
    # Outside SQLAlchemy: the engine opens every transaction with BEGIN IMMEDIATE, and a checkpoint
    # cannot run inside one. Afterwards the WAL is empty, so everything is in the main file.
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    files = [database, *database.parent.glob(database.name + "-*")]
    return {str(p): p.read_bytes() for p in files if p.is_file()}


def raw_postgresql_rows(env: Env) -> dict[str, bytes]:
    """Every row of every table in PostgreSQL's own text form (bytea as hex): what a dump would hold."""
    dumped: dict[str, bytes] = {}
    with env.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f"SELECT t::text FROM {table.name} t")).scalars()
            dumped[table.name] = "\n".join(rows).encode("utf-8")
    return dumped


def raw_storage_bytes(env: Env) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in env.settings.documents_dir.rglob("*") if p.is_file()}


def assert_absent(haystacks: dict[str, bytes], values: dict[str, object]) -> None:
    assert haystacks, "nothing to search"
    for label, value in values.items():
        for needle in needles(value) if not isinstance(value, bytes) else [value]:
            for where, content in haystacks.items():
                assert needle not in content, f"{label} found in the clear in {where}"


# -- at rest -------------------------------------------------------------------------------------------


def test_identities_and_documents_are_unreadable_at_rest(fields: Env, tmp_path: Path) -> None:
    env = fields
    docx = docx_bytes(SENTENCE)
    pdf = fictional_pdf(PDF_SENTENCE)
    assert PDF_SENTENCE.encode() in pdf  # the PDF carries its text uncompressed: a meaningful needle
    open_person(env, "ENC-001", PEOPLE["ENC-001"],
                {"form_of_appeal": (pdf, "medical-note.pdf"), "power_of_attorney": (docx, "statement.docx")})
    open_person(env, "ENC-002", PEOPLE["ENC-002"])
    filing_facts = record_filing_facts(env, "ENC-001")

    # And a batch through the CSV importer, with its fictional documents.
    folder = tmp_path / "import"
    rows = appeal_rows(6, 0)
    for row in rows[:2]:  # the filing facts the import may carry, encrypted like the identity fields
        row.update({column: f"{marker} {row['ref']}" for column, marker in FACT_MARKERS.items()},
                   perpetrator_agencies="police", arrest_date="2022-01-05")
    folder.mkdir(parents=True)
    write_documents(folder, rows)
    path = write_rows_csv(folder / "appeals.csv", rows)
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        report = import_appeals(session, env.settings, None, path, documents_dir=folder / "docs")
    assert report.ok, report.as_json()

    # Everything reads back through the ORM.
    for ref, values in PEOPLE.items():
        assert person(env, ref) == values
    for row in rows:
        got = person(env, row["ref"])
        for column in ("full_name", "full_name_native", "birth_date", "phone", "email"):
            assert got[column] == row[column], column
        assert got["passport_number"] == (row["passport_number"] or None)
    with env.uow() as session:
        for row in rows[:2]:
            case = session.scalar(select(Case).where(Case.ref == row["ref"]))
            arrest = case.arrests[0]
            assert (case.person.nationality, case.person.situation, arrest.place, arrest.legal_provision) == (
                row["nationality"], row["situation"], row["arrest_place"], row["legal_provision"])
    with env.uow() as session:
        stored = {d.filename: document_store(env.settings).get(d.storage_key)
                  for d in session.scalars(select(Document))}
    assert stored["medical-note.pdf"] == pdf and stored["statement.docx"] == docx

    secrets: dict[str, object] = {}
    for ref, values in PEOPLE.items():
        secrets.update({f"{ref}.{k}": v for k, v in values.items()})
    for row in rows:
        secrets.update({f"{row['ref']}.{k}": row[k] for k in ("full_name", "full_name_native", "birth_date",
                                                              "phone", "email", "passport_number") if row[k]})
    for row in rows[:2]:
        secrets.update({f"{row['ref']}.{column}": row[column] for column in FACT_MARKERS})
    secrets.update(filing_facts)
    secrets["pdf text"] = PDF_SENTENCE
    secrets["docx bytes"] = docx[-200:]  # DOCX is a zip: look for its raw bytes rather than its text
    secrets["pdf bytes"] = pdf
    for name in ("foa-APL-001.pdf", "poa-APL-002.pdf"):
        secrets[name] = (folder / "docs" / name).read_bytes()[:120]

    storage = raw_storage_bytes(env)
    assert len(storage) == 2 + 1 + 2 * 6  # ENC-001, ENC-002, six imported appeals
    assert_absent(storage, secrets)
    assert_absent(storage, {"docx text": SENTENCE})
    # Positive control: what is not encrypted (a public episode's title) is found by the same search; the
    # incident description, encrypted since issue 14, is not.
    control = b"Rally in the main square"
    secrets["incident description"] = "Detained at the square during a peaceful rally (ENC-001)"
    if env.backend == "sqlite":
        raw = raw_sqlite_bytes(env)
        assert any(control in content for content in raw.values())
        assert_absent(raw, secrets)
    else:
        dumped = raw_postgresql_rows(env)
        assert any(control in content for content in dumped.values())
        assert_absent(dumped, secrets)
        with env.engine.connect() as conn:
            raw = conn.execute(text("SELECT full_name, phone, birth_date FROM persons")).all()
        for values in raw:
            assert all(isinstance(v, bytes) and v.startswith(b"PTO1") for v in values)
        with env.engine.connect() as conn:
            names = conn.execute(text("SELECT name, unit FROM perpetrators")).all()
        stored = [bytes(v) for row in names for v in row if v is not None]  # the import's rows name no unit
        assert stored and all(v.startswith(b"PTO1") for v in stored)


def test_blind_index_finds_exact_names_only(fields: Env) -> None:
    env = fields
    open_person(env, "ENC-001", PEOPLE["ENC-001"])
    open_person(env, "ENC-002", PEOPLE["ENC-002"])
    twin = dict(PEOPLE["ENC-002"], full_name="Zarina Fictionova-Kim", full_name_native=None)
    open_person(env, "ENC-003", twin)
    open_person(env, "ENC-004", dict(PEOPLE["ENC-002"], full_name="Zarina Fictionova"))

    with env.uow() as session:
        def refs(name: str) -> list[str]:
            found = {p.id for p in find_by_name(session, name)}
            return sorted(session.scalars(select(Case.ref).where(Case.person_id.in_(found))))

        assert refs("Zarina Fictionova-Kim") == ["ENC-001", "ENC-003"]
        assert refs("  zarina   FICTIONOVA-kim\t") == ["ENC-001", "ENC-003"]
        assert refs("Ｚａｒｉｎａ Fictionova-Kim") == ["ENC-001", "ENC-003"]  # fullwidth letters, NFKC
        assert refs("зарина фиктионова-ким") == ["ENC-001"]  # the native-script name
        assert refs("Zarina Fictionova") == ["ENC-004"]
        assert refs("Zarina") == []
        assert refs("Fictionova-Kim") == []
        assert refs("   ") == []

        # The index is a keyed HMAC, not a plain hash of the name, and it follows edits.
        row = session.scalar(select(Person).join(Case, Case.person_id == Person.id).where(Case.ref == "ENC-004"))
        assert len(row.full_name_index) == 64 and normalise_name(row.full_name) not in row.full_name_index
        row.full_name = "Aliya Renamedova"
    with env.uow() as session:
        assert [p.full_name for p in find_by_name(session, "aliya renamedova")] == ["Aliya Renamedova"]
        assert find_by_name(session, "Zarina Fictionova") == []


def test_a_value_moved_to_another_column_does_not_decrypt(fields: Env) -> None:
    env = fields
    open_person(env, "ENC-001", PEOPLE["ENC-001"])
    with env.uow() as session:
        person_id = session.scalar(select(Case.person_id).where(Case.ref == "ENC-001"))
        session.execute(text("UPDATE persons SET phone = full_name WHERE id = :id"), {"id": person_id})
    with env.uow() as session, pytest.raises(FieldDecryptionError) as caught:
        session.get(Person, person_id)
    message = str(caught.value)
    assert "persons.phone" in message and "does not decrypt" in message
    assert PEOPLE["ENC-001"]["full_name"] not in message


def test_a_tampered_value_does_not_decrypt(fields: Env) -> None:
    env = fields
    open_person(env, "ENC-001", PEOPLE["ENC-001"])
    with env.uow() as session:
        person_id = session.scalar(select(Case.person_id).where(Case.ref == "ENC-001"))
        blob = session.execute(text("SELECT email FROM persons WHERE id = :id"), {"id": person_id}).scalar_one()
        tampered = bytes(blob[:-1]) + bytes([blob[-1] ^ 1])
        session.execute(text("UPDATE persons SET email = :v WHERE id = :id"), {"v": tampered, "id": person_id})
    with env.uow() as session, pytest.raises(FieldDecryptionError, match=r"persons\.email"):
        session.get(Person, person_id)


# -- upgrading an installation that has plaintext rows --------------------------------------------------


def test_the_migration_encrypts_existing_rows(tmp_path: Path) -> None:
    from alembic import command

    from workflow import schema
    from workflow.config import load_settings
    from workflow.db import make_engine

    settings = load_settings({"PETITIO_HOME": str(tmp_path / "home")})
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    config = schema.alembic_config()
    values = PEOPLE["ENC-001"]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "a98648a1c350")  # before encryption
        conn.execute(text(
            "INSERT INTO persons (id, full_name, full_name_native, birth_date, phone, email, passport_number, "
            "address, city, created_at) VALUES (1, :full_name, :full_name_native, :birth_date, :phone, :email, "
            ":passport_number, :address, 'Almaty', '2025-01-01 00:00:00')"), dict(values))
    schema.upgrade(engine)

    with Session(engine) as session:
        row = session.get(Person, 1)
        assert {f: getattr(row, f) for f in IDENTITY} == values
        assert [p.id for p in find_by_name(session, "ZARINA fictionova-kim")] == [1]
    engine.dispose()
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    raw = {str(p): p.read_bytes() for p in database.parent.glob(database.name + "*")}
    assert_absent(raw, {k: v for k, v in values.items()})

    # And back, for a downgrade.
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "a98648a1c350")
        row = conn.execute(text("SELECT full_name, birth_date, phone FROM persons WHERE id = 1")).one()
    assert tuple(row) == (values["full_name"], values["birth_date"].isoformat(), values["phone"])
    engine.dispose()
