"""Web fixtures: the Flask app over the `env` database, a client per role, API tokens."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import log_watch
from tests.second_factor import MovableClock, pass_second_factor
from web import create_app
from workflow.services.api_tokens import create_token
from workflow.services.users import get_user

PASSWORD = "correct horse battery"  # the password tests/conftest.py gives every staff user


@pytest.fixture
def clock() -> MovableClock:
    """The app's clock for the second factor: each sign-in moves it to a fresh 30-second step."""
    return MovableClock()


@pytest.fixture
def app(env, clock) -> Flask:
    return create_app(env.settings, TESTING=True, PETITIO_CLOCK=clock)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login(app: Flask, staff, clock) -> Callable[[str], FlaskClient]:
    """login("lena") -> a client signed in as that staff user (through the real sign-in form and, for the roles
    that require it, the second factor's code page)."""

    def sign_in(username: str) -> FlaskClient:
        client = app.test_client()
        page = client.get("/login")
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": csrf_token(page.get_data(as_text=True))})
        response = pass_second_factor(client, response, clock)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert not response.headers["Location"].startswith("/login"), response.headers["Location"]
        return client

    return sign_in


@pytest.fixture
def token(env, staff) -> Callable[[str], dict[str, str]]:
    """token("lena") -> Authorization headers with a fresh API token for that user."""

    def headers(username: str) -> dict[str, str]:
        with env.uow() as session:
            _, value = create_token(session, None, get_user(session, username), channel="cli")
            log_watch.remember(value)
        return {"Authorization": f"Bearer {value}"}

    return headers


@pytest.fixture
def api(app, token) -> Callable[..., TestResponse]:
    """api("GET", path, "ina", json=...) -> the response to a call with that user's bearer token."""
    tokens: dict[str, dict[str, str]] = {}

    def call(method: str, path: str, user: str | None = None, *, client: FlaskClient | None = None,
             **kwargs) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            if user not in tokens:
                tokens[user] = token(user)
            headers.update(tokens[user])
        return (client or app.test_client()).open(path, method=method, headers=headers, **kwargs)

    return call

