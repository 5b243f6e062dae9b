"""The second factor over HTTP: asked before the session starts, set up before anything else where the role
requires it, recovery codes once each, switched off only by intake, reset by an admin."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from tests.second_factor import TOTP_SECRET, csrf_of
from tests.web.conftest import PASSWORD
from workflow.models import AuditEvent, RecoveryCode, UserSession
from workflow.services.users import add_user, get_user


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def password_step(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(text_of(page))})


def post_code(client, path: str, code: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"code": code, "csrf_token": csrf_of(text_of(client.get(path)))})


def recovery_codes(html: str) -> list[str]:
    return re.findall(r'<li><code class="secret">([a-z0-9-]+)</code></li>', html)


def test_a_legal_officer_without_a_second_factor_cannot_reach_cases_until_one_is_set_up(env, app, staff, clock):
    with env.uow() as session:
        add_user(session, None, "nora", "legal", full_name="Nora Newcomer", password=PASSWORD)
    client = app.test_client()
    answer = password_step(client, "nora")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login/enrol"
    # Password right, no second factor yet: nothing answers as nora.
    for path in ("/cases", "/tasks", "/account", "/api/v1/cases"):
        assert client.get(path).status_code in (302, 401), path
    assert client.get("/cases").headers["Location"].startswith("/login")
    page = text_of(client.get("/login/enrol"))
    assert "<svg" in page and "<script" not in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert post_code(client, "/login/enrol", "000000").status_code == 422
    assert client.get("/cases").status_code == 302  # still not signed in
    clock.advance(30)
    done = post_code(client, "/login/enrol", pyotp.TOTP(secret).at(clock()))
    codes = recovery_codes(text_of(done))
    assert done.status_code == 200 and len(codes) == 10 == len(set(codes))
    assert client.get("/cases").status_code == 200
    with env.uow() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "second_factor_enrolled")).all()
        assert [e.data for e in events if e.object_id == str(get_user(session, "nora").id)] == [
            {"fields": ["totp_secret", "recovery_codes"]}]
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
        assert not set(codes) & set(stored)  # kept as digests only
    # The next sign-in asks for a code.
    again = app.test_client()
    assert password_step(again, "nora").headers["Location"] == "/login/code"


def test_the_code_is_asked_before_the_session_and_a_code_is_used_once(app, staff, clock):
    client = app.test_client()
    assert password_step(client, "lena").headers["Location"] == "/login/code"
    assert client.get("/cases").status_code == 302
    assert client.get("/api/v1/cases").status_code == 401
    wrong = post_code(client, "/login/code", "123456")
    assert wrong.status_code == 422 and "nor an unused recovery code" in text_of(wrong)
    code = clock.next_code()
    signed_in = post_code(client, "/login/code", code)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    assert client.get("/cases").status_code == 200
    # The same code again, in the same 30 seconds, from another browser: refused.
    other = app.test_client()
    password_step(other, "lena")
    assert post_code(other, "/login/code", code).status_code == 422
    # The next step's code (the phone a little ahead) is accepted: the window is one step either side.
    assert post_code(other, "/login/code", pyotp.TOTP(TOTP_SECRET).at(clock.at.timestamp() + 30)).status_code == 302


def test_wrong_codes_are_bounded_and_end_the_waiting_sign_in(app, staff, clock):
    client = app.test_client()
    password_step(client, "mara")
    for _ in range(5):
        assert post_code(client, "/login/code", "999999").status_code == 422
    # The pending sign-in is gone: the password is asked again, and a right code alone does nothing.
    assert client.get("/login/code").headers["Location"] == "/login"
    answer = client.post("/login/code", data={"code": clock.next_code(), "csrf_token": "x"})
    assert answer.status_code in (302, 400) and client.get("/cases").status_code == 302


def test_a_recovery_code_signs_in_once(env, app, staff, clock, login):
    lena = login("lena")
    page = lena.post("/account/second-factor/recovery-codes",
                     data={"csrf_token": csrf_of(text_of(lena.get("/account")))})
    codes = recovery_codes(text_of(page))
    assert len(codes) == 10
    first = app.test_client()
    password_step(first, "lena")
    assert post_code(first, "/login/code", codes[0].upper()).status_code == 302  # typed in capitals: the same code
    assert "9 unused recovery codes" in text_of(first.get("/account"))
    second = app.test_client()
    password_step(second, "lena")
    assert post_code(second, "/login/code", codes[0]).status_code == 422
    with env.uow() as session:
        assert session.scalar(select(AuditEvent.data).where(AuditEvent.action == "recovery_code_used")) == {
            "fields": ["recovery_codes"]}


def test_intake_sets_up_a_second_factor_from_the_account_page_and_may_switch_it_off(app, staff, clock, login):
    ina = login("ina")
    account = text_of(ina.get("/account"))
    assert "Set up a second factor" in account and "Your role requires" not in account
    begun = ina.post("/account/second-factor", data={"csrf_token": csrf_of(account)})
    assert begun.status_code == 303 and begun.headers["Location"] == "/account/second-factor/enrol"
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', text_of(ina.get("/account/second-factor/enrol"))).group(1)
    clock.advance(30)
    done = post_code(ina, "/account/second-factor/enrol", pyotp.TOTP(secret).at(clock()))
    assert done.status_code == 200 and len(recovery_codes(text_of(done))) == 10
    again = app.test_client()
    assert password_step(again, "ina").headers["Location"] == "/login/code"
    clock.advance(30)
    assert post_code(again, "/login/code", pyotp.TOTP(secret).at(clock())).status_code == 302
    off = again.post("/account/second-factor/disable", data={"csrf_token": csrf_of(text_of(again.get("/account")))})
    assert off.status_code == 303
    assert password_step(app.test_client(), "ina").headers["Location"] == "/"


def test_roles_that_require_it_cannot_switch_it_off(app, staff, login):
    lena = login("lena")
    account = text_of(lena.get("/account"))
    assert "Your role requires a second factor." in account and "disable-second-factor" not in account
    assert lena.post("/account/second-factor/disable", data={"csrf_token": csrf_of(account)}).status_code == 403
    assert lena.post("/account/second-factor", data={"csrf_token": csrf_of(account)}).status_code == 409


def test_an_admin_resets_a_lost_second_factor_and_the_user_sets_up_a_new_one(env, app, staff, clock, login, api):
    lena, ada = login("lena"), login("ada")
    assert api("GET", "/api/v1/cases", "lena").status_code == 200
    users = text_of(ada.get("/admin/users"))
    assert ada.post("/admin/users/lena/second-factor/reset", data={"csrf_token": csrf_of(users)}).status_code == 303
    assert ada.post("/admin/users/nobody/second-factor/reset", data={"csrf_token": csrf_of(users)}).status_code == 404
    # Her open session is sent to sign in again, which sets up a new second factor first.
    assert lena.get("/cases").headers["Location"].startswith("/login")
    assert password_step(app.test_client(), "lena").headers["Location"] == "/login/enrol"
    # API tokens are not sessions: the token she made stays hers (revoking tokens is the tokens' own matter).
    assert api("GET", "/api/v1/cases", "lena").status_code == 200
    with env.uow() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor_reset"))
        assert event.actor_id == get_user(session, "ada").id and event.data == {
            "fields": ["totp_secret", "recovery_codes"]}
        # Ended on the server at the reset (a lost phone may have gone with a signed-in browser).
        ended = session.scalars(select(UserSession.end_reason).where(
            UserSession.user_id == get_user(session, "lena").id)).all()
        assert ended == ["second_factor_reset"]


def test_security_key_posts_refuse_what_is_not_a_key_answer(app, staff, clock, login):
    """The WebAuthn steps (the browser test makes real keys) answer bad input with a 4xx and sign nobody in."""
    client = app.test_client()
    password_step(client, "lena")
    token = csrf_of(text_of(client.get("/login/code")))
    headers = {"X-CSRFToken": token}
    assert client.post("/login/security-key/options", headers=headers).status_code == 409  # she has no key
    for body in ({}, {"credential": "x"}, {"credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                                                          "response": {}}}):
        assert client.post("/login/security-key", json=body, headers=headers).status_code == 422, body
    assert client.post("/login/security-key", data="not json", headers=headers).status_code == 422
    assert client.get("/cases").status_code == 302
    lena = login("lena")
    token = csrf_of(text_of(lena.get("/account")))
    options = lena.post("/account/security-keys/options", headers={"X-CSRFToken": token})
    assert options.status_code == 200 and options.get_json()["rp"]["id"] == "localhost"
    refused = lena.post("/account/security-keys", json={"credential": {"id": "AAAA"}, "name": "x"},
                        headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid"
    assert lena.post("/account/security-keys/999/remove", data={"csrf_token": token}).status_code == 404
    ina = login("ina")  # no second factor: a key comes after the app
    ina_token = csrf_of(text_of(ina.get("/account")))
    assert ina.post("/account/security-keys/options", headers={"X-CSRFToken": ina_token}).status_code == 409
