"""Filing documents and collective complaints through the JSON API: versions, PDF, the case bundle, and
collective complaints created, listed and driven over HTTP (SQLite and PostgreSQL, no mocks)."""

from __future__ import annotations

import io
import zipfile
from hashlib import sha256 as sha256_of

import docx
import pytest
from sqlalchemy import func, select

from filings.pdf import office
from tests.helpers import COLLECTIVE_TEXT, PDF, do, is_a4, letters, open_sample_case, read_pdf, task
from tests.web.test_api import error, ok
from workflow.models import AuditEvent, CollectiveComplaint, Filing

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
COLLECTIVE_ONLY = {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]}
UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
TITLE = "Persecution of a fictional movement"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
COLLECTIVES = "/api/v1/collective-complaints"


def approved(env, ref: str, review: dict) -> None:  # type: ignore[no-untyped-def]
    """A case with verified consent and a review a manager approved (a review for collective complaints only
    needs no approval of its own)."""
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", review)
    if review.get("bodies"):
        do(env, ref, "approve_review", "mara", {"decision": "approve"})


@pytest.fixture
def eligible(env, staff) -> list[str]:  # type: ignore[no-untyped-def]
    refs = ["APL-201", "APL-202", "APL-203"]
    for ref in refs:
        approved(env, ref, COLLECTIVE_ONLY)
    return refs


def complaint(cases: list[str], **overrides) -> dict:  # type: ignore[no-untyped-def]
    return {"body": "un_sp", "mandates": ["assembly", "expression"], "language": "en", "cases": cases,
            "title": TITLE, "grounds": ["iccpr_21"],
            "narrative": COLLECTIVE_TEXT,
            "officials": [{"position": "Head of the city police", "agency": "Police", "name": "", "role": "ordered"}],
            **overrides}


def figures(content: bytes) -> dict[str, str]:
    """The document's two-column table rows, label -> value (the summary figures among them)."""
    document = docx.Document(io.BytesIO(content))
    return {row.cells[0].text: row.cells[-1].text for table in document.tables for row in table.rows}


def sha256(content: bytes) -> str:
    return sha256_of(content).hexdigest()


def paragraphs(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def downloads(env) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("document_downloaded", "filing_bundle_downloaded"))).order_by(AuditEvent.id)))
        session.expunge_all()
        return events


def collective_count(env) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return (session.scalar(select(func.count()).select_from(CollectiveComplaint)),
                session.scalar(select(func.count()).select_from(Filing).where(Filing.kind == "collective")))


# --- collective complaints --------------------------------------------------------------------------------


def test_create_a_collective_complaint_and_download_its_document(api, env, eligible):
    created = ok(api("POST", COLLECTIVES, "lena", json=complaint(eligible)), 201)
    assert set(created) == {"id", "filing_id", "document_url"}
    assert created["document_url"] == f"/api/v1/filings/{created['filing_id']}/document"

    download = api("GET", created["document_url"], "lena")
    assert download.status_code == 200 and download.mimetype == DOCX
    assert download.headers["Content-Disposition"] == \
        f"attachment; filename=COL-{created['id']:03d}-un_sp-en-v1.docx"
    assert TITLE in paragraphs(download.data)
    assert figures(download.data)["Complainants included in this complaint"] == "3"
    [event] = downloads(env)
    assert (event.object_type, event.case_id) == ("document", None)
    assert event.data["filing_id"] == created["filing_id"] and event.data["version"] == 1
    assert event.data["channel"] == "api" and event.data["format"] == "docx"

    listing = ok(api("GET", COLLECTIVES, "mara"))
    assert listing["total"] == 1
    [row] = listing["items"]
    assert {k: v for k, v in row.items() if k != "created_at"} == {
        "id": created["id"], "title": TITLE, "body": "un_sp", "language": "en", "filing_id": created["filing_id"],
        "state": "draft", "case_count": 3}

    detail = ok(api("GET", f"{COLLECTIVES}/{created['id']}", "mara"))  # managers see it...
    assert detail["cases"] == eligible and detail["created_by"] == "lena"
    assert (detail["title"], detail["body"], detail["language"]) == (TITLE, "un_sp", "en")
    assert detail["mandates"] == ["assembly", "expression"] and detail["grounds"] == ["iccpr_21"]
    assert detail["narrative"] == complaint(eligible)["narrative"]
    assert detail["officials"] == complaint(eligible)["officials"]
    assert detail["appeals_received"] == 3  # counted over the cases' episode
    filing = detail["filing"]
    assert (filing["id"], filing["kind"], filing["case"], filing["collective_id"]) == (
        created["filing_id"], "collective", None, created["id"])
    assert [(v["version"], v["frozen"]) for v in filing["versions"]] == [(1, False)]
    assert [(t["bpmn_id"], t["lane"], t["filing_id"]) for t in detail["tasks"]] == [
        ("check_filing", "legal", created["filing_id"])]
    assert api("GET", created["document_url"], "mara").status_code == 200  # ...and read what they approve
    assert ok(api("GET", f"/api/v1/filings/{created['filing_id']}", "ina"))["collective_id"] == created["id"]
    error(api("GET", f"{COLLECTIVES}/999999", "lena"), 404, "not_found")
    error(api("GET", COLLECTIVES, "ada"), 403, "forbidden")


def test_cases_without_consent_or_approval_are_refused_and_nothing_is_created(api, env, eligible):
    open_sample_case(env, "APL-210")  # consent not verified
    open_sample_case(env, "APL-211")
    do(env, "APL-211", "verify_consent", "ina", VERIFIED)  # waiting for its legal review
    refused = error(api("POST", COLLECTIVES, "lena",
                        json=complaint([*eligible, "APL-210", "APL-211", "APL-999"])), 422, "invalid")
    assert set(refused["errors"]) == {"cases"}
    message = refused["errors"]["cases"]
    assert "unknown: APL-999" in message and "no verified consent: APL-210" in message
    assert "no approved review: APL-210, APL-211" in message
    assert not any(ref in message for ref in eligible)
    assert collective_count(env) == (0, 0)
    assert ok(api("GET", COLLECTIVES, "lena")) == {"items": [], "total": 0}


def test_only_legal_officers_create_and_wrong_types_are_422(api, env, eligible):
    for user in ("ina", "mara", "ada"):
        error(api("POST", COLLECTIVES, user, json=complaint(eligible)), 403, "forbidden")
    bad = error(api("POST", COLLECTIVES, "lena", json={**complaint(eligible), **{
        "body": 5, "title": None, "cases": "APL-201", "mandates": "assembly", "narrative": ["text"],
        "officials": [{"position": 3}, {"agency": "Police"}], "appeals_received": "12"}}), 422, "invalid")
    assert set(bad["errors"]) == {"body", "title", "cases", "mandates", "narrative", "officials.0.position",
                                  "officials.1.position", "appeals_received"}
    for value in (True, 2.5, -1):
        refused = error(api("POST", COLLECTIVES, "lena", json=complaint(eligible, appeals_received=value)), 422)
        assert set(refused["errors"]) == {"appeals_received"}
    missing = error(api("POST", COLLECTIVES, "lena", json={"extra": 1}), 422, "invalid")
    assert set(missing["errors"]) == {"body", "language", "title", "cases", "extra"}
    not_json = error(api("POST", COLLECTIVES, "lena", data="body=un_sp", content_type="text/plain"), 422)
    assert set(not_json["errors"]) == {"_body"}
    values = error(api("POST", COLLECTIVES, "lena", json=complaint(
        eligible, body="nowhere", language="xx", mandates=["flying"], narrative={"epilogue": "x"})), 422)
    assert set(values["errors"]) == {"body", "language", "mandates", "narrative.epilogue"}
    assert collective_count(env) == (0, 0)


def test_versions_of_a_collective_complaint_through_its_tasks(api, env, eligible):
    created = ok(api("POST", COLLECTIVES, "lena", json=complaint(eligible)), 201)
    path, document = f"{COLLECTIVES}/{created['id']}", created["document_url"]
    [check] = ok(api("GET", path, "lena"))["tasks"]
    revised = ok(api("POST", f"/api/v1/tasks/{check['id']}/complete", "leo",
                     json={"data": {"decision": "revise"}}))  # a collective task names its complaint
    assert (revised["collective_id"], revised["ref"], revised["stage"]) == (created["id"], None, None)
    assert revised["task"]["outcome"] == "revise" and [t["bpmn_id"] for t in revised["tasks"]] == ["check_filing"]
    versions = ok(api("GET", path, "lena"))["filing"]["versions"]
    assert [(v["version"], v["frozen"]) for v in versions] == [(1, False), (2, False)]

    first, second = (api("GET", f"{document}?version={n}", "ina") for n in (1, 2))
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Disposition"].endswith("-v1.docx")
    assert second.headers["Content-Disposition"].endswith("-v2.docx")
    # Each answer is the stored version it names (nothing about the complaint changed, so the text did not).
    stored = {v["version"]: v["sha256"] for v in versions}
    assert [sha256(first.data), sha256(second.data)] == [stored[1], stored[2]]
    assert TITLE in paragraphs(first.data) and TITLE in paragraphs(second.data)
    latest = api("GET", document, "ina")  # no parameters: the latest .docx, as before
    assert latest.data == second.data and latest.mimetype == DOCX
    assert [(e.data["version"], e.data["format"]) for e in downloads(env)] == [(1, "docx"), (2, "docx"), (2, "docx")]

    error(api("GET", f"{document}?version=3", "lena"), 404, "not_found")
    for query in ("version=0", "version=two", "format=odt", "page=1"):
        error(api("GET", f"{document}?{query}", "lena"), 422, "invalid")
    assert len(downloads(env)) == 3  # refused downloads leave no event

    [check] = revised["tasks"]
    approved_check = ok(api("POST", f"/api/v1/tasks/{check['id']}/complete", "leo",
                            json={"data": {"decision": "approve"}}))
    [approval] = approved_check["tasks"]
    assert (approval["bpmn_id"], approval["lane"]) == ("approve_filing", "manager")
    filing = ok(api("GET", f"/api/v1/filings/{created['filing_id']}", "mara"))
    assert filing["versions"][-1]["frozen"] is False  # not frozen until a manager approves
    ok(api("POST", f"/api/v1/tasks/{approval['id']}/complete", "mara", json={"data": {"decision": "approve"}}))
    filing = ok(api("GET", f"/api/v1/filings/{created['filing_id']}", "mara"))
    assert filing["state"] == "checked"
    assert [(v["version"], v["frozen"]) for v in filing["versions"]] == [(1, True), (2, True)]


def test_pdf_is_converted_where_libreoffice_is_and_refused_with_a_clear_409_where_not(api, env, eligible,
                                                                                      monkeypatch, tmp_path):
    created = ok(api("POST", COLLECTIVES, "lena", json=complaint(eligible)), 201)
    address = f"{created['document_url']}?format=pdf&version=1"
    if office() is not None:  # CI installs LibreOffice: there this half always runs
        answer = api("GET", address, "lena")
        assert answer.status_code == 200 and answer.mimetype == "application/pdf"
        sizes, text = read_pdf(answer.data)
        assert sizes and all(is_a4(size) for size in sizes) and letters(f"COL-{created['id']:03d}") in letters(text)
        assert answer.headers["Content-Disposition"].endswith("-v1.pdf")
        assert [e.data["format"] for e in downloads(env)] == ["pdf"]
    before = len(downloads(env))
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: a server without soffice
    refused = error(api("GET", address, "lena"), 409, "conflict")
    assert "LibreOffice" in refused["message"] and ".docx" in refused["message"]
    assert len(downloads(env)) == before


# --- the case bundle --------------------------------------------------------------------------------------


def upload_court_decision(api, ref: str) -> dict:  # type: ignore[no-untyped-def]
    return ok(api("POST", f"/api/v1/cases/{ref}/documents", "ina", content_type="multipart/form-data",
                  data={"kind": "court_decision", "file": (io.BytesIO(PDF), "decision.pdf")}), 201)


def bundle(api, ref: str, user: str = "ina") -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    answer = api("GET", f"/api/v1/cases/{ref}/filings.zip", user)
    assert answer.status_code == 200 and answer.mimetype == "application/zip", answer.get_data(as_text=True)
    assert answer.headers["Content-Disposition"] == f"attachment; filename={ref}-filings.zip"
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_case_bundle_holds_the_filings_and_the_annexes_consent_allows(api, env, staff):
    approved(env, "APL-220", UN_SP)
    upload_court_decision(api, "APL-220")
    members = bundle(api, "APL-220")
    assert set(members) == {"filings/APL-220-un_sp-en-v1.docx", "annexes/court_decision-decision.pdf"}
    assert "APL-220" in paragraphs(members["filings/APL-220-un_sp-en-v1.docx"])
    assert members["annexes/court_decision-decision.pdf"] == PDF
    do(env, "APL-220", "check_filing", "leo", {"decision": "revise"})
    assert "filings/APL-220-un_sp-en-v2.docx" in bundle(api, "APL-220", "lena")  # the latest version only
    [first, second] = downloads(env)
    assert (first.action, first.object_id, len(first.data["documents"])) == ("filing_bundle_downloaded", "APL-220", 2)
    assert second.actor_id != first.actor_id

    error(api("GET", "/api/v1/cases/APL-220/filings.zip", "mara"), 403, "forbidden")
    open_sample_case(env, "APL-221")
    error(api("GET", "/api/v1/cases/APL-221/filings.zip", "ina"), 404, "not_found")  # no filing yet
    error(api("GET", "/api/v1/cases/APL-999/filings.zip", "ina"), 404, "not_found")
    assert len(downloads(env)) == 2


def test_an_hrc_filing_travels_with_the_power_of_attorney_never_the_form_of_appeal(api, env, staff):
    open_sample_case(env, "APL-230")
    ok(api("PATCH", "/api/v1/cases/APL-230/legal-facts", "lena", json={"remedies_exhausted_on": "2023-05-01"}))
    do(env, "APL-230", "verify_consent", "ina", VERIFIED)
    do(env, "APL-230", "legal_review", "lena", {"decision": "approve", "bodies": ["un_hrc"], "grounds": ["iccpr_21"]})
    do(env, "APL-230", "approve_review", "mara", {"decision": "approve"})
    assert task(env, "APL-230", "check_filing").filing_id
    members = bundle(api, "APL-230")
    [filing] = [name for name in members if name.startswith("filings/")]
    assert filing.startswith("filings/APL-230-un_hrc-")
    assert set(members) - {filing} == {"annexes/power_of_attorney-power_of_attorney.pdf"}
    assert not any("form_of_appeal" in name for name in members)


def test_a_manager_reads_the_collective_complaint_they_approve_but_not_individual_filings(api, env, staff):
    approved(env, "APL-281", UN_SP)  # an individual un_sp filing, generated at approval
    created = ok(api("POST", COLLECTIVES, "lena", json=complaint(["APL-281"])), 201)
    answer = api("GET", created["document_url"], "mara")
    assert answer.status_code == 200 and answer.mimetype == DOCX
    with env.uow() as session:
        individual = session.scalar(select(Filing.id).where(Filing.kind == "individual"))
    error(api("GET", f"/api/v1/filings/{individual}/document", "mara"), 403, "forbidden")
