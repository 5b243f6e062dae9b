"""Sessions that end (issue 14, item 3): through the real sign-in form and HTTP, on SQLite and PostgreSQL.

A cookie copied before sign-out, "sign out everywhere", a password, role or account change, another User-Agent
or 30 minutes without a request: each leaves the copied cookie worth nothing, for pages and for POSTs alike.
The idle limit is shown by moving the app's clock (``PETITIO_CLOCK``), never by sleeping.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.second_factor import pass_second_factor
from tests.web.conftest import PASSWORD, csrf_token
from workflow.models import User, UserSession

COOKIE = "petitio_session"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
NEW_PASSWORD = "violet kettle under the stairs"


def sign_in(app: Flask, username: str, password: str = PASSWORD, *, user_agent: str = FIREFOX) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(page.get_data(as_text=True))})
    response = pass_second_factor(client, response, app.config["PETITIO_CLOCK"])  # the admin's code, if asked
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


class Replay:
    """A copy of a browser's cookie as saved at one moment, sent again as it was (a fresh client each time, so
    that what the server answers never replaces the copy)."""

    def __init__(self, app: Flask, client: FlaskClient, *, user_agent: str = FIREFOX) -> None:
        cookie = client.get_cookie(COOKIE)
        assert cookie is not None
        self.app, self.value, self.user_agent = app, cookie.value, user_agent

    def client(self) -> FlaskClient:
        copy = self.app.test_client()
        copy.environ_base["HTTP_USER_AGENT"] = self.user_agent
        copy.set_cookie(COOKIE, self.value)
        return copy

    def get(self, path: str):  # type: ignore[no-untyped-def]
        return self.client().get(path)

    def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client().post(path, **kwargs)


def replay(app: Flask, client: FlaskClient, *, user_agent: str = FIREFOX) -> Replay:
    return Replay(app, client, user_agent=user_agent)


def token_of(client: FlaskClient) -> str:
    return csrf_token(client.get("/account").get_data(as_text=True))


def refused(client: FlaskClient | Replay) -> bool:
    response = client.get("/tasks")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def locale_of(env, username: str) -> str:
    with env.uow() as session:
        return session.scalar(select(User.locale).where(User.username == username))


def post_locale(client: FlaskClient | Replay, token: str) -> int:
    return client.post("/account", data={"locale": "ru", "timezone": "", "csrf_token": token}).status_code


def end_reasons(env, username: str) -> list[str | None]:
    with env.uow() as session:
        return list(session.scalars(select(UserSession.end_reason).join(User).where(User.username == username)
                                    .order_by(UserSession.id)))


def test_a_cookie_saved_before_sign_out_opens_nothing_after_it(app, env, staff):
    client = sign_in(app, "ina")
    token = token_of(client)
    saved = replay(app, client)
    assert saved.get("/tasks").status_code == 200  # the copy works while the session lives...
    client.post("/logout", data={"csrf_token": token})
    assert refused(client)
    assert refused(saved)  # ...and not after sign-out
    response = saved.post("/account", data={"locale": "ru", "timezone": "", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert locale_of(env, "ina") == "en"  # the POST changed nothing
    assert end_reasons(env, "ina") == ["signed_out"]


def test_the_cookie_holds_a_random_session_id_whose_hash_alone_is_stored(app, env, staff):
    first, second = sign_in(app, "ina"), sign_in(app, "ina")
    assert first.get_cookie(COOKIE).value != second.get_cookie(COOKIE).value
    with env.uow() as session:
        hashes = list(session.scalars(select(UserSession.secret_hash)))
    assert len(hashes) == 2 and all(len(h) == 64 for h in hashes)
    for client in (first, second):  # the stored hash is not in the cookie, so a database copy makes no cookie
        assert not any(h in client.get_cookie(COOKIE).value for h in hashes)


def test_sign_out_everywhere_from_the_account_page(app, env, staff):
    laptop, phone = sign_in(app, "ina"), sign_in(app, "ina", user_agent=CHROME)
    other = sign_in(app, "ivan")
    phone_token, phone_copy = token_of(phone), replay(app, phone, user_agent=CHROME)
    assert "Open sessions, this browser included: 2." in laptop.get("/account").get_data(as_text=True)
    response = laptop.post("/account/sessions/end", data={"csrf_token": token_of(laptop)})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert refused(laptop) and refused(phone)
    assert post_locale(phone_copy, phone_token) == 302 and locale_of(env, "ina") == "en"
    assert other.get("/tasks").status_code == 200  # only ina's sessions ended
    assert end_reasons(env, "ina") == ["signed_out_everywhere"] * 2
    assert sign_in(app, "ina").get("/tasks").status_code == 200  # signing in again works


def test_an_admin_signs_a_user_out_everywhere(app, env, staff):
    ina, admin = sign_in(app, "ina"), sign_in(app, "ada")
    token, saved = token_of(ina), replay(app, ina)
    response = admin.post("/admin/users/ina/sessions/end", data={"csrf_token": token_of(admin)})
    assert response.status_code == 303
    assert post_locale(saved, token) == 302 and refused(ina) and locale_of(env, "ina") == "en"
    assert admin.get("/admin/users").status_code == 200  # the admin's own session goes on


def test_a_password_change_keeps_this_browser_and_ends_the_others(app, env, staff):
    laptop, phone = sign_in(app, "lena"), sign_in(app, "lena", user_agent=CHROME)
    phone_token, phone_copy = token_of(phone), replay(app, phone, user_agent=CHROME)
    page = laptop.get("/account/password")
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 303
    assert laptop.get("/tasks").status_code == 200  # the browser that changed it stays signed in
    assert post_locale(phone_copy, phone_token) == 302 and refused(phone) and locale_of(env, "lena") == "en"
    assert end_reasons(env, "lena") == [None, "password_changed"]
    sign_in(app, "lena", NEW_PASSWORD)


@pytest.mark.parametrize("change", ["deactivate", "role"])
def test_deactivation_and_a_role_change_end_the_users_sessions(app, env, staff, change):
    lena, admin = sign_in(app, "lena"), sign_in(app, "ada")
    token, saved = token_of(lena), replay(app, lena)
    if change == "deactivate":
        response = admin.post("/admin/users/lena/active", data={"active": "false", "csrf_token": token_of(admin)})
    else:
        response = admin.post("/admin/users/lena/role", data={"role": "intake", "csrf_token": token_of(admin)})
    assert response.status_code == 303
    assert post_locale(saved, token) == 302 and refused(lena) and locale_of(env, "lena") == "en"
    assert end_reasons(env, "lena") == ["deactivated" if change == "deactivate" else "role_changed"]


def test_saving_the_same_role_ends_nothing(app, env, staff):
    lena, admin = sign_in(app, "lena"), sign_in(app, "ada")
    admin.post("/admin/users/lena/role", data={"role": "legal", "csrf_token": token_of(admin)})
    assert lena.get("/tasks").status_code == 200


def test_another_user_agent_is_signed_out(app, env, staff):
    firefox = sign_in(app, "ina", user_agent=FIREFOX)
    token = token_of(firefox)
    stolen = replay(app, firefox, user_agent=CHROME)
    assert refused(stolen)
    assert post_locale(stolen, token) == 302 and locale_of(env, "ina") == "en"
    # The cookie showed up in another browser: the session is over for its owner too (sign in again).
    assert refused(firefox)
    assert end_reasons(env, "ina") == ["user_agent_changed"]


def test_the_same_user_agent_from_a_copy_is_what_binding_cannot_tell(app, staff):
    """The limit of the binding, stated: a copy sent with the very same User-Agent is accepted until the session
    ends (sign-out, idleness or a change) — the binding stops a careless replay, not a careful one."""
    client = sign_in(app, "ina", user_agent=FIREFOX)
    assert replay(app, client, user_agent=FIREFOX).get("/tasks").status_code == 200


def test_thirty_minutes_without_a_request_end_the_session(app, env, clock, staff):
    client = sign_in(app, "ina")
    clock.advance(minutes=29)
    assert client.get("/tasks").status_code == 200
    clock.advance(minutes=29)  # each request renews the session: 58 minutes after sign-in, still alive
    assert client.get("/tasks").status_code == 200
    saved = replay(app, client)
    clock.advance(minutes=31)
    assert refused(saved)
    assert refused(client)
    assert end_reasons(env, "ina") == ["idle"]


def test_a_request_costs_one_indexed_read_and_at_most_one_write_a_minute(app, env, clock, staff, statements):
    client = sign_in(app, "ina")
    client.get("/tasks")
    statements.clear()
    client.get("/tasks")
    touching = [s for s in statements if "user_sessions" in s]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("SELECT")
    assert "user_sessions.secret_hash = " in touching[0]  # by the unique (indexed) hash
    clock.advance(seconds=61)
    statements.clear()
    client.get("/tasks")
    touching = [s.lstrip().split()[0].upper() for s in statements if "user_sessions" in s]
    # Last seen, written once a minute at most (a read on SQLite writes afterwards: it re-reads the row by its key).
    assert touching[0] == "SELECT" and touching.count("UPDATE") == 1
    statements.clear()
    client.get("/tasks")
    assert len([s for s in statements if "user_sessions" in s]) == 1
