"""What leaves the server for a Russian speaker (the daily digest, the calendar feed) names deadlines in Russian,
from the same catalog the pages use: a timer's label, a request for information's reply and the HRC time bar
(whose years are a parameter). An English speaker reads the English labels of the same deadlines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar
from sqlalchemy import select

from tests.helpers import open_sample_case
from tests.workflow.mailbox import mailbox
from workflow.admissibility import add_years
from workflow.config import SmtpSettings
from workflow.i18n import translate
from workflow.models import Case, Deadline
from workflow.runtime.specs import parse_xml
from workflow.services.calendar import calendar_feed
from workflow.services.deadlines import RFI_LABEL, TIME_BAR_LABEL
from workflow.services.digest import send_digests, set_email
from workflow.services.review import update_legal_facts

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
RUSSIAN = {"Consent verification due": "Срок проверки согласия",
           "HRC time bar (5 years after exhaustion)": "Срок давности КПЧ (5 г. после исчерпания)"}


def _summaries(feed: bytes) -> set[str]:
    return {str(e["SUMMARY"]) for e in Calendar.from_ical(feed).walk("VEVENT")}


def _case_with_a_time_bar(env, ref: str) -> None:
    """A case whose consent check is due within a week (intake's) and whose HRC time bar ends soon (legal's)."""
    open_sample_case(env, ref)
    exhausted = add_years(date.today(), -5) + timedelta(days=3)  # add_years: 29 February too
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        update_legal_facts(session, env.user(session, "lena"), case, {"remedies_exhausted_on": exhausted})


def timer_names() -> set[str]:
    """The name of every timer event of the shipped processes: what its deadline is labelled."""
    return {timer.getparent().get("name") for path in BPMN_DIR.glob("*.bpmn")
            for timer in parse_xml(path.read_bytes(), path.name).iter(
                "{http://www.omg.org/spec/BPMN/20100524/MODEL}timerEventDefinition")}


def test_every_deadline_label_has_a_russian_translation():
    assert len(timer_names()) == 5 and "Consent verification due" in timer_names()
    for label in (*timer_names(), RFI_LABEL):
        assert translate("ru", label) != label, label
    assert translate("ru", TIME_BAR_LABEL, years=3) == "Срок давности КПЧ (3 г. после исчерпания)"
    assert translate("en", TIME_BAR_LABEL, years=3) == "HRC time bar (3 years after exhaustion)"


def test_a_russian_speakers_feed_and_digest_name_deadlines_in_russian(env, staff):
    _case_with_a_time_bar(env, "TRL-1")
    with env.uow() as session:
        for username, locale in (("ina", "ru"), ("lena", "ru"), ("ivan", "en"), ("leo", "en")):
            user = env.user(session, username)
            user.locale = locale
            set_email(session, None, user, f"{username}@example.org")
        stored = {d.label for d in session.scalars(select(Deadline))}
        assert set(RUSSIAN) <= stored  # stored in English, as the API shows them
        now = datetime.now(UTC)
        feeds = {name: _summaries(calendar_feed(session, env.user(session, name), now))
                 for name in ("ina", "lena", "ivan", "leo")}
    assert feeds["ina"] == {"TRL-1: Срок проверки согласия"}
    assert feeds["ivan"] == {"TRL-1: Consent verification due"}
    assert feeds["lena"] == {"TRL-1: Срок давности КПЧ (5 г. после исчерпания)"}
    assert feeds["leo"] == {"TRL-1: HRC time bar (5 years after exhaustion)"}

    with mailbox() as box:
        smtp = SmtpSettings(host="127.0.0.1", port=box.port, sender="petitio@example.org")
        assert send_digests(env.engine, dataclasses.replace(env.settings, smtp=smtp)).sent == 4
    for username, english in (("ina", "Consent verification due"),
                              ("lena", "HRC time bar (5 years after exhaustion)")):
        [russian] = box.to(f"{username}@example.org")
        body = russian.get_content()
        assert f"TRL-1: {RUSSIAN[english]}, срок " in body and english not in body
        assert russian["Subject"].startswith("Petitio: просрочено 0")
    for username, english in (("ivan", "Consent verification due"),
                              ("leo", "HRC time bar (5 years after exhaustion)")):
        [mail] = box.to(f"{username}@example.org")
        assert f"TRL-1: {english}, due " in mail.get_content()
