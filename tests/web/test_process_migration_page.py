"""The admin's page for moving running cases to the active version (web/processes/migrate.py), over HTTP."""

from __future__ import annotations

import html

from tests.helpers import case_instance, do, open_sample_case
from tests.web.conftest import csrf_token
from tests.workflow.versions import deploy_version


def _version(env, ref: str) -> int:
    with env.uow() as session:
        return case_instance(session, ref).definition.version


def test_the_admin_sees_the_dry_run_and_moves_the_chosen_cases(env, login):
    for ref in ("APL-301", "APL-302", "APL-303"):
        open_sample_case(env, ref)
    do(env, "APL-303", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": False})
    with env.uow() as session:
        deploy_version(session, env.settings.bpmn_dir)
        ids = {ref: case_instance(session, ref).id for ref in ("APL-301", "APL-302", "APL-303")}
    client = login("ada")
    page = client.get("/admin/processes/case/migrate")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "version 2 of case" in text and "APL-301" in text
    assert "The case stands at step request_documents, which the new version does not have." in text
    assert f'value="{ids["APL-303"]}"' not in text  # a case that cannot move cannot be chosen
    assert _version(env, "APL-301") == 1  # the dry run changed nothing

    moved = client.post("/admin/processes/case/migrate", data={
        "csrf_token": csrf_token(text), "instance": [str(ids["APL-301"]), str(ids["APL-303"])]})
    assert moved.status_code == 303
    shown = html.unescape(client.get(moved.headers["Location"]).get_data(as_text=True))
    assert "1 of 2 chosen process instances moved to version 2." in shown
    assert f"Case process {ids['APL-303']} was not moved" in shown
    assert [_version(env, ref) for ref in ("APL-301", "APL-302", "APL-303")] == [2, 1, 1]
    assert client.post("/admin/processes/case/migrate", data={"instance": "1"}).status_code == 400  # no CSRF token
    assert client.get("/admin/processes/nothing/migrate").status_code == 404
