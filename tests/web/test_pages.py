"""The pages: my tasks, the case list, the case page, Russian, CSRF, admin users, withdrawal of consent."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers import audit_actions, do, ensure_episode, expire_timers, open_sample_case, stage, task
from tests.web.conftest import PASSWORD, csrf_token
from workflow.models import AuditEvent, Case, ConsentRecord, HumanTask, User
from workflow.services.episodes import upsert_episode
from workflow.services.users import get_user

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
CASE_LINK = re.compile(r'href="/cases/(APL-[0-9A-Z-]+)(?:#[^"]*)?"')


def refs_on(html: str) -> list[str]:
    return list(dict.fromkeys(CASE_LINK.findall(html)))


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def set_locale(env, username: str, locale: str) -> None:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        get_user(session, username).locale = locale


# -- my tasks --------------------------------------------------------------------------------------------

def test_my_tasks_lists_the_roles_ready_tasks_overdue_first(env, login):
    for ref in ("APL-301", "APL-302", "APL-303"):
        open_sample_case(env, ref)
    expire_timers(env, "APL-302")
    do(env, "APL-303", "verify_consent", "ina", VERIFIED)  # now waits for legal, not intake

    html = text_of(login("ina").get("/tasks"))
    assert refs_on(html) == ["APL-302", "APL-301"]
    body = re.search(r"<tbody>(.*)</tbody>", html, flags=re.S).group(1)
    rows = re.findall(r"<tr(?: class=\"overdue\")?>.*?</tr>", body, flags=re.S)
    assert len(rows) == 2
    assert rows[0].startswith('<tr class="overdue">') and ">overdue<" in rows[0] and "Verify consent" in rows[0]
    assert "overdue" not in rows[1]
    assert refs_on(text_of(login("lena").get("/tasks"))) == ["APL-303"]
    assert "Nothing is waiting for you." in text_of(login("mara").get("/tasks"))


def test_admins_have_no_lane_and_are_told_why(env, login):
    open_sample_case(env, "APL-304")
    html = text_of(login("ada").get("/tasks"))
    assert "Admins have no tasks of their own" in html and refs_on(html) == []


# -- the case list ---------------------------------------------------------------------------------------

@pytest.fixture
def listed(env, staff):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        ensure_episode(session)
        upsert_episode(session, None, "online_2022", "Prosecutions for posts", date(2022, 2, 1), None)
    open_sample_case(env, "APL-401")
    open_sample_case(env, "APL-402", city="Shymkent", full_name="Secretname Personova")
    open_sample_case(env, "APL-403", episodes=("online_2022",),
                     incident_types=("criminal_prosecution_online_speech", "interrogation"))
    open_sample_case(env, "APL-410", detained_now=True)
    do(env, "APL-401", "verify_consent", "ina", VERIFIED)
    expire_timers(env, "APL-403")
    return ["APL-401", "APL-402", "APL-403", "APL-410"]


FILTERS = [
    ("", ["APL-401", "APL-402", "APL-403", "APL-410"]),
    ("?stage=legal_review", ["APL-401"]),
    ("?stage=consent", ["APL-402", "APL-403", "APL-410"]),
    ("?episode=online_2022", ["APL-403"]),
    ("?episode=rally_2022", ["APL-401", "APL-402", "APL-410"]),
    ("?city=Shymkent", ["APL-402"]),
    ("?incident_type=interrogation", ["APL-403"]),
    ("?overdue=y", ["APL-403"]),
    ("?q=apl-41", ["APL-410"]),
    ("?q=40", ["APL-401", "APL-402", "APL-403"]),
    ("?stage=consent&city=Almaty&overdue=y", ["APL-403"]),
    ("?stage=approval", []),
]


def test_each_case_filter_narrows_the_list(login, listed):
    client = login("lena")  # one set-up for the whole table: signing in and opening cases are the slow part
    for query, expected in FILTERS:
        response = client.get(f"/cases{query}")
        assert response.status_code == 200, query
        assert refs_on(text_of(response)) == expected, query


def test_the_case_list_shows_its_columns_and_no_identity(login, listed):
    html = text_of(login("ina").get("/cases"))
    assert "Aigerim Testova" not in html and "Secretname" not in html
    row = re.search(r'<tr class="overdue">.*?</tr>', html, flags=re.S)
    assert row and "APL-403" in row.group(0) and ">overdue<" in row.group(0) and "Verify consent" in row.group(0)
    assert re.search(r"APL-410.*?>urgent<", html, flags=re.S)
    assert "Legal review" in html and "Shymkent" in html and "4 cases" in html
    # The city filter offers each city once, in order (PostgreSQL walks the city index for them).
    assert re.findall(r'<option value="(Almaty|Shymkent)"', html) == ["Almaty", "Shymkent"]


def test_an_unknown_filter_value_is_reported_and_ignored(login, listed):
    client = login("lena")
    assert 'class="field-error"' not in text_of(client.get("/cases"))
    assert 'class="field-error"' not in text_of(client.get("/cases?stage=&episode=&city=&incident_type=&q="))
    response = client.get("/cases?stage=nonsense&city=Shymkent")
    assert response.status_code == 200
    assert text_of(response).count('class="field-error"') == 1
    assert re.search(r'<select [^>]*aria-invalid="true"[^>]*id="f-stage"', text_of(response))
    assert refs_on(text_of(response)) == ["APL-402"]  # the bad filter is ignored, the good one applies


def test_the_case_list_pages(login, listed, monkeypatch):
    import web.cases.routes

    monkeypatch.setattr(web.cases.routes, "PER_PAGE", 2)
    client = login("lena")
    first, second = text_of(client.get("/cases?city=Almaty")), text_of(client.get("/cases?city=Almaty&page=2"))
    assert refs_on(first) == ["APL-401", "APL-403"] and "page 1 of 2" in first
    assert 'href="/cases?page=2&amp;city=Almaty" rel="next"' in first and 'rel="prev"' not in first
    assert refs_on(second) == ["APL-410"] and 'href="/cases?page=1&amp;city=Almaty" rel="prev"' in second
    assert refs_on(text_of(client.get("/cases?page=9"))) == []


def test_the_case_list_counts_up_to_its_bound_and_all_when_asked(login, listed, monkeypatch):
    import web.cases.routes

    monkeypatch.setattr(web.cases.routes, "PER_PAGE", 1)
    monkeypatch.setattr(web.cases.routes, "COUNTED_UP_TO", 2)  # 4 cases match: counting stops past 2
    client = login("lena")
    first = text_of(client.get("/cases"))
    assert "more than 2 cases" in first and "page 1 of more than 2" in first and "<span>1 / 2+</span>" in first
    assert 'href="/cases?page=1&amp;count=all">count them all</a>' in first
    assert 'href="/cases?page=2" rel="next"' in first
    third = text_of(client.get("/cases?page=3"))  # the count always reaches past the page shown
    assert refs_on(third) == ["APL-403"] and "more than 3 cases" in third and 'href="/cases?page=4" rel="next"' in third
    last = text_of(client.get("/cases?page=4"))
    assert refs_on(last) == ["APL-410"] and "4 cases" in last and "more than" not in last and 'rel="next"' not in last
    other = client.get("/cases?count=some&from=x")  # counted as usual; neither is carried into the links
    assert other.status_code == 200 and "more than 2 cases" in text_of(other)
    assert 'href="/cases?page=2" rel="next"' in text_of(other)
    assert 'href="/collective/new?from=cases"' in text_of(other)
    every = text_of(client.get("/cases?count=all"))
    assert "4 cases" in every and "page 1 of 4" in every and "more than" not in every
    assert 'href="/cases?page=2&amp;count=all" rel="next"' in every
    narrow = text_of(client.get("/cases?city=Shymkent"))  # within the bound: exact, nothing more to count
    assert "1 case" in narrow and "more than" not in narrow and "count them all" not in narrow


# -- the case page ---------------------------------------------------------------------------------------

def identity_reads(env, ref: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        case_id = session.scalar(select(Case.id).where(Case.ref == ref))
        return [e.data for e in session.scalars(select(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "identity_read"))]


def test_the_case_page_shows_what_each_role_may_see_and_audits_identity_reads(env, login):
    open_sample_case(env, "APL-501", phone="+7 700 000 0000")
    intake = text_of(login("ina").get("/cases/APL-501"))
    assert "Aigerim Testova APL-501" in intake and "+7 700 000 0000" in intake
    [read] = identity_reads(env, "APL-501")
    assert read["channel"] == "web" and "full_name" in read["fields"] and "phone" in read["fields"]

    legal = text_of(login("lena").get("/cases/APL-501"))
    assert "Aigerim Testova APL-501" in legal and "+7 700 000 0000" not in legal
    manager = text_of(login("mara").get("/cases/APL-501"))
    assert "Aigerim Testova" not in manager and "Almaty" in manager
    assert "APL-501-form_of_appeal" not in manager and "form_of_appeal.pdf" not in manager  # file names name people
    assert len(identity_reads(env, "APL-501")) == 2  # intake and legal; the manager read none
    for part in ("Ready tasks", "Verify consent", "Complainant", "Consent", "What happened", "Detention at a rally",
                 "Rally in the main square", "Deadlines", "Consent verification due", "Filings", "Documents",
                 "Power of attorney", "History"):
        assert part in intake, part


def test_the_history_shows_the_task_completion_newest_first(env, login):
    open_sample_case(env, "APL-502")
    do(env, "APL-502", "verify_consent", "ina", VERIFIED)
    do(env, "APL-502", "legal_review", "lena", {"decision": "reject", "notes": "Outside our mandate."})
    mara = login("mara")
    assert 'href="/cases/APL-502/history#h-history"' in text_of(mara.get("/cases/APL-502"))
    html = text_of(mara.get("/cases/APL-502/history"))
    timeline = re.search(r'<ol class="timeline".*?</ol>', html, flags=re.S).group(0)
    entries = re.findall(r"<li>(.*?)</li>", timeline, flags=re.S)
    assert "<strong>Lena</strong> · Task completed: Legal review — Reject" in entries[0]
    assert any("<strong>Ina</strong> · Task completed: Verify consent" in e for e in entries)
    assert any("Case opened: imported" in e for e in entries)
    assert "identity_read" not in timeline and "Identity read" not in timeline
    assert mara.get("/cases/NO-SUCH/history").status_code == 404


def test_an_unknown_case_is_a_404_page(login, staff):
    response = login("lena").get("/cases/APL-NOPE")
    assert response.status_code == 404
    assert "Not found" in text_of(response) and "There is no case with this reference." in text_of(response)


def test_a_refused_form_still_records_the_identity_read(env, login):
    open_sample_case(env, "APL-503", documents=("form_of_appeal",))
    ina = login("ina")
    page = text_of(ina.get("/cases/APL-503"))
    verify = task(env, "APL-503", "verify_consent")
    response = ina.post(f"/tasks/{verify.id}", data={"power_of_attorney_verified": "true",
                                                     "csrf_token": csrf_token(page)})
    assert response.status_code == 422 and "Aigerim Testova" in text_of(response)
    assert len(identity_reads(env, "APL-503")) == 2
    with env.uow() as session:  # and nothing of the refused task stayed
        assert session.scalar(select(ConsentRecord.status).join(Case).where(Case.ref == "APL-503")) == "pending"
        assert "task_completed" not in audit_actions(session, "APL-503")


# -- Russian ---------------------------------------------------------------------------------------------

def test_every_page_renders_in_russian(env, login):
    open_sample_case(env, "APL-601", documents=("form_of_appeal",))
    open_sample_case(env, "APL-602")
    do(env, "APL-602", "verify_consent", "ina", VERIFIED)
    expire_timers(env, "APL-602")
    for username in ("ina", "lena", "mara", "ada"):
        set_locale(env, username, "ru")
    pages = {
        "ina": ["/tasks", "/cases", "/cases?stage=consent&overdue=y&q=APL", "/cases/APL-601", "/cases/APL-602",
                "/cases/APL-601/consent/withdraw", "/cases/NOPE"],
        "lena": ["/tasks", "/cases/APL-602"],
        "mara": ["/tasks", "/cases/APL-602"],
        "ada": ["/tasks", "/admin/users"],
    }
    for username, urls in pages.items():
        client = login(username)
        for url in urls:
            response = client.get(url)
            assert response.status_code == (404 if "NOPE" in url else 200), (username, url)
            assert '<html lang="ru">' in text_of(response), (username, url)
    # The error pages of the forms too: a refused verification and a refused user.
    ina = login("ina")
    page = text_of(ina.get("/cases/APL-601"))
    verify = task(env, "APL-601", "verify_consent")
    response = ina.post(f"/tasks/{verify.id}", data={"power_of_attorney_verified": "true",
                                                     "csrf_token": csrf_token(page)})
    assert response.status_code == 422 and '<html lang="ru">' in text_of(response)
    with env.uow() as session:
        done = session.scalar(select(HumanTask.id).join(Case, HumanTask.case_id == Case.id).where(
            Case.ref == "APL-602", HumanTask.bpmn_id == "verify_consent"))
    stale = ina.post(f"/tasks/{done}", data={"csrf_token": csrf_token(page)})
    assert stale.status_code == 409 and '<html lang="ru">' in text_of(stale)
    lena = login("lena")
    other_lane = lena.post(f"/tasks/{verify.id}", data={"csrf_token": csrf_token(text_of(lena.get("/tasks")))})
    assert other_lane.status_code == 403 and '<html lang="ru">' in text_of(other_lane)
    ada = login("ada")
    response = ada.post("/admin/users", data={"username": "X Y", "role": "intake", "locale": "ru", "password": "short",
                                              "csrf_token": csrf_token(text_of(ada.get("/admin/users")))})
    assert response.status_code == 422 and '<html lang="ru">' in text_of(response)


# -- CSRF ------------------------------------------------------------------------------------------------

def test_a_task_post_without_csrf_token_is_refused_and_changes_nothing(env, login):
    open_sample_case(env, "APL-701")
    verify = task(env, "APL-701", "verify_consent")
    response = login("ina").post(f"/tasks/{verify.id}", data={"form_of_appeal_verified": "true",
                                                              "power_of_attorney_verified": "true"})
    assert response.status_code == 400
    assert stage(env, "APL-701") == "consent"
    with env.uow() as session:
        assert session.get(HumanTask, verify.id).state == "ready"
        assert "task_completed" not in audit_actions(session, "APL-701")


# -- admin: users ----------------------------------------------------------------------------------------

def admin_post(client, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = text_of(client.get("/admin/users"))
    return client.post(url, data={**data, "csrf_token": csrf_token(page)})


def test_admin_creates_a_user_who_can_then_sign_in(env, login, client):
    ada = login("ada")
    response = admin_post(ada, "/admin/users", {"username": "Nina", "full_name": "Nina Newcomer", "role": "legal",
                                                "locale": "ru", "password": "a long enough secret"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert "Account nina created." in text_of(ada.get("/admin/users"))
    with env.uow() as session:
        nina = get_user(session, "nina")
        assert (nina.role, nina.locale, nina.full_name, nina.active) == ("legal", "ru", "Nina Newcomer", True)
        assert session.scalar(select(func.count()).where(
            AuditEvent.action == "user_created", AuditEvent.actor_id == get_user(session, "ada").id)) == 1
    page = client.get("/login")
    signed_in = client.post("/login", data={"username": "nina", "password": "a long enough secret",
                                            "csrf_token": csrf_token(text_of(page))})
    # A legal officer sets up a second factor before anything else (tests/web/test_second_factor.py).
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/login/enrol"


def test_admin_sees_errors_next_to_the_fields(env, login):
    ada = login("ada")
    response = admin_post(ada, "/admin/users", {"username": "ina", "full_name": "", "role": "intake", "locale": "en",
                                                "password": "short"})
    html = text_of(response)
    assert response.status_code == 422
    assert re.search(r'name="username"[^>]*value="ina"[^>]*><p class="field-error"[^>]*>Already taken\.</p>', html)
    assert re.search(r'name="password"[^>]*><p class="field-error"[^>]*>Must have at least 10 characters\.</p>',
                     html)
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 7


def test_admin_changes_a_role_and_cannot_demote_themself(env, login):
    ada = login("ada")
    assert admin_post(ada, "/admin/users/ivan/role", {"role": "legal"}).status_code == 303
    response = admin_post(ada, "/admin/users/ada/role", {"role": "intake"})
    assert response.status_code == 422
    assert re.search(r'aria-invalid="true"[^>]*>.*?</select><p class="field-error"[^>]*>[^<]*ask another admin\.</p>',
                     text_of(response), flags=re.S)
    assert admin_post(ada, "/admin/users/nobody/role", {"role": "legal"}).status_code == 404
    with env.uow() as session:
        assert get_user(session, "ivan").role == "legal" and get_user(session, "ada").role == "admin"
        assert session.scalar(select(func.count()).where(AuditEvent.action == "user_role_changed")) == 1


def test_admin_deactivates_and_reactivates_an_account(env, login, client):
    ada, leo = login("ada"), login("leo")
    assert admin_post(ada, "/admin/users/leo/active", {"active": "false"}).status_code == 303
    assert leo.get("/tasks").status_code == 302  # signed out: the session no longer loads the user
    page = client.get("/login")
    refused = client.post("/login", data={"username": "leo", "password": PASSWORD,
                                          "csrf_token": csrf_token(text_of(page))})
    assert refused.status_code == 200 and "Wrong username or password." in text_of(refused)
    assert "inactive" in text_of(ada.get("/admin/users"))
    assert admin_post(ada, "/admin/users/ada/active", {"active": "false"}).status_code == 422
    assert admin_post(ada, "/admin/users/leo/active", {"active": "true"}).status_code == 303
    with env.uow() as session:
        assert get_user(session, "leo").active and get_user(session, "ada").active


@pytest.mark.parametrize("username", ["ina", "lena", "mara"])
def test_non_admins_get_403_on_every_admin_page(login, username):
    client = login(username)
    assert client.get("/admin/users").status_code == 403
    token = csrf_token(text_of(client.get("/tasks")))
    for url, data in [("/admin/users", {"username": "evil", "role": "admin", "locale": "en", "password": "x" * 12}),
                      ("/admin/users/ada/role", {"role": "intake"}), ("/admin/users/ada/active", {"active": "false"})]:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url


# -- withdrawal of consent -------------------------------------------------------------------------------

def test_consent_is_withdrawn_from_the_case_page(env, login):
    open_sample_case(env, "APL-801")
    lena = login("lena")
    case_page = text_of(lena.get("/cases/APL-801"))
    assert 'href="/cases/APL-801/consent/withdraw"' in case_page
    form = text_of(lena.get("/cases/APL-801/consent/withdraw"))
    empty = lena.post("/cases/APL-801/consent/withdraw", data={"reason": " ", "csrf_token": csrf_token(form)})
    assert empty.status_code == 422
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*>[^<]*</textarea><p class="field-error"', text_of(empty))

    response = lena.post("/cases/APL-801/consent/withdraw",
                         data={"reason": "Asked by phone; fears reprisals.", "csrf_token": csrf_token(form)})
    assert response.status_code == 303 and response.headers["Location"] == "/cases/APL-801"
    with env.uow() as session:
        consent = session.scalar(select(ConsentRecord).join(Case).where(Case.ref == "APL-801"))
        assert consent.status == "withdrawn" and consent.withdrawal_reason == "Asked by phone; fears reprisals."
        assert consent.withdrawn_by_id == env.user(session, "lena").id
        assert "consent_withdrawn" in audit_actions(session, "APL-801")
    assert stage(env, "APL-801") == "withdrawn"
    after = text_of(lena.get("/cases/APL-801"))
    assert "Withdrawn" in after and 'href="/cases/APL-801/consent/withdraw"' not in after
    assert "already been withdrawn" in text_of(lena.get("/cases/APL-801/consent/withdraw"))
    again = lena.post("/cases/APL-801/consent/withdraw", data={"reason": "again", "csrf_token": csrf_token(form)})
    assert again.status_code == 409


def test_withdrawal_needs_a_csrf_token_and_a_casework_role(env, login):
    open_sample_case(env, "APL-802")
    assert login("ina").post("/cases/APL-802/consent/withdraw", data={"reason": "x"}).status_code == 400
    ada = login("ada")
    token = csrf_token(text_of(ada.get("/admin/users")))
    assert ada.post("/cases/APL-802/consent/withdraw", data={"reason": "x", "csrf_token": token}).status_code == 403
    with env.uow() as session:
        assert session.scalar(select(ConsentRecord.status).join(Case).where(Case.ref == "APL-802")) == "pending"
