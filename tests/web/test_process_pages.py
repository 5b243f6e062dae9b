"""/admin/processes over HTTP: versions, upload (refusals change nothing), version page, XML, activation."""

from __future__ import annotations

import html
import io
import json

import pytest
from sqlalchemy import func, select

from tests.helpers import case_instance, open_sample_case
from tests.web.conftest import csrf_token
from tests.workflow.process_files import CASE, REFUSED, VERIFY_FORM, changed_case
from workflow.models import AuditEvent, ProcessDefinition

INDEX = "/admin/processes"
V2 = "/admin/processes/case/versions/2"


def _upload(client, files: dict[str, bytes], *, token: str | None = None):
    page = client.get(INDEX)
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()],
            "csrf_token": token if token is not None else csrf_token(page.get_data(as_text=True))}
    return client.post(INDEX, data=data, content_type="multipart/form-data")


def _definitions(env) -> int:
    with env.uow() as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition))


def test_the_admin_lists_processes_and_uploads_a_changed_case(env, login) -> None:
    ada = login("ada")
    page = ada.get(INDEX).get_data(as_text=True)
    assert 'href="/admin/processes"' in page  # the admin navigation links it
    for process_id in ("case", "collective_complaint", "filing"):
        assert f'href="/admin/processes/{process_id}/versions/1"' in page
    assert page.count("badge ok") == 3 and 'enctype="multipart/form-data"' in page

    response = _upload(ada, {"case.bpmn": changed_case().encode()})
    assert response.status_code == 200
    result = html.unescape(response.get_data(as_text=True))
    assert "Stored as a new version, not active yet" in result and f'href="{V2}"' in result
    assert "<code>verify_consent</code>" in result and "«Check the consent»" in result  # its own: no prefix
    assert "set_review_due_at" in result and "merge_before_triage" in result and "merge_triage" in result

    listed = ada.get(INDEX).get_data(as_text=True)
    assert f'href="{V2}"' in listed and listed.count("badge ok") == 3  # stored, not active

    version = html.unescape(ada.get(V2).get_data(as_text=True))
    assert f'<div class="process-diagram" data-diagram-url="{V2}/bpmn"' in version
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in version
    assert "/static/process-diagram.js" in version and "<script>" not in version  # no inline script
    assert "Renamed (same id)" in version and "New id (same name)" in version
    assert f'href="{V2}/bpmn?file=forms/verify_consent.json"' in version
    assert "Activate version 2" in version

    xml = ada.get(f"{V2}/bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.get_data(as_text=True) == changed_case()
    assert xml.headers["Content-Disposition"].startswith("attachment")
    assert xml.headers["X-Content-Type-Options"] == "nosniff"
    form = ada.get(f"{V2}/bpmn?file=forms/verify_consent.json")
    assert form.mimetype == "application/json" and form.get_json() == json.loads(VERIFY_FORM)
    assert ada.get(f"{V2}/bpmn?file=nothing.bpmn").status_code == 404
    assert ada.get("/admin/processes/case/versions/9").status_code == 404
    assert ada.get("/admin/processes/nothing/versions/1/bpmn").status_code == 404


@pytest.mark.parametrize("kind", ["doctype_entity", "malformed", "unknown_operation", "lane_not_a_role",
                                  "missing_form", "unsafe_script", "file_name", "form_not_json", "nothing"])
def test_bad_files_are_refused_with_one_line_and_change_nothing(env, login, kind: str) -> None:
    ada = login("ada")
    files, expected = REFUSED[kind]
    before = _definitions(env)
    response = _upload(ada, files)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Refused, nothing was stored:" in page and expected in page
    assert _definitions(env) == before


def test_uploading_needs_a_csrf_token_and_the_admin_role(env, login) -> None:
    before = _definitions(env)
    response = _upload(login("ada"), {"case.bpmn": changed_case().encode()}, token="forged")
    assert response.status_code == 400
    for username in ("ina", "lena", "mara"):
        client = login(username)
        token = csrf_token(client.get("/tasks").get_data(as_text=True))
        assert client.get(INDEX).status_code == 403
        response = client.post(INDEX, data={"csrf_token": token, "files": [(io.BytesIO(CASE.encode()),
                                                                            "case.bpmn")]},
                               content_type="multipart/form-data")
        assert response.status_code == 403
        assert client.get("/admin/processes/case/versions/1/bpmn").status_code == 403
    assert _definitions(env) == before


def test_activation_needs_the_box_ticked_and_new_cases_use_the_version(env, login) -> None:
    ada = login("ada")
    _upload(ada, {"case.bpmn": changed_case().encode()})
    open_sample_case(env, "APL-911")
    token = csrf_token(ada.get(V2).get_data(as_text=True))
    refused = ada.post(f"{V2}/activate", data={"csrf_token": token})
    assert refused.status_code == 422 and "Tick the box to confirm the activation." in refused.get_data(as_text=True)
    assert ada.post(f"{V2}/activate", data={"confirm": "y"}).status_code == 400  # no CSRF token
    response = ada.post(f"{V2}/activate", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == V2
    page = html.unescape(ada.get(V2).get_data(as_text=True))
    assert "Version 2 of case is now active (it was version 1)." in page and "Activate version 2" not in page
    again = ada.post(f"{V2}/activate", data={"csrf_token": token, "confirm": "y"})
    assert "is the active version already" in html.unescape(ada.get(again.headers["Location"]).get_data(as_text=True))
    open_sample_case(env, "APL-912")
    with env.uow() as session:
        assert case_instance(session, "APL-911").definition.version == 1
        assert case_instance(session, "APL-912").definition.version == 2
        events = session.scalars(select(AuditEvent).filter_by(action="process_activated")).all()
        assert [e.data for e in events] == [{"process": "case", "version": 2, "previous_version": 1}]
    listed = ada.get(INDEX).get_data(as_text=True)
    assert listed.count("badge ok") == 3
