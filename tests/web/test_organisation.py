"""The organisation's profile: the admin page and /api/v1/organisation, with their role checks, on every
configured database. Fictional organisation only."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.web.conftest import csrf_token
from workflow import crypto
from workflow.models import AuditEvent, OrganisationProfile
from workflow.services.organisation import organisation_profile

PROFILE = {"name": "Fictional Rights Bureau", "address": "1 Imaginary Embankment, Northbridge",
           "email": "office@fictional-bureau.example.org", "phone": "+7 000 000 9999",
           "representative": "Saule Madeupova", "representative_title": "Lawyer, member of the Northbridge bar"}


def stored(env) -> OrganisationProfile | None:
    with env.uow() as session:
        row = session.scalar(select(OrganisationProfile))
        if row is not None:
            session.expunge(row)
        return row


def audits(env) -> list[AuditEvent]:
    with env.uow() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation_updated")))


def test_the_default_is_the_settings_organisation_name(env, api):
    with env.uow() as session:
        profile = organisation_profile(session, env.settings)
    assert profile.name == env.settings.organisation and profile.id is None and profile.representative is None
    answer = api("GET", "/api/v1/organisation", "lena")
    assert answer.status_code == 200
    assert answer.get_json() == {"name": env.settings.organisation, "address": None, "email": None, "phone": None,
                                 "representative": None, "representative_title": None, "saved": False,
                                 "updated_at": None}
    assert stored(env) is None  # reading stores nothing


def test_admin_page_saves_the_profile_audited_by_field_name(env, login):
    client = login("ada")
    page = client.get("/admin/organisation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert env.settings.organisation in html and 'name="representative_title"' in html
    response = client.post("/admin/organisation", data={**PROFILE, "csrf_token": csrf_token(html)})
    assert response.status_code == 303
    row = stored(env)
    assert row is not None and {k: getattr(row, k) for k in PROFILE} == PROFILE
    events = audits(env)
    assert len(events) == 1 and sorted(events[0].data["fields"]) == sorted(PROFILE)
    assert "Saule" not in str(events[0].data) and "fictional-bureau" not in str(events[0].data)
    assert "Saule Madeupova" in client.get("/admin/organisation").get_data(as_text=True)
    # The contact details are encrypted at rest: the raw column holds no trace of them.
    with env.engine.connect() as conn:
        raw = conn.execute(text("SELECT representative, email FROM organisation_profile")).one()
    assert all(isinstance(v, bytes) and b"Saule" not in v and b"fictional" not in v for v in raw)
    assert crypto.decrypt("organisation_profile.representative", bytes(raw[0])) == "Saule Madeupova"


def test_admin_page_shows_problems_next_to_the_fields_and_saves_nothing(env, login):
    client = login("ada")
    token = csrf_token(client.get("/admin/organisation").get_data(as_text=True))
    response = client.post("/admin/organisation", data={**PROFILE, "name": "  ", "email": "not-an-address",
                                                        "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Is not an e-mail address" in html and "Is required" in html and "Nothing was saved" in html
    assert 'value="not-an-address"' in html  # what was typed stays
    assert stored(env) is None and audits(env) == []
    # Without the CSRF token nothing is saved either.
    assert client.post("/admin/organisation", data=PROFILE).status_code == 400
    assert stored(env) is None


def test_only_admins_open_or_post_the_page(env, login):
    for username in ("ina", "lena", "mara"):
        client = login(username)
        assert client.get("/admin/organisation").status_code == 403
        token = csrf_token(client.get("/account").get_data(as_text=True))
        assert client.post("/admin/organisation", data={**PROFILE, "csrf_token": token}).status_code == 403
    assert stored(env) is None


def test_api_reads_for_legal_managers_admins_and_only_admins_write(env, api):
    for user in ("ina", "lena", "mara"):
        assert api("PUT", "/api/v1/organisation", user, json=PROFILE).status_code == 403, user
    assert stored(env) is None
    assert api("GET", "/api/v1/organisation", "ina").status_code == 403  # intake prepares no filing
    saved = api("PUT", "/api/v1/organisation", "ada", json=PROFILE)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["saved"] is True and saved.get_json()["representative"] == "Saule Madeupova"
    for user in ("lena", "mara", "ada"):
        answer = api("GET", "/api/v1/organisation", user)
        assert answer.status_code == 200 and answer.get_json()["email"] == PROFILE["email"], user
    # A field left out is cleared; the same profile again changes nothing and is not audited again.
    cleared = api("PUT", "/api/v1/organisation", "ada", json={k: v for k, v in PROFILE.items() if k != "phone"})
    assert cleared.status_code == 200 and cleared.get_json()["phone"] is None
    assert [e.data["fields"] for e in audits(env)][-1] == ["phone"]
    api("PUT", "/api/v1/organisation", "ada", json={k: v for k, v in PROFILE.items() if k != "phone"})
    assert len(audits(env)) == 2
    with env.uow() as session:
        assert len(list(session.scalars(select(OrganisationProfile)))) == 1  # one row, updated in place


def test_api_refuses_bad_input_with_422_and_changes_nothing(env, api):
    for body in ({**PROFILE, "email": "nobody"}, {**PROFILE, "name": ""}, {**PROFILE, "name": "x" * 301},
                 {**PROFILE, "colour": "red"}, {**PROFILE, "phone": "bad\x07bell"}, ["not", "an", "object"]):
        answer = api("PUT", "/api/v1/organisation", "ada", json=body)
        assert answer.status_code == 422, (body, answer.status_code)
        assert answer.get_json()["errors"], body
    assert stored(env) is None and audits(env) == []
