"""The daily digest: one plain-text mail per user and UTC day, listing the deadlines they answer for
(``deadlines.owned_by``) that are overdue or due within a week. Nothing to report, no mail.

The mail leaves the server, so it names case and filing references, bodies and deadline labels only:
never a complainant's name or any identity field (not even the recipient's name). It is written in the
recipient's language: the mail's own texts from the wording folder (``templates/digest/<language>.toml``,
``workflow/wording.py``, which staff edit), the deadline labels from the same catalog as the pages
(``workflow/i18n.py``).

Sending takes three short steps, so that no database transaction waits on the mail server (SQLite has a
single writer: a hanging SMTP server must not lock the web application out):

1. claim, in one transaction: a ``DigestLog`` row per user with something to report, and the messages.
   The unique (user_id, day) makes a second worker skip a user the first one claimed.
2. deliver, outside any transaction, over one SMTP connection.
3. record: mark what was sent; release the claims of mails that could not go (the server was unreachable
   or failed), so that the next loop of the worker tries again. A recipient the server refused is not
   retried that day. A crash between 1 and 3 leaves a claim without ``sent_at``: at most one mail a day.
"""

from __future__ import annotations

import functools
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings, SmtpSettings
from workflow.db import unit_of_work
from workflow.errors import Forbidden, ValidationFailed
from workflow.i18n import DEFAULT_TIMEZONE, format_day, format_when, translate, zone
from workflow.models import Deadline, DigestLog, User, utcnow
from workflow.problems import Problem
from workflow.roles import Role
from workflow.services.deadlines import Item, items, owned_by
from workflow.states import DeadlineState
from workflow.wording import digest_wording

log = logging.getLogger(__name__)

FIRST_LOOKBACK = timedelta(days=1)  # missed deadlines a user's first digest reports
MAX_LOOKBACK = timedelta(days=7)  # ... and any later one, however long the worker was down
SMTP_TIMEOUT = 10  # seconds; the worker's timers wait for nothing longer than this
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254



@dataclass
class DigestReport:
    sent: int = 0
    error: str | None = None  # why the mail server could not take them; the next loop tries again


@dataclass(frozen=True)
class Claim:
    log_id: int
    user_id: int
    message: EmailMessage
    deadline_ids: list[int] = field(default_factory=list)


def send_digests(engine: Engine, settings: Settings, now: datetime | None = None) -> DigestReport:
    """Send today's digests that are not sent yet; cheap when they are (one query)."""
    now = now or utcnow()
    if settings.smtp is None:
        _say_unconfigured()
        return DigestReport()
    with unit_of_work(engine) as session:
        claims = claim_digests(session, settings.smtp.sender, now, default_timezone=settings.timezone,
                               templates_dir=settings.templates_dir)
    if not claims:
        return DigestReport()
    sent, refused, error = deliver(settings.smtp, claims)
    with unit_of_work(engine) as session:
        record_delivery(session, claims, sent, refused, now)
    return DigestReport(sent=len(sent), error=error)


@functools.cache  # once per process: the worker loops every few seconds
def _say_unconfigured() -> None:
    log.info("no digests: PETITIO_SMTP_HOST is not set")


# -- 1. claim ------------------------------------------------------------------------------------------------

def claim_digests(session: Session, sender: str, now: datetime, *, default_timezone: str = DEFAULT_TIMEZONE,
                  templates_dir: Path | None = None) -> list[Claim]:
    day = now.date()
    users = list(session.scalars(
        select(User).where(User.active.is_(True), User.email.is_not(None), User.role != Role.ADMIN,
                           ~exists().where(DigestLog.user_id == User.id, DigestLog.day == day))
        .order_by(User.id)))
    if not users:
        return []
    since = _missed_since(session, [u.id for u in users], now)
    candidates: dict[str, list[Item]] = {}
    claims = []
    for user in users:
        if user.role not in candidates:
            candidates[user.role] = _candidates(session, user.role, now)
        overdue = [i for i in candidates[user.role]
                   if i.overdue or (i.state == DeadlineState.MISSED and i.closed_at and i.closed_at > since[user.id])]
        soon = [i for i in candidates[user.role] if i.state == DeadlineState.OPEN and not i.overdue]
        if not overdue and not soon:
            continue
        claimed = _claim(session, user, day, len(overdue) + len(soon))
        if claimed is not None:
            claims.append(Claim(claimed.id, user.id, compose(user, sender, overdue, soon, now,
                                                                  default_timezone=default_timezone,
                                                                  templates_dir=templates_dir),
                                [i.id for i in overdue + soon]))
    return claims


def _candidates(session: Session, role: str, now: datetime) -> list[Item]:
    """What a role's digest may list: open ones due within a week (or overdue), recently missed ones."""
    return items(session, now, and_(owned_by(role, now), or_(
        Deadline.overdue(now), Deadline.due_soon(now),
        and_(Deadline.state == DeadlineState.MISSED, Deadline.closed_at > now - MAX_LOOKBACK))))


def _missed_since(session: Session, user_ids: list[int], now: datetime) -> dict[int, datetime]:
    """Per user: report deadlines missed after their last digest, so that each is reported once."""
    last = dict(session.execute(select(DigestLog.user_id, func.max(DigestLog.sent_at))
                                .where(DigestLog.user_id.in_(user_ids)).group_by(DigestLog.user_id)).all())
    return {user_id: max(last[user_id], now - MAX_LOOKBACK) if last.get(user_id) else now - FIRST_LOOKBACK
            for user_id in user_ids}


def _claim(session: Session, user: User, day: date, count: int) -> DigestLog | None:
    savepoint = session.begin_nested()
    try:
        claimed = DigestLog(user_id=user.id, day=day, deadlines=count)
        session.add(claimed)
        session.flush()
    except IntegrityError:  # another worker claimed this user's digest today
        savepoint.rollback()
        return None
    savepoint.commit()
    return claimed


def compose(user: User, sender: str, overdue: list[Item], soon: list[Item], now: datetime, *,
            default_timezone: str = DEFAULT_TIMEZONE, templates_dir: Path | None = None) -> EmailMessage:
    language, tz = user.locale, zone(user.timezone, default_timezone)  # times as the user's pages show them
    words = digest_wording(language, templates_dir)
    lines = [words.say("title", day=format_day(now.date(), language)), ""]
    for heading, listed in (("overdue", overdue), ("soon", soon)):
        if listed:
            lines += [words.say(heading, count=len(listed)), *(_line(language, tz, item, words.say) for item in listed),
                      ""]
    lines.append(words.say("footer"))
    message = EmailMessage()
    message["Subject"] = words.say("subject", overdue=len(overdue), soon=len(soon))
    message["From"] = sender
    message["To"] = user.email
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)  # not the server's host name
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content("\n".join(lines) + "\n")
    return message


def _line(language: str, tz: ZoneInfo, item: Item, say: Callable[..., str]) -> str:
    template, params = item.label_template  # the deadline's own label: the UI catalog, as on the pages
    due = say("due", at=format_when(item.due_at, language, tz))
    missed = f" ({say('missed')})" if item.state == DeadlineState.MISSED else ""
    return f"  {item.subject}: {translate(language, template, **params)}, {due}{missed}"


# -- 2. deliver ----------------------------------------------------------------------------------------------

def deliver(smtp: SmtpSettings, claims: list[Claim]) -> tuple[set[int], set[int], str | None]:
    """(claims sent, claims whose recipient was refused, the error that stopped the rest or None)."""
    sent: set[int] = set()
    refused: set[int] = set()
    try:
        with connect(smtp) as client:
            for claim in claims:
                try:
                    client.send_message(claim.message)
                except smtplib.SMTPRecipientsRefused:
                    log.warning("the mail server refused the address of user %s; no digest for them today",
                                claim.user_id)
                    refused.add(claim.log_id)
                    continue
                sent.add(claim.log_id)
    except (smtplib.SMTPException, OSError) as err:
        error = f"{type(err).__name__}: {err}"
        log.warning("digests not sent (%s); the next loop tries again", error)
        return sent, refused, error
    return sent, refused, None


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
    try:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


# -- 3. record -----------------------------------------------------------------------------------------------

def record_delivery(session: Session, claims: list[Claim], sent: set[int], refused: set[int], now: datetime) -> None:
    for claim in claims:
        row = session.get(DigestLog, claim.log_id)
        if row is None:
            continue
        if claim.log_id in sent:
            row.sent_at = now
            audit(session, None, "digest_sent", "user", claim.user_id, None,
                  {"day": row.day.isoformat(), "deadline_ids": claim.deadline_ids})
        elif claim.log_id not in refused:
            session.delete(row)  # released: the next loop claims it again
    session.flush()


# -- users' addresses ----------------------------------------------------------------------------------------

def set_email(session: Session, actor: User | None, user: User, email: str | None) -> None:
    """Where ``user``'s digest goes (None: no digest). ``actor`` None is the operator at the CLI."""
    if actor is not None and actor.role != Role.ADMIN and actor.id != user.id:
        raise Forbidden("only admins change other users' e-mail addresses")
    value = (email or "").strip() or None
    if value is not None and (len(value) > EMAIL_MAX or not EMAIL.match(value)):
        raise ValidationFailed("not an e-mail address", errors={"email": Problem("not_email")})
    if value == user.email:
        return
    user.email = value
    audit(session, actor, "user_email_changed", "user", user.id, None, {"fields": ["email"]})
    session.flush()
