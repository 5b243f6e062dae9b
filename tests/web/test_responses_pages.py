"""Responses from bodies over HTTP: the case page's form (with the letter), the "Replied" button for a request
for information, e-mail addresses in the user admin, and the API's multipart variant."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, timedelta

from sqlalchemy import select

from tests.helpers import PDF, do, open_sample_case
from tests.web.conftest import PASSWORD, csrf_token
from web import create_app
from workflow.models import AuditEvent, Deadline, Document, Filing, Response, User

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
REVIEW = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}


def submitted_filing(env, ref: str) -> int:
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", REVIEW)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    do(env, ref, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email",
                                          "reference": "X"})
    with env.uow() as session:
        return session.scalar(select(Filing.id).join(Filing.case).where(Filing.case.has(ref=ref)))


def post_response(client, ref: str, filing_id: int, **values):
    token = csrf_token(client.get(f"/cases/{ref}").get_data(as_text=True))
    prefix = f"response{filing_id}-"
    data = {"csrf_token": token, **{prefix + k: v for k, v in values.items()}}
    return client.post(f"/filings/{filing_id}/responses", data=data, content_type="multipart/form-data")


def responses(env, filing_id: int) -> list[Response]:
    with env.uow() as session:
        return list(session.scalars(select(Response).where(Response.filing_id == filing_id)))


def test_a_response_with_its_letter_is_recorded_from_the_case_page(env, staff, login):
    filing_id = submitted_filing(env, "APL-R01")
    ina = login("ina")
    page = ina.get("/cases/APL-R01").get_data(as_text=True)
    assert f'action="/filings/{filing_id}/responses"' in page and "Record a response" in page
    answer = post_response(ina, "APL-R01", filing_id, kind="acknowledgement", received_on=date.today().isoformat(),
                           reference="G/SO 218/2", summary="Received.", file=(io.BytesIO(PDF), "letter.pdf"))
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    with env.uow() as session:
        filing = session.get(Filing, filing_id)
        assert filing.state == "acknowledged"
        response = session.scalar(select(Response).where(Response.filing_id == filing_id))
        assert response.reference == "G/SO 218/2" and response.document_id is not None
        document = session.get(Document, response.document_id)
        assert document.kind == "response" and document.case_id == filing.case_id
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "response_recorded",
                                                       AuditEvent.object_id == str(filing_id))) is not None
        document_id = document.id
    page = ina.get("/cases/APL-R01").get_data(as_text=True)
    link = f"/cases/APL-R01/documents/{document_id}"
    assert link in page and "G/SO 218/2" in page
    letter = ina.get(link)
    assert letter.status_code == 200 and letter.data == PDF


def test_an_invalid_date_or_kind_is_422_and_nothing_is_recorded(env, staff, login):
    filing_id = submitted_filing(env, "APL-R02")
    lena = login("lena")
    bad_date = post_response(lena, "APL-R02", filing_id, kind="acknowledgement", received_on="31.02.2025",
                             reference="kept-ref")
    assert bad_date.status_code == 422
    text = bad_date.get_data(as_text=True)
    assert "Must be a date (YYYY-MM-DD or DD.MM.YYYY)." in text and 'value="kept-ref"' in text
    future = post_response(lena, "APL-R02", filing_id, kind="acknowledgement",
                           received_on=(date.today() + timedelta(days=3)).isoformat())
    assert future.status_code == 422 and "Cannot be in the future." in future.get_data(as_text=True)
    bad_kind = post_response(lena, "APL-R02", filing_id, kind="thank_you", received_on=date.today().isoformat())
    assert bad_kind.status_code == 422 and "Must be one of acknowledgement" in bad_kind.get_data(as_text=True)
    assert responses(env, filing_id) == []


def test_a_filing_not_awaiting_a_response_is_409(env, staff, login):
    filing_id = submitted_filing(env, "APL-R03")
    ina = login("ina")
    today = date.today().isoformat()
    assert post_response(ina, "APL-R03", filing_id, kind="decision", received_on=today).status_code == 303
    again = post_response(ina, "APL-R03", filing_id, kind="follow_up", received_on=today)
    assert again.status_code == 409 and "not waiting for a response" in again.get_data(as_text=True)
    assert [r.kind for r in responses(env, filing_id)] == ["decision"]


def test_a_manager_cannot_record_a_response(env, staff, login):
    filing_id = submitted_filing(env, "APL-R04")
    mara = login("mara")
    page = mara.get("/cases/APL-R04").get_data(as_text=True)
    assert "Record a response" not in page
    token = csrf_token(page)
    refused = mara.post(f"/filings/{filing_id}/responses", data={
        "csrf_token": token, f"response{filing_id}-kind": "acknowledgement",
        f"response{filing_id}-received_on": date.today().isoformat()})
    assert refused.status_code == 403 and responses(env, filing_id) == []


def test_a_request_for_information_is_marked_replied_with_the_button(env, staff, login):
    filing_id = submitted_filing(env, "APL-R05")
    ina = login("ina")
    assert post_response(ina, "APL-R05", filing_id, kind="request_for_information",
                         received_on=date.today().isoformat()).status_code == 303
    with env.uow() as session:
        deadline_id = session.scalar(select(Deadline.id).where(Deadline.filing_id == filing_id,
                                                                Deadline.kind == "request_for_information"))
    assert f"/deadlines/{deadline_id}/close" not in ina.get("/cases/APL-R05").get_data(as_text=True)
    lena = login("lena")
    page = lena.get("/cases/APL-R05").get_data(as_text=True)
    assert f"/deadlines/{deadline_id}/close" in page and "Replied" in page
    done = lena.post(f"/deadlines/{deadline_id}/close", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303 and done.headers["Location"].startswith("/cases/APL-R05")
    with env.uow() as session:
        row = session.get(Deadline, deadline_id)
        assert row.state == "met" and row.closed_at is not None
    assert f"/deadlines/{deadline_id}/close" not in lena.get("/cases/APL-R05").get_data(as_text=True)
    again = lena.post(f"/deadlines/{deadline_id}/close", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 409
    assert lena.post(f"/deadlines/{deadline_id}/close", data={}).status_code == 400  # no CSRF token


def test_an_oversized_letter_is_413(env, staff):
    app = create_app(dataclasses.replace(env.settings, max_document_bytes=2048), TESTING=True)
    filing_id = submitted_filing(env, "APL-R06")
    client = app.test_client()
    client.post("/login", data={"username": "ina", "password": PASSWORD,
                                "csrf_token": csrf_token(client.get("/login").get_data(as_text=True))})
    big = post_response(client, "APL-R06", filing_id, kind="acknowledgement", received_on=date.today().isoformat(),
                        file=(io.BytesIO(PDF + b"0" * 4096), "letter.pdf"))
    assert big.status_code == 413 and responses(env, filing_id) == []


def test_an_admin_sets_e_mail_addresses(env, staff, login):
    ada = login("ada")
    page = ada.get("/admin/users").get_data(as_text=True)
    token = csrf_token(page)
    assert ada.post("/admin/users/ina/email", data={"csrf_token": token, "email": "ina@example.org"}).status_code == 303
    bad = ada.post("/admin/users/ina/email", data={"csrf_token": token, "email": "not an address"})
    assert bad.status_code == 422 and "name@example.org" in bad.get_data(as_text=True)
    created = ada.post("/admin/users", data={"csrf_token": token, "username": "nora", "full_name": "Nora",
                                             "role": "intake", "locale": "en", "password": "a long password 1",
                                             "email": "nora@example.org"})
    assert created.status_code == 303, created.get_data(as_text=True)[:2000]
    with env.uow() as session:
        emails = {u.username: u.email for u in session.scalars(select(User).where(User.username.in_(["ina", "nora"])))}
        assert emails == {"ina": "ina@example.org", "nora": "nora@example.org"}
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user_email_changed")) is not None
    assert 'value="ina@example.org"' in ada.get("/admin/users").get_data(as_text=True)


def test_the_api_takes_a_response_as_multipart_with_a_file_or_as_json(env, staff, api):
    first = submitted_filing(env, "APL-R07")
    answer = api("POST", f"/api/v1/filings/{first}/responses", "lena", content_type="multipart/form-data",
                 data={"kind": "acknowledgement", "received_on": date.today().isoformat(), "reference": "R-7",
                       "file": (io.BytesIO(PDF), "letter.pdf")})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["kind"] == "acknowledgement" and answer.get_json()["reference"] == "R-7"
    [recorded] = responses(env, first)
    assert recorded.document_id is not None and recorded.summary is None
    bad = api("POST", f"/api/v1/filings/{first}/responses", "lena", content_type="multipart/form-data",
              data={"kind": "nope", "received_on": date.today().isoformat()})
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    second = submitted_filing(env, "APL-R08")
    as_json = api("POST", f"/api/v1/filings/{second}/responses", "lena",
                  json={"kind": "acknowledgement", "received_on": date.today().isoformat()})
    assert as_json.status_code == 201, as_json.get_data(as_text=True)
    [recorded] = responses(env, second)
    assert recorded.document_id is None
