"""``petitio audit verify``: walk the audit chain in order and name the first broken link.

What it proves: no event between the first and the last was edited, deleted or slipped in since it was
written, *unless* whoever changed it also rewrote every hash after it. Someone holding the database can do
that; the head hash (printed by each verification) kept off the machine is what exposes such a rewrite:
``--head HASH`` checks that a head recorded earlier is still in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import GENESIS_HASH, event_hash
from workflow.models import AuditEvent

BATCH = 1000


@dataclass(frozen=True)
class ChainReport:
    verified: int  # events checked and found intact, from the first
    head_seq: int
    head_hash: str
    broken: str | None = None  # a code: edited, deleted, inserted, unchained, head_missing
    at_seq: int | None = None
    at_id: int | None = None


def verify_chain(session: Session, *, head: str | None = None) -> ChainReport:
    unchained = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.seq.is_(None)))
    expected_seq, prev, verified, head_found = 1, GENESIS_HASH, 0, head is None
    last_seq = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq >= expected_seq)
                               .order_by(AuditEvent.seq).limit(BATCH)
                               .execution_options(populate_existing=True)).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:  # a number missing: an event was deleted
                return ChainReport(verified, last_seq, prev, "deleted", expected_seq, row.id)
            if row.prev_hash != prev:
                return ChainReport(verified, last_seq, prev, "inserted" if row.prev_hash else "edited", row.seq, row.id)
            recomputed = event_hash(prev, row.seq, row.at, row.actor_id, row.action, row.object_type,
                                    row.object_id, row.case_id, row.data)
            if recomputed != row.hash:
                return ChainReport(verified, last_seq, prev, "edited", row.seq, row.id)
            head_found = head_found or row.hash == head
            prev, last_seq, expected_seq, verified = row.hash, row.seq, row.seq + 1, verified + 1
        session.expunge_all()  # bounded memory on a long log
    if unchained is not None:
        return ChainReport(verified, last_seq, prev, "unchained", None, unchained)
    if not head_found:
        return ChainReport(verified, last_seq, prev, "head_missing")
    return ChainReport(verified, last_seq, prev)
