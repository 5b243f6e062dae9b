"""``petitio backup verify ARCHIVE``: restore into a throw-away instance and prove the restore identical.

The archive is restored into a new SQLite instance in a temporary folder (whatever database it came from); then
every table's rows are read back from that database and their count and digest compared with the manifest, and
every restored document's bytes with its SHA-256 there. When the archive carries its keys, every document and
every encrypted field of the restored instance is also decrypted with them: the backup is readable, not only
whole. ``against_live`` compares the manifest with the running instance too (right after a backup, nothing
differs; later, what changed since). The temporary instance is deleted afterwards.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Engine

from workflow import crypto
from workflow.backup.archive import BackupSecret
from workflow.backup.dump import key_files, snapshot
from workflow.backup.restore import RestoreReport, restore_archive
from workflow.backup.rows import table_digests
from workflow.config import Settings, load_settings
from workflow.db import make_engine
from workflow.keyring import DocumentCorrupted, KeyRing, UnknownKey
from workflow.services.keys import encrypted_tables
from workflow.storage import BlobBackend, DocumentStore
from workflow.storage_db import blob_backend

SHOWN: Final = 10  # keys named in the summary per kind of difference (the counts are complete)


def _named(keys: list[str]) -> dict[str, Any]:
    return {"count": len(keys), "first": sorted(keys)[:SHOWN]}


def _blob_sha256(backend: BlobBackend, key: str) -> str | None:
    try:
        return hashlib.sha256(backend.read(key)).hexdigest()
    except FileNotFoundError:
        return None


def _compare(report: RestoreReport, engine: Engine, settings: Settings) -> dict[str, Any]:
    """The database and document store behind ``engine``/``settings`` against the archive's manifest."""
    with snapshot(engine) as conn:
        found = table_digests(conn)
    tables_differ = sorted(n for n in set(found) | set(report.tables) if found.get(n) != report.tables.get(n))
    backend = blob_backend(settings)
    stored = set(backend.stored_keys())
    missing = [k for k in report.documents if k not in stored]
    differ = [k for k, d in report.documents.items()
              if k in stored and _blob_sha256(backend, k) != d["sha256"]]
    extra = sorted(stored - set(report.documents))
    return {"tables_differ": tables_differ, "rows": sum(t["rows"] for t in found.values()),
            "documents_missing": _named(missing), "documents_differ": _named(differ), "documents_extra": _named(extra),
            "ok": not (tables_differ or missing or differ or extra)}


def _readable(settings: Settings, engine: Engine, report: RestoreReport) -> dict[str, Any]:
    """Decrypt every document and encrypted field of the restored instance with the archive's keys."""
    ring = KeyRing.load_or_create(settings.keys_dir)
    store = DocumentStore(settings.documents_dir, ring)
    unreadable_documents = []
    for key in report.documents:
        try:
            store.get(key)
        except (DocumentCorrupted, UnknownKey):
            unreadable_documents.append(key)
    fields = crypto.FieldCrypto(ring)
    checked, unreadable_fields = 0, {}
    with snapshot(engine) as conn:
        for table in encrypted_tables():
            columns = [table.table.c[c] for c in table.columns]
            for row in conn.execution_options(stream_results=True, yield_per=500).execute(sa.select(*columns)):
                for (column, bound_to), blob in zip(table.columns.items(), row, strict=True):
                    if blob is None:
                        continue
                    checked += 1
                    try:
                        fields.decrypt(bound_to, blob)
                    except crypto.FieldDecryptionError:
                        unreadable_fields[f"{table.name}.{column}"] = unreadable_fields.get(f"{table.name}.{column}",
                                                                                           0) + 1
    return {"documents": len(report.documents) - len(unreadable_documents),
            "documents_unreadable": _named(unreadable_documents),
            "fields": checked - sum(unreadable_fields.values()), "fields_unreadable": unreadable_fields,
            "ok": not (unreadable_documents or unreadable_fields)}


def verify_archive(archive: Path, secret: BackupSecret, *,
                   live: tuple[Engine, Settings] | None = None) -> dict[str, Any]:
    """The JSON summary; ``ok`` is False on any difference. Raises ArchiveError when the archive does not
    authenticate (tampered with, cut short, or the wrong passphrase or key)."""
    with tempfile.TemporaryDirectory(prefix="petitio-verify-") as temp:
        settings = load_settings({"PETITIO_HOME": temp})
        engine = make_engine(settings.database_url)
        try:
            report = restore_archive(engine, settings, archive, secret, need_keys=False)
            restored = _compare(report, engine, settings)
            keys = {name: hashlib.sha256(content).hexdigest() for name, content in key_files(settings.keys_dir).items()}
            restored["keys_ok"] = keys == report.keys
            restored["ok"] = restored["ok"] and restored["keys_ok"]
            readable = _readable(settings, engine, report) if report.keys_included else None
        finally:
            engine.dispose()
    summary: dict[str, Any] = {
        "archive": str(archive), "revision": report.revision, "source_dialect": report.dialect,
        "created_at": report.created_at, "keys_included": report.keys_included, "key_ids": report.key_ids,
        "tables": len(report.tables), "rows": sum(t["rows"] for t in report.tables.values()),
        "documents": len(report.documents), "restored": restored, "readable": readable, "live": None,
    }
    if live is not None:
        summary["live"] = _compare(report, live[0], live[1])
    summary["ok"] = bool(restored["ok"] and (readable is None or readable["ok"])
                         and (summary["live"] is None or summary["live"]["ok"]))
    return summary
