"""The append-only audit log: who did or read what, when; field names, never values; hash-chained.

Two rules live here and nowhere else:

- **What an event may hold** (``check_data``): the log outlives every case and is read by admins and
  operators, so it must never hold a person's name, a note or a token. ``data`` maps short codes to
  booleans, numbers, None, short codes (vocabulary keys, case refs, body codes, field names, dates, hashes)
  or lists of those. Anything else (a sentence, a nested mapping, a long string) is a programming error:
  ``AuditDataRefused`` is raised before anything is written, so no call site can leak by mistake. A call
  site that changed free text records the *names* of the fields it changed.
- **The hash chain** (``chain_pending``): each event carries ``seq`` (its place in the chain), the hash of
  the event before it and its own hash over a canonical serialisation. The chain is extended when the
  transaction commits, under one lock, so two writers never fork it (``workflow/audit_chain.py`` verifies).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from workflow.db import HELD_BACK
from workflow.models import AuditEvent, User, utcnow

# A code: letters, digits and the punctuation of refs, keys, dates and hashes; no space, at most 80 long.
# A sentence, a phone number with spaces or a name with a space cannot pass; a single word could, which
# is why call sites pass field names and never the values they changed.
AUDIT_CODE = re.compile(r"[A-Za-z0-9_.:+\-]{0,80}")
AUDIT_LIST_MAX = 1000
GENESIS_HASH = "0" * 64  # the "previous hash" of the first event
# pg_advisory_xact_lock key that serialises chain appends on PostgreSQL (any constant; "audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
_PENDING = "audit_pending"  # Session.info key: events of this transaction not chained yet
_AT_COMMIT = "audit_at_commit"  # Session.info key: events that join the session as it commits (``audit``)


class AuditDataRefused(ValueError):
    """An audit call passed something that is not a code (a programming error, never the user's)."""


def is_code(value: object) -> bool:
    """Whether ``value`` is a string the audit log accepts (a code, never free text)."""
    return isinstance(value, str) and AUDIT_CODE.fullmatch(value) is not None


def _is_scalar(value: object) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, str) and AUDIT_CODE.fullmatch(value) is not None


def check_data(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` unchanged when every key is a code and every value a scalar or a list of scalars; else raise."""
    if not isinstance(data, dict):
        raise AuditDataRefused("audit data must be a mapping")
    for key, value in data.items():
        if not isinstance(key, str) or not key or AUDIT_CODE.fullmatch(key) is None:
            raise AuditDataRefused("an audit data key must be a code")
        if isinstance(value, list | tuple):
            if len(value) > AUDIT_LIST_MAX or not all(_is_scalar(item) for item in value):
                raise AuditDataRefused(f"audit data {key!r}: a list of codes, numbers or booleans only")
        elif not _is_scalar(value):
            raise AuditDataRefused(f"audit data {key!r}: a code, number, boolean or None only (never free text)")
    return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


def audit(session: Session, actor: User | None, action: str, object_type: str, object_id: object,
          case_id: int | None, data: dict[str, Any] | None = None, *, at_commit: bool = False) -> AuditEvent:
    """Record an event in this transaction. ``at_commit``: the event joins the session only as it commits (a read's
    event, recorded before the queries that read the rest: they then have nothing to flush, and the event is written
    once, chained, instead of inserted at the next query and updated with its place in the chain at commit). A
    rollback drops it, as it drops a written one."""
    clean = check_data(dict(data or {}))
    if not _is_scalar(action) or not _is_scalar(object_type) or not _is_scalar(None if object_id is None
                                                                               else str(object_id)):
        raise AuditDataRefused("action, object type and object id must be codes")
    event_ = AuditEvent(actor_id=actor.id if actor else None, action=action, object_type=object_type,
                        object_id=None if object_id is None else str(object_id), case_id=case_id,
                        data=clean, at=utcnow())
    if at_commit:
        session.info.setdefault(_AT_COMMIT, []).append(event_)
    else:
        session.add(event_)
    return event_


# -- the chain ----------------------------------------------------------------------------------------------------

def canonical(seq: int, at: datetime, actor_id: int | None, action: str, object_type: str,
              object_id: str | None, case_id: int | None, data: dict[str, Any]) -> bytes:
    """The bytes an event's hash covers: one JSON array, sorted keys, UTC time to the microsecond."""
    moment = at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return json.dumps([seq, moment, actor_id, action, object_type, object_id, case_id, data],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_hash(prev_hash: str, seq: int, at: datetime, actor_id: int | None, action: str, object_type: str,
               object_id: str | None, case_id: int | None, data: dict[str, Any]) -> str:
    body = canonical(seq, at, actor_id, action, object_type, object_id, case_id, data)
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


_CHAIN_HEAD = (select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))  # built once
               .order_by(AuditEvent.seq.desc()).limit(1))
# PostgreSQL through psycopg: the appenders' lock and the head's read as two statements of one simple query (no
# parameters), one round trip. In READ COMMITTED each statement of it takes its own snapshot when it starts, so the
# read sees every append committed before the lock was granted, as a second query would.
_LOCKED_HEAD = (f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY}); "
                + str(_CHAIN_HEAD.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})))


def _locked_head(session: Session) -> tuple[int, str]:
    """The chain's head (its last seq and hash), read once this transaction is the only one appending. PostgreSQL:
    an advisory lock, held until this transaction ends, makes appenders take turns. SQLite: writers already begin
    IMMEDIATE (workflow/db.py), one writer for the whole file."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        result = session.connection().exec_driver_sql(_LOCKED_HEAD)
        try:
            cursor = result.cursor
            cursor.nextset()  # past the lock's result to the head's
            row = cursor.fetchone()
        finally:
            result.close()
    else:
        if dialect.name == "postgresql":  # another driver: the same two statements, one round trip each
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
        row = session.execute(_CHAIN_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def chain_pending(session: Session) -> None:
    """Give this transaction's new events their place in the chain (called just before it commits)."""
    if HELD_BACK in session.info:
        # A read session on SQLite (workflow/db.py): its snapshot may be behind the chain's head, and its events
        # are not written by it but held back; the short write transaction that writes them chains them.
        return
    seen = session.info.pop(_PENDING, []) + [e for e in session.new if isinstance(e, AuditEvent)]
    pending = list({id(e): e for e in seen if e in session and e.hash is None}.values())
    if not pending:
        return
    with session.no_autoflush:  # events not written yet are written once, chained: no UPDATE of each after
        seq, prev = _locked_head(session)
    # The chain follows the order the events were written in: those an earlier flush wrote by id, then the
    # others in the order they were added, which is the order the flush below inserts them (and numbers them).
    written = sorted((e for e in pending if e.id is not None), key=lambda e: e.id)
    unwritten = sorted((e for e in pending if e.id is None), key=lambda e: inspect(e).insert_order)
    for row in written + unwritten:
        if row.at is None:
            row.at = utcnow()  # the column's default, taken now: the hash covers it
        seq += 1
        row.seq, row.prev_hash = seq, prev
        row.hash = prev = event_hash(prev, seq, row.at, row.actor_id, row.action, row.object_type,
                                     row.object_id, row.case_id, row.data)
    session.flush()
    session.info.pop(_PENDING, None)  # the flushes above noted these events again: all chained now


@event.listens_for(Session, "before_flush")
def _note_new_events(session: Session, _context: object, _instances: object) -> None:
    # Every event written in this transaction, however it was added (``audit`` or the held-back writes of a
    # read session, workflow/db.py): once flushed it leaves ``session.new``, so it is remembered here.
    session.info.setdefault(_PENDING, []).extend(e for e in session.new if isinstance(e, AuditEvent))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.add_all(session.info.pop(_AT_COMMIT, ()))
    chain_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)  # rolled back: those events were never written
    session.info.pop(_AT_COMMIT, None)
