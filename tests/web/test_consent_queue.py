"""The consent queue over HTTP: one case at a time with its two documents shown in the page (an inline route,
audited like a download), "both verified" and "missing" through the same completion as the case page, the bulk
request of missing documents as a job (resumable, no case done twice), roles and CSRF."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta

from sqlalchemy import func, select

from tests.helpers import PDF, appeal, docx_bytes, ensure_episode, ready_ids, stage, task
from tests.web.conftest import csrf_token
from workflow.models import AuditEvent, Document, HumanTask, Job, utcnow
from workflow.services import consent_queue, jobs
from workflow.services.cases import get_case, open_case
from workflow.services.documents import attach_document
from workflow.services.queues import TaskFilter


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A small real PNG (grey), so that a browser draws it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def open_cases(env, specs: dict[str, dict[str, tuple[bytes, str]]], **overrides) -> None:  # type: ignore[no-untyped-def]
    """Imported cases (waiting at verify_consent) with the given consent documents."""
    with env.uow() as session:
        ensure_episode(session)
        for ref, documents in specs.items():
            open_case(session, env.settings, None, appeal(ref, **overrides.get(ref, {})), documents, imported=True)


BOTH_PDF = {"form_of_appeal": (PDF, "foa.pdf"), "power_of_attorney": (PDF, "poa.pdf")}


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def documents_of(env, ref: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        case = get_case(session, ref)
        return {d.kind: d.id for d in session.scalars(select(Document).where(Document.case_id == case.id))}


def consent_of(env, ref: str) -> tuple[bool, bool, str, int | None]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        c = get_case(session, ref).consent
        return c.form_of_appeal_verified, c.power_of_attorney_verified, c.status, c.verified_by_id


def task_completions(env, ref: str) -> int:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        case = get_case(session, ref)
        return sum(1 for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                                      AuditEvent.action == "task_completed"))
                   if e.data.get("task") == "verify_consent")


def post_action(client, task_id: str, page_html: str, action: str, query: str = "", **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/consent/queue/{task_id}{query}",
                       data={"csrf_token": csrf_token(page_html), "action": action, **fields})


def test_the_queue_shows_both_documents_inline_and_each_read_is_audited(env, login):
    open_cases(env, {"APL-701": BOTH_PDF,
                     "APL-702": {"form_of_appeal": (png_bytes(), "foa.png"),
                                 "power_of_attorney": (JPEG, "poa.jpg")}})
    ina = login("ina")
    page = ina.get("/consent/queue")
    html = text_of(page)
    assert page.status_code == 200
    assert "Case 1 of 2" in html and "APL-701" in html and "Aigerim Testova APL-701" in html
    assert 'name="csrf_token"' in html and 'src="/static/consent-queue.js"' in html
    assert "<script>" not in html and "onclick" not in html  # the CSP allows no inline script
    docs = documents_of(env, "APL-701")
    for kind in ("form_of_appeal", "power_of_attorney"):
        assert f'<iframe class="cq-view" src="/cases/APL-701/consent/documents/{docs[kind]}"' in html
    assert 'data-key="v"' in html and 'data-key="m"' in html and 'data-key="s"' in html

    answer = ina.get(f"/cases/APL-701/consent/documents/{docs['form_of_appeal']}")
    assert answer.status_code == 200 and answer.data == PDF
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("inline")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"

    # The second case: images drawn as images, each with its own type.
    second = task(env, "APL-702", "verify_consent").id
    html = text_of(ina.get(f"/consent/queue?task={second}"))
    assert "Case 2 of 2" in html
    images = documents_of(env, "APL-702")
    assert f'<img class="cq-view" src="/cases/APL-702/consent/documents/{images["form_of_appeal"]}"' in html
    png = ina.get(f"/cases/APL-702/consent/documents/{images['form_of_appeal']}")
    jpeg = ina.get(f"/cases/APL-702/consent/documents/{images['power_of_attorney']}")
    assert (png.status_code, png.headers["Content-Type"]) == (200, "image/png")
    assert (jpeg.status_code, jpeg.headers["Content-Type"]) == (200, "image/jpeg")

    with env.uow() as session:
        reads = [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "document_downloaded")
                                                 .order_by(AuditEvent.id))]
        identity = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "identity_read"))
    assert [(r["kind"], r["channel"]) for r in reads] == [
        ("form_of_appeal", "web_inline"), ("form_of_appeal", "web_inline"), ("power_of_attorney", "web_inline")]
    assert reads[0]["document_id"] == docs["form_of_appeal"]
    assert identity == 2  # the queue page shows the complainant's name: each showing is an audited read


def test_v_verifies_both_and_opens_the_next_case(env, login):
    open_cases(env, {"APL-711": BOTH_PDF, "APL-712": BOTH_PDF, "APL-713": BOTH_PDF})
    ina = login("ina")
    first, second = task(env, "APL-711", "verify_consent").id, task(env, "APL-712", "verify_consent").id
    html = text_of(ina.get("/consent/queue"))
    assert "Case 1 of 3" in html
    # The boxes left unticked: "both verified" ticks them both.
    answer = post_action(ina, first, html, "verified", notes="Signatures match the passport copy.")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/consent/queue?task={second}")
    foa, poa, status, verifier = consent_of(env, "APL-711")
    assert (foa, poa, status) == (True, True, "verified") and verifier is not None
    with env.uow() as session:
        row = session.get(HumanTask, first)
        assert row.state == "completed" and row.completed_by_id == env.user(session, "ina").id
    assert "verify_consent" not in ready_ids(env, "APL-711") and stage(env, "APL-711") != "consent"
    assert task_completions(env, "APL-711") == 1

    follow = ina.get(answer.headers["Location"])
    html = text_of(follow)
    assert "APL-712" in html and "Case 1 of 2" in html and "APL-711: consent verified." in html
    # Skip: the next case without completing anything; at the end the queue comes round again.
    skip = re.search(r'data-key="s" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    html = text_of(ina.get(skip))
    assert "APL-713" in html and "Case 2 of 2" in html
    assert ready_ids(env, "APL-712") == ["verify_consent"]
    # A second post of the done task (a double key press) changes nothing.
    again = post_action(ina, first, html, "verified")
    assert again.status_code == 409 and task_completions(env, "APL-711") == 1


def test_missing_routes_the_case_to_request_documents(env, login):
    open_cases(env, {"APL-721": {"form_of_appeal": (PDF, "foa.pdf")}, "APL-722": BOTH_PDF})
    ina = login("ina")
    lacking = task(env, "APL-721", "verify_consent").id
    html = text_of(ina.get(f"/consent/queue?task={lacking}"))
    assert "Not on file" in html and "Missing: Power of attorney" in html
    assert re.search(r'<button type="submit" name="action" value="verified" data-key="v" disabled', html)

    # "Both verified" for a case without its power of attorney: the service's rule refuses it, next to the box.
    refused = post_action(ina, lacking, html, "verified")
    assert refused.status_code == 422 and "the case has no such document" in text_of(refused).lower()
    assert ready_ids(env, "APL-721") == ["verify_consent"] and task_completions(env, "APL-721") == 0
    # "Missing" with both boxes ticked is a contradiction: asked, not guessed.
    both = post_action(ina, lacking, html, "missing", form_of_appeal_verified="true",
                       power_of_attorney_verified="true")
    assert both.status_code == 422 and "untick the one that is missing" in text_of(both)
    assert ready_ids(env, "APL-721") == ["verify_consent"]

    # The form of appeal is fine, the power of attorney missing: the process asks for the documents.
    answer = post_action(ina, lacking, html, "missing", form_of_appeal_verified="true", notes="Asked by phone.")
    assert answer.status_code == 303
    assert ready_ids(env, "APL-721") == ["request_documents"]
    foa, poa, status, verifier = consent_of(env, "APL-721")
    assert (foa, poa, status, verifier) == (True, False, "pending", None)
    assert "APL-722" in text_of(ina.get(answer.headers["Location"]))


def test_filters_narrow_the_queue_and_travel_with_each_action(env, login):
    open_cases(env, {"APL-731": BOTH_PDF, "APL-732": BOTH_PDF, "APL-733": BOTH_PDF},
               **{"APL-732": {"city": "Astana"}, "APL-733": {"city": "Astana", "detained_now": True}})
    ina = login("ina")
    html = text_of(ina.get("/consent/queue?city=Astana"))
    assert "Case 1 of 2" in html and "APL-731" not in html
    assert "Case 1 of 1" in text_of(ina.get("/consent/queue?city=Astana&urgent=yes"))
    assert "Case 1 of 3" in text_of(ina.get("/consent/queue?city=Nowhere"))  # an unknown city is reported, ignored
    first = re.search(r'action="/consent/queue/([0-9a-f-]+)\?city=Astana"', html).group(1)
    answer = post_action(ina, first, html, "verified", query="?city=Astana")
    assert answer.status_code == 303 and "city=Astana" in answer.headers["Location"]
    assert "Case 1 of 1" in text_of(ina.get(answer.headers["Location"]))


def test_roles_csrf_and_documents_of_other_cases(env, login):
    open_cases(env, {"APL-741": BOTH_PDF, "APL-742": BOTH_PDF})
    with env.uow() as session:
        case = get_case(session, "APL-741")
        attach_document(session, env.settings, None, case, "court_decision", PDF, "decision.pdf")
    with env.uow() as session:
        case = get_case(session, "APL-742")
        attach_document(session, env.settings, None, case, "form_of_appeal", docx_bytes("Signed form"), "foa.docx")
    mine, theirs = documents_of(env, "APL-741"), documents_of(env, "APL-742")
    first = task(env, "APL-741", "verify_consent").id
    ina, lena, mara = login("ina"), login("lena"), login("mara")

    # Another case's document under this case's reference; a document that is not a consent document; a DOCX.
    assert ina.get(f"/cases/APL-741/consent/documents/{theirs['power_of_attorney']}").status_code == 404
    assert ina.get(f"/cases/APL-741/consent/documents/{mine['court_decision']}").status_code == 404
    assert ina.get(f"/cases/APL-742/consent/documents/{theirs['form_of_appeal']}").status_code == 404
    assert ina.get("/cases/APL-799/consent/documents/1").status_code == 404
    second = task(env, "APL-742", "verify_consent").id
    html = text_of(ina.get(f"/consent/queue?task={second}"))
    assert "cannot be shown in the page" in html and f"/cases/APL-742/documents/{theirs['form_of_appeal']}" in html

    # The queue is intake's; managers may not open documents at all.
    html = text_of(ina.get("/consent/queue"))
    assert lena.get("/consent/queue").status_code == 403
    token = csrf_token(text_of(lena.get("/tasks")))
    assert lena.post(f"/consent/queue/{first}", data={"action": "verified", "csrf_token": token}).status_code == 403
    assert mara.get(f"/cases/APL-741/consent/documents/{mine['form_of_appeal']}").status_code == 403
    assert lena.get(f"/cases/APL-741/consent/documents/{mine['form_of_appeal']}").status_code == 200
    # No CSRF token, an unknown action, an unknown task: refused, nothing changes.
    assert ina.post(f"/consent/queue/{first}", data={"action": "verified"}).status_code == 400
    assert post_action(ina, first, html, "approve").status_code == 400
    assert post_action(ina, "no-such-task", html, "verified").status_code == 404
    assert ina.post("/consent/queue/request-missing", data={}).status_code == 400
    assert ready_ids(env, "APL-741") == ["verify_consent"]
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0

    # The queue is linked from My tasks and from the navigation, for intake only.
    tasks_page = text_of(ina.get("/tasks"))
    assert "Verify consent in the queue: 2 cases" in tasks_page and 'href="/consent/queue"' in tasks_page
    assert 'href="/consent/queue"' not in text_of(lena.get("/tasks"))


def test_request_missing_documents_for_the_cases_without_them(env, login):
    open_cases(env, {"APL-751": {}, "APL-752": BOTH_PDF, "APL-753": {"power_of_attorney": (PDF, "poa.pdf")}})
    ina = login("ina")
    html = text_of(ina.get("/consent/queue"))
    assert "Request the missing documents for the 2 cases without them" in html
    answer = ina.post("/consent/queue/request-missing", data={"csrf_token": csrf_token(html)})
    assert answer.status_code == 303 and "/consent/jobs/" in answer.headers["Location"]
    report = ina.get(answer.headers["Location"])
    body = text_of(report)
    assert report.status_code == 200 and "Refresh" not in report.headers
    assert "Requested: 2" in body and "APL-751" in body and "APL-753" in body and "APL-752" not in body
    assert ready_ids(env, "APL-751") == ["request_documents"] == ready_ids(env, "APL-753")
    assert ready_ids(env, "APL-752") == ["verify_consent"]
    assert task_completions(env, "APL-751") == 1 == task_completions(env, "APL-753")
    # Someone else's job is not shown; nor is a job of another kind's number that does not exist.
    assert login("ivan").get(answer.headers["Location"]).status_code == 404
    assert ina.get("/consent/jobs/9999").status_code == 404
    # Nothing left to request: said so, no job.
    html = text_of(ina.get("/consent/queue"))
    assert "Request the missing documents" not in html


def test_a_killed_request_resumes_without_doing_a_case_twice(env, staff, login):
    refs = [f"APL-76{n}" for n in range(4)]
    open_cases(env, {ref: {} for ref in refs})
    with env.uow() as session:
        ina = env.user(session, "ina")
        job = consent_queue.request_missing(session, ina, "intake", TaskFilter())
        job_id = job.id
    assert job.total == 4
    # Progress while it waits for the worker: the page reloads itself.
    waiting = login("ina").get(f"/consent/jobs/{job_id}")
    assert waiting.headers["Refresh"] == "2" and "<progress" in text_of(waiting)

    # One case is done by hand meanwhile; the runner dies after two items.
    with env.uow() as session:
        from workflow.services.tasks import complete_task

        complete_task(session, env.settings, task(env, refs[3], "verify_consent").id, env.user(session, "ivan"),
                      {"form_of_appeal_verified": False, "power_of_attorney_verified": False})
    assert jobs.run(env.engine, env.settings, job_id, limit=2) is False
    assert [task_completions(env, r) for r in refs] == [1, 1, 0, 1]
    # Time passes: the dead runner's last heartbeat grows old. The worker finds the job stale and goes on with the
    # pending items only.
    with env.uow() as session:
        session.get(Job, job_id).heartbeat_at = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)
    assert jobs.run_pending(env.engine, env.settings) == 1
    assert [task_completions(env, r) for r in refs] == [1, 1, 1, 1]
    assert all(ready_ids(env, r) == ["request_documents"] for r in refs)
    with env.uow() as session:
        job = session.get(Job, job_id)
        states = [i.state for i in jobs.items(session, job)]
        assert (job.state, job.processed, states) == ("done", 4, ["done", "done", "done", "skipped"])
    report = text_of(login("ina").get(f"/consent/jobs/{job_id}"))
    assert "Skipped: 1" in report and "no longer waiting" in report


def test_the_worker_knows_the_kind():
    import workflow.services.worker  # noqa: F401  (what the worker process imports)

    assert consent_queue.JOB_KIND in jobs.HANDLERS


def test_a_case_whose_documents_arrived_meanwhile_is_left_for_a_person(env, staff):
    open_cases(env, {"APL-771": {"form_of_appeal": (PDF, "foa.pdf")}})
    with env.uow() as session:
        job_id = consent_queue.request_missing(session, env.user(session, "ina"), "intake", TaskFilter()).id
    with env.uow() as session:
        attach_document(session, env.settings, env.user(session, "ina"), get_case(session, "APL-771"),
                        "power_of_attorney", PDF, "poa.pdf")
    assert jobs.run(env.engine, env.settings, job_id) is True
    with env.uow() as session:
        (item,) = jobs.items(session, session.get(Job, job_id))
        assert (item.state, [p["code"] for p in item.problems]) == ("skipped", ["consent_documents_on_file"])
    assert ready_ids(env, "APL-771") == ["verify_consent"] and task_completions(env, "APL-771") == 0
