"""The lawyer's final word: a legal officer uploads an edited .docx or PDF as the next version of a filing (pages
and API, individual filings and the collective complaint), and it is what is downloaded, submitted and bundled;
refused files store nothing; the stored bytes are encrypted. Real app, real database (SQLite and PostgreSQL), real
.docx files reopened with python-docx; no mocks."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from datetime import date
from hashlib import sha256

import docx
import pytest
from sqlalchemy import func, select

from tests.helpers import PDF, do, docx_bytes, filing_in_check, open_sample_case
from tests.second_factor import pass_second_factor
from tests.web.conftest import PASSWORD, csrf_token
from tests.web.test_api import error, ok
from tests.web.test_api_filings import complaint
from web import create_app
from workflow.models import AuditEvent, CollectiveComplaint, Document, Filing, HumanTask
from workflow.runtime.context import document_store

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REF = "APL-FW1"
EDITED = "Edited by the legal officer: the final wording of this communication."
# The complainant's name in the file's own name: it must not be kept anywhere.
PERSONAL_NAME = "Aigerim Testova statement.docx"


@pytest.fixture
def filing_id(env, staff) -> int:  # type: ignore[no-untyped-def]
    return filing_in_check(env, REF)


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def paragraphs(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def upload_on_page(client, page_path: str, filing_id: int, content: bytes, name: str):  # type: ignore[no-untyped-def]
    token = csrf_token(text_of(client.get(page_path)))
    return client.post(f"/filings/{filing_id}/versions", content_type="multipart/form-data",
                       data={f"version{filing_id}-csrf_token": token, "csrf_token": token,
                             f"version{filing_id}-file": (io.BytesIO(content), name)})


def stored(env) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(filing documents in the database, blobs in the store): nothing refused may add to either."""
    with env.uow() as session:
        rows = session.scalar(select(func.count()).select_from(Document).where(Document.kind == "filing"))
    return rows, len(document_store(env.settings).blob_keys())


def documents_of(env, filing_id: int) -> list[Document]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        found = list(session.scalars(select(Document).where(Document.filing_id == filing_id, Document.kind == "filing")
                                     .order_by(Document.version)))
        session.expunge_all()
        return found


def events(env, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        session.expunge_all()
        return found


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_edited_docx_is_the_version_downloaded_submitted_and_bundled(env, login, api, filing_id):
    lena = login("lena")
    page = text_of(lena.get(f"/cases/{REF}"))
    assert f'action="/filings/{filing_id}/versions"' in page and "Upload the edited version" in page
    edited = docx_bytes(EDITED)

    response = upload_on_page(lena, f"/cases/{REF}", filing_id, edited, PERSONAL_NAME)
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{REF}#filing-{filing_id}"
    page = text_of(lena.get(f"/cases/{REF}"))
    assert "Version 2 uploaded" in page
    cell = page[page.index(f'id="filing-versions-{filing_id}"'):]
    cell = cell[:cell.index("</td>")]
    assert re.search(r"version 1.*generated", cell, re.S)
    assert re.search(r"version 2.*uploaded by Lena.*current", cell, re.S)
    assert not re.search(r"version 1[^\n]*current", cell)

    # The file's own name is kept nowhere: a neutral name, an audit event without it.
    v1, v2 = documents_of(env, filing_id)
    assert (v1.uploaded_by_id, v2.version, v2.media_type) == (None, 2, DOCX)
    assert v2.filename == f"{REF}-un_sp-en-v2-edited.docx" and v2.sha256 == sha256(edited).hexdigest()
    [event] = events(env, "filing_version_uploaded")
    assert (event.object_type, event.object_id) == ("filing", str(filing_id))
    assert event.data == {"body": "un_sp", "version": 2, "document_id": v2.id, "size": len(edited),
                          "sha256": sha256(edited).hexdigest(), "format": "docx"}
    assert "statement" not in str(event.data) and "statement.docx" not in page

    # Encrypted at rest: the blob is neither the zip nor contains its text.
    blob = (env.settings.documents_dir / v2.storage_key[:2] / v2.storage_key[2:4] / v2.storage_key).read_bytes()
    assert not blob.startswith(b"PK") and edited not in blob and b"word/document.xml" not in blob

    # The current version is what the API reads and downloads.
    filing = ok(api("GET", f"/api/v1/filings/{filing_id}", "lena"))
    assert [(v["version"], v["origin"], v["uploaded_by"], v["current"]) for v in filing["versions"]] == [
        (1, "generated", None, False), (2, "uploaded", "lena", True)]
    latest = api("GET", f"/api/v1/filings/{filing_id}/document", "ina")
    assert latest.data == edited and EDITED in paragraphs(latest.data)
    assert latest.headers["Content-Disposition"] == f"attachment; filename={REF}-un_sp-en-v2-edited.docx"

    # The check approves the current version and freezes it; nothing may follow it.
    do(env, REF, "check_filing", "leo", {"decision": "approve"})
    with env.uow() as session:
        check = session.scalar(select(HumanTask).where(HumanTask.filing_id == filing_id,
                                                       HumanTask.bpmn_id == "check_filing"))
        assert session.get(Filing, filing_id).state == "checked" and check.state == "completed"
    [completed] = [e for e in events(env, "task_completed") if e.data.get("task") == "check_filing"]
    assert {"filing_version", "filing_document_id"} <= set(completed.data["fields"])  # names only
    assert "Upload the edited version" not in text_of(lena.get(f"/cases/{REF}"))
    before = stored(env)
    frozen = error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
                       data={"file": (io.BytesIO(docx_bytes("Too late.")), "late.docx")}), 409, "filing_frozen")
    assert "checked" in frozen["errors"]["filing"]
    assert stored(env) == before

    do(env, REF, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email"})
    [submitted] = events(env, "filing_submitted")
    assert submitted.data["version"] == 2 and submitted.data["document_id"] == v2.id
    bundle = zipfile.ZipFile(io.BytesIO(login("ina").get(f"/cases/{REF}/filings.zip").data))
    assert bundle.read(f"filings/{REF}-un_sp-en-v2-edited.docx") == edited
    assert not any(name.endswith("-v1.docx") for name in bundle.namelist())

    # Submitted: refused on the page and through the API (409 with its code), nothing stored.
    late = upload_on_page(lena, f"/cases/{REF}", filing_id, docx_bytes("Too late."), "late.docx")
    assert late.status_code == 409 and "the version approved is the one that goes out" in text_of(late)
    refused = error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
                        data={"file": (io.BytesIO(docx_bytes("Too late.")), "late.docx")}), 409, "filing_frozen")
    assert "submitted" in refused["errors"]["filing"]
    assert stored(env) == before


def test_a_pdf_is_a_version_too_and_is_served_as_it_is(env, api, filing_id):
    created = ok(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
                     data={"file": (io.BytesIO(PDF), "final.pdf")}), 201)
    assert (created["version"], created["origin"], created["uploaded_by"], created["media_type"]) == (
        2, "uploaded", "lena", "application/pdf")
    for query in ("", "?format=pdf", "?version=2"):
        answer = api("GET", f"/api/v1/filings/{filing_id}/document{query}", "lena")
        assert answer.status_code == 200 and answer.mimetype == "application/pdf" and answer.data == PDF
        assert answer.headers["Content-Disposition"] == f"attachment; filename={REF}-un_sp-en-v2-edited.pdf"
    do(env, REF, "check_filing", "leo", {"decision": "approve"})
    do(env, REF, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email"})
    bundle = zipfile.ZipFile(io.BytesIO(api("GET", f"/api/v1/cases/{REF}/filings.zip", "ina").data))
    assert bundle.read(f"filings/{REF}-un_sp-en-v2-edited.pdf") == PDF


def test_refused_files_are_4xx_and_store_nothing(env, api, login, token, filing_id, clock):
    before = stored(env)
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                   "word/media/padding.bin": b"\0" * (12 * 1024 * 1024)})
    broken = zip_of({"[Content_Types].xml": b"not xml", "word/document.xml": b"not xml either"})
    spreadsheet = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    refused = {
        "renamed text": (b"Just some text, renamed to look like a Word file.", "edited.docx"),
        "zip bomb": (bomb, "edited.docx"),
        "not a Word zip": (spreadsheet, "edited.docx"),
        "a zip python-docx cannot open": (broken, "edited.docx"),
        "an image": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "edited.png"),
        "a PDF named .docx": (PDF, "edited.docx"),
        "empty": (b"", "edited.docx"),
    }
    for what, (content, name) in refused.items():
        answer = error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
                           data={"file": (io.BytesIO(content), name)}), 422, "invalid")
        assert set(answer["errors"]) == {"file"}, what
    assert "zip bomb" in error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
                                   data={"file": (io.BytesIO(bomb), "x.docx")}), 422)["errors"]["file"]
    error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena", data={}), 422, "invalid")  # no file at all

    lena = login("lena")
    page = upload_on_page(lena, f"/cases/{REF}", filing_id, b"Just text.", "edited.docx")
    assert page.status_code == 422 and "Nothing was changed" in text_of(page)
    no_token = lena.post(f"/filings/{filing_id}/versions", content_type="multipart/form-data",
                         data={f"version{filing_id}-file": (io.BytesIO(docx_bytes(EDITED)), "edited.docx")})
    assert no_token.status_code == 400

    # Over the size limit: 413 on the page and through the API.
    small = create_app(dataclasses.replace(env.settings, max_document_bytes=2048), TESTING=True, PETITIO_CLOCK=clock)
    client = small.test_client()
    pass_second_factor(client, client.post("/login", data={"username": "lena", "password": PASSWORD,
                                                           "csrf_token": csrf_token(text_of(client.get("/login")))}),
                       clock)
    assert upload_on_page(client, f"/cases/{REF}", filing_id, docx_bytes(EDITED), "edited.docx").status_code == 413
    big = small.test_client().post(f"/api/v1/filings/{filing_id}/versions", headers=token("lena"),
                                   data={"file": (io.BytesIO(docx_bytes(EDITED)), "edited.docx")})
    assert big.status_code == 413
    assert stored(env) == before and events(env, "filing_version_uploaded") == []


def test_intake_and_managers_may_not_upload(env, api, login, filing_id):
    before = stored(env)
    for user in ("ina", "mara"):
        client = login(user)
        page = text_of(client.get(f"/cases/{REF}"))
        assert "Upload the edited version" not in page
        response = client.post(f"/filings/{filing_id}/versions", content_type="multipart/form-data",
                               data={"csrf_token": csrf_token(page),
                                     f"version{filing_id}-file": (io.BytesIO(docx_bytes(EDITED)), "e.docx")})
        assert response.status_code == 403, user
        error(api("POST", f"/api/v1/filings/{filing_id}/versions", user,
                  data={"file": (io.BytesIO(docx_bytes(EDITED)), "e.docx")}), 403, "forbidden")
        error(api("POST", f"/api/v1/filings/{filing_id}/language", user, json={"language": "en"}), 403)
    error(api("POST", "/api/v1/filings/9999/versions", "lena",
              data={"file": (io.BytesIO(docx_bytes(EDITED)), "e.docx")}), 404, "not_found")
    assert stored(env) == before


def test_a_revision_after_an_upload_is_a_later_generated_version(env, api, filing_id):
    ok(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
           data={"file": (io.BytesIO(docx_bytes(EDITED)), "edited.docx")}), 201)
    do(env, REF, "check_filing", "leo", {"decision": "revise"})
    versions = ok(api("GET", f"/api/v1/filings/{filing_id}", "lena"))["versions"]
    assert [(v["version"], v["origin"], v["current"]) for v in versions] == [
        (1, "generated", False), (2, "uploaded", False), (3, "generated", True)]
    latest = api("GET", f"/api/v1/filings/{filing_id}/document", "lena")
    assert latest.headers["Content-Disposition"].endswith("-v3.docx") and EDITED not in paragraphs(latest.data)


def test_the_collective_complaint_takes_an_edited_version_until_its_legal_check(env, api, login, staff):
    for ref in ("APL-FW2", "APL-FW3"):
        open_sample_case(env, ref)
        do(env, ref, "verify_consent", "ina", VERIFIED)
        do(env, ref, "legal_review", "lena", {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    created = ok(api("POST", "/api/v1/collective-complaints", "lena", json=complaint(["APL-FW2", "APL-FW3"])), 201)
    page_path, filing_id = f"/collective/{created['id']}", created["filing_id"]
    lena = login("lena")
    assert "Upload the edited version" in text_of(lena.get(page_path))
    assert "Upload the edited version" not in text_of(login("mara").get(page_path))
    edited = docx_bytes("The collective complaint as the lawyer signs it.")
    response = upload_on_page(lena, page_path, filing_id, edited, "COL final.docx")
    assert response.status_code == 303 and response.headers["Location"] == page_path
    [version] = [v for v in ok(api("GET", f"/api/v1/filings/{filing_id}", "mara"))["versions"] if v["current"]]
    assert (version["version"], version["origin"]) == (2, "uploaded")

    [check] = ok(api("GET", f"/api/v1/collective-complaints/{created['id']}", "lena"))["tasks"]
    ok(api("POST", f"/api/v1/tasks/{check['id']}/complete", "leo", json={"data": {"decision": "approve"}}))
    # While the manager's approval waits, the version they read cannot change under them.
    error(api("POST", f"/api/v1/filings/{filing_id}/versions", "lena",
              data={"file": (io.BytesIO(docx_bytes("Changed.")), "x.docx")}), 409, "filing_not_in_check")
    [approval] = ok(api("GET", f"/api/v1/collective-complaints/{created['id']}", "mara"))["tasks"]
    ok(api("POST", f"/api/v1/tasks/{approval['id']}/complete", "mara", json={"data": {"decision": "approve"}}))
    approved = [e for e in events(env, "task_completed") if e.data.get("task") == "approve_filing"]
    assert "filing_version" in approved[-1].data["fields"]
    download = api("GET", f"/api/v1/filings/{filing_id}/document", "mara")
    assert download.data == edited
    with env.uow() as session:
        assert session.get(CollectiveComplaint, created["id"]).filing.state == "checked"
