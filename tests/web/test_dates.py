"""Dates and times (issue 12, item 6): one format per language, in the user's time zone, labelled with it.

Calendar days (received on, a deadline's day) are never shifted by a zone; the user chooses a zone on
/account (or the admin when creating the account), the organisation's is the default (PETITIO_TIMEZONE).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.helpers import open_sample_case, task
from tests.web.conftest import csrf_token
from workflow.config import load_settings
from workflow.i18n import format_day, format_when, zone
from workflow.models import AuditEvent, User
from workflow.services.deadlines import Item
from workflow.services.digest import compose

MOMENT = datetime(2026, 12, 6, 9, 5, tzinfo=UTC)


def test_one_format_per_language_in_the_readers_zone_with_its_name():
    assert format_when(MOMENT, "en", zone("Asia/Almaty")) == "Dec 6, 2026, 2:05\u202fPM (Almaty)"
    assert format_when(MOMENT, "ru", zone("Asia/Almaty")) == "6 дек. 2026\u202fг., 14:05 (Алматы)"
    assert format_when(MOMENT, "en", zone(None)) == "Dec 6, 2026, 9:05\u202fAM (UTC)"
    assert format_when(MOMENT, "en", zone("Not/AZone", "Europe/Berlin")).endswith("(Berlin)")
    # A calendar day is the day it was given, whatever the zone: Kiritimati is UTC+14.
    assert format_day(date(2026, 12, 6), "en") == "Dec 6, 2026"
    assert format_when(date(2026, 12, 6), "ru", zone("Pacific/Kiritimati")) == "6 дек. 2026\u202fг."


def test_the_organisations_zone_comes_from_the_environment_and_is_checked(tmp_path):
    assert load_settings({"PETITIO_HOME": str(tmp_path)}).timezone == "UTC"
    assert load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_TIMEZONE": "Asia/Almaty"}).timezone == "Asia/Almaty"
    with pytest.raises(ValueError, match="PETITIO_TIMEZONE"):
        load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_TIMEZONE": "Asia/Atlantis"})


def _save(client, **data):
    page = client.get("/account")
    assert page.status_code == 200
    return client.post("/account", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data})


def test_each_user_sets_their_zone_and_sees_times_in_it(env, login):
    open_sample_case(env, "APL-601")
    ina = login("ina")
    due = task(env, "APL-601", "verify_consent").due_at
    inbox = ina.get("/tasks").get_data(as_text=True)
    assert format_when(due, "en", zone("UTC")) in inbox  # the organisation's zone by default

    response = _save(ina, locale="ru", timezone="Asia/Almaty")
    assert response.status_code == 303
    inbox = ina.get("/tasks").get_data(as_text=True)
    assert format_when(due, "ru", zone("Asia/Almaty")) in inbox and "(Алматы)" in inbox
    # The day an appeal was received is a calendar day: shown as given.
    assert format_day(date(2022, 3, 1), "ru") in ina.get("/cases").get_data(as_text=True)
    with env.uow() as session:
        user = session.scalar(select(User).where(User.username == "ina"))
        assert (user.locale, user.timezone) == ("ru", "Asia/Almaty")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user_preferences_changed"))
        assert event.data == {"fields": ["locale", "timezone"]}  # names, never values

    assert _save(ina, locale="ru", timezone="").status_code == 303  # back to the organisation's
    with env.uow() as session:
        assert session.scalar(select(User.timezone).where(User.username == "ina")) is None


def test_a_zone_that_does_not_exist_is_refused_next_to_its_field_and_nothing_changes(env, login):
    lena = login("lena")
    response = _save(lena, locale="en", timezone="Asia/Atlantis")
    assert response.status_code == 422
    assert 'id="timezone-error"' in response.get_data(as_text=True)
    assert _save(lena, locale="xx", timezone="UTC").status_code == 422
    assert lena.post("/account", data={"locale": "en", "timezone": "UTC"}).status_code == 400  # no CSRF token
    with env.uow() as session:
        assert session.scalar(select(User.timezone).where(User.username == "lena")) is None
        assert session.scalar(select(User.locale).where(User.username == "lena")) == "en"


def test_the_organisations_zone_is_the_default_on_the_pages(env, staff):
    from web import create_app
    from workflow.config import Settings

    settings = Settings(**{**env.settings.__dict__, "timezone": "Europe/Berlin"})
    app = create_app(settings, TESTING=True)
    open_sample_case(env, "APL-602")
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"username": "ina", "password": "correct horse battery",
                                "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "(Berlin)" in client.get("/tasks").get_data(as_text=True)
    assert "The organisation&#39;s (Europe/Berlin)" in client.get("/account").get_data(as_text=True)


def test_the_admin_gives_a_new_account_its_zone(env, login):
    ada = login("ada")
    page = ada.get("/admin/users")
    assert 'name="timezone"' in page.get_data(as_text=True)
    response = ada.post("/admin/users", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "username": "ira", "full_name": "Ira Fictional",
        "role": "intake", "locale": "en", "timezone": "Asia/Almaty", "password": "correct horse battery"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    refused = ada.post("/admin/users", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "username": "ivo", "role": "intake",
        "locale": "en", "timezone": "Asia/Atlantis", "password": "correct horse battery"})
    assert refused.status_code == 422
    with env.uow() as session:
        assert session.scalar(select(User.timezone).where(User.username == "ira")) == "Asia/Almaty"
        assert session.scalar(select(User).where(User.username == "ivo")) is None


def test_the_daily_mail_shows_times_in_the_users_zone():
    user = User(username="ina", role="intake", locale="ru", timezone="Asia/Almaty", email="ina@example.org")
    item = Item(id=1, subject="APL-603", label="Consent verification due", due_at=MOMENT, state="open",
                closed_at=None, overdue=True)
    text = compose(user, "petitio@example.org", [item], [], MOMENT).get_content()
    assert "6 дек. 2026\u202fг., 14:05 (Алматы)" in text
    user.timezone = None
    text = compose(user, "petitio@example.org", [item], [], MOMENT, default_timezone="Europe/Berlin").get_content()
    assert "10:05 (Берлин)" in text
