"""/api/v1/processes: processes, versions with counts and change summary, the BPMN XML; admins only."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.helpers import case_instance, open_sample_case
from tests.web.test_api import error, ok
from tests.workflow.process_files import REFUSED, changed_case
from workflow.models import ProcessDefinition
from workflow.services import process_versions

BASE = "/api/v1/processes"


def test_admins_read_processes_versions_and_the_xml(env, api, staff) -> None:
    open_sample_case(env, "APL-921")
    with env.uow() as session:
        process_versions.upload(session, env.user(session, "ada"), [("case.bpmn", changed_case().encode())])
    processes = {p["process_id"]: p for p in ok(api("GET", BASE, "ada"))}
    assert sorted(processes) == ["case", "collective_complaint", "filing"]
    case = processes["case"]
    assert case["active_version"] == 1 and [v["version"] for v in case["versions"]] == [2, 1]
    v2, v1 = case["versions"]
    assert v1["active"] and not v2["active"] and v2["activated_at"] is None and v2["deployed_by"] == "ada"
    assert v1["instances"] == {"running": 1, "complete": 0, "error": 0} and len(v1["sha256"]) == 64
    assert ok(api("GET", f"{BASE}/case/versions", "ada")) == case["versions"]

    detail = ok(api("GET", f"{BASE}/case/versions/2", "ada"))
    assert "case.bpmn" in detail["files"] and "forms/verify_consent.json" in detail["files"]
    changes = detail["changes"]
    assert [(r["old"]["node_id"], r["new"]["name"]) for r in changes["renamed"]] == [
        ("verify_consent", "Check the consent")]
    assert [r["new"]["node_id"] for r in changes["reidentified"]] == ["set_review_due_at"]
    assert [n["node_id"] for n in changes["added"]] == ["merge_before_triage"]
    assert [n["node_id"] for n in changes["removed"]] == ["merge_triage"]
    assert detail["changes_from_active"] is None
    first = ok(api("GET", f"{BASE}/case/versions/1", "ada"))["changes"]
    assert first["removed"] == [] and len(first["added"]) > 50  # against nothing: every node is new

    xml = api("GET", f"{BASE}/case/versions/2/bpmn", "ada")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.get_data(as_text=True) == changed_case()
    filing = api("GET", f"{BASE}/case/versions/2/bpmn?file=filing.bpmn", "ada")
    assert filing.status_code == 200 and 'id="filing"' in filing.get_data(as_text=True)
    error(api("GET", f"{BASE}/case/versions/2/bpmn?file=nothing.bpmn", "ada"), 404, "not_found")
    error(api("GET", f"{BASE}/case/versions/2/bpmn?other=1", "ada"), 422, "invalid")
    error(api("GET", f"{BASE}/case/versions/3", "ada"), 404, "not_found")
    error(api("GET", f"{BASE}/nothing/versions", "ada"), 404, "not_found")


def test_casework_roles_may_not_read_processes(api, staff) -> None:
    for username in ("ina", "lena", "mara"):
        for path in (BASE, f"{BASE}/case/versions", f"{BASE}/case/versions/1", f"{BASE}/case/versions/1/bpmn"):
            error(api("GET", path, username), 403, "forbidden")
    error(api("GET", BASE), 401)


def test_admins_upload_and_activate_a_version(env, api, staff) -> None:
    def upload(files: list[tuple[str, bytes]], user: str = "ada"):
        return api("POST", BASE, user, data={"files": [(io.BytesIO(content), name) for name, content in files]},
                   content_type="multipart/form-data")

    [stored] = ok(upload([("case.bpmn", changed_case().encode())]))
    assert stored["new"] and stored["version"]["version"] == 2 and not stored["version"]["active"]
    assert [n["node_id"] for n in stored["changes"]["added"]] == ["merge_before_triage"]
    [again] = ok(upload([("case.bpmn", changed_case().encode())]))
    assert not again["new"] and again["version"]["version"] == 2

    files, expected = REFUSED["doctype_entity"]
    refused = error(upload(list(files.items())), 422, "bpmn_refused")
    assert expected in refused["message"] and "\n" not in refused["message"]
    error(api("POST", BASE, "ada", data={"files": "not a file"}, content_type="multipart/form-data"), 422, "invalid")
    error(upload([("case.bpmn", changed_case().encode())], "lena"), 403, "forbidden")

    error(api("POST", f"{BASE}/case/versions/2/activate", "mara"), 403, "forbidden")
    activated = ok(api("POST", f"{BASE}/case/versions/2/activate", "ada"))
    assert activated["active"] and activated["activated_by"] == "ada"
    error(api("POST", f"{BASE}/case/versions/2/activate", "ada"), 409, "conflict")
    error(api("POST", f"{BASE}/case/versions/5/activate", "ada"), 404, "not_found")
    open_sample_case(env, "APL-922")
    with env.uow() as session:
        assert case_instance(session, "APL-922").definition.version == 2
        assert len(session.scalars(select(ProcessDefinition)).all()) == 4
