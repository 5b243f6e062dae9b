"""The daily digest of deadlines: settings, who gets what, once a day, in their language, never a name;
delivered to a real SMTP server on 127.0.0.1 (aiosmtpd). On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.helpers import do, expire_timers, open_sample_case
from tests.workflow.mailbox import free_port, mailbox
from workflow.cli import main
from workflow.config import SmtpSettings, load_settings
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import AuditEvent, DigestLog, User
from workflow.services.digest import claim_digests, send_digests, set_email
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
ADDRESSES = {"ina": "ina@example.org", "lena": "lena@example.org", "mara": "mara@example.org",
             "ada": "ada@example.org"}


def with_smtp(env, port: int):
    return dataclasses.replace(env.settings, smtp=SmtpSettings(host="127.0.0.1", port=port,
                                                               sender="petitio@example.org"))


def give_addresses(env, addresses: dict[str, str] = ADDRESSES) -> None:
    with env.uow() as session:
        for username, address in addresses.items():
            set_email(session, None, env.user(session, username), address)


def body_of(message) -> str:
    return message.get_content().replace("\r\n", "\n")  # SMTP carries CRLF


# -- settings ------------------------------------------------------------------------------------------------

def test_smtp_settings_come_from_the_environment_and_the_config_file(tmp_path):
    assert load_settings({"PETITIO_HOME": str(tmp_path)}).smtp is None
    settings = load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_SMTP_HOST": "mail.example.org",
                              "PETITIO_SMTP_FROM": "petitio@example.org", "PETITIO_SMTP_USER": "petitio",
                              "PETITIO_SMTP_PASSWORD": "s3cret-pass", "PETITIO_SMTP_STARTTLS": "yes"})
    assert settings.smtp == SmtpSettings(host="mail.example.org", sender="petitio@example.org", port=25,
                                         user="petitio", password="s3cret-pass", starttls=True)
    assert "s3cret-pass" not in repr(settings)

    (tmp_path / "config.toml").write_text('smtp_host = "relay.example.org"\nsmtp_port = 587\n'
                                          'smtp_from = "ngo@example.org"\nsmtp_starttls = true\n'
                                          'smtp_password = "from-the-file"\n')
    from_file = load_settings({"PETITIO_HOME": str(tmp_path)}).smtp
    assert from_file == SmtpSettings(host="relay.example.org", sender="ngo@example.org", port=587, starttls=True)
    assert from_file.password is None  # a password is read from the environment only


@pytest.mark.parametrize(("extra", "message"), [
    ({}, "PETITIO_SMTP_FROM is required"),
    ({"PETITIO_SMTP_FROM": "a@example.org", "PETITIO_SMTP_PORT": "smtp"}, "PETITIO_SMTP_PORT must be a port"),
    ({"PETITIO_SMTP_FROM": "a@example.org", "PETITIO_SMTP_PORT": "70000"}, "at most 65535"),
    ({"PETITIO_SMTP_FROM": "a@example.org", "PETITIO_SMTP_STARTTLS": "maybe"}, "true or false"),
    ({"PETITIO_SMTP_FROM": "a@example.org", "PETITIO_SMTP_USER": "u"}, "PETITIO_SMTP_PASSWORD is not"),
])
def test_bad_smtp_settings_are_refused_at_start(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_SMTP_HOST": "mail.example.org", **extra})


# -- addresses -----------------------------------------------------------------------------------------------

def test_users_get_an_address_from_the_cli_or_an_admin(env, staff):
    runner = CliRunner()
    result = runner.invoke(main, ["users", "add", "nina", "--role", "intake", "--email", "nina@example.org"],
                           input="correct horse battery\n",
                           env={"PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url})
    assert result.exit_code == 0, result.output
    bad = runner.invoke(main, ["users", "add", "nora", "--role", "intake", "--email", "nora at example"],
                        input="correct horse battery\n",
                        env={"PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url})
    assert bad.exit_code != 0 and "e-mail address" in bad.output
    with env.uow() as session:
        assert env.user(session, "nina").email == "nina@example.org"
        assert session.scalar(select(User).where(User.username == "nora")) is None
        with pytest.raises(ValidationFailed):
            set_email(session, env.user(session, "ada"), env.user(session, "ina"), "ina@example.org\r\nBcc: x@y.z")
        with pytest.raises(Forbidden):
            set_email(session, env.user(session, "ivan"), env.user(session, "ina"), "ivan@example.org")
        set_email(session, env.user(session, "ada"), env.user(session, "ina"), " ina@example.org ")
        assert env.user(session, "ina").email == "ina@example.org"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user_email_changed")
                               .order_by(AuditEvent.id.desc()))
        assert "ina@example.org" not in str(event.data)  # audit names fields, never values


# -- sending -------------------------------------------------------------------------------------------------

def test_each_user_gets_their_deadlines_once_a_day_without_names(env, staff):
    open_sample_case(env, "APL-401")  # consent verification due in 7 days: intake's
    open_sample_case(env, "APL-402")
    do(env, "APL-402", "verify_consent", "ina", VERIFIED)  # legal review due in 14 days: not this week
    open_sample_case(env, "APL-403")
    expire_timers(env, "APL-403")
    assert sweep(env.engine, env.settings).fired == 1  # APL-403's consent verification late, a manager alerted
    do(env, "APL-403", "verify_consent", "ina", VERIFIED)  # done late: missed (the review is due in 14 days)
    give_addresses(env)
    now = datetime.now(UTC)
    with mailbox() as box:
        report = send_digests(env.engine, with_smtp(env, box.port), now)
        assert (report.sent, report.error) == (2, None)
        assert send_digests(env.engine, with_smtp(env, box.port), now + timedelta(minutes=5)).sent == 0
    [ina] = box.to("ina@example.org")
    [mara] = box.to("mara@example.org")
    assert box.to("lena@example.org") == [] and box.to("ada@example.org") == []  # nothing of theirs is due
    assert ina["Subject"] == "Petitio: 1 overdue, 1 due within 7 days"
    assert ina["From"] == "petitio@example.org" and ina["Auto-Submitted"] == "auto-generated"
    text = body_of(ina)
    assert "Overdue (1)\n  APL-403: Consent verification due, due " in text and "(missed)" in text
    assert "Due within 7 days (1)\n  APL-401: Consent verification due" in text
    assert "APL-402" not in text
    assert "APL-403" in body_of(mara) and "APL-401" not in body_of(mara)  # managers: every overdue one
    for message in (ina, mara):
        assert "Testova" not in message.as_string() and "Aigerim" not in message.as_string()
    with env.uow() as session:
        logs = session.scalars(select(DigestLog).order_by(DigestLog.id)).all()
        assert [(log.day, log.deadlines) for log in logs] == [(now.date(), 2), (now.date(), 1)]
        assert all(log.sent_at == now for log in logs)
        assert session.scalar(select(func.count()).where(AuditEvent.action == "digest_sent")) == 2


def test_the_next_days_digest_does_not_repeat_what_was_missed(env, staff):
    open_sample_case(env, "APL-411")
    open_sample_case(env, "APL-412")
    expire_timers(env, "APL-412")
    sweep(env.engine, env.settings)
    do(env, "APL-412", "verify_consent", "ina", VERIFIED)  # done late: missed
    give_addresses(env, {"ina": ADDRESSES["ina"]})
    now = datetime.now(UTC)
    with mailbox() as box:
        send_digests(env.engine, with_smtp(env, box.port), now)
        send_digests(env.engine, with_smtp(env, box.port), now + timedelta(days=1))
    first, second = box.to("ina@example.org")
    assert "APL-412" in body_of(first) and "APL-412" not in body_of(second)
    assert "APL-411" in body_of(second)


def test_a_russian_speaker_reads_it_in_russian(env, staff):
    open_sample_case(env, "APL-421")
    give_addresses(env, {"ina": ADDRESSES["ina"]})
    with env.uow() as session:
        env.user(session, "ina").locale = "ru"
    with mailbox() as box:
        send_digests(env.engine, with_smtp(env, box.port))
    [message] = box.messages
    assert message["Subject"] == "Petitio: просрочено 0, истекает в ближайшие 7 дней 1"
    # The deadline's label too: the pages and the mail translate it from the same catalog.
    assert "Истекает в ближайшие 7 дней (1)\n  APL-421: Срок проверки согласия, срок " in body_of(message)


def test_nothing_to_report_no_mail_and_no_claim(env, staff):
    open_sample_case(env, "APL-431")
    do(env, "APL-431", "verify_consent", "ina", VERIFIED)  # only a review due in 14 days
    give_addresses(env)
    with mailbox() as box:
        assert send_digests(env.engine, with_smtp(env, box.port)).sent == 0
    assert box.messages == []
    with env.uow() as session:
        assert session.scalars(select(DigestLog)).all() == []


def test_no_digest_for_inactive_users_or_without_an_address(env, staff):
    open_sample_case(env, "APL-441")
    give_addresses(env, {"ina": ADDRESSES["ina"]})
    with env.uow() as session:
        env.user(session, "ina").active = False
    with mailbox() as box:
        send_digests(env.engine, with_smtp(env, box.port))
    assert box.messages == []


def test_without_smtp_settings_nothing_is_tried(env, staff):
    open_sample_case(env, "APL-451")
    give_addresses(env)
    assert env.settings.smtp is None
    report = send_digests(env.engine, env.settings)
    assert (report.sent, report.error) == (0, None)
    with env.uow() as session:
        assert session.scalars(select(DigestLog)).all() == []


def test_an_unreachable_server_releases_the_claims_for_the_next_loop(env, staff):
    open_sample_case(env, "APL-461")
    give_addresses(env, {"ina": ADDRESSES["ina"]})
    report = send_digests(env.engine, with_smtp(env, free_port()))  # nothing listens there
    assert report.sent == 0 and report.error
    with env.uow() as session:
        assert session.scalars(select(DigestLog)).all() == []
    with mailbox() as box:
        assert send_digests(env.engine, with_smtp(env, box.port)).sent == 1
    assert len(box.messages) == 1


def test_a_refused_address_is_not_retried_the_same_day(env, staff):
    open_sample_case(env, "APL-471")
    give_addresses(env, {"ina": "gone@example.org", "mara": ADDRESSES["mara"]})
    expire_timers(env, "APL-471")
    sweep(env.engine, env.settings)
    with mailbox(refuse=("gone@example.org",)) as box:
        report = send_digests(env.engine, with_smtp(env, box.port))
        assert (report.sent, report.error) == (1, None)
        assert send_digests(env.engine, with_smtp(env, box.port)).sent == 0
    assert [m["To"] for m in box.messages] == ["mara@example.org"]
    with env.uow() as session:
        kept = session.scalar(select(DigestLog).where(DigestLog.user_id == env.user(session, "ina").id))
        assert kept.sent_at is None


def test_a_second_worker_cannot_claim_the_same_digest(env, staff):
    open_sample_case(env, "APL-481")
    give_addresses(env, {"ina": ADDRESSES["ina"]})
    now = datetime.now(UTC)
    with env.uow() as session:
        assert len(claim_digests(session, "petitio@example.org", now)) == 1
    with env.uow() as session:
        assert claim_digests(session, "petitio@example.org", now) == []
