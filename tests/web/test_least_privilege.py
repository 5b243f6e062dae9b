"""Least privilege, the same in the pages and the API (issue 14, item 5): managers read no file name and no
identity-bearing text of a case; intake reads no legal facts; every API read of identity-bearing data leaves one
audit event naming the fields read, never their values."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import PDF, appeal, do, ensure_episode
from tests.web.test_api import error, ok
from workflow.models import AuditEvent, Case
from workflow.services.cases import open_case
from workflow.services.review import update_legal_facts

REF = "LP-001"
BASE = f"/api/v1/cases/{REF}"
NAME = "Aigerim Testova LP-001"
FILE_NAME = "Testova_Aigerim_form_of_appeal.pdf"
DESCRIPTION = "Detained at the square during a peaceful rally, with her brother Fictional Ruslan."
ROWS = {
    "perpetrators": {"agency": "police", "unit": "Patrol unit 7", "name": "Officer Fictional Marat"},
    "incidents": {"occurred_on": "2022-02-10", "city": "Astana", "place": "Court of Fictional district",
                  "types": ["detention_at_rally"], "description": "Sentenced to 15 days by judge Fictional Omarov."},
    "arrests": {"arrested_on": "2022-02-10", "place": "Outside the flat of Fictional Saule",
                "custody": [{"place": "Temporary detention centre of Fictional town", "from_on": "2022-02-10"}]},
    "ill-treatments": {"methods": "Beaten by Officer Fictional Marat"},
    "remedy-steps": {"taken_on": "2022-03-01", "authority": "Fictional district court", "outcome": "Dismissed",
                     "final": True},
}
# Every identity-bearing text entered above, as stored: none may reach a manager.
SECRETS = (NAME, FILE_NAME, "Testova_Aigerim", DESCRIPTION, "Fictional Ruslan", "Patrol unit 7", "Marat",
           "Court of Fictional district", "Omarov", "Fictional Saule", "Fictional town", "Beaten",
           "Fictional district court", "Dismissed")
REMEDIES = "Appealed to the Fictional regional court, which refused on 1 March."


@pytest.fixture
def case(env, api, staff) -> None:
    with env.uow() as session:
        ensure_episode(session)
        open_case(session, env.settings, None, appeal(REF, description=DESCRIPTION),
                  {"form_of_appeal": (PDF, FILE_NAME), "power_of_attorney": (PDF, "poa.pdf")}, imported=True)
    for segment, body in ROWS.items():
        ok(api("POST", f"{BASE}/{segment}", "ina", json=body), 201)


def events(env, action: str) -> list[AuditEvent]:
    with env.uow() as session:
        case_id = session.scalar(select(Case.id).where(Case.ref == REF))
        return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                             AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_manager_reads_kinds_counts_and_dates_but_no_file_name_and_no_identity_text(api, login, case) -> None:
    legal = ok(api("GET", BASE, "lena"))  # the control: the texts are there for a role that reads them
    assert FILE_NAME in str(legal) and "Officer Fictional Marat" in str(legal) and DESCRIPTION in str(legal)

    manager = ok(api("GET", BASE, "mara"))
    dumped = str(manager)
    assert [s for s in SECRETS if s in dumped] == []
    assert sorted((d["kind"], d["filename"], d["version"]) for d in manager["documents"]) == [
        ("form_of_appeal", "form_of_appeal", 1), ("power_of_attorney", "power_of_attorney", 1)]
    assert [i["types"] for i in manager["incidents"]] == [["detention_at_rally"]] * 2
    assert manager["incidents"][1]["occurred_on"] == "2022-02-10" and manager["incidents"][1]["place"] is None
    assert manager["perpetrators"][0]["agency"] == "police" and manager["perpetrators"][0]["name"] is None
    [arrest] = manager["arrests"]
    assert arrest["arrested_on"] == "2022-02-10" and [c["from_on"] for c in arrest["custody"]] == ["2022-02-10"]
    assert manager["remedy_steps"][0]["final"] is True
    for segment in ROWS:
        listed = str(ok(api("GET", f"{BASE}/{segment}", "mara")))
        assert [s for s in SECRETS if s in listed] == [], segment

    page = login("mara").get(f"/cases/{REF}").get_data(as_text=True)
    assert [s for s in SECRETS if s in page] == []
    assert "Almaty" in page  # the city, as before
    lena_page = login("lena").get(f"/cases/{REF}").get_data(as_text=True)
    assert "Officer Fictional Marat" in lena_page and "Court of Fictional district" in lena_page


def test_intake_sees_no_legal_facts_on_the_case_page_as_the_api_refuses_them(api, env, login, case) -> None:
    do(env, REF, "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    with env.uow() as session:
        lena = env.user(session, "lena")
        update_legal_facts(session, lena, session.scalar(select(Case).where(Case.ref == REF)),
                           {"remedies_summary": REMEDIES})
    error(api("GET", f"{BASE}/legal-facts", "ina"), 403, "forbidden")
    error(api("GET", f"{BASE}/admissibility", "ina"), 403, "forbidden")
    assert "legal_facts" not in ok(api("GET", BASE, "ina"))

    intake = login("ina").get(f"/cases/{REF}").get_data(as_text=True)
    assert "Legal review" in intake  # the task is listed ...
    assert REMEDIES not in intake and "Admissibility today" not in intake  # ... without what legal decides on
    legal = login("lena").get(f"/cases/{REF}").get_data(as_text=True)
    assert REMEDIES in legal and "Admissibility today" in legal
    manager = login("mara").get(f"/cases/{REF}").get_data(as_text=True)
    assert REMEDIES in manager  # managers read the legal facts in both


def test_each_api_read_of_identity_bearing_data_leaves_one_event_naming_the_fields(api, env, case) -> None:
    before = len(events(env, "identity_read"))
    ok(api("GET", BASE, "ina"))
    [read] = events(env, "identity_read")[before:]
    assert read.data["channel"] == "api"
    assert {"full_name", "phone", "documents.filename", "incidents.place", "incidents.description"} <= \
        set(read.data["fields"])

    before = len(events(env, "facts_read"))
    ok(api("GET", f"{BASE}/perpetrators", "lena"))
    [facts] = events(env, "facts_read")[before:]
    assert facts.data["channel"] == "api" and "perpetrators.name" in facts.data["fields"]

    document_id = ok(api("GET", BASE, "ina"))["documents"][0]["id"]
    before = len(events(env, "document_downloaded"))
    assert api("GET", f"/api/v1/documents/{document_id}", "ina").status_code == 200
    assert len(events(env, "document_downloaded")[before:]) == 1

    # A manager reads no identity-bearing data: no identity read is recorded for them.
    before = len(events(env, "identity_read"))
    ok(api("GET", BASE, "mara"))
    assert events(env, "identity_read")[before:] == []

    with env.uow() as session:
        logged = str([e.data for e in session.scalars(select(AuditEvent))])
    assert [s for s in SECRETS if s in logged] == []  # names of fields, never their values
    assert not re.search(r"Testova", logged)
