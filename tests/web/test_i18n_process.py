"""A Russian user reads the process in Russian everywhere: task names and deadline labels come from the BPMN files
(extracted by ``make i18n``, workflow/babel_extract.py) and are translated on every page, in the digest mail and in
the calendar feed, in the reader's language. Where only a step's BPMN id is at hand (history, alerts, bulk pages),
its name comes from the deployed definitions (``processes.flow_node_names``), not from a hand-kept list."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from tests.helpers import case_instance, do, expire_timers, open_sample_case
from tests.web.conftest import csrf_token
from tests.workflow.mailbox import mailbox
from workflow.config import SmtpSettings
from workflow.models import Case, Deadline
from workflow.services import processes
from workflow.services.calendar import calendar_feed
from workflow.services.digest import send_digests, set_email
from workflow.services.worker import tick

CONSENT = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
# English (the BPMN name, stored on the rows) -> what a Russian reader sees.
TASKS = {"Verify consent": "Проверить согласие", "Legal review": "Юридический анализ"}
DEADLINES = {"Consent verification due": "Срок проверки согласия", "Legal review due": "Срок юридического анализа"}


def _text(html: str) -> str:
    """The page's text without its tags (names sit between tags and attributes)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _two_cases(env) -> None:  # type: ignore[no-untyped-def]
    """RU-1 waits at verify_consent; RU-2 at legal review, whose service level was missed (a manager alerted)."""
    open_sample_case(env, "RU-1")
    open_sample_case(env, "RU-2")
    do(env, "RU-2", "verify_consent", "ina", CONSENT)
    assert expire_timers(env, "RU-2", only="Legal review") == 1
    tick(env.engine, env.settings)
    with env.uow() as session:
        for username in ("ina", "lena", "mara", "ivan"):
            user = env.user(session, username)
            user.locale = "ru" if username in ("ina", "mara") else "en"
            set_email(session, None, user, f"{username}@example.org")


def _chooses_russian(client) -> None:  # type: ignore[no-untyped-def]
    """The language a user picks on /account is the one every page, mail and feed speaks to them in."""
    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/account", data={"csrf_token": token, "locale": "ru", "timezone": "UTC"}).status_code == 303


def test_the_names_of_steps_come_from_the_deployed_definitions(env):
    with env.uow() as session:
        names = processes.flow_node_names(session)
    assert names["verify_consent"] == "Verify consent" and names["submit_filing"] == "Record the submission"
    assert names["consent_sla"] == "Consent verification due" and names["filings"] == "File with each body"


def test_a_russian_user_reads_task_names_and_deadline_labels_in_russian_on_every_page(env, login):
    _two_cases(env)
    ina, lena, mara = login("ina"), login("lena"), login("mara")
    _chooses_russian(lena)

    tasks = _text(ina.get("/tasks").get_data(as_text=True))  # the inbox: each task and the filter by task
    assert tasks.count(TASKS["Verify consent"]) >= 2 and "Verify consent" not in tasks
    legal = _text(lena.get("/tasks").get_data(as_text=True))
    assert TASKS["Legal review"] in legal and "Legal review" not in legal
    alerts = _text(mara.get("/tasks").get_data(as_text=True))  # a manager's alerts name the step by its id
    assert f"RU-2 просрочено Эскалация: нарушен нормативный срок · {TASKS['Legal review']}" in alerts, alerts
    cases = _text(lena.get("/cases").get_data(as_text=True))
    assert f"{TASKS['Legal review']} (" in cases and "Legal review" not in cases

    case = _text("".join(lena.get(path).get_data(as_text=True) for path in ("/cases/RU-2", "/cases/RU-2/history")))
    for russian in (f"Выполнить: {TASKS['Legal review']}",  # the task panel
                    f"Задача выполнена: {TASKS['Verify consent']}",  # the timeline
                    f"Срок: {DEADLINES['Legal review due']}",
                    # the history: the audit log names the step by its id
                    f"Ina · Задача выполнена: {TASKS['Verify consent']}",
                    f"Эскалация: нарушен нормативный срок: {TASKS['Legal review']}"):
        assert russian in case, case
    for english in (*TASKS, *DEADLINES):
        assert english not in case, english

    overdue = _text(mara.get("/dashboard/deadlines?status=overdue").get_data(as_text=True))
    assert f"{DEADLINES['Legal review due']} RU-2" in overdue and "Legal review due" not in overdue
    board = mara.get("/dashboard")
    assert board.status_code == 200 and "Просрочено" in board.get_data(as_text=True)
    soon = _text(mara.get("/dashboard/deadlines?status=due_soon").get_data(as_text=True))
    assert DEADLINES["Consent verification due"] in soon and "Consent verification due" not in soon

    bulk = _text(ina.get("/bulk/complete?task=verify_consent").get_data(as_text=True))  # only the id is at hand
    assert f"{TASKS['Verify consent']}" in bulk and "Verify consent" not in bulk
    english = _text(login("ivan").get("/tasks").get_data(as_text=True))  # the same rows, for an English reader
    assert "Verify consent" in english and TASKS["Verify consent"] not in english


def test_the_digest_and_the_calendar_name_deadlines_and_steps_in_the_readers_language(env, login):
    _two_cases(env)
    _chooses_russian(login("lena"))
    with env.uow() as session:
        # A timer without a name of its own is labelled with the name of the task it guards (projections.timer_label).
        instance = case_instance(session, "RU-1")
        session.add(Deadline(instance_id=instance.id, case_id=instance.case_id, source="bpmn_timer",
                             label="Check the filing", owner_role="intake", state="open",
                             due_at=datetime.now(UTC) + timedelta(days=2)))
        session.flush()
        now = datetime.now(UTC)
        feeds = {name: {str(e["SUMMARY"]) for e in Calendar.from_ical(
            calendar_feed(session, env.user(session, name), now)).walk("VEVENT")} for name in ("ina", "ivan", "lena")}
        assert session.scalar(select(Case.stage).where(Case.ref == "RU-2")) == "legal_review"
    assert feeds["ina"] == {f"RU-1: {DEADLINES['Consent verification due']}", "RU-1: Проверить подачу"}
    assert feeds["ivan"] == {"RU-1: Consent verification due", "RU-1: Check the filing"}
    assert feeds["lena"] == {f"RU-2: {DEADLINES['Legal review due']}"}

    with mailbox() as box:
        smtp = SmtpSettings(host="127.0.0.1", port=box.port, sender="petitio@example.org")
        assert send_digests(env.engine, dataclasses.replace(env.settings, smtp=smtp)).sent == 4
    mails = {name: box.to(f"{name}@example.org")[0].get_content() for name in ("ina", "ivan", "lena", "mara")}
    assert f"RU-1: {DEADLINES['Consent verification due']}, срок " in mails["ina"]
    assert "RU-1: Проверить подачу, срок " in mails["ina"] and "Check the filing" not in mails["ina"]
    assert "RU-1: Consent verification due, due " in mails["ivan"] and "RU-1: Check the filing, due " in mails["ivan"]
    for name in ("lena", "mara"):  # the legal officer owns it; the manager answers for it once overdue
        assert f"RU-2: {DEADLINES['Legal review due']}, срок " in mails[name] and "Legal review" not in mails[name]
