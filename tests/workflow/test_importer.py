"""`intake import` / `episodes import` (INTERFACES.md §2-§3), on every configured database, no mocks."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Env
from tests.helpers import audit_actions
from tests.workflow import test_cli
from tests.workflow.fixtures import (
    COLUMNS,
    appeal_rows,
    ensure_test_episodes,
    fictional_pdf,
    read_rows_csv,
    write_appeals_csv,
    write_appeals_xlsx,
    write_documents,
    write_episodes_csv,
    write_rows_csv,
)
from workflow.errors import ValidationFailed
from workflow.models import AuditEvent, Case, Document, Episode, HumanTask, Person, ProcessInstance
from workflow.problems import Problem
from workflow.services import importer
from workflow.services.importer import ImportReport, import_appeals, import_episodes, read_rows
from workflow.tabular import read_table

PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# -- helpers ------------------------------------------------------------------------------------------


def run(env: Env, path: Path, docs: Path | None, **options: Any) -> ImportReport:
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        return import_appeals(session, env.settings, None, path, documents_dir=docs, **options)


def counts(env: Env) -> dict[str, int]:
    with env.uow() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Case, Person, ProcessInstance, HumanTask, Document, AuditEvent)}


def blobs(env: Env) -> list[Path]:
    root = env.settings.documents_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_nothing_written(env: Env) -> None:
    current = counts(env)
    assert {k: current[k] for k in ("Case", "Person", "ProcessInstance", "Document")} == {
        "Case": 0, "Person": 0, "ProcessInstance": 0, "Document": 0}
    assert blobs(env) == []


def rewrite(path: Path, change: Callable[[list[dict[str, str]]], None]) -> Path:
    rows = read_rows_csv(path)
    change(rows)
    return write_rows_csv(path, rows)


def summary(report: ImportReport) -> dict[str, int]:
    return {k: v for k, v in report.as_json().items() if k != "errors"}


# -- the 150-appeal file ------------------------------------------------------------------------------


def test_import_150_appeals_then_the_same_file_again_changes_nothing(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path)
    docs = tmp_path / "docs"
    rows = read_rows_csv(path)
    without = {r["ref"] for r in rows if not r["form_of_appeal"] or not r["power_of_attorney"]}
    assert len(rows) == 150 and len(without) == 21

    report = run(env, path, docs)

    assert report.as_json() == {"created": 150, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    with env.uow() as session:
        cases = {c.ref: c for c in session.scalars(select(Case))}
        assert sorted(cases) == [f"APL-{i:03d}" for i in range(1, 151)]
        ready = session.execute(select(HumanTask.case_id, HumanTask.bpmn_id).where(HumanTask.state == "ready"))
        tasks_by_case: dict[int, list[str]] = {}
        for case_id, bpmn_id in ready:
            tasks_by_case.setdefault(case_id, []).append(bpmn_id)
        assert {cases[ref].id: ["verify_consent"] for ref in cases} == tasks_by_case

        documents = list(session.scalars(select(Document)))
        per_case = Counter(d.case_id for d in documents)
        for ref, case in cases.items():
            assert per_case[case.id] == (1 if ref in without else 2), ref
        assert len(documents) == 2 * 150 - 21
        for document in documents:
            content = (docs / document.filename).read_bytes()
            assert document.sha256 == hashlib.sha256(content).hexdigest()
            assert document.size == len(content)
            assert document.media_type == "application/pdf"

        by_ref = {r["ref"]: r for r in rows}
        sample = cases["APL-005"]  # detained_now: yes
        assert by_ref["APL-005"]["detained_now"] == "yes"
        assert sample.detained_now and sample.urgent
        assert sample.person.full_name_native == by_ref["APL-005"]["full_name_native"]  # UTF-8 kept
        assert sample.received_on == date.fromisoformat(by_ref["APL-005"]["received_on"])

    stored = [p.read_bytes() for p in blobs(env)]
    assert len(stored) == len(documents)
    plaintexts = [p.read_bytes() for p in docs.iterdir()]
    for blob in stored:
        assert b"Fictional test document" not in blob
        assert not any(text in blob for text in plaintexts)

    before = counts(env)
    again = run(env, path, docs)

    assert again.as_json() == {"created": 0, "updated": 0, "unchanged": 150, "rejected": 0, "errors": []}
    assert counts(env) == before
    assert len(blobs(env)) == len(stored)


def test_a_changed_row_is_updated_and_audited(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=10, missing=2)
    docs = tmp_path / "docs"
    assert summary(run(env, path, docs))["created"] == 10
    before = counts(env)

    def edit(rows: list[dict[str, str]]) -> None:
        rows[3]["description"] = "Fictional test appeal APL-004: corrected account of the detention."

    report = run(env, rewrite(path, edit), docs)

    assert report.as_json() == {"created": 0, "updated": 1, "unchanged": 9, "rejected": 0, "errors": []}
    after = counts(env)
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    assert {k: v for k, v in after.items() if k != "AuditEvent"} == {
        k: v for k, v in before.items() if k != "AuditEvent"}
    with env.uow() as session:
        assert audit_actions(session, "APL-004")[-1] == "case_updated"
        case = session.scalar(select(Case).where(Case.ref == "APL-004"))
        assert case.incidents[0].description.endswith("corrected account of the detention.")


def test_a_document_that_came_later_is_attached_on_update(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(n=3, missing=0)
    write_documents(tmp_path, rows)
    docs = tmp_path / "docs"
    late = rows[1]["power_of_attorney"]
    rows[1]["power_of_attorney"] = ""
    path = write_rows_csv(tmp_path / "appeals.csv", rows)
    assert summary(run(env, path, docs))["created"] == 3

    rows[1]["power_of_attorney"] = late
    report = run(env, write_rows_csv(path, rows), docs)

    assert summary(report) == {"created": 0, "updated": 1, "unchanged": 2, "rejected": 0}
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-002"))
        assert sorted(d.kind for d in case.documents) == ["form_of_appeal", "power_of_attorney"]
        assert audit_actions(session, "APL-002")[-2:] == ["case_updated", "document_uploaded"]


def test_one_unknown_incident_type_imports_nothing(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path)

    def edit(rows: list[dict[str, str]]) -> None:
        rows[36]["incident_types"] = "detention_at_rally;made_up_type"  # data row 37 = spreadsheet row 38

    report = run(env, rewrite(path, edit), tmp_path / "docs")

    assert summary(report) == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert len(report.errors) == 1
    error = report.errors[0]
    assert (error["row"], error["column"]) == (38, "incident_types")
    assert "made_up_type" in error["message"]
    assert_nothing_written(env)


def test_partial_imports_the_valid_rows_and_names_each_rejected_one(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path)
    docs = tmp_path / "docs"

    def edit(rows: list[dict[str, str]]) -> None:
        rows[9]["incident_date"] = "2022-13-01"  # row 11
        rows[99]["form_of_appeal"] = "not-in-the-folder.pdf"  # row 101

    rewrite(path, edit)
    expected = [{"row": 11, "column": "incident_date", "message": "must be a date (YYYY-MM-DD or DD.MM.YYYY)"},
                {"row": 101, "column": "form_of_appeal",
                 "message": "not-in-the-folder.pdf: no such file in the documents folder"}]

    strict = run(env, path, docs)
    assert strict.as_json() == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 2, "errors": expected}
    assert_nothing_written(env)

    report = run(env, path, docs, partial=True)

    assert report.as_json() == {"created": 148, "updated": 0, "unchanged": 0, "rejected": 2, "errors": expected}
    with env.uow() as session:
        refs = set(session.scalars(select(Case.ref)))
    assert len(refs) == 148
    assert not refs & {"APL-010", "APL-100"}


def test_dry_run_counts_but_writes_nothing(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path)

    report = run(env, path, tmp_path / "docs", dry_run=True)

    assert report.as_json() == {"created": 150, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    assert_nothing_written(env)


def test_dry_run_tells_created_updated_and_unchanged_apart(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(n=12, missing=2)
    docs = write_documents(tmp_path, rows)
    path = write_rows_csv(tmp_path / "appeals.csv", rows[:10])
    assert summary(run(env, path, docs))["created"] == 10
    before, stored = counts(env), blobs(env)

    rows[0]["city"] = "Taraz"
    report = run(env, write_rows_csv(path, rows), docs, dry_run=True)

    assert summary(report) == {"created": 2, "updated": 1, "unchanged": 9, "rejected": 0}
    assert counts(env) == before
    assert blobs(env) == stored


def test_xlsx_import_works_the_same(env: Env, tmp_path: Path) -> None:
    path = write_appeals_xlsx(tmp_path / "x", n=10, missing=2)
    rows = appeal_rows(n=10, missing=2)

    report = run(env, path, tmp_path / "x" / "docs")

    assert report.as_json() == {"created": 10, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    with env.uow() as session:
        cases = {c.ref: c for c in session.scalars(select(Case))}
        assert len(cases) == 10
        for row in rows:
            case = cases[row["ref"]]
            assert case.received_on == row["received_on"]
            assert case.incidents[0].occurred_on == row["incident_date"]
            assert case.person.birth_date == row["birth_date"]
            assert case.person.phone == row["phone"]
        ready = list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.state == "ready")))
        assert ready == ["verify_consent"] * 10
        assert session.scalar(select(func.count()).select_from(Document)) == 18

    # The same appeals as CSV are recognised as unchanged: date cells and ISO text mean the same.
    csv_path = write_appeals_csv(tmp_path / "c", n=10, missing=2)
    assert summary(run(env, csv_path, tmp_path / "c" / "docs"))["unchanged"] == 10


def test_read_rows_numbers_rows_like_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffRef ;City\nAPL-1;Almaty\n\nAPL-3;Semey\n\n ; \n".encode())  # BOM, ';' separator

    assert read_rows(path) == [{"ref": "APL-1", "city": "Almaty"}, {"ref": None, "city": None},
                               {"ref": "APL-3", "city": "Semey"}]

    too_many = tmp_path / "big.csv"
    too_many.write_text("ref\n" + "x\n" * 10_001, encoding="utf-8")
    with pytest.raises(ValidationFailed, match="more than 10000 data rows"):
        read_rows(too_many)


# -- bad files ----------------------------------------------------------------------------------------


def _png_named_pdf(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "docs" / rows[1]["form_of_appeal"]).write_bytes(PNG_BYTES)


def _path_traversal(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "secret.pdf").write_bytes(fictional_pdf("outside the documents folder", "x"))
    rows[1]["form_of_appeal"] = "../secret.pdf"


def _symlink_out(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "secret.pdf").write_bytes(fictional_pdf("outside the documents folder", "y"))
    (folder / "docs" / "link.pdf").symlink_to(folder / "secret.pdf")
    rows[1]["form_of_appeal"] = "link.pdf"


def _empty_document(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "docs" / rows[1]["power_of_attorney"]).write_bytes(b"")


def _unsupported_document(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "docs" / "notes.txt").write_text("not a document", encoding="utf-8")
    rows[1]["power_of_attorney"] = "notes.txt"


def _duplicate_ref(folder: Path, rows: list[dict[str, Any]]) -> None:
    rows[1]["ref"] = rows[0]["ref"]


def _bad_yes_no_and_future_date(folder: Path, rows: list[dict[str, Any]]) -> None:
    rows[1]["consent_publish_name"] = "maybe"
    rows[1]["received_on"] = date(2999, 1, 1)


@pytest.mark.parametrize(("breaker", "expected"), [
    (_png_named_pdf, [("form_of_appeal", "foa-APL-002.pdf: content is a PNG but the name says .pdf")]),
    (_path_traversal, [("form_of_appeal", "../secret.pdf: give a plain file name inside the documents folder")]),
    (_symlink_out, [("form_of_appeal", "link.pdf: the file is outside the documents folder")]),
    (_empty_document, [("power_of_attorney", "poa-APL-002.pdf: file is empty")]),
    (_unsupported_document, [("power_of_attorney", "notes.txt: files ending in .txt are not accepted")]),
    (_duplicate_ref, [("ref", "APL-001 is also the ref of row 2")]),
    (_bad_yes_no_and_future_date, [("consent_publish_name", "must be yes or no"),
                                   ("received_on", "cannot be in the future")]),
], ids=lambda v: getattr(v, "__name__", "").strip("_") or None)
def test_a_bad_row_is_refused_with_a_clear_error(env: Env, tmp_path: Path, breaker: Callable[..., None],
                                                 expected: list[tuple[str, str]]) -> None:
    rows = appeal_rows(n=3, missing=0)
    write_documents(tmp_path, rows)
    breaker(tmp_path, rows)
    path = write_rows_csv(tmp_path / "appeals.csv", rows)

    report = run(env, path, tmp_path / "docs")

    assert summary(report) == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [(e["row"], e["column"]) for e in report.errors] == [(3, column) for column, _ in expected]
    for error, (_, message) in zip(report.errors, expected, strict=True):
        assert error["message"].startswith(message), error
    assert_nothing_written(env)


def test_a_missing_required_column_imports_nothing(env: Env, tmp_path: Path) -> None:
    rows = appeal_rows(n=3, missing=0)
    docs = write_documents(tmp_path, rows)
    path = write_rows_csv(tmp_path / "appeals.csv", rows, [c for c in COLUMNS if c != "consent_publish_name"])

    report = run(env, path, docs)

    assert report.as_json() == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 3, "errors": [
        {"row": 1, "column": "consent_publish_name", "message": "required column is missing"}]}
    assert_nothing_written(env)


def test_named_documents_need_a_documents_folder(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=2, missing=1)

    report = run(env, path, None)

    named = [(number, column) for number, row in enumerate(read_rows_csv(path), start=2)
             for column in ("form_of_appeal", "power_of_attorney") if row[column]]
    assert len(named) == 3
    assert report.rejected == 2
    assert [(e["row"], e["column"]) for e in report.errors] == named
    assert all("no documents folder was given (--documents)" in e["message"] for e in report.errors)
    assert_nothing_written(env)


def test_a_row_with_more_cells_than_the_header_is_refused(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=3, missing=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",an unquoted, comma"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = run(env, path, tmp_path / "docs")

    assert report.as_json() == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1, "errors": [
        {"row": 3, "column": None, "message": "2 more cell(s) than the header has columns (an unquoted comma?)"}]}
    assert_nothing_written(env)


def test_a_missing_documents_folder_is_refused(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=2, missing=0)

    with pytest.raises(ValidationFailed, match="documents folder 'elsewhere' not found"):
        run(env, path, tmp_path / "elsewhere")
    assert_nothing_written(env)


def test_documents_over_the_memory_budget_are_read_again_and_verified(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "DOCUMENT_CACHE_BYTES", 0)  # keep no bytes between validation and import
    path = write_appeals_csv(tmp_path, n=3, missing=1)

    assert summary(run(env, path, tmp_path / "docs"))["created"] == 3
    with env.uow() as session:
        documents = list(session.scalars(select(Document)))
    assert len(documents) == 5
    for document in documents:
        assert document.sha256 == hashlib.sha256((tmp_path / "docs" / document.filename).read_bytes()).hexdigest()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("appeals.txt", b"ref,full_name\n", r"appeals\.txt: only \.csv and \.xlsx files can be imported"),
    ("appeals.csv", ",".join(COLUMNS).encode() + b"\nAPL-001,\xa6\xa6 \xb5\x98",
     r"appeals\.csv is neither UTF-8 nor Windows-1251 text \(first non-UTF-8 byte on line 2\)"),
    ("appeals.csv", b"", r"appeals\.csv is empty"),
    ("appeals.csv", b'ref,city\n"APL-001,Almaty\n',
     r"appeals\.csv is not a readable CSV file \(row 2, from line 2: unexpected end of data\)"),
    ("appeals.csv", b"ref,city\nAPL-001,Alm\0aty\n", r"appeals\.csv contains NUL bytes"),
    ("appeals.xlsx", b"PK\x03\x04 this is not a workbook", r"appeals\.xlsx is not a readable XLSX workbook"),
    ("appeals.xlsx", b"ref,city\nAPL-001,Almaty\n", r"appeals\.xlsx is not a readable XLSX workbook"),
], ids=["not-csv", "not-utf8", "empty", "malformed-csv", "nul-bytes", "broken-xlsx", "csv-named-xlsx"])
def test_an_unreadable_file_is_refused(env: Env, tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ValidationFailed, match=message):
        run(env, path, tmp_path)
    assert_nothing_written(env)


# -- episodes -----------------------------------------------------------------------------------------


def test_episodes_import_is_idempotent(env: Env, tmp_path: Path) -> None:
    path = write_episodes_csv(tmp_path)

    with env.uow() as session:
        assert import_episodes(session, None, path) == {"created": 4, "updated": 0, "unchanged": 0}
    with env.uow() as session:
        assert import_episodes(session, None, path) == {"created": 0, "updated": 0, "unchanged": 4}
        episode = session.scalar(select(Episode).where(Episode.key == "preventive_2022_02"))
        assert (episode.start_date, episode.end_date) == (date(2022, 2, 1), date(2022, 2, 28))

    rows = read_rows_csv(path)
    rows[0]["title"] = "Detentions at the January 2022 rallies (test, renamed)"
    write_rows_csv(path, rows, list(rows[0]))
    with env.uow() as session:
        assert import_episodes(session, None, path) == {"created": 0, "updated": 1, "unchanged": 3}
        assert "episode_updated" in session.scalars(select(AuditEvent.action)).all()


def test_episodes_file_with_a_bad_date_is_refused(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_text("key,title,start_date,end_date\n"
                    "rally_2022_01,Rally (test),2022-01-04,2022-01-11\n"
                    "preventive_2022_02,Preventive (test),2022-02-30,2022-02-28\n"
                    "Bad Key,,2022-03-01,2022-02-01\n", encoding="utf-8")

    with env.uow() as session, pytest.raises(ValidationFailed) as caught:
        import_episodes(session, None, path)

    assert caught.value.errors == {
        "row 3: start_date": Problem("not_date"),
        "row 4: key": Problem("bad_key"),
        "row 4: title": Problem("required"),
        "row 4: end_date": Problem("end_before_start"),
    }
    assert "row 3: start_date: must be a date (YYYY-MM-DD or DD.MM.YYYY)" in str(caught.value)
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Episode)) == 0

    missing = tmp_path / "no-dates.csv"
    missing.write_text("key,title\nrally_2022_01,Rally (test)\n", encoding="utf-8")
    with env.uow() as session, pytest.raises(ValidationFailed, match="row 1: required column"):
        import_episodes(session, None, missing)


# -- spreadsheets as organisations really have them ------------------------------------------------------


REAL_EPISODES = "key,title,start_date,end_date\nrally-2018-05-10,Rally of 10 May 2018 (test),10.05.2018,10.05.2018\n"


def _real_rows(tmp_path: Path, n: int = 8) -> tuple[list[dict[str, Any]], Path]:
    """Rows citing a hyphenated episode key, two without any episode, dates typed as dd.mm.yyyy."""
    rows = appeal_rows(n=n, missing=1)
    for i, row in enumerate(rows):
        row["episodes"] = "" if i in (1, 5) else "rally-2018-05-10"
        for column in ("incident_date", "received_on", "birth_date"):
            row[column] = row[column].strftime("%d.%m.%Y")
    return rows, write_documents(tmp_path, rows)


def _import_real(env: Env, path: Path, docs: Path, rows: list[dict[str, Any]]) -> None:
    episodes = tmp_episodes = path.parent / "episodes-real.csv"
    tmp_episodes.write_text(REAL_EPISODES, encoding="utf-8")
    with env.uow() as session:
        assert import_episodes(session, None, episodes) == {"created": 1, "updated": 0, "unchanged": 0}
    with env.uow() as session:
        report = import_appeals(session, env.settings, None, path, documents_dir=docs)
    assert report.as_json() == {"created": len(rows), "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    with env.uow() as session:
        cases = {c.ref: c for c in session.scalars(select(Case))}
        assert sorted(cases) == sorted(r["ref"] for r in rows), "every row arrives"
        for i, row in enumerate(rows):
            case = cases[row["ref"]]
            assert [e.key for e in case.episodes] == ([] if i in (1, 5) else ["rally-2018-05-10"])
            assert case.received_on.strftime("%d.%m.%Y") == row["received_on"]
            assert case.person.full_name_native == row["full_name_native"]  # Cyrillic kept, whatever the encoding


def _csv_text(rows: list[dict[str, Any]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([[str(r[c]) for c in COLUMNS] for r in rows])
    return out.getvalue()


@pytest.mark.parametrize(("encoding", "delimiter", "read_as"), [
    ("utf-8-sig", ",", "UTF-8"), ("utf-8-sig", ";", "UTF-8"), ("utf-8", ";", "UTF-8"),
    ("cp1251", ";", "Windows-1251"), ("cp1251", ",", "Windows-1251"),
], ids=["bom-comma", "bom-semicolon", "utf8-semicolon", "cp1251-semicolon", "cp1251-comma"])
def test_real_csv_files_every_row_arrives(env: Env, tmp_path: Path, encoding: str, delimiter: str,
                                          read_as: str) -> None:
    rows, docs = _real_rows(tmp_path)
    path = tmp_path / "appeals.csv"
    path.write_bytes(_csv_text(rows, delimiter).encode(encoding))
    assert read_table(path).encoding == read_as

    _import_real(env, path, docs, rows)


def _with_dimension(path: Path, ref: str) -> Path:
    """Rewrite the first sheet's declared <dimension> (what a stale or careless writer leaves)."""
    target = path.with_name(f"dimension-{path.name}")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, replaced = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)
                assert replaced == 1
            zout.writestr(info, data)
    return target


@pytest.mark.parametrize("dimension", ["A1:C3", "A1:XFD1048576"], ids=["stale", "oversized"])
def test_an_xlsx_whose_declared_dimension_is_wrong_loses_no_row(env: Env, tmp_path: Path, dimension: str) -> None:
    import openpyxl

    rows, docs = _real_rows(tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] or None for c in COLUMNS])
    sheet.append([])  # a blank row, then a row typed further down: numbering stays spreadsheet-style
    plain = tmp_path / "appeals.xlsx"
    workbook.save(plain)
    path = _with_dimension(plain, dimension)
    assert len(read_rows(path)) == len(rows)

    _import_real(env, path, docs, rows)


def test_xlsx_cells_keep_their_types(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ref", "phone", "received_on", "detained_now", "city", "amount"])
    sheet.append(["APL-1", 77010000000, date(2024, 1, 31), True, "Алматы", 1.5])
    sheet["C2"].number_format = "dd.mm.yyyy"
    sheet.append([])
    sheet.append(["APL-3", None, "31.01.2024", "no", "Semey", None])
    path = tmp_path / "types.xlsx"
    workbook.save(path)

    assert read_rows(path) == [
        {"ref": "APL-1", "phone": 77010000000, "received_on": date(2024, 1, 31), "detained_now": True,
         "city": "Алматы", "amount": 1.5},
        {"ref": None, "phone": None, "received_on": None, "detained_now": None, "city": None, "amount": None},
        {"ref": "APL-3", "phone": None, "received_on": "31.01.2024", "detained_now": "no", "city": "Semey",
         "amount": None},
    ]


def test_a_killed_command_line_import_run_again_finishes_without_duplicates(env: Env, tmp_path: Path) -> None:
    """The command line writes in batches; a batch written before a crash is 'unchanged' the second time."""
    path = write_appeals_csv(tmp_path, n=12, missing=2)
    docs = tmp_path / "docs"
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        plan = importer.plan_appeals_file(session, env.settings, path, docs)
    with env.uow() as session:  # the first batch only, then the process "dies"
        assert importer.apply_plan(session, env.settings, None, plan, plan.rows[:5])["created"] == 5

    report = run(env, path, docs)

    assert summary(report) == {"created": 7, "updated": 0, "unchanged": 5, "rejected": 0}
    assert counts(env)["Case"] == 12 and counts(env)["Document"] == 2 * 12 - 2


def test_keys_are_slugs_everywhere(env: Env, staff: dict[str, str], tmp_path: Path) -> None:
    from workflow.schemas.base import is_slug
    from workflow.vocab import add_term

    assert all(is_slug(k) for k in ("rally-2018-05-10", "detention_at_rally", "2022", "a"))
    assert not any(is_slug(k) for k in ("Rally", "-rally", "rally 2018", "rally\n", "", "a" * 81, "rally/1"))
    with env.uow() as session:
        term = add_term(session, env.user(session, "ada"), "incident_type", "kettling-2024", {"en": "Kettling"})
        assert term.key == "kettling-2024"
    with env.uow() as session, pytest.raises(ValidationFailed) as caught:
        add_term(session, env.user(session, "ada"), "incident_type", "Kettling 2024", {"en": "Kettling"})
    assert caught.value.errors == {"key": Problem("bad_key")}


cli_env = test_cli.cli_env
_pg_schema_restored = test_cli._pg_schema_restored


def test_the_command_line_says_what_a_dry_run_would_do(cli_env: test_cli.Cli) -> None:
    rows, docs = _real_rows(cli_env.work, n=3)
    episodes, appeals = cli_env.work / "episodes.csv", cli_env.work / "appeals.csv"
    episodes.write_text(REAL_EPISODES, encoding="utf-8")
    appeals.write_bytes(_csv_text(rows, ";").encode("cp1251"))
    cli_env.ok("init")
    cli_env.ok("episodes", "import", episodes)

    dry = cli_env.ok("intake", "import", appeals, "--documents", docs, "--dry-run").splitlines()
    assert dry[-2] == ("dry run, nothing written: would create 3, would update 0, would leave unchanged 0; "
                       "0 row(s) rejected (read as Windows-1251)")
    assert not any(line.startswith("created") for line in dry)
    done = cli_env.ok("intake", "import", appeals, "--documents", docs).splitlines()
    assert done[-2] == "created 3, updated 0, unchanged 0; 0 row(s) rejected (read as Windows-1251)"
