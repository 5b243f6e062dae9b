"""``petitio backup OUT``: the database, the documents and (unless left out) the key ring, in one archive.

The frames, in the order they are written (and read back by ``workflow.backup.restore``)::

    M  meta: format, Alembic revision, source database, time, whether keys are inside, the ring's key ids
    K  one key file of PETITIO_HOME/keys (only with keys)                      {"name", "content" (base64)}
    T  a table starts                                                          {"table", "columns"}
    R  up to 500 of its rows (4 MiB), values as stored (``workflow.backup.rows``) [[...], ...]
    D  a document starts                                                       {"key"}
    B  up to 1 MiB of its encrypted blob, byte for byte
    E  the document ends                                                       {"key", "size", "sha256"}
    Z  the manifest: per table rows and digest, the documents' count, the keys' SHA-256

The database is read in one snapshot (a repeatable-read transaction; on SQLite a WAL read transaction), so a
running instance can be backed up. Documents are read after it: one stored meanwhile is in the archive without a
row (harmless); one deleted meanwhile is missing (the restore's documents are what the store held).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from workflow import schema
from workflow.backup.archive import CHUNK_BYTES, FORMAT, ArchiveWriter, BackupSecret, create_private
from workflow.backup.rows import BYTES_PER_FRAME, ROWS_PER_FRAME, TableDigest, canonical, encoded_rows, raw_tables
from workflow.config import Settings
from workflow.db import READ_ONLY, is_sqlite
from workflow.errors import PetitioError
from workflow.keyring import KeyRing
from workflow.storage_db import blob_backend

# The key ring's files (``workflow/keyring.py``). The session-signing secret (flask_secret_key) is left out on
# purpose: a restored instance makes a new one, so a session cookie stolen before the restore opens nothing after it.
KEY_FILE_RE: Final = re.compile(r"(?:[0-9A-Za-z_-]{8}\.key|current)")


class BackupRefused(PetitioError):
    code = "backup_refused"


@dataclass
class BackupReport:
    archive: str
    revision: str
    keys_included: bool
    key_ids: list[str]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: int = 0
    document_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"archive": self.archive, "revision": self.revision, "keys_included": self.keys_included,
                "key_ids": self.key_ids, "documents": self.documents, "document_bytes": self.document_bytes,
                "rows": sum(t["rows"] for t in self.tables.values()), "tables": self.tables}


def key_files(keys_dir: Path) -> dict[str, bytes]:
    """The key ring's files by name (empty when there is no folder)."""
    if not keys_dir.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(keys_dir.iterdir()) if KEY_FILE_RE.fullmatch(p.name) and p.is_file()}


def key_ids_of(files: dict[str, bytes]) -> list[str]:
    return sorted(name.removesuffix(".key") for name in files if name.endswith(".key"))


def ring_key_ids(keys_dir: Path, env_key: str | None) -> list[str]:
    """The ids of the keys an instance reads with (its environment key, or its key files), creating nothing."""
    if env_key:
        return sorted(KeyRing.load_or_create(keys_dir, env_key=env_key).key_ids)
    return key_ids_of(key_files(keys_dir))


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of the whole database that never blocks the instance's writers."""
    if is_sqlite(str(engine.url)):
        connection = engine.execution_options(**{READ_ONLY: True}).connect()
    else:
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with connection.begin():
            yield connection
    finally:
        connection.close()


def _revision(conn: Connection) -> str:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        raise BackupRefused("the database is not initialised: nothing to back up (run `petitio init` first)")
    return revision


def write_backup(engine: Engine, settings: Settings, out: Path, secret: BackupSecret, *,
                 with_keys: bool = True) -> dict[str, Any]:
    """Write the archive to ``out`` (a new file, mode 0600; written as ``out.partial`` and renamed when complete)."""
    out = Path(out)
    if out.exists():
        raise BackupRefused(f"{out} exists: give a new file name (an archive is never overwritten)")
    if with_keys and settings.document_key:
        raise BackupRefused("the key comes from PETITIO_DOCUMENT_KEY, not from PETITIO_HOME/keys: keep that key "
                            "with your backups yourself and back up with --without-keys")
    keys_at_start = key_files(settings.keys_dir)
    if with_keys and not keys_at_start:
        raise BackupRefused(f"no key files in {settings.keys_dir}: nothing could read the backup's documents")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with create_private(partial) as fh:
            report = _write(engine, settings, ArchiveWriter(fh, secret), str(out), keys_at_start, with_keys)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return report.as_dict()


def _write(engine: Engine, settings: Settings, writer: ArchiveWriter, name: str, keys_at_start: dict[str, bytes],
           with_keys: bool) -> BackupReport:
    with snapshot(engine) as conn:
        revision = _revision(conn)
        if revision != schema.head_revision():
            raise BackupRefused(f"the database is at revision {revision}, this version of Petitio at "
                                f"{schema.head_revision()}: run `petitio init` first")
        report = BackupReport(name, revision, with_keys, ring_key_ids(settings.keys_dir, settings.document_key))
        writer.json_frame(b"M", {"format": FORMAT, "revision": revision, "dialect": engine.dialect.name,
                                 "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "keys_included": with_keys, "key_ids": report.key_ids})
        tables = _write_tables(conn, writer)
    report.tables = tables
    documents = _write_documents(settings, writer, report)
    # Read the ring again: a rotation that started meanwhile may have written documents under a newer key.
    # Keys from before and after, so every blob and field in the archive has its key.
    keys = {**keys_at_start, **key_files(settings.keys_dir)}
    if not settings.document_key:
        report.key_ids = sorted(set(report.key_ids) | set(key_ids_of(keys)))
    key_digests = {}
    if with_keys:
        for file_name, content in keys.items():
            writer.json_frame(b"K", {"name": file_name, "content": base64.b64encode(content).decode("ascii")})
            key_digests[file_name] = hashlib.sha256(content).hexdigest()
    writer.json_frame(b"Z", {"revision": report.revision, "tables": tables, "documents": documents,
                             "keys": key_digests, "key_ids": report.key_ids})
    writer.close()
    return report


def _write_tables(conn: Connection, writer: ArchiveWriter) -> dict[str, dict[str, Any]]:
    digests = {}
    for raw in raw_tables():
        writer.json_frame(b"T", {"table": raw.name, "columns": list(raw.columns)})
        digest = TableDigest()
        batch: list[str] = []
        size = 0
        for row in encoded_rows(conn, raw):
            line = canonical(row)
            digest.add_line(line)
            batch.append(line)
            size += len(line)
            if len(batch) >= ROWS_PER_FRAME or size >= BYTES_PER_FRAME:
                writer.frame(b"R", ("[" + ",".join(batch) + "]").encode("utf-8"))
                batch, size = [], 0
        if batch:
            writer.frame(b"R", ("[" + ",".join(batch) + "]").encode("utf-8"))
        digests[raw.name] = digest.as_dict()
    return digests


def _write_documents(settings: Settings, writer: ArchiveWriter, report: BackupReport) -> dict[str, Any]:
    backend = blob_backend(settings)  # files or the document_blobs table: the archive holds them alike
    for key in backend.stored_keys():
        try:
            blob = backend.read(key)
        except FileNotFoundError:
            continue  # deleted since it was listed
        digest, size = hashlib.sha256(), 0
        writer.json_frame(b"D", {"key": key})
        for start in range(0, len(blob), CHUNK_BYTES):
            piece = blob[start:start + CHUNK_BYTES]
            digest.update(piece)
            size += len(piece)
            writer.frame(b"B", piece)
        writer.json_frame(b"E", {"key": key, "size": size, "sha256": digest.hexdigest()})
        report.documents += 1
        report.document_bytes += size
    return {"count": report.documents, "bytes": report.document_bytes}
