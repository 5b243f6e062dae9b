"""/api/v1/instances (web/api/instances.py): admins list the instances in error, retry and reset them."""

from __future__ import annotations

from tests.helpers import case_instance, ready_ids
from tests.workflow.test_repair import failed_case


def test_admins_list_retry_and_reset_instances_in_error_through_the_api(env, api):
    instance_id = failed_case(env, "APL-A01")
    listed = api("GET", "/api/v1/instances?status=error", "ada")
    assert listed.status_code == 200
    [item] = listed.json
    assert (item["id"], item["case_ref"], item["process"], item["failed_step"]["bpmn_id"]) == (
        instance_id, "APL-A01", "case", "escalate_consent")
    assert item["failed_step"]["name"] == "Alert a manager: consent verification late"
    assert "escalation_role" in item["error"]
    assert api("GET", "/api/v1/instances?status=running", "ada").status_code == 422
    for user in ("ina", "lena", "mara"):
        assert api("GET", "/api/v1/instances", user).status_code == 403
        assert api("POST", f"/api/v1/instances/{instance_id}/retry", user).status_code == 403
    again = api("POST", f"/api/v1/instances/{instance_id}/retry", "ada")
    assert again.status_code == 200 and again.json["status"] == "error" and "escalation_role" in again.json["error"]
    refused = api("POST", f"/api/v1/instances/{instance_id}/reset", "ada", json={"task": "verify_consent"})
    assert refused.status_code == 422 and refused.json["errors"]["task"].startswith("choose a step of this instance")
    assert api("POST", "/api/v1/instances/999999/retry", "ada").status_code == 404
    done = api("POST", f"/api/v1/instances/{instance_id}/reset", "ada", json={"task": "set_consent_due"})
    assert done.status_code == 200 and done.json == {"id": instance_id, "status": "running", "error": None}
    assert api("GET", "/api/v1/instances", "ada").json == []
    assert ready_ids(env, "APL-A01") == ["verify_consent"]
    with env.uow() as session:
        assert case_instance(session, "APL-A01").status == "running"
