"""The calendar feed: secret per-user links (stored hashed, one live at a time) and an iCalendar of the
open deadlines a user answers for, with references and labels only. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.helpers import do, expire_timers, open_sample_case
from workflow.errors import Forbidden
from workflow.models import AuditEvent, CalendarToken, Deadline
from workflow.services.calendar import (
    calendar_feed,
    issue_calendar_token,
    revoke_calendar_token,
    user_for_calendar_token,
)
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def events(feed: bytes) -> dict[str, tuple[str, datetime]]:
    """UID -> (SUMMARY, DTSTART) of every event in the feed."""
    return {str(e["UID"]): (str(e["SUMMARY"]), e.decoded("DTSTART")) for e in Calendar.from_ical(feed).walk("VEVENT")}


def feed_of(env, username: str) -> bytes:
    with env.uow() as session:
        return calendar_feed(session, env.user(session, username), datetime.now(UTC))


def test_a_calendar_link_is_shown_once_stored_hashed_and_replaced_by_the_next(env, staff):
    with env.uow() as session:
        ina = env.user(session, "ina")
        first = issue_calendar_token(session, ina, ina)
        second = issue_calendar_token(session, ina, ina)
        assert first != second and len(second) > 40
        stored = session.scalars(select(CalendarToken.token_hash)).all()
        assert first not in stored and second not in stored
    with env.uow() as session:
        assert user_for_calendar_token(session, first) is None  # revoked by the second
        assert user_for_calendar_token(session, second).username == "ina"
        assert user_for_calendar_token(session, "pc_guessed") is None
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "user")).all()
        assert actions.count("calendar_token_issued") == 2


def test_revoked_links_and_deactivated_users_get_no_feed(env, staff):
    with env.uow() as session:
        ina, lena, ada = (env.user(session, u) for u in ("ina", "lena", "ada"))
        secret = issue_calendar_token(session, ina, ina)
        admins = issue_calendar_token(session, ada, lena)  # an admin may issue one for a user
        with pytest.raises(Forbidden):
            issue_calendar_token(session, env.user(session, "ivan"), ina)
        with pytest.raises(Forbidden):
            revoke_calendar_token(session, env.user(session, "ivan"), ina)
    with env.uow() as session:
        assert revoke_calendar_token(session, env.user(session, "ina"), env.user(session, "ina")) == 1
        assert user_for_calendar_token(session, secret) is None
        env.user(session, "lena").active = False
    with env.uow() as session:
        assert user_for_calendar_token(session, admins) is None


def test_the_feed_lists_the_open_deadlines_a_user_answers_for(env, staff):
    open_sample_case(env, "APL-501")
    open_sample_case(env, "APL-502")
    do(env, "APL-502", "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        due = {d.label: d for d in session.scalars(select(Deadline).where(Deadline.state == "open"))}
    intake = events(feed_of(env, "ina"))
    consent = due["Consent verification due"]
    assert intake == {f"deadline-{consent.id}@deadlines.petitio": ("APL-501: Consent verification due",
                                                                    consent.due_at.replace(microsecond=0))}
    review = due["Legal review due"]
    assert events(feed_of(env, "lena")) == {
        f"deadline-{review.id}@deadlines.petitio": ("APL-502: Legal review due", review.due_at.replace(microsecond=0))}
    assert events(feed_of(env, "mara")) == {}  # nothing of a manager's, nothing overdue
    assert events(feed_of(env, "ina")) == intake  # stable UIDs: a calendar updates events, never duplicates them
    for username in ("ina", "lena"):
        assert b"Testova" not in feed_of(env, username) and b"Aigerim" not in feed_of(env, username)
    assert Calendar.from_ical(feed_of(env, "ina"))["PRODID"] == "-//Petitio//Deadlines//EN"


def test_a_manager_sees_every_overdue_deadline_and_a_missed_one_leaves_the_feed(env, staff):
    open_sample_case(env, "APL-511")
    expire_timers(env, "APL-511")
    [(summary, start)] = events(feed_of(env, "mara")).values()
    assert summary == "APL-511: Consent verification due" and start < datetime.now(UTC)
    assert len(events(feed_of(env, "ina"))) == 1
    sweep(env.engine, env.settings)  # the timer fired and alerted a manager: still open until the work is done
    assert len(events(feed_of(env, "mara"))) == len(events(feed_of(env, "ina"))) == 1
    do(env, "APL-511", "verify_consent", "ina", VERIFIED)  # done late: the deadline is missed, no longer open
    assert events(feed_of(env, "mara")) == {} and events(feed_of(env, "ina")) == {}
