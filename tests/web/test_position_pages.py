"""Where a case stands, over HTTP: the BPMN of the instance's own version, the position for the diagram, and the
steps in words on the case and collective pages (real app, real database)."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.helpers import do, filing_in_check, open_sample_case
from tests.web.test_collective_pages import cases, open_complaint  # noqa: F401 - fixtures and their driver
from workflow.runtime import specs
from workflow.services.operations import OPERATIONS

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def at_legal_review(env, ref: str) -> None:  # type: ignore[no-untyped-def]
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", VERIFIED)


def process_ids(xml: bytes) -> list[str]:
    return [p.get("id") for p in etree.fromstring(xml).iter(f"{BPMN}process")]


def test_the_position_of_a_case_at_legal_review(env, login):
    at_legal_review(env, "POS-1")
    response = login("lena").get("/cases/POS-1/position")
    assert response.status_code == 200 and response.is_json
    position = response.get_json()
    assert position["process"] == "case" and position["version"] == 1 and position["status"] == "running"
    assert position["ready"] == ["legal_review"]
    assert position["done"].index("verify_consent") < position["done"].index("triage")
    assert "legal_review" not in position["done"] and "review_sla" in position["waiting"]
    assert position["active"] == ["case_work"] and position["error"] == []


@pytest.mark.parametrize("user", ["ina", "lena", "mara"])
def test_every_casework_role_reads_the_diagram_and_the_position(env, login, user):
    at_legal_review(env, "POS-2")
    client = login(user)
    diagram = client.get("/cases/POS-2/diagram/case")
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml"
    assert "sandbox" in diagram.headers["Content-Security-Policy"]
    assert process_ids(diagram.data) == ["case"]
    assert process_ids(client.get("/cases/POS-2/diagram/filing").data) == ["filing"]
    assert client.get("/cases/POS-2/position").get_json()["ready"] == ["legal_review"]


def test_admins_are_refused_and_unknown_things_are_404(env, login):
    at_legal_review(env, "POS-3")
    ada = login("ada")
    assert ada.get("/cases/POS-3/position").status_code == 403
    assert ada.get("/cases/POS-3/diagram/case").status_code == 403
    lena = login("lena")
    assert lena.get("/cases/NO-SUCH/position").status_code == 404
    assert lena.get("/cases/NO-SUCH/diagram/case").status_code == 404
    assert lena.get("/cases/POS-3/diagram/no_such_process").status_code == 404
    assert lena.get("/cases/POS-3/filings/1/position").status_code == 404  # the case has no filing yet


def test_a_filings_position_and_a_filing_of_another_case(env, login):
    filing_id = filing_in_check(env, "POS-4")
    at_legal_review(env, "POS-5")
    lena = login("lena")
    position = lena.get(f"/cases/POS-4/filings/{filing_id}/position").get_json()
    assert position["process"] == "filing" and position["ready"] == ["check_filing"]
    assert "check_sla" in position["waiting"] and "prepare_filing" in position["done"]
    assert "filings" in lena.get("/cases/POS-4/position").get_json()["active"]
    assert lena.get(f"/cases/POS-5/filings/{filing_id}/position").status_code == 404


def test_the_diagram_is_the_version_the_case_runs_on(env, login):
    at_legal_review(env, "POS-6")
    sources, forms = specs.read_directory(env.settings.bpmn_dir)
    sources["case.bpmn"] = sources["case.bpmn"].replace("</bpmn:definitions>",
                                                        "<!-- version 2 -->\n</bpmn:definitions>")
    with env.uow() as session:
        deployed = specs.deploy(session, specs.parse_bundle(sources, forms, operations=OPERATIONS), None)
        assert {d.process_id: d.version for d in deployed}["case"] == 2
    open_sample_case(env, "POS-7")
    lena = login("lena")
    assert b"version 2" not in lena.get("/cases/POS-6/diagram/case").data
    assert b"version 2" in lena.get("/cases/POS-7/diagram/case").data
    assert lena.get("/cases/POS-7/position").get_json()["version"] == 2


def test_the_case_page_says_where_the_case_stands_in_words(env, login):
    at_legal_review(env, "POS-8")
    page = login("lena").get("/cases/POS-8").get_data(as_text=True)
    assert 'data-diagram-url="/cases/POS-8/diagram/case"' in page
    assert 'data-position-url="/cases/POS-8/position"' in page
    assert "bpmn-navigated-viewer.production.min.js" in page and "process-diagram.js" in page
    assert "<script>" not in page  # nothing inline: the CSP would refuse it
    steps = page[page.index('class="position-steps"'):]
    assert '<li data-step="verify_consent">Verify consent' in steps
    assert '<li data-step="legal_review">Legal review' in steps
    assert "Legal review due" in steps[steps.index("steps-waiting"):]


def test_the_steps_in_russian(env, login):
    at_legal_review(env, "POS-9")
    with env.uow() as session:
        env.user(session, "lena").locale = "ru"
    page = login("lena").get("/cases/POS-9").get_data(as_text=True)
    steps = page[page.index('class="position-steps"'):]
    assert '<li data-step="legal_review">Юридический анализ' in steps


def test_a_collective_complaints_diagrams_and_position(env, login, cases):  # noqa: F811 - the fixture
    lena, collective_id = open_complaint(login)
    page = lena.get(f"/collective/{collective_id}").get_data(as_text=True)
    assert f'data-diagram-url="/collective/{collective_id}/diagram/collective_complaint"' in page
    assert '<li data-step="check_filing">' in page
    own = lena.get(f"/collective/{collective_id}/position").get_json()
    assert own["process"] == "collective_complaint" and own["active"] == ["collective_filing"]
    diagram = lena.get(f"/collective/{collective_id}/diagram/filing")
    assert diagram.status_code == 200 and process_ids(diagram.data) == ["filing"]
    filing_url = page.split(f'data-position-url="/collective/{collective_id}/filings/')[1].split('"')[0]
    filing = lena.get(f"/collective/{collective_id}/filings/{filing_url}").get_json()
    assert filing["process"] == "filing" and filing["ready"] == ["check_filing"]
    assert lena.get(f"/collective/{collective_id + 1}/position").status_code == 404
    assert login("ada").get(f"/collective/{collective_id}/position").status_code == 403


def test_a_collective_complaints_position_through_the_api(env, login, api, cases):  # noqa: F811 - the fixture
    _lena, collective_id = open_complaint(login)
    body = api("GET", f"/api/v1/collective-complaints/{collective_id}/position", "mara").get_json()
    assert body["position"]["process"] == "collective_complaint"
    assert body["position"]["active"] == ["collective_filing"]
    assert [f["position"]["ready"] for f in body["filings"]] == [["check_filing"]]
    assert api("GET", f"/api/v1/collective-complaints/{collective_id + 1}/position", "mara").status_code == 404
    assert api("GET", f"/api/v1/collective-complaints/{collective_id}/position", "ada").status_code == 403


def test_the_position_through_the_api(env, api):
    filing_id = filing_in_check(env, "POS-10")
    answer = api("GET", "/api/v1/cases/POS-10/position", "mara")
    assert answer.status_code == 200 and answer.is_json
    body = answer.get_json()
    assert body["version"] == 1 and body["status"] == "running"
    assert body["position"]["process"] == "case" and "filings" in body["position"]["active"]
    assert body["filings"] == [{"filing_id": filing_id, "position": body["filings"][0]["position"]}]
    assert body["filings"][0]["position"]["ready"] == ["check_filing"]
    assert api("GET", "/api/v1/cases/NO-SUCH/position", "mara").get_json()["error"] == "not_found"
    assert api("GET", "/api/v1/cases/POS-10/position", "ada").status_code == 403
    assert api("GET", "/api/v1/cases/POS-10/position").status_code == 401
    spec = api("GET", "/api/v1/openapi.json").get_json()
    assert "/api/v1/cases/{ref}/position" in spec["paths"]
