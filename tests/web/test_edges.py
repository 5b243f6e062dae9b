"""Robust at the edges (issue 14 item 7): a value of the wrong kind where a file is expected, 405 with ``Allow``,
and searches where ``%`` and ``_`` are the characters typed, not wildcards. SQLite and PostgreSQL."""

from __future__ import annotations

import io

from tests.helpers import PDF, open_sample_case
from tests.web.conftest import csrf_token
from tests.workflow.test_docx_sizes import lying_docx
from workflow.db import unit_of_work
from workflow.models import Document
from workflow.services.cases import CaseFilters, list_cases


def _documents(env) -> int:
    with unit_of_work(env.engine) as session:
        return session.query(Document).count()


# -- a file field given something else -----------------------------------------------------------------------

def test_json_file_on_the_responses_route_is_422(env, staff, api) -> None:
    body = {"outcome": "acknowledged", "received_on": "2024-01-10", "file": "JVBERi0xLjQK"}
    for value in ("JVBERi0xLjQK", 12, {"filename": "a.pdf"}, ["x"], None):
        response = api("POST", "/api/v1/filings/1/responses", "lena", json={**body, "file": value})
        assert response.status_code == 422, (value, response.status_code, response.get_json())
        assert "file" in response.get_json()["errors"], response.get_json()
    # The same name as a text part of a multipart form.
    response = api("POST", "/api/v1/filings/1/responses", "lena", content_type="multipart/form-data",
                   data={"outcome": "acknowledged", "received_on": "2024-01-10", "file": "not a file"})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["file"] == "must be a file, sent as multipart/form-data"


def test_text_where_a_file_is_expected_elsewhere_is_refused(env, staff, api, login) -> None:
    open_sample_case(env, "APL-FILE", documents=())
    before = _documents(env)
    # The other API routes that read files: the import upload and a filing's new version.
    for path in ("/api/v1/imports", "/api/v1/filings/1/versions", "/api/v1/cases/APL-FILE/documents"):
        as_text = api("POST", path, "lena", content_type="multipart/form-data",
                      data={"file": "not a file", "spreadsheet": "not a file", "kind": "evidence"})
        assert 400 <= as_text.status_code < 500, (path, as_text.status_code, as_text.get_json())
        as_json = api("POST", path, "lena", json={"file": "JVBERi0xLjQK", "spreadsheet": "x", "kind": "evidence"})
        assert 400 <= as_json.status_code < 500, (path, as_json.status_code, as_json.get_json())
    # A page's upload form with the file as a text part: refused as "no file", nothing stored.
    client = login("ina")
    token = csrf_token(client.get("/cases/APL-FILE").get_data(as_text=True))
    page = client.post("/cases/APL-FILE/documents", content_type="multipart/form-data",
                       data={"upload-csrf_token": token, "upload-kind": "evidence", "upload-file": "not a file"})
    assert 400 <= page.status_code < 500, page.status_code
    assert _documents(env) == before
    real = client.post("/cases/APL-FILE/documents", content_type="multipart/form-data",
                       data={"upload-csrf_token": token, "upload-kind": "evidence",
                             "upload-file": (io.BytesIO(PDF), "scan.pdf")})
    assert real.status_code == 303 and _documents(env) == before + 1  # the same form with a file does store


# -- 405 and Allow ---------------------------------------------------------------------------------------------

def test_405_carries_allow_on_pages_and_api(env, staff, login, api) -> None:
    page = login("ina").delete("/tasks")
    assert page.status_code == 405
    assert set(page.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert "POST" not in page.headers["Allow"]
    api_answer = api("DELETE", "/api/v1/cases", "ina")
    assert api_answer.status_code == 405
    assert {"GET", "POST"} <= set(api_answer.headers["Allow"].replace(" ", "").split(","))
    assert api_answer.get_json()["error"] == "method_not_allowed"
    # Not signed in: still a 405 with Allow (the method is wrong whoever asks).
    anonymous = api("PUT", "/api/v1/health")
    assert anonymous.status_code == 405 and "GET" in anonymous.headers["Allow"]


# -- % and _ are literal -------------------------------------------------------------------------------------

REFS = ["ED-1", "ED_2", "EDX3"]


def _open(env) -> None:
    for ref in REFS:
        open_sample_case(env, ref)


def _found(env, q: str) -> list[str]:
    with unit_of_work(env.engine) as session:
        cases, _total = list_cases(session, CaseFilters(q=q), page=1, per_page=50)
        return sorted(case.ref for case in cases)


def test_percent_and_underscore_are_literal_in_searches(env, staff, api, login) -> None:
    _open(env)
    assert _found(env, "ed") == sorted(REFS)
    assert _found(env, "%") == []  # not "everything"
    assert _found(env, "_") == ["ED_2"]  # only the underscore, not any one character
    assert _found(env, "d_") == ["ED_2"]
    assert _found(env, "\\") == []  # the escape character itself is literal too
    listed = api("GET", "/api/v1/cases?q=%25", "ina").get_json()
    assert listed["total"] == 0, listed
    listed = api("GET", "/api/v1/cases?q=_", "ina").get_json()
    assert [c["ref"] for c in listed["items"]] == ["ED_2"]
    page = login("ina").get("/cases?q=_").get_data(as_text=True)
    assert "ED_2" in page and "EDX3" not in page and "ED-1" not in page
    page = login("ina").get("/cases?q=%25").get_data(as_text=True)
    assert "ED_2" not in page and "EDX3" not in page


# -- a DOCX whose entries lie about their size -----------------------------------------------------------------

def test_a_docx_lying_about_its_sizes_is_refused_through_the_upload_routes(env, staff, api, login) -> None:
    open_sample_case(env, "APL-LIES", documents=())
    before = _documents(env)
    stored = sorted(env.settings.documents_dir.rglob("*")) if env.settings.documents_dir.exists() else []
    bomb = lying_docx()
    answer = api("POST", "/api/v1/cases/APL-LIES/documents", "ina", content_type="multipart/form-data",
                 data={"kind": "evidence", "file": (io.BytesIO(bomb), "statement.docx")})
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["errors"]["file"] == ("DOCX entry word/document.xml holds more than its declared size "
                                                   "(zip bomb?)")
    client = login("ina")
    token = csrf_token(client.get("/cases/APL-LIES").get_data(as_text=True))
    page = client.post("/cases/APL-LIES/documents", content_type="multipart/form-data",
                       data={"upload-csrf_token": token, "upload-kind": "evidence",
                             "upload-file": (io.BytesIO(bomb), "statement.docx")})
    assert page.status_code == 422, page.status_code
    assert "holds more than its declared size" in page.get_data(as_text=True)
    assert _documents(env) == before
    after = sorted(env.settings.documents_dir.rglob("*")) if env.settings.documents_dir.exists() else []
    assert after == stored  # nothing written to storage either
