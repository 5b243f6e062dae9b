"""The import's optional filing facts on the intake page and the API, which draw from the same schema
(``AppealSchema``): shown, validated next to the field, stored. Fictional people only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.helpers import ensure_episode
from tests.web.test_intake_pages import error_next_to, fields, post_appeal, text_of
from workflow.models import Case

FACTS = {"nationality": "Kazakhstan", "age": "33", "activity": "Fictional: volunteer at a made-up legal clinic.",
         "situation": "Fictional: followed by unknown men since the rally.", "incident_city": "Oskemen",
         "incident_place": "Fictional Square", "perpetrator_agencies": ["police", "national_security"],
         "arrest_date": "2022-01-05", "arrest_place": "Fictional Square", "arrest_forces": "Fictional riot police",
         "legal_provision": "Art. 488 of the Code of Administrative Offences"}


def test_the_new_appeal_page_offers_the_filing_facts_and_stores_them(login, env) -> None:
    with env.uow() as session:
        ensure_episode(session)
    intake = login("ina")
    page = text_of(intake.get("/appeals/new"))
    for name in FACTS:
        assert f'name="{name}"' in page, name
    assert 'value="national_security"' in page and "National security service" in page  # vocabulary labels
    assert "Legal provision invoked (article and code)" in page

    response = post_appeal(intake, {**fields(), **FACTS})
    assert response.status_code == 303, text_of(response)[:2000]
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-WEB-001"))
        assert (case.person.nationality, case.person.age, case.person.situation) == (
            "Kazakhstan", "33", FACTS["situation"])
        incident = case.incidents[0]
        assert (incident.city, incident.place) == ("Oskemen", "Fictional Square")
        assert sorted(p.agency for p in incident.perpetrators) == ["national_security", "police"]
        arrest = case.arrests[0]
        assert (arrest.arrested_on, arrest.forces, arrest.incident_id) == (
            date(2022, 1, 5), "Fictional riot police", incident.id)


def test_an_unknown_agency_or_a_future_arrest_is_refused_next_to_the_field(login, env) -> None:
    with env.uow() as session:
        ensure_episode(session)
    intake = login("ina")
    response = post_appeal(intake, {**fields(), **FACTS, "perpetrator_agencies": ["police", "ministry_of_magic"],
                                    "arrest_date": "2999-01-01"})
    assert response.status_code == 422
    html = text_of(response)
    assert "ministry_of_magic" in error_next_to(html, "perpetrator_agencies")
    assert error_next_to(html, "arrest_date")
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_api_takes_the_same_fields(env, api) -> None:
    with env.uow() as session:
        ensure_episode(session)
    body = {**fields(), **FACTS, "consent_publish_name": True, "detained_now": False, "ref": "KZ-API-001"}
    answer = api("POST", "/api/v1/cases", "ina", json=body)
    assert answer.status_code == 201, answer.get_json()
    bad = api("POST", "/api/v1/cases", "ina", json={**body, "ref": "KZ-API-002", "perpetrator_agencies": "nope"})
    assert bad.status_code == 422 and "perpetrator_agencies" in bad.get_json()["errors"]
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-API-001"))
        assert [p.agency for p in case.perpetrators] == ["police", "national_security"]
        assert case.person.activity == FACTS["activity"]
