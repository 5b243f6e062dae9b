"""The audit log (issue 14): field names never values, enforced by ``audit()``; a hash chain that
``verify_chain`` (``petitio audit verify``) walks, finding an edited, deleted or slipped-in event.
On SQLite and PostgreSQL; the concurrent appends on PostgreSQL (SQLite has one writer)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from tests.helpers import do, open_sample_case
from workflow.audit import AuditDataRefused, _locked_head, audit, chain_pending
from workflow.audit_chain import verify_chain
from workflow.models import ApiToken, AuditEvent
from workflow.services.cases import get_case, read_case
from workflow.services.consent import update_consent_permissions, withdraw_consent

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
MARKERS = ("Aigerim Nurlanovna", "+7 701 555 0199", "beaten at the Almaty station", "Fears reprisals today")


def real_flow(env) -> None:  # type: ignore[no-untyped-def]
    """Notes, a risk note and a withdrawal reason typed through the services that used to log them."""
    open_sample_case(env, "AUD-001")
    do(env, "AUD-001", "verify_consent", "ina", {**VERIFIED, "notes": f"Call {MARKERS[0]} at {MARKERS[1]}"})
    do(env, "AUD-001", "legal_review", "lena", {"decision": "return", "notes": f"Says {MARKERS[2]}."})
    with env.uow() as session:
        case = get_case(session, "AUD-001")
        update_consent_permissions(session, env.user(session, "ina"), case, risk_note=f"Call {MARKERS[1]}")
        withdraw_consent(session, env.settings, env.user(session, "ina"), case, MARKERS[3])


def count(env) -> int:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


# -- field names, never values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    {"notes": "Call Aigerim at +7 701 555 0199"},  # a sentence
    {"form": {"notes": "x"}},  # a nested mapping
    {"fields": ["ok", "a note with spaces"]},  # a list holding free text
    {"name": "x" * 81},  # too long for a code
    {"bad key": 1},
    {"blob": b"bytes"},
])
def test_audit_refuses_free_text_and_writes_nothing(env, staff, data):
    before = count(env)
    with env.uow() as session, pytest.raises(AuditDataRefused):
        audit(session, env.user(session, "ada"), "probe", "user", 1, None, data)
    assert count(env) == before


def test_audit_accepts_codes_numbers_booleans_and_lists_of_them(env, staff):
    data = {"fields": ["notes", "risk_note"], "days": 30, "ok": True, "none": None, "ref": "APL-2026-001",
            "due": "2026-12-06T16:00:00+00:00", "sha256": "ab" * 32, "ids": [1, 2, 3]}
    with env.uow() as session:
        assert audit(session, None, "probe", "case", "APL-2026-001", None, data).data == data


def test_the_flows_that_logged_notes_now_log_field_names(env, staff):
    real_flow(env)
    with env.uow() as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        dumped = json.dumps([r.data for r in rows], ensure_ascii=False)
        raw = json.dumps([list(map(str, r)) for r in session.execute(text("SELECT * FROM audit_events")).all()],
                         ensure_ascii=False)
    for marker in MARKERS:
        assert marker not in dumped and marker not in raw, marker
    completed = [r.data for r in rows if r.action == "task_completed"]
    assert all("notes" in d["fields"] and "form" not in d for d in completed[:2]), completed
    [consent] = [r.data for r in rows if r.action == "consent_updated"]
    assert consent == {"changed": ["risk_note"]}


# -- the chain -------------------------------------------------------------------------------------------------

def test_verify_passes_after_a_real_flow(env, staff):
    real_flow(env)
    with env.uow() as session:
        report = verify_chain(session)
        head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert report.broken is None and report.verified == count(env) > 10
    assert seqs == list(range(1, len(seqs) + 1))
    assert (report.head_seq, report.head_hash) == (head.seq, head.hash)
    with env.uow() as session:
        assert verify_chain(session, head=report.head_hash).broken is None
        assert verify_chain(session, head="f" * 64).broken == "head_missing"


def _middle(env) -> AuditEvent:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent))
        row = session.scalars(select(AuditEvent).where(AuditEvent.seq == total // 2)).one()
        session.expunge(row)
        return row


def test_an_edited_event_is_detected(env, staff):
    real_flow(env)
    row = _middle(env)
    with env.uow() as session:
        session.execute(text("UPDATE audit_events SET data = :data WHERE id = :id"),
                        {"data": json.dumps({**row.data, "forged": True}), "id": row.id})
        report = verify_chain(session)
    assert (report.broken, report.at_seq, report.at_id, report.verified) == ("edited", row.seq, row.id, row.seq - 1)


def test_an_edited_actor_is_detected(env, staff):
    real_flow(env)
    with env.uow() as session:
        row = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == env.user(session, "lena").id)
                              .order_by(AuditEvent.seq)).first()
        session.execute(text("UPDATE audit_events SET actor_id = :ada WHERE id = :id"),
                        {"ada": env.user(session, "ada").id, "id": row.id})
        report = verify_chain(session)
        assert (report.broken, report.at_id) == ("edited", row.id)


def test_a_deleted_event_is_detected(env, staff):
    real_flow(env)
    row = _middle(env)
    with env.uow() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": row.id})
        report = verify_chain(session)
    assert (report.broken, report.at_seq) == ("deleted", row.seq)


def test_a_deleted_last_event_is_found_by_the_recorded_head(env, staff):
    real_flow(env)
    with env.uow() as session:
        recorded = verify_chain(session).head_hash
        session.execute(text("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)"))
    with env.uow() as session:
        assert verify_chain(session).broken is None  # the chain alone cannot tell: its head is kept elsewhere
        assert verify_chain(session, head=recorded).broken == "head_missing"


def test_an_inserted_event_is_detected(env, staff):
    real_flow(env)
    with env.uow() as session:
        session.execute(text("INSERT INTO audit_events (at, action, object_type, data) "
                             "VALUES (CURRENT_TIMESTAMP, 'signed_in', 'user', '{}')"))
        assert verify_chain(session).broken == "unchained"
    row = _middle(env)
    with env.uow() as session:  # a forged event given a chained look: seq and hashes copied from another
        session.execute(text("DELETE FROM audit_events WHERE seq IS NULL"))
        session.execute(text("UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= :s"), {"s": row.seq})
        session.execute(text("INSERT INTO audit_events (at, action, object_type, data, seq, prev_hash, hash) "
                             "VALUES (CURRENT_TIMESTAMP, 'signed_in', 'user', '{}', :s, :p, :h)"),
                        {"s": row.seq, "p": row.prev_hash, "h": row.hash})
        assert verify_chain(session).broken in ("edited", "deleted")


def test_a_rolled_back_transaction_leaves_the_chain_whole(env, staff):
    with pytest.raises(RuntimeError), env.uow() as session:
        audit(session, None, "probe", "user", 1, None, {})
        session.flush()
        raise RuntimeError
    with env.uow() as session:
        audit(session, None, "probe", "user", 2, None, {})
    with env.uow() as session:
        assert verify_chain(session).broken is None


def test_a_reads_event_is_written_once_chained_at_commit_and_dropped_by_a_rollback(env, staff):
    """A read of a case records its event for the commit (``audit(..., at_commit=True)``): the queries after it
    flush nothing, and the event is inserted once with its place in the chain, never updated after."""
    open_sample_case(env, "AUD-READ")
    before = count(env)
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(" ".join(statement.split()).upper())

    event.listen(env.engine, "before_cursor_execute", note)
    try:
        with env.uow() as session:
            read_case(session, "AUD-READ", actor=env.user(session, "ina"), role="intake", channel="cli")
            assert not any(s.startswith("INSERT INTO AUDIT_EVENTS") for s in sent)  # nothing flushed by the read
    finally:
        event.remove(env.engine, "before_cursor_execute", note)
    assert sum(s.startswith("INSERT INTO AUDIT_EVENTS") for s in sent) == 1
    assert not any(s.startswith("UPDATE AUDIT_EVENTS") for s in sent)
    with env.uow() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert (last.action, last.object_id, last.seq is not None) == ("identity_read", "AUD-READ", True)
        assert verify_chain(session).broken is None
    with pytest.raises(RuntimeError), env.uow() as session:  # a read rolled back records nothing
        read_case(session, "AUD-READ", actor=env.user(session, "ina"), role="intake", channel="cli")
        raise RuntimeError
    assert count(env) == before + 1


def test_a_bulk_of_events_costs_one_lock_per_transaction(env, staff):
    """~100 events, as a bulk job writes them: in one transaction, and one transaction each (timed, printed)."""
    started = time.perf_counter()
    with env.uow() as session:
        for n in range(100):
            audit(session, None, "probe", "task", n, None, {"n": n})
    one = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(100):
        with env.uow() as session:
            audit(session, None, "probe", "task", n, None, {"n": n})
    each = time.perf_counter() - started
    print(f"\n[{env.backend}] 100 audit events: one transaction {one * 1000:.0f} ms, "
          f"100 transactions {each * 1000:.0f} ms")
    total = count(env)
    with env.uow() as session:
        assert verify_chain(session).verified == total


# PostgreSQL only: SQLite has one writer at a time (writes begin IMMEDIATE), so two appenders cannot race there.
@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_concurrent_appends_keep_one_chain(env, staff):
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(tag: int) -> None:
        try:
            for n in range(25):
                with env.uow() as session:
                    audit(session, None, "probe", "task", f"{tag}-{n}", None, {"n": n})
                    session.flush()
                    if n == 0:
                        barrier.wait(timeout=10)  # both hold an unchained event before either commits
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    total = count(env)
    with env.uow() as session:
        report = verify_chain(session)
        seqs = list(session.scalars(select(AuditEvent.seq).where(AuditEvent.action == "probe")))
    assert report.broken is None and report.verified == total
    assert len(seqs) == 50 == len(set(seqs))


@pytest.mark.parametrize("env", ["postgresql"], indirect=True)
def test_an_appender_reads_the_head_after_the_lock_in_one_round_trip(env, staff):
    """The lock and the head's read go as one query (``audit._locked_head``): a second appender that waited for the
    lock reads the head the first one committed, not the head as it was when its query was sent."""
    with Session(env.engine) as holder:
        audit(holder, None, "probe", "user", "holder", None, {})
        chain_pending(holder)  # the lock is taken and the event chained, not yet committed
        held = holder.scalars(select(AuditEvent.seq).where(AuditEvent.object_id == "holder")).one()
        sent: list[str] = []
        found: dict[str, object] = {}

        def second() -> None:
            with Session(env.engine) as waiter:
                event.listen(waiter.connection(), "before_cursor_execute",
                             lambda _c, _cur, statement, *_a: sent.append(statement))
                found["head"] = _locked_head(waiter)
                waiter.rollback()

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 30
        with env.engine.connect() as watcher:  # the second appender is queued for the lock, its query sent
            while not watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                          "AND NOT granted")) and time.monotonic() < deadline:
                time.sleep(0.01)  # another session's progress: no clock of ours to move
        holder.commit()
    thread.join(timeout=30)
    assert found["head"][0] == held  # type: ignore[index]
    assert len(sent) == 1 and sent[0].count("SELECT") == 2  # the lock and the read: one round trip


def test_the_migration_names_tokens_scrubs_old_events_and_chains_them(tmp_path):
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy.orm import Session

    from workflow import crypto, schema
    from workflow.config import load_settings
    from workflow.db import make_engine

    settings = load_settings({"PETITIO_HOME": str(tmp_path / "home")})
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    config = schema.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "8bd7ed95f046")  # before names, expiry and the chain
        conn.execute(text("INSERT INTO users (id, username, full_name, role, locale, active, created_at) "
                          "VALUES (1, 'lena', 'Lena', 'legal', 'en', 1, '2025-01-01 00:00:00')"))
        for n in (1, 2):
            conn.execute(text("INSERT INTO api_tokens (id, user_id, token_hash, created_at) "
                              "VALUES (:n, 1, :h, '2025-01-01 00:00:00')"), {"n": n, "h": f"{n}" * 64})
        old = [{"task": "legal_review", "form": {"decision": "reject", "notes": f"Call {MARKERS[0]}"}},
               {"fields": ["names"], "before": {"names": {"en": "Old name"}}, "after": {"names": {"en": "New"}}},
               {"username": "lena", "note": MARKERS[1]}]
        for n, data in enumerate(old, start=1):
            conn.execute(text("INSERT INTO audit_events (id, at, actor_id, action, object_type, data) "
                              "VALUES (:n, '2025-01-01 00:00:0' || :n, 1, 'probe', 'case', :d)"),
                         {"n": n, "d": json.dumps(data)})
    schema.upgrade(engine)
    with Session(engine) as session:
        tokens = session.execute(text("SELECT name, expires_at FROM api_tokens ORDER BY id")).all()
        assert [t.name for t in tokens] == ["token 1", "token 2"]
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert [e.data for e in events] == [
            {"task": "legal_review", "form": ["decision", "notes"]},
            {"fields": ["names"], "before": ["names"], "after": ["names"]},
            {"username": "lena", "scrubbed": ["note"]},
        ]
        report = verify_chain(session)
        assert report.broken is None and report.verified == 3
        row = session.scalars(select(ApiToken)).first()
        assert abs(row.expires_at - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    engine.dispose()
