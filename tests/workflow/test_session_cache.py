"""The catalogue tables read once a transaction (workflow/session_cache.py): fewer queries, never a stale answer.

On SQLite and PostgreSQL, through the services that read and change terms and bodies; statements are counted on
the engine as they are sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from workflow import bodies, vocab
from workflow.models import Body, VocabularyTerm


@contextmanager
def counting(env) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(env.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(env.engine, "before_cursor_execute", note)


def _reads_of(sent: list[str], table: str) -> int:
    return sum(1 for s in sent if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s)


def test_the_vocabularies_and_bodies_are_read_once_a_transaction(env, staff):
    with env.uow() as session, counting(env) as sent:
        incident_types = vocab.keys(session, "incident_type")
        vocab.labels(session, "mandate", "en")
        vocab.terms(session, "legal_ground", include_retired=True)
        active = bodies.active_codes(session)
        bodies.all_bodies(session, include_inactive=True)
        bodies.get_body(session, active[0])
    assert _reads_of(sent, "vocabulary_terms") == 1 and _reads_of(sent, "bodies") == 1
    assert incident_types and active
    with env.uow() as session, counting(env) as sent:  # a new transaction reads again
        assert vocab.keys(session, "incident_type") == incident_types
    assert _reads_of(sent, "vocabulary_terms") == 1


def test_a_term_added_changed_or_retired_in_the_transaction_is_seen_at_once(env, staff):
    with env.uow() as session:
        ada = env.user(session, "ada")
        before = vocab.keys(session, "incident_type")
        vocab.add_term(session, ada, "incident_type", "book_burning", {"en": "Book burning"})
        assert vocab.keys(session, "incident_type") == (*before, "book_burning")
        vocab.update_term(session, ada, "incident_type", before[0], active=False)
        assert before[0] not in vocab.keys(session, "incident_type")
        assert before[0] in vocab.labels(session, "incident_type", "en")  # retired terms keep their words
        vocab.update_term(session, ada, "incident_type", "book_burning", labels={"en": "Burning of books"})
        assert vocab.labels(session, "incident_type", "en")["book_burning"] == "Burning of books"
        # A row added without a flush (as a seed does) is read as a query would: flushed first, then seen.
        session.add(VocabularyTerm(vocabulary="incident_type", key="leaflet_seizure", labels={"en": "Leaflets"},
                                   extra={}, position=99, active=True))
        assert vocab.keys(session, "incident_type")[-1] == "leaflet_seizure"


def test_another_transactions_change_is_seen_by_the_next_transaction(env, staff):
    with env.uow() as reader:
        code = bodies.active_codes(reader)[0]
    with env.uow() as writer:  # nothing is kept beyond a transaction, nor in the process
        writer.scalars(select(Body).where(Body.code == code)).one().active = False
    with env.uow() as reader:
        assert code not in bodies.active_codes(reader)
        assert code in [b.code for b in bodies.all_bodies(reader, include_inactive=True)]
