"""Mail the administrators when process instances go into error (one step of the worker's loop).

Each failure is announced once: a short mail to every active administrator with an address, naming the
case reference (or the instance) and the failed step only, never the error text (it may quote case data and
the mail leaves the server); the page of instances in error has the rest. The mails are written outside any
transaction (a hanging mail server must not lock the database), then each announced failure gets an
``instance_error_alerted`` audit event naming who was mailed (user ids): the case page says who was alerted.
Without a mail server the administrators still see the count in their navigation.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.db import unit_of_work
from workflow.i18n import format_when, translate, zone
from workflow.models import AuditEvent, ProcessInstance, User, utcnow
from workflow.problems import N_
from workflow.roles import ADMINS
from workflow.services.digest import connect
from workflow.services.repair import ALERTED, ERROR, FAILED, Failure, failures

log = logging.getLogger(__name__)
SUBJECT = N_("Petitio: %(count)s process instance(s) in error")
LINE = N_("%(what)s: the step %(step)s failed on %(when)s")
FOOTER = N_("Administrators see the error and repair the instance on the page Instances in error.")


@dataclass(frozen=True)
class New:
    instance_id: int
    case_id: int | None
    what: str  # the case reference, or "instance N"
    failure: Failure
    failure_event_id: int


def unannounced(session: Session) -> list[New]:
    """The instances in error whose last failure no alert announced yet."""
    rows = list(session.scalars(select(ProcessInstance).where(ProcessInstance.status == ERROR)
                                .order_by(ProcessInstance.id)))
    if not rows:
        return []
    ids = [str(r.id) for r in rows]
    last_failed = {int(e.object_id or 0): e.id for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == FAILED, AuditEvent.object_type == "process_instance",
                                 AuditEvent.object_id.in_(ids)).order_by(AuditEvent.id))}
    announced = {e.data.get("failure") for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == ALERTED, AuditEvent.object_id.in_(ids)))}
    found = failures(session, [r.id for r in rows])
    return [New(r.id, r.case_id, r.case.ref if r.case else f"#{r.id}", found[r.id], last_failed[r.id])
            for r in rows if r.id in last_failed and last_failed[r.id] not in announced]


def compose(admin: User, sender: str, new: list[New], now: datetime, default_timezone: str) -> EmailMessage:
    language, tz = admin.locale, zone(admin.timezone, default_timezone)
    lines = [translate(language, LINE, what=n.what, step=n.failure.step_name or n.failure.step or "?",
                       when=format_when(n.failure.since or now, language, tz)) for n in new]
    message = EmailMessage()
    message["Subject"] = translate(language, SUBJECT, count=len(new))
    message["From"] = sender
    message["To"] = admin.email
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join([*lines, "", translate(language, FOOTER)]) + "\n")
    return message


def send_error_alerts(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Mail the failures not announced yet; the number of mails sent (0 without a mail server)."""
    now = now or utcnow()
    if settings.smtp is None:
        return 0
    with unit_of_work(engine) as session:
        new = unannounced(session)
        admins = [] if not new else list(session.scalars(
            select(User).where(User.role.in_(ADMINS), User.active.is_(True), User.email.is_not(None))))
        messages = [(a.id, compose(a, settings.smtp.sender, new, now, settings.timezone)) for a in admins]
    if not messages:
        return 0
    sent: list[int] = []
    try:
        with connect(settings.smtp) as client:
            for user_id, message in messages:
                try:
                    client.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    log.warning("the mail server refused the address of user %s; no error alert for them", user_id)
                    continue
                sent.append(user_id)
    except (smtplib.SMTPException, OSError) as err:
        log.warning("error alerts not sent (%s); the next loop tries again", type(err).__name__)
        if not sent:
            return 0
    with unit_of_work(engine) as session:
        for n in new:
            audit(session, None, ALERTED, "process_instance", n.instance_id, n.case_id,
                  {"failure": n.failure_event_id, "users": sorted(sent)})
    return len(sent)
