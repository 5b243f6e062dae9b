"""Case documents through the test client: upload from the case page, refusals that store nothing,
downloads (page and API) that return the exact bytes and leave an audit event, role refusals."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import PDF, docx_bytes, open_sample_case
from tests.web.conftest import PASSWORD, csrf_token
from web import create_app
from workflow.models import AuditEvent, Case, Document
from workflow.runtime.context import document_store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
DOCX = docx_bytes("A court decision of 5 January 2022.")


def zip_bomb() -> bytes:
    """A DOCX-shaped zip whose one part declares 12 MB that compress to a few KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (12 * 1024 * 1024))
    return out.getvalue()


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def stored(env) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(document rows, files in the document store): both must stay put when an upload is refused."""
    with env.uow() as session:
        rows = session.scalar(select(func.count()).select_from(Document))
    root = env.settings.documents_dir
    files = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    return rows, files


def upload(client: FlaskClient, ref: str, kind: str, content: bytes, filename: str):  # type: ignore[no-untyped-def]
    token = csrf_token(text_of(client.get(f"/cases/{ref}")))
    return client.post(f"/cases/{ref}/documents", content_type="multipart/form-data",
                       data={"upload-csrf_token": token, "upload-kind": kind,
                             "upload-file": (io.BytesIO(content), filename)})


def document_ids(env, ref: str) -> dict[tuple[str, int], int]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        rows = session.execute(select(Document.kind, Document.version, Document.id).join(Case)
                               .where(Case.ref == ref)).all()
    return {(kind, version): id_ for kind, version, id_ in rows}


def sign_in(app, username: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = csrf_token(text_of(client.get("/login")))
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


# -- upload ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["ina", "lena"])
def test_upload_pdf_png_jpeg_docx_and_versions(env, login, user):
    open_sample_case(env, "APL-501", documents=())
    client = login(user)
    plain = text_of(client.get("/cases/APL-501"))  # the form is drawn when asked for, through this link
    assert 'href="/cases/APL-501?open=documents#documents"' in plain and 'name="upload-file"' not in plain
    page = text_of(client.get("/cases/APL-501?open=documents"))
    assert 'enctype="multipart/form-data"' in page and 'name="upload-file"' in page
    for kind, content, name in [("form_of_appeal", PDF, "foa.pdf"), ("evidence", PNG, "photo.png"),
                                ("medical", JPEG, "report.jpeg"), ("court_decision", DOCX, "decision.docx"),
                                ("form_of_appeal", PDF, "foa-signed.pdf")]:
        response = upload(client, "APL-501", kind, content, name)
        assert response.status_code == 303, text_of(response)[:1000]
        assert response.headers["Location"].endswith("/cases/APL-501#h-documents")
    ids = document_ids(env, "APL-501")
    assert set(ids) == {("form_of_appeal", 1), ("form_of_appeal", 2), ("evidence", 1), ("medical", 1),
                        ("court_decision", 1)}
    page = text_of(client.get("/cases/APL-501"))
    assert "Added: Form of appeal, version 2." in page
    for id_ in ids.values():
        assert f'href="/cases/APL-501/documents/{id_}"' in page
    with env.uow() as session:
        media = dict(session.execute(select(Document.filename, Document.media_type)).all())
    assert media == {"foa.pdf": "application/pdf", "photo.png": "image/png", "report.jpeg": "image/jpeg",
                     "decision.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "foa-signed.pdf": "application/pdf"}


REFUSED = [
    ("a PDF named .png", PDF, "scan.png", "Content is a PDF but the name says .png."),
    ("text named .pdf", b"just some text", "foa.pdf", "Content is not a PDF, JPEG, PNG or DOCX."),
    ("an empty file", b"", "foa.pdf", "File is empty."),
    ("a zip bomb", None, "bomb.docx", "(zip bomb?)"),
]


@pytest.mark.parametrize(("what", "content", "filename", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_uploads_say_why_next_to_the_field_and_store_nothing(env, login, what, content, filename,
                                                                     message):
    open_sample_case(env, "APL-502", documents=())
    client = login("ina")
    before = stored(env)
    response = upload(client, "APL-502", "evidence", zip_bomb() if content is None else content, filename)
    html = text_of(response)
    assert response.status_code == 422, html[:1000]
    error = re.search(r'<p class="field-error" id="upload-file-error">([^<]*)</p>', html)
    assert error and message in error.group(1), html[-4000:]
    assert 'aria-describedby="upload-file-error"' in html
    assert "Nothing was stored" in html
    assert stored(env) == before
    with env.uow() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "document_uploaded")) == 0


def test_a_missing_file_or_unknown_kind_is_named(env, login):
    open_sample_case(env, "APL-503", documents=())
    client = login("ina")
    token = csrf_token(text_of(client.get("/cases/APL-503")))
    response = client.post("/cases/APL-503/documents", content_type="multipart/form-data",
                           data={"upload-csrf_token": token, "upload-kind": "selfie"})
    html = text_of(response)
    assert response.status_code == 422
    assert 'id="upload-kind-error"' in html and 'id="upload-file-error">Is required.' in html
    assert stored(env) == (0, 0)


def test_over_the_document_limit_is_422_and_over_the_request_limit_is_a_clear_413(env, staff):
    app = create_app(dataclasses.replace(env.settings, max_document_bytes=2048), TESTING=True)
    open_sample_case(env, "APL-504", documents=())
    client = sign_in(app, "ina")
    before = stored(env)
    response = upload(client, "APL-504", "evidence", PDF + b"0" * 4096, "big.pdf")
    assert response.status_code == 422
    assert "over the 2.0 KB limit." in text_of(response)
    # Over the whole request's limit (MAX_CONTENT_LENGTH): refused before the body is read.
    whole = client.post("/cases/APL-504/documents", data=b"0" * (2 * 1024 * 1024),
                        content_type="multipart/form-data; boundary=xyz")
    assert whole.status_code == 413
    assert "larger than the limit of 2 KB. Nothing was stored" in text_of(whole)
    assert 'href="/cases/APL-504#h-documents"' in text_of(whole)
    assert stored(env) == before
    assert upload(client, "APL-504", "evidence", PDF, "small.pdf").status_code == 303


def test_managers_and_admins_cannot_upload(env, login):
    open_sample_case(env, "APL-505", documents=())
    for user in ("mara", "ada"):
        client = login(user)
        token = csrf_token(text_of(client.get("/tasks")))
        response = client.post("/cases/APL-505/documents", content_type="multipart/form-data",
                               data={"upload-csrf_token": token, "upload-kind": "evidence",
                                     "upload-file": (io.BytesIO(PDF), "x.pdf")})
        assert response.status_code == 403
    assert stored(env) == (0, 0)


def test_csrf_is_required(env, login):
    open_sample_case(env, "APL-506", documents=())
    response = login("ina").post("/cases/APL-506/documents", content_type="multipart/form-data",
                                 data={"upload-kind": "evidence", "upload-file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 400
    assert stored(env) == (0, 0)


# -- download --------------------------------------------------------------------------------------------

def downloads(env) -> list[dict]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return [{"object_id": e.object_id, **e.data} for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document_downloaded").order_by(AuditEvent.id))]


def test_download_from_the_case_page_returns_the_exact_bytes_and_is_audited(env, login):
    open_sample_case(env, "APL-510", documents=())
    client = login("lena")
    assert upload(client, "APL-510", "court_decision", DOCX, "decision.docx").status_code == 303
    assert upload(client, "APL-510", "evidence", PNG, "photo.png").status_code == 303
    ids = document_ids(env, "APL-510")
    response = client.get(f"/cases/APL-510/documents/{ids[('court_decision', 1)]}")
    assert response.status_code == 200 and response.data == DOCX
    assert response.headers["Content-Type"] == ("application/vnd.openxmlformats-officedocument"
                                                ".wordprocessingml.document")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "decision.docx" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    png = login("ina").get(f"/cases/APL-510/documents/{ids[('evidence', 1)]}")
    assert png.data == PNG and png.headers["Content-Type"] == "image/png"
    events = downloads(env)
    assert [(e["object_id"], e["kind"], e["document_id"], e["channel"]) for e in events] == [
        (str(ids[("court_decision", 1)]), "court_decision", ids[("court_decision", 1)], "web"),
        (str(ids[("evidence", 1)]), "evidence", ids[("evidence", 1)], "web")]
    assert all(set(e) <= {"object_id", "document_id", "kind", "version", "channel"} for e in events)
    assert "Document opened" in text_of(client.get("/cases/APL-510/history"))


def test_download_refusals(env, login):
    open_sample_case(env, "APL-511", documents=())
    open_sample_case(env, "APL-512", documents=())
    assert upload(login("ina"), "APL-511", "evidence", PDF, "x.pdf").status_code == 303
    (doc_id,) = document_ids(env, "APL-511").values()
    manager = login("mara")
    page = text_of(manager.get("/cases/APL-511"))
    assert "/documents/" not in page and 'name="upload-file"' not in page  # metadata only
    assert "opening them is for the intake and legal teams" in page
    assert manager.get(f"/cases/APL-511/documents/{doc_id}").status_code == 403
    assert login("ada").get(f"/cases/APL-511/documents/{doc_id}").status_code == 403
    assert login("ina").get(f"/cases/APL-512/documents/{doc_id}").status_code == 404  # not this case's
    assert login("ina").get("/cases/APL-511/documents/999999").status_code == 404
    assert downloads(env) == []


def test_a_document_whose_stored_file_is_lost_is_a_404_naming_it_not_a_500(env, login):
    open_sample_case(env, "APL-514", documents=())
    client = login("lena")
    assert upload(client, "APL-514", "evidence", PDF, "scan.pdf").status_code == 303
    (doc_id,) = document_ids(env, "APL-514").values()
    with env.uow() as session:  # the blob goes (a disk lost, a restore without the documents); the row stays
        document_store(env.settings, session).backend.delete(session.get(Document, doc_id).storage_key)
    page = client.get(f"/cases/APL-514/documents/{doc_id}")
    assert page.status_code == 404 and "stored file is missing" in text_of(page)
    assert downloads(env) == []


def test_api_download_is_audited_and_limited_to_intake_and_legal(env, staff, token, app):
    open_sample_case(env, "APL-513", documents=())
    client = app.test_client()
    created = client.post("/api/v1/cases/APL-513/documents", headers=token("ina"),
                          content_type="multipart/form-data",
                          data={"kind": "medical", "file": (io.BytesIO(JPEG), "report.jpg")})
    assert created.status_code == 201, created.get_data(as_text=True)
    doc_id = created.get_json()["id"]
    response = client.get(f"/api/v1/documents/{doc_id}", headers=token("lena"))
    assert response.status_code == 200 and response.data == JPEG
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert [(e["kind"], e["document_id"], e["channel"]) for e in downloads(env)] == [("medical", doc_id, "api")]
    for user in ("mara", "ada"):
        refused = client.get(f"/api/v1/documents/{doc_id}", headers=token(user))
        assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    missing = client.get("/api/v1/documents/999999", headers=token("ina"))
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert len(downloads(env)) == 1
