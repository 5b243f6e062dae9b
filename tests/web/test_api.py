"""The JSON API of INTERFACES.md §4 through the Flask test client, on SQLite and PostgreSQL (no mocks)."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Callable
from datetime import date, datetime

import docx
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from tests.helpers import PDF, do, ensure_episode, expire_timers, open_sample_case, ready_ids, task
from web import create_app
from web.access import rule_of
from workflow.models import ApiToken, AuditEvent, Case, HumanTask, utcnow

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
APPROVE_UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"],
                 "notes": "Peaceful assembly."}
SUMMARY_KEYS = {"ref", "stage", "urgent", "received_on", "city", "overdue", "ready_tasks"}
CASE_KEYS = {"ref", "stage", "urgent", "received_on", "person", "episodes", "incidents", "documents", "consent",
             "tasks", "deadlines", "filings", "review", "unknown_facts", "perpetrators", "arrests", "ill_treatments",
             "remedy_steps"}


Api = Callable[..., TestResponse]  # the `api` fixture of tests/web/conftest.py


def ok(response: TestResponse, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_json()


def error(response: TestResponse, status: int, code: str | None = None) -> dict:
    """An error answer: the status, the {error, message, errors} shape, and never a stack trace."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {text[:2000]}"
    assert "Traceback" not in text and 'File "' not in text
    body = response.get_json()
    assert set(body) == {"error", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict) and all(isinstance(v, str) for v in body["errors"].values())
    if code is not None:
        assert body["error"] == code, body
    return body


def appeal_json(ref: str, **overrides) -> dict:
    return {"ref": ref, "full_name": f"Aigerim Testova {ref}", "city": "Almaty", "episodes": ["rally_2022"],
            "incident_types": ["detention_at_rally"], "incident_date": "2022-01-05",
            "description": "Detained at the square during a peaceful rally.", "consent_publish_name": True,
            "received_on": "2022-03-01", **overrides}


def is_aware_iso(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() is not None


def task_id(env, ref: str, bpmn_id: str) -> str:
    return task(env, ref, bpmn_id).id


def complete(api: Api, env, ref: str, bpmn_id: str, user: str, data: dict, **kwargs) -> TestResponse:
    return api("POST", f"/api/v1/tasks/{task_id(env, ref, bpmn_id)}/complete", user, json={"data": data}, **kwargs)


# --- access -------------------------------------------------------------------------------------------------


def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_every_api_route_declares_its_access_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    assert len(endpoints) >= 10
    for endpoint in endpoints - {"api-docs.openapi_json"}:
        assert rule_of(app.view_functions[endpoint]), f"{endpoint} has no @roles/@public rule"


def test_no_token_or_a_bad_one_is_401(client, staff):
    for path in ("/api/v1/cases", "/api/v1/cases/APL-1", "/api/v1/deadlines", "/api/v1/filings/1"):
        error(client.get(path), 401, "unauthorized")
        error(client.get(path, headers={"Authorization": "Bearer pt_not-a-token"}), 401, "unauthorized")
        error(client.get(path, headers={"Authorization": "Bearer "}), 401, "unauthorized")
        error(client.get(path, headers={"Authorization": "Basic aW5hOnB3"}), 401, "unauthorized")
    error(client.post("/api/v1/tasks/x/complete", json={"data": {}}), 401, "unauthorized")
    error(client.post("/api/v1/cases", json={}), 401, "unauthorized")


def test_revoked_token_and_deactivated_user_are_401(env, client, token):
    ina, ivan = token("ina"), token("ivan")
    assert client.get("/api/v1/cases", headers=ina).status_code == 200
    with env.uow() as session:
        session.execute(update(ApiToken).where(ApiToken.user_id == env.user(session, "ina").id)
                        .values(revoked_at=utcnow()))
    error(client.get("/api/v1/cases", headers=ina), 401, "unauthorized")
    assert client.get("/api/v1/cases", headers=ivan).status_code == 200
    with env.uow() as session:  # the account is switched off; its token is still unrevoked
        env.user(session, "ivan").active = False
    error(client.get("/api/v1/cases", headers=ivan), 401, "unauthorized")


FORBIDDEN = [
    ("GET", "/api/v1/cases", "ada"),  # admins manage accounts and processes, not cases
    ("GET", "/api/v1/cases/APL-1", "ada"),
    ("POST", "/api/v1/cases", "ada"),
    ("POST", "/api/v1/cases", "lena"),
    ("POST", "/api/v1/cases", "mara"),
    ("POST", "/api/v1/cases/APL-1/documents", "mara"),
    ("POST", "/api/v1/cases/APL-1/documents", "ada"),
    ("POST", "/api/v1/tasks/some-task/complete", "ada"),
    ("GET", "/api/v1/filings/1", "ada"),
    ("GET", "/api/v1/filings/1/document", "ada"),
    ("GET", "/api/v1/cases/APL-1/filings.zip", "mara"),
    ("GET", "/api/v1/cases/APL-1/filings.zip", "ada"),
    ("POST", "/api/v1/collective-complaints", "ina"),
    ("POST", "/api/v1/collective-complaints", "mara"),
    ("POST", "/api/v1/collective-complaints", "ada"),
    ("GET", "/api/v1/collective-complaints", "ada"),
    ("GET", "/api/v1/collective-complaints/1", "ada"),
    ("POST", "/api/v1/filings/1/responses", "mara"),
    ("POST", "/api/v1/filings/1/responses", "ada"),
    ("GET", "/api/v1/deadlines", "ada"),
]


def test_roles_that_may_not_call_a_route_get_403(api):
    """Refused before the view runs, so the objects need not exist (and their existence does not leak)."""
    for method, path, user in FORBIDDEN:
        assert error(api(method, path, user, json={}), 403, "forbidden"), (method, path, user)


# --- cases --------------------------------------------------------------------------------------------------


def test_create_case_from_an_appeal(api, env, staff):
    with env.uow() as session:
        ensure_episode(session)
    body = ok(api("POST", "/api/v1/cases", "ina", json=appeal_json("API-001", detained_now=True,
                                                                    birth_date="1990-05-04", gender="female")), 201)
    assert set(body) == CASE_KEYS
    assert (body["ref"], body["stage"], body["urgent"], body["received_on"]) == ("API-001", "intake", True,
                                                                                  "2022-03-01")
    assert body["person"]["full_name"] == "Aigerim Testova API-001" and body["person"]["birth_date"] == "1990-05-04"
    assert body["episodes"] == [{"key": "rally_2022", "title": "Rally in the main square"}]
    assert body["incidents"][0]["types"] == ["detention_at_rally"]
    assert body["incidents"][0]["occurred_on"] == "2022-01-05"
    assert body["documents"] == [] and body["consent"]["status"] == "pending"
    [intake] = body["tasks"]
    assert (intake["bpmn_id"], intake["lane"]) == ("complete_intake", "intake")
    assert is_aware_iso(intake["due_at"]) if intake["due_at"] else True
    assert ready_ids(env, "API-001") == ["complete_intake"]
    # The same reference again is a conflict, and changes nothing.
    again = error(api("POST", "/api/v1/cases", "ivan", json=appeal_json("API-001", city="Astana")), 409, "conflict")
    assert again["errors"] == {"ref": "already exists"}
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "case_opened")).all()
        assert actions == ["case_opened"]
    # Keys may come `;`-separated as in the import format.
    created = ok(api("POST", "/api/v1/cases", "ina", json=appeal_json(
        "API-002", incident_types="detention_at_rally; interrogation", consent_publish_name="no")), 201)
    assert created["incidents"][0]["types"] == ["detention_at_rally", "interrogation"]
    assert created["consent"]["publish_name"] is False


def test_create_case_validation_names_the_fields(api, env, staff):
    with env.uow() as session:
        ensure_episode(session)

    def invalid(payload: dict, **kwargs) -> dict:
        return error(api("POST", "/api/v1/cases", "ina", json=payload, **kwargs), 422, "invalid")["errors"]

    assert set(invalid(appeal_json("API-010", incident_types=["alien_abduction"]))) == {"incident_types"}
    assert "alien_abduction" in invalid(appeal_json("API-010", incident_types=["alien_abduction"]))["incident_types"]
    assert set(invalid(appeal_json("API-010", episodes=["no_such_episode"]))) == {"episodes"}
    assert set(invalid(appeal_json("API-010", form_of_appeal="foa.pdf"))) == {"form_of_appeal"}
    assert set(invalid(appeal_json("API-010", consent_publish_name="maybe", incident_date="5 Jan 2022"))) == {
        "consent_publish_name", "incident_date"}
    assert set(invalid(appeal_json("API-010", incident_date="2999-01-01"))) == {"incident_date"}
    assert set(invalid(appeal_json("bad ref!"))) == {"ref"}
    assert set(invalid(appeal_json("API-010", full_name=""))) == {"full_name"}
    assert set(invalid(appeal_json("API-010", gender="robot"))) == {"gender"}
    assert set(invalid(appeal_json("API-010", email="not-an-address", birth_date="2999-12-31"))) == {
        "email", "birth_date"}
    assert set(invalid(appeal_json("API-010", nickname="x"))) == {"nickname"}  # unknown fields are refused
    assert set(invalid(appeal_json("API-010", episodes=[7]))) == {"episodes.0"}
    missing = appeal_json("API-010")
    del missing["city"], missing["received_on"]
    assert set(invalid(missing)) == {"city", "received_on"}
    assert set(invalid([1, 2])) == {"_schema"}
    # Bodies that are not JSON, or broken JSON.
    not_json = api("POST", "/api/v1/cases", "ina", data="ref=API-010", content_type="application/x-www-form-urlencoded")
    assert set(error(not_json, 422, "invalid")["errors"]) == {"_body"}
    broken = api("POST", "/api/v1/cases", "ina", data="{\"ref\": ", content_type="application/json")
    assert error(broken, 422, "invalid")["errors"] == {"_body": "is not valid JSON"}
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_case_list_filters_and_pages_without_identity_fields(api, env, staff):
    for n in range(1, 6):
        open_sample_case(env, f"APL-{n:03d}", city="Astana" if n == 5 else "Almaty")
    expire_timers(env, "APL-002")
    pages = [ok(api("GET", f"/api/v1/cases?per_page=2&page={p}", "mara")) for p in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [[i["ref"] for i in p["items"]] for p in pages] == [["APL-001", "APL-002"], ["APL-003", "APL-004"],
                                                               ["APL-005"], []]
    first = pages[0]["items"][0]
    assert set(first) == SUMMARY_KEYS
    assert first == {"ref": "APL-001", "stage": "consent", "urgent": False, "received_on": "2022-03-01",
                     "city": "Almaty", "overdue": False, "ready_tasks": 1}
    assert pages[0]["items"][1]["overdue"] is True
    assert "Aigerim" not in str(pages)

    def refs(query: str, user: str = "lena") -> list[str]:
        return [i["ref"] for i in ok(api("GET", f"/api/v1/cases?{query}", user))["items"]]

    assert refs("city=Astana") == ["APL-005"]
    assert refs("q=apl-00", "mara") == ["APL-001", "APL-002", "APL-003", "APL-004", "APL-005"]
    assert refs("q=004", "ina") == ["APL-004"]
    assert refs("overdue=true") == ["APL-002"]
    assert refs("stage=consent&episode=rally_2022&incident_type=detention_at_rally&per_page=500") == [
        f"APL-{n:03d}" for n in range(1, 6)]
    assert refs("stage=legal_review") == []
    assert refs("episode=other") == []


BAD_LIST_ARGUMENTS = [
    ("page=0", {"page"}),
    ("page=-1", {"page"}),
    ("page=two", {"page"}),
    ("per_page=0", {"per_page"}),
    ("per_page=501", {"per_page"}),
    ("page=0&per_page=501", {"page", "per_page"}),
    ("stage=nowhere", {"stage"}),
    ("incident_type=alien_abduction", {"incident_type"}),
    ("overdue=perhaps", {"overdue"}),
    ("colour=red", {"colour"}),  # an unknown (misspelt) filter is refused, not ignored
]


def test_bad_list_arguments_are_422(api):
    for query, fields in BAD_LIST_ARGUMENTS:
        body = error(api("GET", f"/api/v1/cases?{query}", "lena"), 422, "invalid")
        assert set(body["errors"]) == fields, (query, body)


def test_case_view_depends_on_the_role_and_identity_reads_are_audited(api, env, staff):
    open_sample_case(env, "APL-020")

    def identity_reads() -> list[tuple[int, dict]]:
        with env.uow() as session:
            return [(e.actor_id, e.data) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "identity_read").order_by(AuditEvent.id))]

    manager = ok(api("GET", "/api/v1/cases/APL-020", "mara"))
    assert set(manager) == CASE_KEYS | {"legal_facts"}  # intake has no use for them
    assert manager["person"] == {"city": "Almaty"}
    assert "Aigerim" not in str(manager)
    assert identity_reads() == []
    intake = ok(api("GET", "/api/v1/cases/APL-020", "ina"))
    assert intake["person"]["full_name"] == "Aigerim Testova APL-020"
    [(actor_id, data)] = identity_reads()
    with env.uow() as session:
        assert actor_id == env.user(session, "ina").id
    assert data["channel"] == "api" and "full_name" in data["fields"]
    legal = ok(api("GET", "/api/v1/cases/APL-020", "lena"))
    assert "full_name" in legal["person"] and "phone" not in legal["person"]
    [verify] = intake["tasks"]
    assert verify["bpmn_id"] == "verify_consent" and is_aware_iso(verify["due_at"])
    assert [d["kind"] for d in intake["documents"]] == ["form_of_appeal", "power_of_attorney"]
    assert all(is_aware_iso(d["uploaded_at"]) for d in intake["documents"])
    assert all(is_aware_iso(d["due_at"]) for d in intake["deadlines"])
    error(api("GET", "/api/v1/cases/NO-SUCH", "ina"), 404, "not_found")


# --- documents ----------------------------------------------------------------------------------------------


def upload(api: Api, ref: str, user: str, kind: str | None, content: bytes | None, filename: str = "foa.pdf",
           **kwargs) -> TestResponse:
    data: dict = {}
    if kind is not None:
        data["kind"] = kind
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    return api("POST", f"/api/v1/cases/{ref}/documents", user, data=data, content_type="multipart/form-data",
               **kwargs)


def test_upload_a_document(api, env, staff):
    open_sample_case(env, "APL-030", documents=())
    document = ok(upload(api, "APL-030", "ina", "form_of_appeal", PDF), 201)
    assert document["kind"] == "form_of_appeal" and document["media_type"] == "application/pdf"
    assert document["size"] == len(PDF) and document["version"] == 1 and is_aware_iso(document["uploaded_at"])
    second = ok(upload(api, "APL-030", "lena", "form_of_appeal", PDF, "foa-v2.pdf"), 201)
    assert second["version"] == 2
    case = ok(api("GET", "/api/v1/cases/APL-030", "ina"))
    assert [(d["id"], d["version"]) for d in case["documents"]] == [(document["id"], 1), (second["id"], 2)]
    # A file that is not what it claims, an unknown kind, missing parts, an unknown case.
    bad = error(upload(api, "APL-030", "ina", "power_of_attorney", b"just some text"), 422, "invalid")
    assert set(bad["errors"]) == {"file"}
    assert set(error(upload(api, "APL-030", "ina", "selfie", PDF), 422, "invalid")["errors"]) == {"kind"}
    assert set(error(upload(api, "APL-030", "ina", None, None), 422, "invalid")["errors"]) == {"kind", "file"}
    error(upload(api, "NO-SUCH", "ina", "form_of_appeal", PDF), 404, "not_found")
    error(api("POST", "/api/v1/cases/APL-030/documents", "ina", json={"kind": "form_of_appeal"}), 422, "invalid")
    with env.uow() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "document_uploaded")) == 2


def test_a_document_over_the_size_limit_is_413(env, staff, token):
    app = create_app(dataclasses.replace(env.settings, max_document_bytes=2048), TESTING=True)
    open_sample_case(env, "APL-031", documents=())
    client, headers = app.test_client(), token("ina")
    big = PDF + b"0" * 4096

    def post(content: bytes) -> TestResponse:
        return client.post("/api/v1/cases/APL-031/documents", headers=headers, content_type="multipart/form-data",
                           data={"kind": "form_of_appeal", "file": (io.BytesIO(content), "foa.pdf")})

    assert "2048" in error(post(big), 413, "request_entity_too_large")["message"]
    # Over the whole request's limit: refused before the body is read (raw bytes: the test client would spool
    # a multipart body this large to a temporary file that nobody reads or closes).
    whole = client.post("/api/v1/cases/APL-031/documents", headers=headers, data=b"0" * (2 * 1024 * 1024),
                        content_type="multipart/form-data; boundary=xyz")
    error(whole, 413, "request_entity_too_large")
    assert post(PDF).status_code == 201


# --- tasks --------------------------------------------------------------------------------------------------


def test_complete_tasks_through_the_api(api, env, staff):
    with env.uow() as session:
        ensure_episode(session)
    ok(api("POST", "/api/v1/cases", "ina", json=appeal_json("APL-040")), 201)
    case = ok(complete(api, env, "APL-040", "complete_intake", "ivan", {"notes": "Scanned."}))
    assert case["ref"] == "APL-040" and [t["bpmn_id"] for t in case["tasks"]] == ["verify_consent"]
    # verify_consent for documents the case does not have: 422 with the field named
    bad = error(complete(api, env, "APL-040", "verify_consent", "ina", VERIFIED), 422, "invalid")
    assert bad["errors"] == {"form_of_appeal_verified": "the case has no such document",
                             "power_of_attorney_verified": "the case has no such document"}
    for kind in ("form_of_appeal", "power_of_attorney"):
        ok(upload(api, "APL-040", "ina", kind, PDF, f"{kind}.pdf"), 201)
    done = ok(complete(api, env, "APL-040", "verify_consent", "ina", VERIFIED))
    # The answer is the completion, not the whole case (changed in the scale version): the case is read with GET.
    verify_id = done["task"]["id"]
    assert done["task"] == {"id": verify_id, "bpmn_id": "verify_consent", "name": done["task"]["name"],
                            "state": "completed", "completed_at": done["task"]["completed_at"], "outcome": None}
    assert is_aware_iso(done["task"]["completed_at"])
    assert (done["ref"], done["stage"], done["collective_id"], done["status"]) == (
        "APL-040", "legal_review", None, "running")
    assert [t["bpmn_id"] for t in done["tasks"]] == ["legal_review"] and done["tasks"][0]["lane"] == "legal"
    assert "consent" not in done and "person" not in done
    case = ok(api("GET", "/api/v1/cases/APL-040", "ina"))
    assert case["consent"]["status"] == "verified" and is_aware_iso(case["consent"]["verified_at"])
    # A bad form: wrong values and an unknown field, each named.
    bad = error(complete(api, env, "APL-040", "legal_review", "lena",
                         {"decision": "maybe", "bodies": ["un_sp"], "colour": "red"}), 422, "invalid")
    assert set(bad["errors"]) == {"decision", "colour"}
    bad = error(complete(api, env, "APL-040", "legal_review", "lena", {"decision": "reject"}), 422, "invalid")
    assert bad["errors"] == {"notes": "give the reason for rejecting the case"}
    assert set(error(complete(api, env, "APL-040", "legal_review", "lena", {}), 422)["errors"]) == {"decision"}
    # The envelope itself: data is required and must be an object; nothing else may come with it.
    review_id = task_id(env, "APL-040", "legal_review")
    path = f"/api/v1/tasks/{review_id}/complete"
    assert set(error(api("POST", path, "lena", json={}), 422)["errors"]) == {"data"}
    assert set(error(api("POST", path, "lena", json={"data": [1]}), 422)["errors"]) == {"data"}
    assert set(error(api("POST", path, "lena", json={"data": {}, "x": 1}), 422)["errors"]) == {"x"}
    # Wrong role for the lane: 403; unknown task: 404.
    assert "legal" in error(complete(api, env, "APL-040", "legal_review", "ina", APPROVE_UN_SP), 403)["message"]
    error(api("POST", "/api/v1/tasks/00000000-0000-0000-0000-000000000000/complete", "lena", json={"data": {}}),
          404, "not_found")
    assert ready_ids(env, "APL-040") == ["legal_review"]
    case = ok(api("POST", path, "lena", json={"data": APPROVE_UN_SP}))
    assert case["stage"] == "approval" and case["task"]["outcome"] == "approve"
    assert [t["bpmn_id"] for t in case["tasks"]] == ["approve_review"]
    # The same task again: no longer ready.
    assert "no longer ready" in error(api("POST", path, "leo", json={"data": APPROVE_UN_SP}), 409,
                                      "conflict")["message"]
    assert ready_ids(env, "APL-040") == ["approve_review"]


def test_four_eyes_the_reviewer_promoted_to_manager_cannot_approve_their_own_review(api, env, staff):
    open_sample_case(env, "APL-041")
    do(env, "APL-041", "verify_consent", "ina", VERIFIED)
    ok(complete(api, env, "APL-041", "legal_review", "lena", APPROVE_UN_SP))
    error(complete(api, env, "APL-041", "approve_review", "lena", {"decision": "approve"}), 403, "forbidden")
    with env.uow() as session:
        env.user(session, "lena").role = "manager"
    refused = error(complete(api, env, "APL-041", "approve_review", "lena", {"decision": "approve"}), 403, "forbidden")
    assert "four eyes" in refused["message"]
    assert ready_ids(env, "APL-041") == ["approve_review"]
    assert ok(complete(api, env, "APL-041", "approve_review", "mara", {"decision": "approve"}))["stage"] == "filing"


def test_two_people_completing_one_task_at_once_one_wins_one_gets_409(api, app, env, staff):
    """Both requests really run side by side, each on its own test client and connection."""
    for round_ in range(3):
        ref = f"APL-05{round_}"
        open_sample_case(env, ref)
        row = task(env, ref, "verify_consent")
        api("GET", "/api/v1/health", "ina")  # issue both tokens up front
        api("GET", "/api/v1/health", "ivan")
        barrier = threading.Barrier(2)
        results: dict[str, TestResponse] = {}

        def attempt(user: str, row_id: str = row.id, barrier: threading.Barrier = barrier,
                    results: dict = results) -> None:
            client = app.test_client()
            barrier.wait()
            results[user] = api("POST", f"/api/v1/tasks/{row_id}/complete", user, client=client,
                                json={"data": VERIFIED})

        threads = [threading.Thread(target=attempt, args=(user,)) for user in ("ina", "ivan")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200, 409], {u: r.get_data(as_text=True)[:500] for u, r in results.items()}
        loser = next(r for r in results.values() if r.status_code == 409)
        error(loser, 409, "conflict")
        # The case moved on exactly once.
        assert ready_ids(env, ref) == ["legal_review"]
        with env.uow() as session:
            completed = session.scalars(select(AuditEvent).where(AuditEvent.action == "task_completed",
                                                                 AuditEvent.case_id == select(Case.id).where(
                                                                     Case.ref == ref).scalar_subquery())).all()
            assert [e.data["task_id"] for e in completed] == [row.id]
            assert session.get(HumanTask, row.id).state == "completed"
        winner = next(r for r in results.values() if r.status_code == 200)
        assert winner.get_json()["stage"] == "legal_review"


# --- filings, responses, deadlines --------------------------------------------------------------------------


def to_filing(env, ref: str) -> int:
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", APPROVE_UN_SP)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    return task(env, ref, "check_filing").filing_id


def test_filing_document_and_responses(api, env, staff):
    filing_id = to_filing(env, "APL-060")
    response = {"kind": "acknowledgement", "received_on": date.today().isoformat(), "reference": "AL KAZ 1/2026",
                "summary": "Received."}
    path = f"/api/v1/filings/{filing_id}"
    refused = error(api("POST", f"{path}/responses", "lena", json=response), 409, "conflict")
    assert "not been submitted" in refused["message"]
    ok(complete(api, env, "APL-060", "check_filing", "leo", {"decision": "revise"}))
    ok(complete(api, env, "APL-060", "check_filing", "leo", {"decision": "approve"}))
    case = ok(complete(api, env, "APL-060", "submit_filing", "ivan", {
        "submitted_on": date.today().isoformat(), "channel": "email", "reference": "G/SO 214"}))
    assert case["stage"] == "awaiting_response" and case["tasks"] == []
    assert ok(api("GET", "/api/v1/cases/APL-060", "ivan"))["filings"][0]["submitted_on"] == date.today().isoformat()

    filing = ok(api("GET", path, "mara"))
    assert {k: filing[k] for k in ("id", "case", "body", "language", "state", "channel", "reference")} == {
        "id": filing_id, "case": "APL-060", "body": "un_sp", "language": "en", "state": "submitted",
        "channel": "email", "reference": "G/SO 214"}
    assert filing["submitted_on"] == date.today().isoformat() and filing["responses"] == []
    assert [v["version"] for v in filing["versions"]] == [1, 2]
    assert all(is_aware_iso(v["created"]) and len(v["sha256"]) == 64 for v in filing["versions"])

    download = api("GET", f"{path}/document", "lena")
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert download.headers["Content-Disposition"] == "attachment; filename=APL-060-un_sp-en-v2.docx"
    assert len(download.data) == filing["versions"][-1]["size"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(download.data)).paragraphs)
    assert "APL-060" in text
    with env.uow() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "document_downloaded")).all()
        assert event.actor_id == env.user(session, "lena").id
        assert event.object_id == str(filing["versions"][-1]["document_id"]) and event.data["version"] == 2

    recorded = ok(api("POST", f"{path}/responses", "lena", json=response), 201)
    assert {k: recorded[k] for k in ("filing_id", "kind", "received_on", "reference", "summary")} == {
        "filing_id": filing_id, **response}
    assert is_aware_iso(recorded["recorded_at"])
    filing = ok(api("GET", path, "ina"))
    assert filing["state"] == "acknowledged" and [r["id"] for r in filing["responses"]] == [recorded["id"]]
    assert filing["responses"][0]["summary"] == "Received."
    with env.uow() as session:  # the summary is about one person: its read is audited, by field name
        [read] = session.scalars(select(AuditEvent).where(AuditEvent.action == "identity_read",
                                                          AuditEvent.object_type == "filing")).all()
        assert read.data == {"fields": ["responses.summary"], "channel": "api"}
    # The body's answer about one person: managers read its kind, date and reference, not its summary.
    [answer] = ok(api("GET", path, "mara"))["responses"]
    assert (answer["kind"], answer["reference"], answer["summary"]) == ("acknowledgement", "AL KAZ 1/2026", None)
    # Response validation and unknown filings.
    bad = error(api("POST", f"{path}/responses", "ina", json={**response, "kind": "postcard", "received_on": "x"}),
                422, "invalid")
    assert set(bad["errors"]) == {"kind", "received_on"}
    future = error(api("POST", f"{path}/responses", "ina", json={**response, "received_on": "2999-01-01"}), 422)
    assert set(future["errors"]) == {"received_on"}
    for method, suffix in (("GET", ""), ("GET", "/document"), ("POST", "/responses")):
        error(api(method, f"/api/v1/filings/999999{suffix}", "lena", json=response), 404, "not_found")


def test_deadlines_by_status_with_pages(api, env, staff):
    for ref in ("APL-070", "APL-071", "APL-072"):
        open_sample_case(env, ref)
    expire_timers(env, "APL-071")
    everything = ok(api("GET", "/api/v1/deadlines", "mara"))
    assert everything["total"] == 3
    first = everything["items"][0]
    assert set(first) == {"id", "label", "due_at", "state", "owner_role", "case", "filing_id", "overdue",
                          "escalated_at", "manager_alerted"}
    assert (first["case"], first["label"], first["owner_role"], first["overdue"]) == (
        "APL-071", "Consent verification due", "intake", True)
    assert is_aware_iso(first["due_at"])
    overdue = ok(api("GET", "/api/v1/deadlines?status=overdue", "lena"))
    assert overdue["total"] == 1 and [d["case"] for d in overdue["items"]] == ["APL-071"]
    soon = ok(api("GET", "/api/v1/deadlines?status=due_soon", "ina"))
    assert sorted(d["case"] for d in soon["items"]) == ["APL-070", "APL-072"]
    pages = [ok(api("GET", f"/api/v1/deadlines?per_page=2&page={p}", "mara")) for p in (1, 2)]
    assert [p["total"] for p in pages] == [3, 3] and [len(p["items"]) for p in pages] == [2, 1]
    assert {d["id"] for p in pages for d in p["items"]} == {d["id"] for d in everything["items"]}
    assert set(error(api("GET", "/api/v1/deadlines?status=someday", "mara"), 422)["errors"]) == {"status"}
    assert set(error(api("GET", "/api/v1/deadlines?per_page=1000", "mara"), 422)["errors"]) == {"per_page"}


def test_unknown_api_paths_and_methods_answer_json(api):
    error(api("GET", "/api/v1/nothing-here", "ina"), 404)
    error(api("DELETE", "/api/v1/cases", "ina"), 405)

