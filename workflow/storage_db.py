"""``DatabaseBackend``: documents' encrypted blobs in the ``document_blobs`` table (``document_storage = "database"``).

The bytes are the very ones ``FilesystemBackend`` writes (AES-256-GCM, the blob's key as associated data), so the
database alone reveals no document without the key ring. A new document's blob is inserted in the transaction
that records its row (``workflow/runtime/pending_blobs.py`` binds it to the session): it commits or rolls back
with it, so there is no pending file to publish or clean up. Between the write and the commit the ciphertext
waits in this process (``_IN_FLIGHT``), where reads of this process find it too.

Writes outside such a transaction (an import's staged upload, a key rotation, a deletion) go through ``session``
when the store was made for one (so that on SQLite they never wait for the lock their own request holds), else
through a short transaction of their own. Reads without a session begin deferred on SQLite (``READ_ONLY``).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.db import READ_ONLY, engine_for
from workflow.models import DocumentBlob, utcnow
from workflow.storage import BlobBackend, FilesystemBackend, StoredFile, check_key

_TABLE: Final = DocumentBlob.__table__
# Pending blobs written by this process whose transaction has not ended: key -> ciphertext. Keys are random
# (uuid4), so threads never share one.
_IN_FLIGHT: dict[str, bytes] = {}


def blob_backend(settings: Settings, session: Session | None = None) -> BlobBackend:
    """Where the encrypted blobs are (``document_storage``); backups read and write them without any key.
    ``session``: a database backend's writes and reads join its transaction."""
    if settings.document_storage == "database":
        return DatabaseBackend(engine_for(settings.database_url), session)
    return FilesystemBackend(settings.documents_dir)


class DatabaseBackend:
    def __init__(self, engine: Engine, session: Session | None = None) -> None:
        self.engine = engine
        self.session = session

    def write(self, key: str, ciphertext: bytes, *, pending: bool) -> None:
        if pending:
            _IN_FLIGHT[key] = ciphertext
            return
        self._execute(_TABLE.insert().values(key=key, ciphertext=ciphertext, created_at=utcnow()))

    def bind(self, session: object, key: str) -> None:
        assert isinstance(session, Session)
        session.execute(_TABLE.insert().values(key=key, ciphertext=_IN_FLIGHT[key], created_at=utcnow()))

    def publish(self, key: str) -> None:
        _IN_FLIGHT.pop(key, None)

    def sync_pending(self, keys: list[str]) -> None:
        pass  # the blobs' rows are in the transaction itself: durable with its commit

    def discard(self, key: str) -> None:
        _IN_FLIGHT.pop(key, None)  # its row went with the transaction

    def read(self, key: str) -> bytes:
        check_key(key)
        pending = _IN_FLIGHT.get(key)
        if pending is not None:
            return pending
        query = sa.select(_TABLE.c.ciphertext).where(_TABLE.c.key == key)
        if self.session is not None:
            found = self.session.execute(query).scalar()
        else:
            with self._reader() as conn:
                found = conn.execute(query).scalar()
        if found is None:
            raise FileNotFoundError(f"no stored document {key}")
        return bytes(found)

    def replace(self, key: str, ciphertext: bytes) -> None:
        result = self._execute(_TABLE.update().where(_TABLE.c.key == key).values(ciphertext=ciphertext))
        if not result:
            raise FileNotFoundError(f"no stored document {key}")

    def delete(self, key: str) -> None:
        self._execute(_TABLE.delete().where(_TABLE.c.key == key))

    def stored_keys(self) -> list[str]:
        with self._reader() as conn:
            return list(conn.execute(sa.select(_TABLE.c.key).order_by(_TABLE.c.key)).scalars())

    def files(self) -> list[StoredFile]:
        with self._reader() as conn:
            rows = conn.execute(sa.select(_TABLE.c.key, _TABLE.c.created_at).order_by(_TABLE.c.key)).all()
        return [StoredFile(key, key, False, created.timestamp()) for key, created in rows]

    def remove_file(self, relative: str) -> None:
        if not self._execute(_TABLE.delete().where(_TABLE.c.key == check_key(relative))):
            raise ValueError(f"not a document of the store: {relative!r}")

    def _execute(self, statement: sa.Executable) -> int:
        """Run one write; how many rows it changed."""
        if self.session is not None:
            return int(getattr(self.session.execute(statement), "rowcount", 0))
        with self.engine.begin() as conn:
            return int(getattr(conn.execute(statement), "rowcount", 0))

    def _reader(self) -> Connection:
        return self.engine.execution_options(**{READ_ONLY: True}).connect()


def insert_blob(conn: Connection, key: str, ciphertext: bytes) -> None:
    """A restore writes an archive's blob, byte for byte, in its own transaction."""
    conn.execute(_TABLE.insert().values(key=check_key(key), ciphertext=ciphertext, created_at=utcnow()))


def stored_blob(conn: Connection, key: str) -> bytes | None:
    found = conn.execute(sa.select(_TABLE.c.ciphertext).where(_TABLE.c.key == key)).scalar()
    return None if found is None else bytes(found)
