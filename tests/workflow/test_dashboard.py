"""The managers' deadline board, a case's timeline and the statistics, on SQLite and PostgreSQL.

Three cases built through the real services:
- D-1 (Almaty): filed with the Special Procedures and submitted; its response window moved into the past,
  so it is overdue for un_sp; its assigned officer is leo.
- D-2 (Astana): reviewed by lena, returned by mara; the review is back with lena (its inbox row is assigned
  to her) and overdue; the case's assigned officer is ivan, whom the task's assignee overrides.
- D-3 ("=SUM(1)", a city a spreadsheet would run as a formula): waiting for consent verification, due in 7
  days (the consent service level), no officer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import do, expire_timers, open_sample_case
from workflow.models import Case, Deadline, HumanTask, Incident, User
from workflow.services import dashboard
from workflow.services.collective import create_collective
from workflow.services.episodes import upsert_episode
from workflow.services.responses import record_response

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
REVIEW = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}


@dataclass(frozen=True)
class Built:
    now: datetime
    users: dict[str, int]
    cases: dict[str, int]


def _set_officer(env, ref: str, username: str) -> None:
    # No service assigns an officer yet: set the column the way a future assignment would.
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        case.assigned_officer_id = env.user(session, username).id


def _submitted(env, ref: str) -> None:
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", REVIEW)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    do(env, ref, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email",
                                          "reference": "X"})


def _respond(env, ref: str) -> None:
    with env.uow() as session:
        filing_id = session.scalar(select(Case).where(Case.ref == ref)).filings[0].id
        record_response(session, env.settings, env.user(session, "lena"), filing_id, kind="acknowledgement",
                        received_on=date.today())


def build(env) -> Built:
    with env.uow() as session:
        upsert_episode(session, None, "strike_2023", "=Strike at the plant", date(2023, 5, 1), None)
    open_sample_case(env, "D-1", incident_types=("detention_at_rally", "torture_ill_treatment"))
    _submitted(env, "D-1")
    expire_timers(env, "D-1")  # only the response window is waiting
    _set_officer(env, "D-1", "leo")

    open_sample_case(env, "D-2", city="Astana")
    do(env, "D-2", "verify_consent", "ina", VERIFIED)
    do(env, "D-2", "legal_review", "lena", REVIEW)
    do(env, "D-2", "approve_review", "mara", {"decision": "return", "notes": "Check the dates."})
    expire_timers(env, "D-2")
    _set_officer(env, "D-2", "ivan")

    open_sample_case(env, "D-3", city="=SUM(1)", episodes=("rally_2022", "strike_2023"),
                     incident_types=("interrogation",))
    with env.uow() as session:
        users = dict(session.execute(select(User.username, User.id)).all())
        cases = dict(session.execute(select(Case.ref, Case.id)).all())
    return Built(datetime.now(UTC), users, cases)


@pytest.fixture
def built(env, staff) -> Built:
    return build(env)


def _counts(counts: tuple[dashboard.BoardCount, ...]) -> dict[str, tuple[int, int]]:
    return {c.key: (c.overdue, c.due_soon) for c in counts}


def test_board_counts_overdue_and_due_soon_by_body_officer_stage_and_role(env, built):
    with env.uow() as session:
        board = dashboard.deadline_board(session, built.now)
    lena, leo = str(built.users["lena"]), str(built.users["leo"])
    assert (board.overdue, board.due_soon) == (2, 1)
    assert _counts(board.by_body) == {"un_sp": (1, 0), dashboard.INTERNAL: (1, 1)}
    # D-2's review deadline guards a task assigned to lena: she, not the case's officer ivan, owns it.
    assert _counts(board.by_officer) == {leo: (1, 0), lena: (1, 0), dashboard.UNASSIGNED: (0, 1)}
    assert {c.key: c.label for c in board.by_officer} == {leo: "Leo", lena: "Lena",
                                                          dashboard.UNASSIGNED: dashboard.UNASSIGNED}
    assert _counts(board.by_stage) == {"awaiting_response": (1, 0), "legal_review": (1, 0), "consent": (0, 1)}
    assert _counts(board.by_role) == {"legal": (2, 0), "intake": (0, 1)}
    assert board.by_body[0].key == dashboard.INTERNAL  # worst first: most overdue, then most due soon


def test_board_leaves_out_closed_deadlines_and_those_due_later(env, built):
    _respond(env, "D-1")  # closes the overdue response window and starts a follow-up clock months away
    with env.uow() as session:
        board = dashboard.deadline_board(session, built.now)
        week_later = dashboard.deadline_board(session, built.now + timedelta(days=8))
        follow_up = session.scalar(select(Deadline).where(Deadline.case_id == built.cases["D-1"],
                                                          Deadline.state == "open"))
    assert (board.overdue, board.due_soon) == (1, 1)
    assert follow_up.due_at > built.now + timedelta(days=15)
    assert (week_later.overdue, week_later.due_soon) == (2, 0)  # the consent deadline has passed too
    assert _counts(week_later.by_stage) == {"legal_review": (1, 0), "consent": (1, 0)}


def test_every_count_links_to_a_list_of_exactly_those_deadlines(env, built):
    with env.uow() as session:
        board = dashboard.deadline_board(session, built.now)
        for by in dashboard.BOARD_DIMENSIONS:
            for count in getattr(board, f"by_{by}"):
                for status in dashboard.STATUSES:
                    rows, total = dashboard.board_deadlines(session, built.now, status, by=by, key=count.key)
                    assert total == len(rows) == getattr(count, status), (by, count, status)
                    assert all(ref in built.cases for _, ref in rows)
        everything, total = dashboard.board_deadlines(session, built.now, "overdue")
    assert total == board.overdue
    assert sorted(ref for _, ref in everything) == ["D-1", "D-2"]
    assert [d.due_at for d, _ in everything] == sorted(d.due_at for d, _ in everything)


def test_a_collective_complaints_deadline_has_a_body_but_no_case(env, built):
    with env.uow() as session:
        create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                          title="A fictional movement", cases=["D-1"])
    now = datetime.now(UTC)
    with env.uow() as session:
        board = dashboard.deadline_board(session, now)
        rows, total = dashboard.board_deadlines(session, now, "due_soon", by="stage", key=dashboard.NO_CASE)
    assert _counts(board.by_stage)[dashboard.NO_CASE] == (0, 1)
    [(deadline, ref)] = rows
    assert (total, ref, deadline.case_id, deadline.label) == (1, None, None, "Filing check due")
    assert _counts(board.by_body)["un_sp"] == (1, 1)  # D-1's overdue response window and the complaint's check
    assert _counts(board.by_officer)[dashboard.UNASSIGNED] == (0, 2)


def test_board_rejects_unknown_dimension_and_status(env, built):
    with env.uow() as session, pytest.raises(ValueError):
        dashboard.board_deadlines(session, built.now, "overdue", by="city", key="x")
    with env.uow() as session, pytest.raises(ValueError):
        dashboard.board_deadlines(session, built.now, "later")


def test_timeline_lists_every_dated_event_in_order(env, built):
    _respond(env, "D-1")
    case_id = built.cases["D-1"]
    with env.uow() as session:
        timeline = dashboard.case_timeline(session, case_id)
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).all()
        deadlines = session.scalars(select(Deadline).where(Deadline.case_id == case_id)).all()
    kinds = [e.kind for e in timeline]
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert timeline[0].kind == "received" and timeline[0].at == datetime(2022, 3, 1, tzinfo=UTC)
    assert timeline[0].date_only
    assert kinds.count("task_created") == len(tasks)
    assert kinds.count("task_completed") == sum(t.state == "completed" for t in tasks) == 5
    assert sorted((e.label, e.state) for e in timeline if e.kind == "deadline") == sorted(
        (d.label, d.state) for d in deadlines)
    # The response came after the window was moved into the past: that clock was missed.
    assert ("Response window", "missed") in {(e.label, e.state) for e in timeline if e.kind == "deadline"}
    submitted = next(e for e in timeline if e.kind == "filing_submitted")
    assert (submitted.body, submitted.at.date(), submitted.date_only) == ("un_sp", date.today(), True)
    response = next(e for e in timeline if e.kind == "response_received")
    assert (response.label, response.body) == ("acknowledgement", "un_sp")
    completed = {e.label: e.actor for e in timeline if e.kind == "task_completed"}
    assert set(completed.values()) == {"ina", "lena", "mara", "leo"}
    assert "Aigerim" not in repr(timeline)  # the complainant's name is nowhere in it


def test_timeline_of_an_unknown_case_is_empty(env, staff):
    with env.uow() as session:
        assert dashboard.case_timeline(session, 999) == []


def _by_key(counts: tuple[dashboard.Count, ...]) -> dict[str | None, int]:
    return {c.key: c.count for c in counts}


def test_statistics_count_cases_filings_and_responses(env, built):
    with env.uow() as session:
        # A second incident repeating a type: the case still counts once for that type.
        session.add(Incident(case_id=built.cases["D-1"], types=["torture_ill_treatment", "search_and_seizure"]))
    _respond(env, "D-1")
    with env.uow() as session:
        stats = dashboard.statistics(session)
    assert (stats.cases, stats.filings, stats.responses) == (3, 1, 1)
    assert _by_key(stats.cases_by_stage) == {"follow_up": 1, "legal_review": 1, "consent": 1}
    assert _by_key(stats.cases_by_city) == {"Almaty": 1, "Astana": 1, "=SUM(1)": 1}
    assert _by_key(stats.cases_by_episode) == {"rally_2022": 3, "strike_2023": 1}
    assert {c.key: c.label for c in stats.cases_by_episode} == {"rally_2022": "Rally in the main square",
                                                                "strike_2023": "=Strike at the plant"}
    assert _by_key(stats.cases_by_incident_type) == {"detention_at_rally": 2, "torture_ill_treatment": 1,
                                                     "search_and_seizure": 1, "interrogation": 1}
    assert stats.cases_by_incident_type[0] == dashboard.Count("detention_at_rally", 2)  # largest first
    assert stats.filings_by_body_and_state == (dashboard.FilingCount("un_sp", "acknowledged", 1),)
    assert _by_key(stats.filings_by_body) == {"un_sp": 1}
    assert _by_key(stats.filings_by_state) == {"acknowledged": 1}
    assert _by_key(stats.responses_by_kind) == {"acknowledgement": 1}


def test_statistics_of_an_empty_database(env, staff):
    with env.uow() as session:
        stats = dashboard.statistics(session)
    assert (stats.cases, stats.filings, stats.responses) == (0, 0, 0)
    assert stats.cases_by_incident_type == stats.filings_by_body == stats.cases_by_episode == ()
    assert list(csv.reader(io.StringIO(dashboard.statistics_csv(stats)))) == [
        ["table", "key", "label", "count"], ["totals", "cases", "", "0"], ["totals", "filings", "", "0"],
        ["totals", "responses", "", "0"]]


def test_statistics_csv_parses_back_to_the_same_figures(env, built):
    with env.uow() as session:
        stats = dashboard.statistics(session)
    rows = list(csv.reader(io.StringIO(dashboard.statistics_csv(stats))))
    assert rows[0] == ["table", "key", "label", "count"]
    table: dict[tuple[str, str], tuple[str, int]] = {(t, k): (label, int(n)) for t, k, label, n in rows[1:]}
    assert len(table) == len(rows) - 1  # no duplicate (table, key)
    assert table["totals", "cases"] == ("", 3)
    assert {k: n for (t, k), (_, n) in table.items() if t == "cases_by_stage"} == {
        c.key: c.count for c in stats.cases_by_stage}
    assert {k: n for (t, k), (_, n) in table.items() if t == "cases_by_incident_type"} == {
        c.key: c.count for c in stats.cases_by_incident_type}
    assert table["filings_by_body_and_state", "un_sp/submitted"] == ("", 1)
    # Text a spreadsheet would run as a formula is quoted; the count stays a number.
    assert table["cases_by_city", "'=SUM(1)"] == ("", 1)
    assert table["cases_by_episode", "strike_2023"] == ("'=Strike at the plant", 1)
    assert "Aigerim" not in dashboard.statistics_csv(stats)
