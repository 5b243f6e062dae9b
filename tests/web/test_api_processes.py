"""/api/v1/processes: processes, versions with counts and change summary, the BPMN XML; admins only."""

from __future__ import annotations

from tests.helpers import open_sample_case
from tests.web.test_api import error, ok
from tests.workflow.process_files import changed_case
from workflow.services import process_versions

BASE = "/api/v1/processes"


def test_admins_read_processes_versions_and_the_xml(env, api, staff) -> None:
    open_sample_case(env, "APL-921")
    with env.uow() as session:
        process_versions.upload(session, env.user(session, "ada"), {"case.bpmn": changed_case().encode()})
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
