"""Deadlines beyond the BPMN timers: the HRC time bar, the body's windows after a response, a request for
information, and the answers' documents; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import COLLECTIVE_TEXT, PDF, do, open_sample_case, ready
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import Body, Case, Deadline, Document, Filing, HumanTask, Response
from workflow.runtime.context import document_store
from workflow.services.collective import create_collective
from workflow.services.deadlines import close_deadline, settle
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts
from workflow.services.tasks import complete_task

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
REVIEWS = {
    "un_hrc": {"decision": "approve", "bodies": ["un_hrc"], "grounds": ["iccpr_9"], "notes": "Arbitrary detention."},
    "un_sp": {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"],
              "notes": "Peaceful assembly."},
}
TODAY = datetime.now(UTC).date()


def set_exhaustion(env, ref: str, day: str | None) -> None:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        update_legal_facts(session, env.user(session, "lena"), case, {"remedies_exhausted_on": day})


def time_bars(env, ref: str) -> list[Deadline]:
    with env.uow() as session:
        return list(session.scalars(select(Deadline).join(Case).where(Case.ref == ref, Deadline.source == "rule")
                                    .order_by(Deadline.id)))


def to_filing(env, ref: str, body: str) -> None:
    do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, ref, "legal_review", "lena", REVIEWS[body])
    do(env, ref, "approve_review", "mara", {"decision": "approve", "notes": "Agreed."})


def submit(env, ref: str, submitted_on: date = TODAY) -> Filing:
    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    do(env, ref, "submit_filing", "ina", {"submitted_on": submitted_on.isoformat(), "channel": "email"})
    with env.uow() as session:
        return session.scalar(select(Filing).join(Case).where(Case.ref == ref))


def respond(env, filing_id: int, kind: str, received_on: date = TODAY, **extra) -> Response:
    with env.uow() as session:
        return record_response(session, env.settings, env.user(session, "lena"), filing_id, kind=kind,
                               received_on=received_on, **extra)


def open_deadlines(env, filing_id: int) -> list[Deadline]:
    with env.uow() as session:
        return list(session.scalars(select(Deadline).where(Deadline.filing_id == filing_id, Deadline.state == "open")
                                    .order_by(Deadline.id)))


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), UTC)


# -- the HRC time bar ----------------------------------------------------------------------------------------

def test_the_time_bar_follows_the_exhaustion_date(env, staff):
    open_sample_case(env, "APL-301")
    set_exhaustion(env, "APL-301", "2023-05-01")
    [bar] = time_bars(env, "APL-301")
    assert (bar.label, bar.owner_role, bar.state, bar.kind) == (
        "HRC time bar (5 years after exhaustion)", "legal", "open", "time_bar")
    # The anniversary is the last admissible day: the clock runs out at its end.
    assert bar.due_at == datetime(2028, 5, 1, 23, 59, 59, tzinfo=UTC)

    set_exhaustion(env, "APL-301", "2024-02-29")
    [moved] = time_bars(env, "APL-301")
    assert moved.due_at == datetime(2029, 2, 28, 23, 59, 59, tzinfo=UTC)  # no 29 February in 2029

    set_exhaustion(env, "APL-301", None)
    assert time_bars(env, "APL-301") == []


def test_the_time_bar_reads_its_years_from_the_catalogue(env, staff):
    with env.uow() as session:
        hrc = session.scalar(select(Body).where(Body.code == "un_hrc"))
        hrc.rules = {**hrc.rules, "time_bar": {"years_after_exhaustion": 3, "years_after_other_procedure": 3}}
    open_sample_case(env, "APL-302")
    set_exhaustion(env, "APL-302", "2023-05-01")
    [bar] = time_bars(env, "APL-302")
    assert bar.label == "HRC time bar (3 years after exhaustion)"
    assert bar.due_at.date() == date(2026, 5, 1)


def test_saving_the_process_leaves_the_time_bar_alone(env, staff):
    open_sample_case(env, "APL-303")
    set_exhaustion(env, "APL-303", "2023-05-01")
    do(env, "APL-303", "verify_consent", "ina", VERIFIED)  # saves the instance: timer deadlines are rewritten
    [bar] = time_bars(env, "APL-303")
    assert bar.state == "open"


def test_a_lapsed_time_bar_is_missed_once_settled(env, staff):
    open_sample_case(env, "APL-304")
    set_exhaustion(env, "APL-304", "2015-01-10")
    [bar] = time_bars(env, "APL-304")
    assert bar.state == "open" and bar.due_at < datetime.now(UTC)
    with env.uow() as session:
        assert settle(session, datetime.now(UTC)) == 1
    [bar] = time_bars(env, "APL-304")
    assert bar.state == "missed" and bar.closed_at is not None
    with env.uow() as session:
        assert settle(session, datetime.now(UTC)) == 0


def test_an_hrc_submission_meets_the_time_bar_and_stops_its_clock(env, staff):
    open_sample_case(env, "APL-305")
    set_exhaustion(env, "APL-305", "2023-05-01")
    to_filing(env, "APL-305", "un_hrc")
    with env.uow() as session:
        assert settle(session, datetime.now(UTC)) == 0  # not submitted yet, not lapsed
    submit(env, "APL-305")
    with env.uow() as session:
        assert settle(session, datetime.now(UTC)) == 1
    [bar] = time_bars(env, "APL-305")
    assert bar.state == "met"
    set_exhaustion(env, "APL-305", "2023-06-01")  # a correction after the submission moves nothing
    assert [(b.state, b.due_at.date()) for b in time_bars(env, "APL-305")] == [("met", date(2028, 5, 1))]


# -- the body's windows --------------------------------------------------------------------------------------

def test_the_response_window_belongs_to_legal_and_to_its_filing(env, staff):
    open_sample_case(env, "APL-311")
    to_filing(env, "APL-311", "un_sp")
    filing = submit(env, "APL-311", TODAY - timedelta(days=3))
    [window] = open_deadlines(env, filing.id)
    assert (window.label, window.owner_role, window.source) == ("Response window", "legal", "bpmn_timer")
    assert window.due_at == at_nine(TODAY - timedelta(days=3) + timedelta(days=60))


def test_a_transmittal_starts_the_states_reply_window_from_the_day_it_arrived(env, staff):
    open_sample_case(env, "APL-312")
    to_filing(env, "APL-312", "un_sp")
    filing = submit(env, "APL-312", TODAY - timedelta(days=20))
    respond(env, filing.id, "acknowledgement", TODAY - timedelta(days=15))
    [window] = open_deadlines(env, filing.id)  # the follow-up interval (60 days for un_sp) from the letter
    assert abs(window.due_at - at_nine(TODAY - timedelta(days=15) + timedelta(days=60))) < timedelta(seconds=5)

    with env.uow() as session:  # a different reply window proves which figure the clock reads
        session.scalar(select(Body).where(Body.code == "un_sp")).response_days = 90
    respond(env, filing.id, "transmitted_to_state", TODAY - timedelta(days=10))
    [window] = open_deadlines(env, filing.id)
    assert window.label == "Response window" and window.owner_role == "legal"
    assert abs(window.due_at - at_nine(TODAY - timedelta(days=10) + timedelta(days=90))) < timedelta(seconds=5)
    with env.uow() as session:
        assert session.get(Filing, filing.id).state == "transmitted"


def test_a_request_for_information_opens_our_own_reply_deadline(env, staff):
    open_sample_case(env, "APL-313")
    to_filing(env, "APL-313", "un_sp")
    filing = submit(env, "APL-313")
    respond(env, filing.id, "request_for_information", TODAY - timedelta(days=2))
    window, reply = sorted(open_deadlines(env, filing.id), key=lambda d: d.source)
    assert (window.source, window.label) == ("bpmn_timer", "Response window")
    assert (reply.source, reply.kind, reply.label, reply.owner_role) == (
        "response", "request_for_information", "Reply to the request for information", "legal")
    assert reply.due_at == at_nine(TODAY - timedelta(days=2) + timedelta(days=30))
    assert reply.filing_id == filing.id and reply.case_id == filing.case_id
    # The body waits on us meanwhile: its own clock is the follow-up interval, not our 30 days.
    assert window.due_at - reply.due_at > timedelta(days=25)

    respond(env, filing.id, "transmitted_to_state")  # the body moved on: our reply went out
    with env.uow() as session:
        assert session.get(Deadline, reply.id).state == "met"


def test_a_reply_deadline_is_closed_by_hand_and_only_by_legal_or_managers(env, staff):
    open_sample_case(env, "APL-314")
    to_filing(env, "APL-314", "un_sp")
    filing = submit(env, "APL-314")
    respond(env, filing.id, "request_for_information")
    window, reply = sorted(open_deadlines(env, filing.id), key=lambda d: d.source)
    with env.uow() as session, pytest.raises(Forbidden):
        close_deadline(session, env.user(session, "ina"), reply.id)
    with env.uow() as session, pytest.raises(Conflict, match="kept by its process"):
        close_deadline(session, env.user(session, "lena"), window.id)
    with env.uow() as session:
        assert close_deadline(session, env.user(session, "lena"), reply.id).state == "met"
    with env.uow() as session, pytest.raises(Conflict, match="already closed"):
        close_deadline(session, env.user(session, "leo"), reply.id)
    [still] = open_deadlines(env, filing.id)
    assert still.id == window.id  # the process's own clock is untouched


# -- the answers' documents ----------------------------------------------------------------------------------

def test_a_response_keeps_its_letter_encrypted_on_the_case(env, staff):
    open_sample_case(env, "APL-321")
    to_filing(env, "APL-321", "un_sp")
    filing = submit(env, "APL-321")
    letter = PDF + b"% Government reply, confidential\n"
    response = respond(env, filing.id, "state_reply", document=(letter, "reply.pdf"))
    with env.uow() as session:
        stored = session.get(Document, session.get(Response, response.id).document_id)
        assert (stored.kind, stored.case_id, stored.filing_id) == ("response", filing.case_id, None)
        assert document_store(env.settings).get(stored.storage_key) == letter
        assert len(session.get(Filing, filing.id).documents) == 1  # the generated filing, not the reply
    on_disk = b"".join(p.read_bytes() for p in env.settings.documents_dir.rglob("*") if p.is_file())
    assert b"Government reply" not in on_disk


def test_a_rejected_letter_records_nothing(env, staff):
    open_sample_case(env, "APL-322")
    to_filing(env, "APL-322", "un_sp")
    filing = submit(env, "APL-322")
    with pytest.raises(ValidationFailed) as err:
        respond(env, filing.id, "state_reply", document=(b"MZ\x90\x00 not a letter", "reply.pdf"))
    assert "file" in err.value.errors
    with env.uow() as session:
        assert session.scalars(select(Response)).all() == []
        assert session.get(Filing, filing.id).state == "submitted"


def test_a_collective_filing_keeps_its_deadlines_and_letters_without_a_case(env, staff):
    open_sample_case(env, "APL-331")
    do(env, "APL-331", "verify_consent", "ina", VERIFIED)
    do(env, "APL-331", "legal_review", "lena", {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    with env.uow() as session:
        collective = create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                                       title="Detentions at the rally", cases=["APL-331"], grounds=["iccpr_21"],
                                       narrative=COLLECTIVE_TEXT)
        filing_id = collective.filing.id
    for bpmn_id, username, data in (("check_filing", "leo", {"decision": "approve"}),
                                    ("approve_filing", "mara", {"decision": "approve"}),
                                    ("submit_filing", "ina", {"submitted_on": TODAY.isoformat(), "channel": "email"})):
        with env.uow() as session:
            row = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready",
                                                         HumanTask.filing_id == filing_id))
            complete_task(session, env.settings, row.id, env.user(session, username), data)
    [window] = open_deadlines(env, filing_id)
    assert (window.label, window.owner_role, window.case_id) == ("Response window", "legal", None)

    response = respond(env, filing_id, "request_for_information", document=(PDF, "questions.pdf"))
    with env.uow() as session:
        stored = session.get(Document, session.get(Response, response.id).document_id)
        assert (stored.kind, stored.case_id, stored.filing_id, stored.version) == ("response", None, filing_id, 1)
        assert [d.kind for d in session.get(Filing, filing_id).documents] == ["filing"]
    reply = next(d for d in open_deadlines(env, filing_id) if d.source == "response")
    assert reply.case_id is None and reply.filing_id == filing_id
    assert ready(env, "APL-331") == []  # nothing of the complaint lands on the case's inbox
