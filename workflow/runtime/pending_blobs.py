"""New documents' blobs become visible with the transaction that records them, and not before.

A document's encrypted file is written before its ``documents`` row commits. Written under its final name, a process
killed in between (an import's SIGKILL) left files that no row names: 239 after a few kills. So a new file is written
under a pending name (``DocumentStore.put(..., pending=True)``) and held by the session that records it: when that
session commits, the file takes its final name; when the transaction (or the savepoint) it was written in rolls
back, the file is deleted. A process killed before its commit leaves only pending files, which ``petitio storage
check`` finds and removes; killed between the commit and the rename, the row's file is still read under its pending
name (``DocumentStore.get``) and the check gives it its final name. With documents in the database
(``workflow/storage_db.py``) the blob's row is inserted in the session's transaction itself, and commits or rolls
back with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from workflow.config import Settings
from workflow.runtime.context import document_store
from workflow.storage import DocumentStore, StoredBlob

log = logging.getLogger(__name__)
_HELD = "petitio_pending_blobs"


@dataclass(frozen=True)
class _Held:
    store: DocumentStore
    key: str
    transaction: SessionTransaction | None  # the innermost transaction (or savepoint) the file was written in


def put_document(session: Session, settings: Settings, content: bytes, filename: str | None, *,
                 store: DocumentStore | None = None) -> StoredBlob:
    """``DocumentStore.put`` (checked, encrypted), visible when the session commits. ``store``: one made for this
    session already (an import's batch stores hundreds: each new store reads the key ring from disk again)."""
    if store is None:
        store = document_store(settings, session)
    return hold(session, store, store.put(content, filename, pending=True))


def put_generated(session: Session, store: DocumentStore, content: bytes, media_type: str) -> StoredBlob:
    """``DocumentStore.put_generated``, visible when the session commits."""
    return hold(session, store, store.put_generated(content, media_type, pending=True))


def hold(session: Session, store: DocumentStore, blob: StoredBlob) -> StoredBlob:
    store.backend.bind(session, blob.key)  # a database backend inserts it in this very transaction
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_HELD, []).append(_Held(store, blob.key, transaction))
    return blob


@event.listens_for(Session, "before_commit")
def _make_durable(session: Session) -> None:
    """The files of this transaction reach the disk before the rows naming them commit (they were written without
    a sync each: ``FilesystemBackend.write``)."""
    by_store: dict[object, tuple[DocumentStore, list[str]]] = {}  # by folder: each put may bring its own store
    for held in session.info.get(_HELD, []):
        by_store.setdefault(held.store.root, (held.store, []))[1].append(held.key)
    for store, keys in by_store.values():
        store.sync_pending(keys)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for held in session.info.pop(_HELD, []):
        try:
            held.store.publish(held.key)
        except OSError as err:  # the row is committed; its file is still read under the pending name
            log.error("document file not published (%s); `petitio storage check --remove` will", type(err).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous: SessionTransaction) -> None:
    """The files written in the transaction or savepoint rolled back (or in one inside it) are deleted."""
    kept = []
    for held in session.info.get(_HELD, []):
        if _within(held.transaction, previous):
            held.store.discard(held.key)
        else:
            kept.append(held)
    if kept:
        session.info[_HELD] = kept
    else:
        session.info.pop(_HELD, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
