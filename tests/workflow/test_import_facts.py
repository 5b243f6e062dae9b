"""The optional filing-fact columns of the appeal import (docs/INTERFACES.md §3.2, §3.5), on every configured
database: created on import, validated per row, applied on update without ever overwriting what a person entered.
Fictional people only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.conftest import Env
from tests.workflow.fixtures import COLUMNS, appeal_rows, ensure_test_episodes, write_documents, write_rows_csv
from workflow import vocab
from workflow.models import Arrest, Case, Perpetrator
from workflow.schemas.appeal import FILLED
from workflow.services.importer import ImportReport, import_appeals

FACTS = {
    "nationality": "Kazakhstan", "age": "41",
    "activity": "Fictional: observer for a made-up election monitoring group.",
    "situation": "Fictional: summoned again; fears a criminal charge.",
    "incident_city": "Oskemen", "incident_place": "Fictional Square, by the clock tower",
    "perpetrator_agencies": "police;national_security", "arrest_date": "2022-01-05",
    "arrest_place": "Fictional Square", "arrest_forces": "Fictional riot police unit",
    "legal_provision": "Art. 488 of the Code of Administrative Offences",
}


def write(folder: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_documents(folder, rows)
    return write_rows_csv(folder / "appeals.csv", rows, columns)


def run(env: Env, path: Path, **options: Any) -> ImportReport:
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        return import_appeals(session, env.settings, None, path, documents_dir=path.parent / "docs", **options)


def case_facts(env: Env, ref: str) -> dict[str, Any]:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        incident = case.incidents[0]
        return {
            **{name: getattr(case.person, name) for name in ("nationality", "age", "activity", "situation")},
            "incident_city": incident.city, "incident_place": incident.place,
            "perpetrators": sorted((p.agency, p.unit) for p in case.perpetrators),
            "linked": sorted(p.agency for p in incident.perpetrators),
            "arrests": [(a.arrested_on, a.place, a.forces, a.legal_provision, a.incident_id == incident.id)
                        for a in case.arrests],
        }


def test_the_columns_create_the_person_incident_perpetrator_and_arrest_facts(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(3, 0)
    rows[0].update(FACTS)
    rows[1].update(nationality="Kyrgyzstan")  # one fact only: no perpetrator, no arrest
    report = run(env, write(tmp_path, rows))
    assert report.ok and report.created == 3, report.as_json()
    got = case_facts(env, "APL-001")
    assert {k: got[k] for k in ("nationality", "age", "activity", "situation", "incident_city", "incident_place")} \
        == {k: FACTS[k] for k in ("nationality", "age", "activity", "situation", "incident_city", "incident_place")}
    assert got["perpetrators"] == [("national_security", None), ("police", None)]
    assert got["linked"] == ["national_security", "police"]
    assert got["arrests"] == [(date(2022, 1, 5), FACTS["arrest_place"], FACTS["arrest_forces"],
                               FACTS["legal_provision"], True)]
    second = case_facts(env, "APL-002")
    assert second["nationality"] == "Kyrgyzstan" and second["perpetrators"] == [] and second["arrests"] == []
    # The incident's city defaults to the person's city, as before.
    assert second["incident_city"] == rows[1]["city"] and second["incident_place"] is None
    # Importing the same file again changes nothing.
    assert run(env, write(tmp_path, rows)).unchanged == 3
    with env.uow() as session:
        assert len(list(session.scalars(select(Perpetrator)))) == 2
        assert len(list(session.scalars(select(Arrest)))) == 1


def test_an_old_file_without_the_columns_imports_and_keeps_its_fingerprint(env: Env, tmp_path: Path) -> None:
    old_columns = tuple(c for c in COLUMNS if c not in FILLED)
    rows = appeal_rows(4, 1)
    path = write(tmp_path / "old", rows, old_columns)
    assert "nationality" not in path.read_text(encoding="utf-8")
    report = run(env, path)
    assert report.ok and report.created == 4, report.as_json()
    # The same rows in a file that has the new columns, left empty, are the same rows: unchanged.
    assert run(env, write(tmp_path / "new", rows)).unchanged == 4
    assert run(env, path).unchanged == 4
    # A value in a new column is a change of the row.
    rows[2]["nationality"] = "Kazakhstan"
    again = run(env, write(tmp_path / "changed", rows))
    assert (again.updated, again.unchanged) == (1, 3)
    assert case_facts(env, rows[2]["ref"])["nationality"] == "Kazakhstan"


def test_bad_values_are_per_row_errors_naming_the_column(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(5, 0)
    rows[0]["perpetrator_agencies"] = "police;secret_ministry_of_magic"
    rows[1]["arrest_date"] = "2999-01-01"
    rows[2]["nationality"] = "x" * 301
    rows[3]["incident_city"] = "y" * 121
    report = run(env, write(tmp_path, rows), partial=True)
    assert report.rejected == 4 and report.created == 1
    found = {(e["row"], e["column"]) for e in report.errors}
    assert found == {(2, "perpetrator_agencies"), (3, "arrest_date"), (4, "nationality"), (5, "incident_city")}
    message = next(e["message"] for e in report.errors if e["column"] == "perpetrator_agencies")
    assert "secret_ministry_of_magic" in message and "police" not in message
    # Without --partial nothing at all is written.
    with env.uow() as session:
        assert session.scalar(select(Case).where(Case.ref == "APL-001")) is None


def test_a_retired_agency_is_refused_like_an_unknown_one(env: Env, staff: dict[str, str], tmp_path: Path) -> None:
    with env.uow() as session:
        vocab.update_term(session, env.user(session, "ada"), "perpetrator_agency", "court", active=False)
    rows = appeal_rows(1, 0)
    rows[0]["perpetrator_agencies"] = "court"
    report = run(env, write(tmp_path, rows))
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "perpetrator_agencies")]


def test_an_update_replaces_what_the_import_wrote_and_never_what_a_person_entered(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(2, 0)
    rows[0].update(FACTS)
    rows[1].update(FACTS)
    assert run(env, write(tmp_path / "a", rows)).created == 2

    # Staff work on APL-001: a nationality corrected, details given to the police perpetrator, the arrest
    # completed, a perpetrator of their own added. APL-002 is left as imported.
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-001"))
        case.person.nationality = "Kazakhstan (and Russia)"
        police = next(p for p in case.perpetrators if p.agency == "police")
        police.unit = "Fictional district department"
        case.arrests[0].reasons_given = "None were given (fictional)."
        case.perpetrators.append(Perpetrator(case=case, agency="prosecutor", unknown=[]))

    for row in rows:
        row.update(nationality="Uzbekistan", situation="Fictional: released, under travel ban.",
                   incident_place="Fictional Park", perpetrator_agencies="police;investigators",
                   arrest_place="Fictional Park", activity="")
    report = run(env, write(tmp_path / "b", rows))
    assert report.updated == 2, report.as_json()

    untouched = case_facts(env, "APL-002")  # everything as the import wrote it: all replaced
    assert untouched["nationality"] == "Uzbekistan" and untouched["incident_place"] == "Fictional Park"
    assert untouched["activity"] == FACTS["activity"]  # an empty cell leaves the value
    assert untouched["perpetrators"] == [("investigators", None), ("police", None)]
    assert untouched["linked"] == ["investigators", "police"]
    assert [a[1] for a in untouched["arrests"]] == ["Fictional Park"]

    worked = case_facts(env, "APL-001")
    assert worked["nationality"] == "Kazakhstan (and Russia)"  # the person's correction stays
    assert worked["situation"] == "Fictional: released, under travel ban."  # still the import's: replaced
    # national_security was the import's and untouched: gone; police carries staff's unit: kept, not doubled;
    # the prosecutor is staff's; investigators is new.
    assert worked["perpetrators"] == [("investigators", None), ("police", "Fictional district department"),
                                      ("prosecutor", None)]
    assert [a[1] for a in worked["arrests"]] == [FACTS["arrest_place"]]  # completed by a person: theirs

    # A perpetrator the import made and a person deleted is not brought back by the next import.
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-002"))
        gone = next(p for p in case.perpetrators if p.agency == "investigators")
        case.incidents[0].perpetrators.remove(gone)
        case.perpetrators.remove(gone)
    rows[1]["situation"] = "Fictional: detained again."
    assert run(env, write(tmp_path / "c", rows)).updated == 1
    assert case_facts(env, "APL-002")["perpetrators"] == [("police", None)]


def test_the_incident_city_follows_the_person_city_unless_someone_gave_it_its_own(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(2, 0)
    assert run(env, write(tmp_path / "a", rows)).created == 2
    with env.uow() as session:
        legacy = session.scalar(select(Case).where(Case.ref == "APL-001"))
        legacy.import_marks = {}  # as a case imported before the import kept marks (the migration moved its city)
        own = session.scalar(select(Case).where(Case.ref == "APL-002"))
        own.incidents[0].city = "Fictional Village"  # a person gave the incident its own city
    for row in rows:
        row["city"] = "Kokshetau"
    assert run(env, write(tmp_path / "b", rows)).updated == 2
    assert case_facts(env, "APL-001")["incident_city"] == "Kokshetau"
    assert case_facts(env, "APL-002")["incident_city"] == "Fictional Village"


def test_the_migration_moves_the_imported_city_from_place_to_city(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from workflow import crypto, schema
    from workflow.config import load_settings
    from workflow.db import make_engine

    settings = load_settings({"PETITIO_HOME": str(tmp_path / "home")})
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    config = schema.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "d22a202b9480")  # before the import kept marks
        conn.execute(text("INSERT INTO persons (id, full_name, city, created_at) "
                          "VALUES (1, :name, 'Almaty', '2025-01-01 00:00:00')"),
                     {"name": crypto.encrypt("persons.full_name", "Fictional Person")})
        conn.execute(text("INSERT INTO cases (id, ref, person_id, stage, urgent, detained_now, unknown_facts, "
                          "created_at, updated_at) VALUES (1, 'MIG-1', 1, 'intake', 0, 0, '[]', "
                          "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
        for number, place in ((1, "Almaty"), (2, "z" * 200), (3, None)):
            conn.execute(text("INSERT INTO incidents (id, case_id, types, place, description, unknown) "
                              "VALUES (:id, 1, '[]', :place, '', '[]')"), {"id": number, "place": place})
    schema.upgrade(engine)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT id, city, place FROM incidents ORDER BY id")).all()
        marks = conn.execute(text("SELECT import_marks FROM cases")).scalar_one()
    # ``place`` is encrypted at rest since e41a7c3d5b92: read it back through the same crypto.
    plain = [(i, city, None if place is None else crypto.decrypt("incidents.place", place)) for i, city, place in got]
    assert plain == [(1, "Almaty", None), (2, None, "z" * 200), (3, None, None)]
    assert marks in ("{}", {})
    engine.dispose()


def test_filings_still_say_where_the_incident_happened(env: Env, tmp_path: Path) -> None:
    # The import used to write the city into ``place``; the snapshot gives the exact place and the town apart
    # (the incident's city defaults to the person's).
    from workflow.snapshots import case_snapshot

    rows = appeal_rows(2, 0)
    rows[0].update(incident_place="Fictional Square", incident_city="Oskemen")
    assert run(env, write(tmp_path, rows)).created == 2
    with env.uow() as session:
        incidents = [case_snapshot(session, session.scalar(select(Case).where(Case.ref == row["ref"])), "un_hrc",
                                   "en", "Test NGO").incidents[0] for row in rows]
    assert [(i.place, i.city) for i in incidents] == [("Fictional Square", "Oskemen"), (None, rows[1]["city"])]
