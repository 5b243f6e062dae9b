"""The facts for the filings through the API: every endpoint, roles (403), another case's row (404), bad input
(422), an ended case (409), the case read carrying the rows, and the read audited."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import open_sample_case
from tests.web.test_api import error, ok
from workflow.models import AuditEvent, Case
from workflow.states import Stage

BASE = "/api/v1/cases/API-F01"
ROWS = {
    "perpetrators": {"agency": "police", "unit": "Patrol unit 7", "name": "Officer Fictional Marat",
                     "unknown": ["position"]},
    "incidents": {"occurred_on": "2022-02-10", "city": "Astana", "place": "Court", "types": ["detention_at_rally"],
                  "description": "Sentenced to 15 days.", "episode": "rally_2022"},
    "arrests": {"arrested_on": "2022-02-10", "warrant_shown": "no", "legal_provision": "Art. 488",
                "custody": [{"place": "Temporary detention centre", "from_on": "2022-02-10", "to_on": "2022-02-12"},
                            {"place": "Special detention centre", "authority": "police"}]},
    "ill-treatments": {"methods": "Beaten on arrest", "unknown": ["medical_evidence"]},
    "remedy-steps": {"taken_on": "2022-03-01", "authority": "City court", "outcome": "Dismissed", "final": True},
}


def test_every_kind_through_the_api(api, env, staff) -> None:
    open_sample_case(env, "API-F01")
    made = {}
    for segment, body in ROWS.items():
        row = ok(api("POST", f"{BASE}/{segment}", "ina", json=body), 201)
        assert isinstance(row["id"], int) and row.get("unknown", []) == body.get("unknown", [])
        made[segment] = row
    assert made["arrests"]["warrant_shown"] == "no"
    assert [c["place"] for c in made["arrests"]["custody"]] == ["Temporary detention centre",
                                                                 "Special detention centre"]
    perpetrator = made["perpetrators"]["id"]
    incident = ok(api("PATCH", f"{BASE}/incidents/{made['incidents']['id']}", "lena",
                      json={"perpetrators": [perpetrator]}))
    assert incident["perpetrators"] == [perpetrator] and incident["city"] == "Astana"
    assert incident["episode"] == "rally_2022"
    changed = ok(api("PATCH", f"{BASE}/arrests/{made['arrests']['id']}", "lena",
                     json={"custody": [{"place": "Pre-trial centre"}], "released_on": "2022-03-01"}))
    assert [c["place"] for c in changed["custody"]] == ["Pre-trial centre"] and changed["legal_provision"] == "Art. 488"
    listed = ok(api("GET", f"{BASE}/incidents", "mara"))  # managers read the rows
    assert len(listed) == 2 and listed[1]["perpetrators"] == [perpetrator]
    for segment in ROWS:
        assert len(ok(api("GET", f"{BASE}/{segment}", "lena"))) == (2 if segment == "incidents" else 1)

    person = ok(api("PATCH", f"{BASE}/person", "lena", json={"nationality": "Kazakhstan", "age": 33,
                                                             "unknown": ["situation"]}))
    assert person["nationality"] == "Kazakhstan" and person["age"] == 33 and person["unknown"] == ["situation"]
    marked = ok(api("PATCH", f"{BASE}/unknown-facts", "ina", json={"mark": ["person.activity"]}))
    assert marked["unknown_facts"] == ["person.activity", "person.situation"]
    assert ok(api("GET", f"{BASE}/unknown-facts", "mara")) == marked

    case = ok(api("GET", BASE, "lena"))
    assert case["perpetrators"][0]["name"] == "Officer Fictional Marat"
    assert case["person"]["nationality"] == "Kazakhstan"
    assert len(case["incidents"]) == 2 and case["remedy_steps"][0]["final"] is True
    manager = ok(api("GET", BASE, "mara"))
    assert "nationality" not in manager["person"] and manager["arrests"][0]["custody"]
    with env.uow() as session:
        reads = session.scalars(select(AuditEvent.data).where(AuditEvent.action == "facts_read")).all()
        assert {"kinds": ["perpetrators", "arrests", "ill_treatments", "remedy_steps"], "channel": "api"} in reads
        logged = str(session.scalars(select(AuditEvent.data)).all())
        assert "Marat" not in logged and "Kazakhstan" not in logged and "Pre-trial" not in logged

    for segment, row in made.items():
        if segment != "incidents":
            assert api("DELETE", f"{BASE}/{segment}/{row['id']}", "ina").status_code == 204
    assert ok(api("GET", f"{BASE}/perpetrators", "ina")) == []
    assert ok(api("GET", f"{BASE}/incidents", "ina"))[1]["perpetrators"] == []
    first = ok(api("GET", f"{BASE}/incidents", "ina"))[0]["id"]
    error(api("DELETE", f"{BASE}/incidents/{first}", "ina"), 422)


def test_roles_other_cases_bad_input_and_ended_cases(api, env, staff) -> None:
    open_sample_case(env, "API-F01")
    open_sample_case(env, "API-F02")
    theirs = ok(api("POST", "/api/v1/cases/API-F02/perpetrators", "ina", json={"agency": "court"}), 201)["id"]
    for user in ("mara", "ada"):
        error(api("POST", f"{BASE}/perpetrators", user, json={"agency": "police"}), 403)
        error(api("PATCH", f"{BASE}/person", user, json={"nationality": "X"}), 403)
        error(api("PATCH", f"{BASE}/unknown-facts", user, json={"mark": ["arrests"]}), 403)
        error(api("DELETE", f"/api/v1/cases/API-F02/perpetrators/{theirs}", user), 403)
    error(api("GET", f"{BASE}/perpetrators", "ada"), 403)
    error(api("GET", f"{BASE}/perpetrators"), 401)
    error(api("PATCH", f"{BASE}/perpetrators/{theirs}", "ina", json={"unit": "x"}), 404)
    error(api("DELETE", f"{BASE}/perpetrators/{theirs}", "ina"), 404)
    error(api("GET", "/api/v1/cases/NO-SUCH/arrests", "ina"), 404)
    body = error(api("POST", f"{BASE}/perpetrators", "ina", json={"agency": "aliens", "name": "x" * 201}), 422)
    assert set(body["errors"]) == {"agency", "name"}
    body = error(api("POST", f"{BASE}/incidents", "ina", json={"types": ["detention_at_rally"], "description": "x",
                                                               "perpetrators": [theirs]}), 422)
    assert set(body["errors"]) == {"perpetrators"}
    body = error(api("POST", f"{BASE}/arrests", "ina", json={"custody": [{"authority": "x"}], "bogus": 1}), 422)
    assert set(body["errors"]) >= {"bogus"}
    body = error(api("POST", f"{BASE}/arrests", "ina", json={"custody": [{"authority": "x"}]}), 422)
    assert set(body["errors"]) == {"custody.0.place"}
    error(api("POST", f"{BASE}/remedy-steps", "ina", json=["not", "an", "object"]), 422)
    error(api("POST", f"{BASE}/remedy-steps", "ina", data="authority=x"), 422)
    body = error(api("PATCH", f"{BASE}/person", "ina", json={"situation": "Held", "unknown": ["situation"]}), 422)
    assert set(body["errors"]) == {"situation"}
    error(api("PATCH", f"{BASE}/unknown-facts", "ina", json={"mark": ["nonsense"]}), 422)
    with env.uow() as session:
        assert not session.scalar(select(Case).where(Case.ref == "API-F01")).perpetrators
        session.scalar(select(Case).where(Case.ref == "API-F02")).stage = Stage.CLOSED
    error(api("POST", "/api/v1/cases/API-F02/perpetrators", "ina", json={"agency": "police"}), 409)
    error(api("DELETE", f"/api/v1/cases/API-F02/perpetrators/{theirs}", "ina"), 409)
    assert len(ok(api("GET", "/api/v1/cases/API-F02/perpetrators", "mara"))) == 1
