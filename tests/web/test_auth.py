"""Sign-in, sign-out, CSRF, throttling and cookies (the session timeout: test_sessions.py, on a moved clock)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.web.conftest import PASSWORD, csrf_token
from workflow.models import AuditEvent, User


def test_sign_in_and_out(client, staff, env):
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post("/login?next=/tasks", data={"username": "ina", "password": PASSWORD,
                                                       "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tasks = client.get("/tasks")
    assert tasks.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(tasks.get_data(as_text=True))})
    assert client.get("/tasks").status_code == 302
    with env.uow() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "signed_in")) == 1


def test_sign_in_never_redirects_to_another_site(client, staff):
    page = client.get("/login")
    response = client.post("/login?next=//evil.example/x", data={
        "username": "ina", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused_and_changes_nothing(login, env):
    client = login("ina")
    response = client.post("/account/language", data={"locale": "ru"})
    assert response.status_code == 400
    with env.uow() as session:
        assert session.scalar(select(User.locale).where(User.username == "ina")) == "en"


def test_wrong_password_ten_times_is_throttled(client, staff):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"username": "ina", "password": "wrong", "csrf_token": token}).status_code
             for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    # Even the right password waits until the window passes.
    right = client.post("/login", data={"username": "ina", "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 429
