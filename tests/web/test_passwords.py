"""Passwords (issue 14, item 4): strength, one's own change, an admin's reset forcing a change, equal time.

Through the real sign-in form and pages, on SQLite and PostgreSQL. The equal-time test counts the argon2
verifications of the real hasher (the library's class, not our code): an unknown or inactive user costs one,
against a hash made with the same parameters as real ones, like a known user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, csrf_token
from workflow.errors import ValidationFailed
from workflow.models import AuditEvent, User
from workflow.services.demo import DEMO_PASSWORD, DEMO_USERS
from workflow.services.passwords import password_problem, verify_password
from workflow.services.users import add_user

NEW_PASSWORD = "violet kettle under the stairs"
WEAK = ("admin12345", "password123", "qwertyuiop", "Adminova2026")  # the last: the user's own name and a year


def sign_in_form(app: Flask, username: str, password: str) -> tuple[FlaskClient, int]:
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(page.get_data(as_text=True))})
    return client, response.status_code


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# -- strength --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", WEAK)
def test_guessable_passwords_are_refused_for_any_account(env, weak):
    with env.uow() as session, pytest.raises(ValidationFailed) as refused:
        add_user(session, None, "ada", "admin", full_name="Ada Adminova", password=weak)
    assert refused.value.errors["password"].code == "weak_password"
    assert "guess" in refused.value.texts()["password"]


def test_the_users_own_names_count_as_known_words():
    assert password_problem("saule testova", username="x1", full_name="") is None
    assert password_problem("saule testova", username="saule", full_name="Saule Testova") is not None


def test_the_test_and_demo_passwords_pass_the_check(staff):
    assert all(password_problem(PASSWORD, username=u, full_name=u.title()) is None for u in staff)
    assert all(password_problem(DEMO_PASSWORD, username=u, full_name=n) is None for u, _, n in DEMO_USERS)


def test_the_admin_page_refuses_a_weak_password_with_a_clear_message(env, staff, login):
    ada = login("ada")
    token = csrf_token(text_of(ada.get("/admin/users")))
    refused = ada.post("/admin/users", data={"csrf_token": token, "username": "nora", "full_name": "Nora Newova",
                                             "role": "admin", "locale": "en", "password": "admin12345"})
    assert refused.status_code == 422
    assert "Too easy to guess: use a longer phrase of several unrelated words" in text_of(refused)
    with env.uow() as session:
        assert session.scalar(select(User).where(User.username == "nora")) is None


# -- one's own password ----------------------------------------------------------------------------------

def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(text_of(client.get("/account/password")))
    return client.post("/account/password", data={"current_password": current, "password": new,
                                                  "confirm": new if confirm is None else confirm, "csrf_token": token})


def test_changing_ones_password_needs_the_current_one_and_a_strong_new_one(app, env, staff, login):
    lena = login("lena")
    wrong = change(lena, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "This is not your current password." in text_of(wrong)
    weak = change(lena, PASSWORD, "lenalena2026")
    assert weak.status_code == 422 and "Too easy to guess" in text_of(weak)
    differ = change(lena, PASSWORD, NEW_PASSWORD, "violet kettle under the stair")
    assert differ.status_code == 422 and "The two new passwords differ." in text_of(differ)
    same = change(lena, PASSWORD, PASSWORD)
    assert same.status_code == 422 and "Choose a password different from the current one." in text_of(same)
    assert sign_in_form(app, "lena", PASSWORD)[1] == 302  # nothing changed so far
    done = change(lena, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    assert sign_in_form(app, "lena", PASSWORD)[1] == 200  # the old one no longer works
    assert sign_in_form(app, "lena", NEW_PASSWORD)[1] == 302
    with env.uow() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "password_changed")).all()
        assert [e.data for e in events] == [{}]  # recorded, with no value


# -- an admin's reset ------------------------------------------------------------------------------------

def test_an_admin_reset_shows_a_temporary_password_once_and_forces_a_change(app, env, staff, login):
    ina = login("ina")
    ada = login("ada")
    reset = ada.post("/admin/users/ina/password", data={"csrf_token": csrf_token(text_of(ada.get("/admin/users")))})
    assert reset.status_code == 200
    temporary = re.search(r'<code class="secret">([a-z2-9-]{19})</code>', text_of(reset)).group(1)
    assert temporary not in text_of(ada.get("/admin/users"))  # shown once
    assert ina.get("/tasks").status_code == 302  # the reset ended ina's sessions
    assert sign_in_form(app, "ina", PASSWORD)[1] == 200  # the old password is gone

    client, status = sign_in_form(app, "ina", temporary)
    assert status == 302
    for path in ("/tasks", "/cases", "/account"):  # nothing but the password page...
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password", path
    forced = text_of(client.get("/account/password"))
    assert "An administrator reset your password." in forced
    token = csrf_token(forced)
    post = client.post("/account", data={"locale": "ru", "timezone": "", "csrf_token": token})  # ...not even a POST
    assert post.status_code == 302 and post.headers["Location"] == "/account/password"
    assert change(client, temporary, NEW_PASSWORD).status_code == 303
    assert client.get("/tasks").status_code == 200  # free again, in the same browser
    with env.uow() as session:
        ina_row = env.user(session, "ina")
        assert ina_row.locale == "en" and not ina_row.must_change_password
        assert session.scalar(select(AuditEvent.data).where(AuditEvent.action == "password_reset")) == {}


def test_an_admin_may_type_the_new_password_which_is_checked_too(app, env, staff, login):
    ada = login("ada")
    token = csrf_token(text_of(ada.get("/admin/users")))
    weak = ada.post("/admin/users/ina/password", data={"csrf_token": token, "password": "ina12345678"})
    assert weak.status_code == 422 and "Too easy to guess" in text_of(weak)
    assert sign_in_form(app, "ina", PASSWORD)[1] == 302  # refused: nothing changed
    typed = ada.post("/admin/users/ina/password", data={"csrf_token": token, "password": NEW_PASSWORD})
    assert typed.status_code == 303 and NEW_PASSWORD not in text_of(ada.get("/admin/users"))
    client, status = sign_in_form(app, "ina", NEW_PASSWORD)
    assert status == 302 and client.get("/tasks").headers["Location"] == "/account/password"


# -- equal time ------------------------------------------------------------------------------------------

@pytest.fixture
def verified(monkeypatch) -> list[str]:
    """The hash of every argon2 verification made by the real hasher (the library's method, called through)."""
    hashes: list[str] = []
    real = argon2.PasswordHasher.verify

    def counting(self, stored, password):  # type: ignore[no-untyped-def]
        hashes.append(stored if isinstance(stored, str) else stored.decode())
        return real(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return hashes


def test_unknown_and_inactive_users_cost_one_verification_like_known_ones(app, env, staff, login, verified):
    ada = login("ada")
    ada.post("/admin/users/ivan/active", data={"active": "false", "csrf_token": csrf_token(text_of(ada.get("/tasks")))})
    with env.uow() as session:
        ina_hash = env.user(session, "ina").password_hash
    verified.clear()
    attempts = {"unknown": ("nobody-here", PASSWORD), "inactive": ("ivan", PASSWORD),
                "wrong password": ("ina", "not the password"), "right password": ("ina", PASSWORD)}
    for what, (username, password) in attempts.items():
        before = len(verified)
        status = sign_in_form(app, username, password)[1]
        assert status == (302 if what == "right password" else 200), what
        assert len(verified) == before + 1, what  # one argon2 verification each, whoever asks
    unknown, inactive, wrong, right = verified
    assert unknown == inactive != ina_hash and wrong == right == ina_hash
    # The dummy hash costs what a real one costs: same algorithm, memory, time and parallelism.
    assert argon2.extract_parameters(unknown) == argon2.extract_parameters(ina_hash)


def test_a_user_without_a_password_cannot_sign_in_and_costs_a_verification(env, verified):
    with env.uow() as session:
        user = add_user(session, None, "nopass", "intake")
        assert verify_password(user, "") is False and verify_password(None, "anything at all") is False
    assert len(verified) == 2


# -- cost ------------------------------------------------------------------------------------------------

def test_without_the_test_setting_passwords_are_hashed_at_rfc_9106s_cost():
    """The suite hashes cheaply (tests/conftest.py); a process started without that setting, as every installation
    is, hashes at RFC 9106's low-memory profile, and refuses a cost it does not know."""
    environment = {name: value for name, value in os.environ.items() if name != "PETITIO_PASSWORD_COST"}
    program = "from workflow.services.passwords import hash_password; print(hash_password('violet kettle'))"
    made = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True)
    assert argon2.extract_parameters(made.stdout.strip()) == argon2.profiles.RFC_9106_LOW_MEMORY
    refused = subprocess.run([sys.executable, "-c", program], env={**environment, "PETITIO_PASSWORD_COST": "none"},
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "PETITIO_PASSWORD_COST: unknown cost 'none'" in refused.stderr


def test_a_hash_made_at_another_cost_is_made_again_at_the_next_sign_in(app, env, staff):
    """An account whose hash an installation made at the standard cost, signing in where the cost is another: the
    right password is hashed again at this process's cost; a wrong one changes nothing."""
    standard = argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY).hash(PASSWORD)
    with env.uow() as session:
        env.user(session, "ina").password_hash = standard
    assert sign_in_form(app, "ina", "not the password")[1] == 200
    with env.uow() as session:
        assert env.user(session, "ina").password_hash == standard
    assert sign_in_form(app, "ina", PASSWORD)[1] == 302
    with env.uow() as session:
        remade = env.user(session, "ina").password_hash
    assert remade != standard and argon2.PasswordHasher().verify(remade, PASSWORD)
    assert argon2.extract_parameters(remade) == argon2.profiles.CHEAPEST
    assert sign_in_form(app, "ina", PASSWORD)[1] == 302
