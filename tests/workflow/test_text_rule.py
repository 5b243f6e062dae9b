"""The character rule (filings/text.py, applied by workflow/schemas/base.py ``Text``): line breaks of every kind become
"\\n", control characters are refused with their position, lone surrogates are refused; the CSV and XLSX imports
follow it cell by cell; ``xml_safe`` makes any stored text writable into a .docx."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from filings.text import xml_safe
from tests.conftest import Env
from tests.workflow.fixtures import (
    appeal_rows,
    ensure_test_episodes,
    write_documents,
    write_rows_csv,
)
from workflow.errors import ValidationFailed
from workflow.models import Case
from workflow.problems import Problem
from workflow.schemas.appeal import AppealSchema
from workflow.schemas.base import Dict, InputSchema, Text, clean_tree
from workflow.services.episodes import read_episodes
from workflow.services.importer import import_appeals
from workflow.services.users import add_user
from workflow.task_forms import validate_form

KAZAKH = "әғқңөұүһі ӘҒҚҢӨҰҮҺІ"
EMOJI = "😀👍🏽"  # outside the BMP, and a modifier sequence


class Sample(InputSchema):
    text = Text(max_length=20000, allow_none=True)
    name = Text(multiline=False, allow_none=True)
    extra = Dict(allow_none=True)


def load(**values: Any) -> dict[str, Any]:
    return Sample().load(values)


def refusal(**values: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Sample().load(values)
    return caught.value.messages


@pytest.mark.parametrize(("typed", "stored"), [
    ("one\x0btwo", "one\ntwo"),  # Shift+Enter in Word, pasted
    ("one\x0ctwo", "one\ntwo"),  # a page break
    ("one\u2028two\u2029three", "one\ntwo\nthree"),
    ("one\x85two", "one\ntwo"),  # NEL
    ("one\r\ntwo\rthree\n", "one\ntwo\nthree"),  # Windows and old Mac line ends; trimmed
    ("col\tcol", "col\tcol"),  # a tab stays in a multi-line text
    (f"{KAZAKH} {EMOJI}", f"{KAZAKH} {EMOJI}"),
])
def test_line_breaks_of_every_kind_become_line_feeds(typed: str, stored: str) -> None:
    assert load(text=typed) == {"text": stored}


def test_a_one_line_text_turns_breaks_and_tabs_into_one_space() -> None:
    assert load(name=" Saule\x0b Zh.\r\n\tKassymova ") == {"name": "Saule Zh. Kassymova"}


@pytest.mark.parametrize(("typed", "position"), [
    ("bell\x07", 5), ("\x00nul", 1), ("esc\x1b[0m", 4), ("del\x7f", 4), ("c1\x9b", 3), ("c1\x80", 3),
])
def test_other_control_characters_are_refused_with_their_position(typed: str, position: int) -> None:
    assert refusal(text=typed) == {"text": [Problem("control_characters", {"position": position})]}
    assert f"character {position}" in Problem("control_characters", {"position": position}).text


@pytest.mark.parametrize("typed", ["\ud800", "a\udfffb", "\ud83d", "x\ufffe", "\uffff"])
def test_lone_surrogates_and_non_characters_are_refused(typed: str) -> None:
    assert refusal(text=typed) == {"text": [Problem("invalid_text")]}
    assert refusal(name=typed) == {"name": [Problem("invalid_text")]}


def test_length_counts_the_text_as_stored_in_characters() -> None:
    long = (EMOJI + KAZAKH) * (20000 // len(EMOJI + KAZAKH))
    long += "ә" * (20000 - len(long))
    assert load(text=long) == {"text": long}
    # CR LF counts as one character once normalised.
    assert load(text="a\r\n" * 10000)["text"] == ("a\n" * 10000).strip()
    assert refusal(text=long + "ә") == {"text": [Problem("too_long", {"max": 20000})]}


def test_texts_inside_objects_follow_the_rule() -> None:
    assert load(extra={"note": "a\x0bb", "list": ["c\r\nd"]}) == {"extra": {"note": "a\nb", "list": ["c\nd"]}}
    assert refusal(extra={"list": ["ok", "b\x01"]}) == {
        "extra": {"list": {"1": [Problem("control_characters", {"position": 2})]}}}
    with pytest.raises(ValidationError):
        clean_tree({"\ud800": "broken key"})


def test_task_form_data_follows_the_rule() -> None:
    schema = {"type": "object", "properties": {"notes": {"type": "string", "maxLength": 5},
                                               "items": {"type": "array", "items": {"type": "string"}}}}
    assert validate_form(schema, {"notes": "a\r\nb\x0bc"}) == {"notes": "a\nb\nc"}  # 5 characters once clean
    with pytest.raises(ValidationFailed) as caught:
        validate_form(schema, {"notes": "\ud800", "items": ["ok", "x\x07"]})
    assert caught.value.errors == {"notes": Problem("invalid_text"),
                                   "items.1": Problem("control_characters", {"position": 2})}


def test_xml_safe_makes_any_text_writable_into_a_docx() -> None:
    dirty = "A\x0bB\x0cC\u2028D\r\nE\x00F\x07G\x1bH\ud800I\ufffeJ\x9bK\tL " + KAZAKH + EMOJI
    clean = xml_safe(dirty)
    assert clean == "A\nB\nC\nD\nEFGHIJK\tL " + KAZAKH + EMOJI
    assert xml_safe(clean) == clean  # idempotent
    document = docx.Document()
    with pytest.raises(ValueError):  # what happened before: python-docx refuses the raw text
        document.add_paragraph(dirty)
    document.add_paragraph(clean)
    out = io.BytesIO()
    document.save(out)
    assert KAZAKH in docx.Document(io.BytesIO(out.getvalue())).paragraphs[-1].text


def test_the_appeal_schema_keeps_the_description_multi_line_and_the_rest_one_line() -> None:
    one_line = {name for name, field in AppealSchema().fields.items()
                if isinstance(field, Text) and not field.multiline}
    assert "description" not in one_line
    assert {"ref", "full_name", "city", "full_name_native", "phone", "email", "passport_number"} <= one_line


# -- the imports ------------------------------------------------------------------------------------------------

MESSY = "Detained\x0bat the square\u2028— " + KAZAKH + " " + EMOJI
CLEAN = "Detained\nat the square\n— " + KAZAKH + " " + EMOJI


def _rows(tmp_path: Path) -> tuple[list[dict[str, Any]], Path]:
    rows = appeal_rows(n=4, missing=0)
    rows[0]["description"] = MESSY
    rows[1]["description"] = "bell\x07 in a cell"  # refused, with the row named
    rows[2]["description"] = ("ә" + EMOJI) * 5000  # 20,000 characters (an emoji with its modifier is 2)
    rows[3]["full_name"] = "Aigerim\x0bTestova"
    return rows, write_documents(tmp_path, rows)


def _import(env: Env, path: Path, docs: Path) -> Any:
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        return import_appeals(session, env.settings, None, path, documents_dir=docs, partial=True)


def _check(env: Env, rows: list[dict[str, Any]], report: Any) -> None:
    result = report.as_json()
    assert (result["created"], result["rejected"]) == (3, 1), result["errors"]
    assert result["errors"] == [{"row": 3, "column": "description",
                                 "message": "must not contain control characters (an invisible one is at character 5)"}]
    with env.uow() as session:
        cases = {c.ref: c for c in session.scalars(select(Case))}
        assert cases[rows[0]["ref"]].incidents[0].description == CLEAN
        assert cases[rows[2]["ref"]].incidents[0].description == rows[2]["description"]
        assert len(rows[2]["description"]) == 20000
        assert cases[rows[3]["ref"]].person.full_name == "Aigerim Testova"


def test_a_csv_import_cleans_line_breaks_and_refuses_control_characters(env: Env, tmp_path: Path) -> None:
    rows, docs = _rows(tmp_path)
    path = write_rows_csv(tmp_path / "appeals.csv", rows)
    _check(env, rows, _import(env, path, docs))


def test_an_xlsx_import_reads_escaped_characters_as_what_they_are(env: Env, tmp_path: Path) -> None:
    """Excel writes what XML cannot hold as `_x000B_`; read as text, the escape would be stored as is."""
    import openpyxl

    rows, docs = _rows(tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        # openpyxl refuses control characters in a cell: write them escaped, as Excel does.
        sheet.append([v.replace("\x0b", "_x000B_").replace("\x07", "_x0007_") if isinstance(v, str) else v
                      for v in (row[c] for c in columns)])
    path = tmp_path / "appeals.xlsx"
    workbook.save(path)
    _check(env, rows, _import(env, path, docs))


def test_an_episodes_file_follows_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_text("key,title,start_date,end_date,description\n"
                    f'rally,"Rally\x0bin the square {KAZAKH}",2022-01-05,2022-01-06,"Day one\x0bday two"\n',
                    encoding="utf-8")
    assert read_episodes(path) == [{"key": "rally", "title": f"Rally in the square {KAZAKH}",
                                    "start_date": date(2022, 1, 5), "end_date": date(2022, 1, 6),
                                    "description": "Day one\nday two", "titles": {}}]
    path.write_text("key,title,start_date,end_date\nrally,Bell\x07,2022-01-05,2022-01-06\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        read_episodes(path)
    assert caught.value.errors == {"row 2: title": Problem("control_characters", {"position": 5})}


def test_a_user_s_full_name_follows_the_rule(env: Env) -> None:
    with env.uow() as session:
        assert add_user(session, None, "saule", "intake", full_name="Saule\x0bTestova").full_name == "Saule Testova"
        with pytest.raises(ValidationFailed) as caught:
            add_user(session, None, "dana", "intake", full_name="Dana\x00")
        assert caught.value.errors == {"full_name": Problem("control_characters", {"position": 5})}
        with pytest.raises(ValidationFailed) as caught:
            add_user(session, None, "dana", "intake", full_name="\udc80")  # what the command line makes of a bad byte
        assert caught.value.errors == {"full_name": Problem("invalid_text")}
