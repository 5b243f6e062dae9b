"""Import appeals in the browser (web/imports): upload, preview, confirm, the job, its report; on every database."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.web.conftest import csrf_token
from tests.workflow.fixtures import COLUMNS, appeal_rows, ensure_test_episodes, fictional_pdf
from workflow.models import Case, Document, Job
from workflow.runtime.context import document_store
from workflow.services import jobs
from workflow.services.worker import tick

UPLOAD = "/imports/appeals"


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([v.isoformat() if hasattr(v, "isoformat") else v for v in (row[c] for c in COLUMNS)])
    return out.getvalue().encode()


def docs_zip(rows: list[dict[str, Any]], folder: str = "scans/") -> bytes:
    """The rows' documents in a zip, inside a folder (as people zip a folder)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            for column in ("form_of_appeal", "power_of_attorney"):
                if row[column]:
                    archive.writestr(folder + row[column], fictional_pdf(column, row["ref"]))
    return out.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def prepared(env, n: int, missing: int = 2) -> list[dict[str, Any]]:
    with env.uow() as session:
        ensure_test_episodes(session)
    return appeal_rows(n, missing)


def upload(client, sheet: bytes, documents: list[tuple[bytes, str]], name: str = "appeals.csv"):
    token = csrf_token(client.get(UPLOAD).get_data(as_text=True))
    data = {"csrf_token": token, "spreadsheet": (io.BytesIO(sheet), name),
            "documents": [(io.BytesIO(content), filename) for content, filename in documents]}
    return client.post(UPLOAD, data=data, content_type="multipart/form-data")


def confirm(client):
    page = client.get(UPLOAD)  # the session's token; the preview may have nothing left to show
    return client.post(f"{UPLOAD}/confirm", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def case_count(env) -> int:
    with env.uow() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def blob_count(env) -> int:
    """Blobs in the configured store (TEST_DOCUMENT_STORAGE); on disk, also any temporary file."""
    if env.settings.document_storage == "database":
        return len(document_store(env.settings).blob_keys())
    root = env.settings.documents_dir
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_upload_preview_then_confirm_creates_the_cases(env, login) -> None:
    rows = prepared(env, 6)
    rows[2]["incident_types"] = "no_such_type"
    rows[4]["incident_date"] = "31.02.2022"
    rows[5]["incident_date"] = rows[5]["incident_date"].strftime("%d.%m.%Y")  # dd.mm.yyyy is a date
    rows[5]["episodes"] = ""  # no episode yet
    client = login("ina")

    page = client.get(UPLOAD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="csrf_token"' in html
    assert "/imports/template.xlsx" in html and 'multiple' in html

    response = upload(client, csv_bytes(rows), [(docs_zip(rows), "scans.zip")])
    assert response.status_code == 303 and response.headers["Location"].endswith("/imports/appeals/preview")
    preview = client.get(f"{UPLOAD}/preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r"Would create: <strong>4</strong>", html)
    assert re.search(r"Rows with errors, not imported: <strong[^>]*>2</strong>", html)
    assert re.search(r"<td>4</td><td>incident_types</td><td>Unknown incident type &#39;no_such_type&#39;", html)
    assert re.search(r"<td>6</td><td>incident_date</td><td>Must be a date", html)
    assert "read as UTF-8" in html and "Import the 4 valid rows" in html
    assert case_count(env) == 0, "the preview wrote something"

    response = confirm(client)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert case_count(env) == 4
    with env.uow() as session:
        no_episode = session.scalar(select(Case).where(Case.ref == rows[5]["ref"]))
        assert no_episode is not None and no_episode.episodes == []
        documents = session.scalar(select(func.count()).select_from(Document))
    assert blob_count(env) == documents, "staged files were left behind"

    html = client.get(job_url).get_data(as_text=True)
    assert "Finished" in html and "Created: <strong>4</strong>" in html
    assert "Not imported (errors): <strong>2</strong>" in html
    report = client.get(job_url + "/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    assert [(line["row"], line["outcome"]) for line in lines] == [
        ("2", "created"), ("3", "created"), ("4", "rejected"), ("5", "created"), ("6", "rejected"), ("7", "created")]
    assert "incident_types: Unknown incident type" in lines[2]["problems"]

    # The staging is used up: confirming again refuses, and the same file again would change nothing.
    assert confirm(client).status_code == 409
    assert upload(client, csv_bytes(rows), [(docs_zip(rows), "scans.zip")]).status_code == 303
    html = client.get(f"{UPLOAD}/preview").get_data(as_text=True)
    assert "Would leave unchanged: <strong>4</strong>" in html


def test_documents_as_many_files_and_a_cancel_leaves_nothing(env, login) -> None:
    rows = prepared(env, 3, missing=0)
    client = login("mara")  # managers may import too
    files = [(fictional_pdf(c, r["ref"]), r[c]) for r in rows for c in ("form_of_appeal", "power_of_attorney")]
    assert upload(client, csv_bytes(rows), files).status_code == 303
    html = client.get(f"{UPLOAD}/preview").get_data(as_text=True)
    assert "Would create: <strong>3</strong>" in html and "6 documents uploaded" in html
    assert blob_count(env) == 6 + 2  # the documents, the spreadsheet and the manifest, all encrypted
    assert not any(b"Fictional test document" in p.read_bytes()
                   for p in env.settings.documents_dir.rglob("*") if p.is_file()), "a staged file is plain"
    response = client.post(f"{UPLOAD}/cancel", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303 and blob_count(env) == 0 and case_count(env) == 0


def test_a_large_import_is_left_to_the_worker_and_its_report_downloads(env, login) -> None:
    rows = prepared(env, jobs.INLINE_LIMIT + 5)
    client = login("ina")
    assert upload(client, csv_bytes(rows), [(docs_zip(rows), "scans.zip")]).status_code == 303
    job_url = confirm(client).headers["Location"]
    assert case_count(env) == 0, "a large import ran inside the request"
    html = client.get(job_url).get_data(as_text=True)
    assert "<progress" in html and "Refresh to see the progress" in html and "import-progress.js" in html
    progress = client.get(job_url + "/progress").get_json()
    assert progress == {"state": "queued", "total": len(rows), "processed": 0, "percent": 0, "finished": False,
                        "counts": {"pending": len(rows)}}

    tick(env.engine, env.settings)  # the worker's loop runs pending jobs

    assert case_count(env) == len(rows)
    assert client.get(job_url + "/progress").get_json()["finished"] is True
    lines = list(csv.DictReader(io.StringIO(client.get(job_url + "/report.csv").get_data().decode("utf-8-sig"))))
    assert len(lines) == len(rows) and {line["outcome"] for line in lines} == {"created"}
    with env.uow() as session:
        assert session.scalar(select(Job.state)) == "done"


def test_a_killed_import_job_resumes_without_doing_a_row_twice(env, login) -> None:
    rows = prepared(env, jobs.INLINE_LIMIT + 2)
    client = login("ina")
    upload(client, csv_bytes(rows), [(docs_zip(rows), "scans.zip")])
    job_url = confirm(client).headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    assert jobs.run(env.engine, env.settings, job_id, limit=10) is False  # the runner dies after 10 rows
    assert case_count(env) == 10
    with env.uow() as session:  # the dead runner's last heartbeat is now older than STALE_AFTER
        job = session.get(Job, job_id)
        job.heartbeat_at = job.heartbeat_at - jobs.STALE_AFTER - timedelta(seconds=1)

    assert jobs.run_pending(env.engine, env.settings) == 1
    assert case_count(env) == len(rows)
    lines = list(csv.DictReader(io.StringIO(client.get(job_url + "/report.csv").get_data().decode("utf-8-sig"))))
    assert [line["outcome"] for line in lines] == ["created"] * len(rows)


def test_hostile_or_wrong_uploads_are_refused_and_nothing_is_staged(env, login) -> None:
    rows = prepared(env, 2)
    client = login("ina")
    sheet = csv_bytes(rows)
    traversal = zip_of({"../../outside/foa.pdf": fictional_pdf("x", "y")})
    bomb = zip_of({"scans/foa.pdf": b"%PDF-1.4\n" + b"\0" * (5 * 1024 * 1024)})
    too_big = zip_of({"scans/poa.pdf": b"%PDF-1.4\n" + b"\0" * (env.settings.max_document_bytes + 1)})
    for documents, expected in (
            ([(traversal, "scans.zip")], "points outside the archive"),
            ([(bomb, "scans.zip")], "a zip bomb"),
            ([(too_big, "scans.zip")], "over the"),
            ([(b"not a zip at all", "scans.zip")], "is not a readable zip archive"),
            ([(b"x", "a.pdf"), (b"y", "a.pdf")], "two uploaded documents are named a.pdf")):
        response = upload(client, sheet, documents)
        assert response.status_code == 422, expected
        assert expected.lower() in response.get_data(as_text=True).lower(), expected
    response = upload(client, b"%PDF-1.4", [], name="appeals.pdf")
    assert response.status_code == 422 and "Choose a .csv or .xlsx file" in response.get_data(as_text=True)
    assert blob_count(env) == 0 and case_count(env) == 0


def test_an_unreadable_spreadsheet_is_refused_at_the_preview(env, login) -> None:
    client = login("ina")
    assert upload(client, b"\xa6\xa6\xb5\x98", []).status_code == 303
    response = client.get(f"{UPLOAD}/preview")
    assert response.status_code == 422 and "neither UTF-8 nor Windows-1251" in response.get_data(as_text=True)
    assert blob_count(env) == 0


def test_roles_and_ownership(env, login, client) -> None:
    rows = prepared(env, 1, missing=0)
    for user in ("lena", "ada"):
        other = login(user)
        assert other.get(UPLOAD).status_code == 403
        assert other.get("/imports/template.csv").status_code == 403
    assert client.get(UPLOAD).status_code == 302  # signed out: to the sign-in page
    ina = login("ina")
    upload(ina, csv_bytes(rows), [(docs_zip(rows), "scans.zip")])
    job_url = confirm(ina).headers["Location"]
    assert login("ivan").get(job_url).status_code == 403  # another clerk's import
    assert login("mara").get(job_url).status_code == 200  # managers see every job
    assert login("lena").post(f"{UPLOAD}/confirm", data={}).status_code in (400, 403)


def test_the_template_files_import_cleanly_once_their_episode_exists(env, login) -> None:
    from datetime import date

    from workflow.services.episodes import upsert_episode

    with env.uow() as session:
        upsert_episode(session, None, "rally-2018-05-10", "Rally of 10 May 2018 (test)", date(2018, 5, 10),
                       date(2018, 5, 10))
    client = login("ina")
    for extension in ("csv", "xlsx"):
        response = client.get(f"/imports/template.{extension}")
        assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
        if extension == "csv":  # every column, the optional filing facts too (XLSX is the same list, zipped)
            assert b",perpetrator_agencies,arrest_date,arrest_place,arrest_forces,legal_provision\r\n" \
                in response.get_data()
        documents = [(fictional_pdf("foa", "T"), "foa-APL-0001.pdf"), (fictional_pdf("poa", "T"), "poa-APL-0001.pdf")]
        assert upload(client, response.get_data(), documents, name=f"template.{extension}").status_code == 303
        html = client.get(f"{UPLOAD}/preview").get_data(as_text=True)
        assert "Would create: <strong>1</strong>" in html, html[:3000]


# -- the same over the API ------------------------------------------------------------------------------


def api_upload(api, user: str, sheet: bytes, documents: list[tuple[bytes, str]], **options: str):
    data: dict[str, Any] = {"file": (io.BytesIO(sheet), "appeals.csv"), **options,
                            "documents": [(io.BytesIO(content), name) for content, name in documents]}
    return api("POST", "/api/v1/imports", user, data=data, content_type="multipart/form-data")


def test_the_api_previews_refuses_and_imports(env, api) -> None:
    rows = prepared(env, 4)
    rows[3]["incident_types"] = "no_such_type"
    sheet, documents = csv_bytes(rows), [(docs_zip(rows), "scans.zip")]

    dry = api_upload(api, "ina", sheet, documents, dry_run="true")
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert (body["created"], body["rejected"], body["encoding"]) == (3, 1, "UTF-8")
    assert body["errors"] == [{"row": 5, "column": "incident_types", "message": "unknown incident type 'no_such_type'"}]
    assert [r["outcome"] for r in body["rows"]] == ["created"] * 3

    strict = api_upload(api, "ina", sheet, documents)
    assert strict.status_code == 422 and set(strict.get_json()["errors"]) == {"row 5, incident_types"}
    assert case_count(env) == 0 and blob_count(env) == 0

    done = api_upload(api, "ina", sheet, documents, partial="true")
    assert done.status_code == 202
    job = done.get_json()
    assert (job["state"], job["total"], job["finished"]) == ("done", 3, True)
    assert [(r["row"], r["outcome"]) for r in job["rows"]] == [(2, "created"), (3, "created"), (4, "created"),
                                                               (5, "rejected")]
    assert case_count(env) == 3
    assert api("GET", job["url"], "ina").get_json() == job
    assert api("GET", job["url"], "lena").status_code == 403
    assert api("GET", "/api/v1/imports/999", "ina").status_code == 404
    assert api_upload(api, "lena", sheet, documents).status_code == 403
    stored = blob_count(env)  # the cases' documents; the staging is gone
    with env.uow() as session:
        assert stored == session.scalar(select(func.count()).select_from(Document))
    hostile = api_upload(api, "ina", sheet, [(zip_of({"../x.pdf": b"%PDF-1.4"}), "scans.zip")])
    assert hostile.status_code == 422 and "points outside the archive" in hostile.get_json()["errors"]["documents"]
    wrong = api("POST", "/api/v1/imports", "ina", data={"file": (io.BytesIO(b"x"), "appeals.pdf")},
                content_type="multipart/form-data")
    assert wrong.status_code == 422 and wrong.get_json()["errors"] == {"file": "choose a .csv or .xlsx file"}
    assert blob_count(env) == stored
