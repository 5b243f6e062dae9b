"""``petitio restore ARCHIVE``: an archive back into an empty instance (``PETITIO_HOME`` / ``DATABASE_URL``).

Empty means: no rows in any table but the ones ``petitio init`` fills by itself (catalogue, vocabularies, process
definitions; they are replaced by the archive's), no stored document, and a schema that is either absent or at
the archive's revision. The schema is created at the archive's revision (Alembic stamps it), every row goes in
inside one transaction that commits only once the whole archive has authenticated and matched its manifest;
documents are written as the encrypted blobs they were (as files, or into ``document_blobs`` in the rows'
transaction with ``document_storage = "database"``: an archive of either store restores into either); keys
(from the archive, or from ``--keys DIR`` for an archive made without them) are written with mode 0600. Key
files already in the target's folder (the one ``petitio init`` makes) are moved aside to
``PETITIO_HOME/keys-before-restore-<time>``, never deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from workflow import schema
from workflow.backup.archive import FORMAT, ArchiveError, BackupSecret, open_frames
from workflow.backup.dump import KEY_FILE_RE, key_files, key_ids_of, ring_key_ids
from workflow.backup.rows import RawTable, TableDigest, decode, raw_tables
from workflow.config import Settings
from workflow.errors import PetitioError
from workflow.models import Base
from workflow.storage import blob_path
from workflow.storage_db import blob_backend, insert_blob

INIT_TABLES: Final = frozenset({"bodies", "vocabulary_terms", "process_definitions"})  # what `petitio init` seeds


class TargetNotEmpty(PetitioError):
    code = "restore_target_not_empty"


class RestoreRefused(PetitioError):
    code = "restore_refused"


@dataclass
class RestoreReport:
    revision: str = ""
    dialect: str = ""
    created_at: str = ""
    keys_included: bool = False
    key_ids: list[str] = field(default_factory=list)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> size, sha256 of the blob
    keys: dict[str, str] = field(default_factory=dict)  # key file -> sha256, as the manifest lists them
    keys_written: list[str] = field(default_factory=list)
    keys_set_aside: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "source_dialect": self.dialect, "created_at": self.created_at,
                "keys_included": self.keys_included, "key_ids": self.key_ids,
                "rows": sum(t["rows"] for t in self.tables.values()), "tables": len(self.tables),
                "documents": len(self.documents), "keys_written": self.keys_written,
                "keys_set_aside": self.keys_set_aside}


def check_empty(engine: Engine, settings: Settings) -> str | None:
    """The target's schema revision (None: no schema yet); raises TargetNotEmpty when it holds anything."""
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        existing = set(sa.inspect(conn).get_table_names())
        busy = [t.name for t in Base.metadata.sorted_tables if t.name in existing and t.name not in INIT_TABLES
                and conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()]
    # With documents in the database, their table is counted above (and may not exist yet).
    documents = 0 if settings.document_storage == "database" else len(blob_backend(settings).stored_keys())
    if busy or documents:
        held = ", ".join(busy[:5]) + (", ..." if len(busy) > 5 else "")
        raise TargetNotEmpty(f"the target instance is not empty ({len(busy)} table(s) hold rows"
                             f"{': ' + held if busy else ''}; {documents} document(s) stored): restore only into a "
                             "new PETITIO_HOME and an empty database")
    if revision is None and existing & {t.name for t in Base.metadata.sorted_tables}:
        raise TargetNotEmpty("the target database holds Petitio tables but no schema revision: use an empty database")
    return revision


def restore_archive(engine: Engine, settings: Settings, archive: Path, secret: BackupSecret, *,
                    keys_from: Path | None = None, need_keys: bool = True) -> RestoreReport:
    """Restore ``archive``; ``need_keys=False`` (verify) restores an archive without keys and without ``--keys``."""
    frames = open_frames(Path(archive), secret)
    try:
        return _restore(engine, settings, frames, keys_from, need_keys)
    finally:
        frames.close()  # the archive file is closed at once, also when the restore is refused before its end


def _restore(engine: Engine, settings: Settings, frames: Iterator[tuple[bytes, bytes]], keys_from: Path | None,
             need_keys: bool) -> RestoreReport:
    report = RestoreReport()
    kind, payload = next(frames, (b"", b""))
    if kind != b"M":
        raise ArchiveError("the archive does not begin with its description")
    meta = json.loads(payload)
    if meta.get("format") != FORMAT or not schema.is_known(str(meta.get("revision"))):
        raise RestoreRefused(f"the archive was made at schema revision {meta.get('revision')!r}, which this version "
                             "of Petitio does not know: restore it with the version that made it (or a newer one)")
    report.revision, report.dialect, report.created_at = meta["revision"], meta["dialect"], meta["created_at"]
    report.keys_included, report.key_ids = bool(meta["keys_included"]), list(meta["key_ids"])
    _check_keys(settings, report, keys_from, need_keys)
    target_revision = check_empty(engine, settings)
    if target_revision not in (None, report.revision):
        raise RestoreRefused(f"the target database's schema is at revision {target_revision}, the archive's at "
                             f"{report.revision}: restore into a database `petitio init` has not touched")
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target_revision is None:
        schema.upgrade_to(engine, report.revision)
    written = _Written(settings)
    try:
        if keys_from is not None:
            written.keys(key_files(keys_from), report)
        with engine.begin() as conn:
            _load(conn, frames, report, written)
        return report
    except BaseException:
        written.undo()
        raise


def _check_keys(settings: Settings, report: RestoreReport, keys_from: Path | None, need_keys: bool) -> None:
    if report.keys_included:
        if keys_from is not None:
            raise RestoreRefused("this archive carries its own keys: --keys is for archives made with --without-keys")
        if settings.document_key:
            raise RestoreRefused("PETITIO_DOCUMENT_KEY is set: unset it so that the instance uses the archive's keys")
        return
    if keys_from is not None:
        if not key_files(keys_from):
            raise RestoreRefused(f"{keys_from}: no key files (<id>.key and current) in this folder")
        if settings.document_key:
            raise RestoreRefused("PETITIO_DOCUMENT_KEY is set: unset it to use the keys of --keys")
        available = set(key_ids_of(key_files(keys_from)))
    else:
        available = set(ring_key_ids(settings.keys_dir, settings.document_key))
    missing = sorted(set(report.key_ids) - available)
    if missing and need_keys:
        raise RestoreRefused(f"the archive holds no keys and its data is encrypted under key(s) {', '.join(missing)}: "
                             "give the key folder saved with it (--keys DIR)")


class _Written:
    """What the restore wrote outside the database, taken back if it fails."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paths: list[Path] = []
        self.set_aside: Path | None = None
        self.open_document: IO[bytes] | None = None  # the blob being written, closed even when the restore fails

    def keys(self, files: dict[str, bytes], report: RestoreReport) -> None:
        keys_dir = self.settings.keys_dir
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if key_files(keys_dir):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            self.set_aside = self.settings.home / f"keys-before-restore-{stamp}"
            self.set_aside.mkdir(mode=0o700)
            for name in key_files(keys_dir):
                os.replace(keys_dir / name, self.set_aside / name)
            report.keys_set_aside = str(self.set_aside)
        for name, content in files.items():
            if not KEY_FILE_RE.fullmatch(name):
                raise ArchiveError(f"the archive names an unexpected key file {name!r}")
            path = keys_dir / name
            with _create(path, self.paths) as fh:
                fh.write(content)
            report.keys_written.append(name)

    def undo(self) -> None:
        if self.open_document is not None:
            self.open_document.close()
        for path in reversed(self.paths):
            path.unlink(missing_ok=True)
        if self.set_aside is not None:
            for path in self.set_aside.iterdir():
                os.replace(path, self.settings.keys_dir / path.name)
            shutil.rmtree(self.set_aside, ignore_errors=True)


def _create(path: Path, written: list[Path]) -> IO[bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written.append(path)
    return os.fdopen(fd, "wb")


def _load(conn: Connection, frames: Iterator[tuple[bytes, bytes]], report: RestoreReport, written: _Written) -> None:
    tables = {raw.name: raw for raw in raw_tables()}
    for table in reversed(Base.metadata.sorted_tables):  # what `petitio init` seeded gives way to the archive's
        conn.execute(table.delete())
    digests: dict[str, TableDigest] = {}
    current: RawTable | None = None
    document: tuple[str, Path, Any, Any] | None = None  # key, final path, open temp file, running sha256
    key_contents: dict[str, bytes] = {}
    manifest: dict[str, Any] | None = None
    for kind, payload in frames:
        if manifest is not None:
            raise ArchiveError("the archive continues after its manifest")
        if kind == b"T":
            head = json.loads(payload)
            current = tables.get(head["table"])
            if current is None or list(current.columns) != head["columns"]:
                raise RestoreRefused(f"table {head['table']!r} of the archive does not match this version's model")
            digests[current.name] = TableDigest()
        elif kind == b"R" and current is not None:
            rows = json.loads(payload)
            for row in rows:
                digests[current.name].add(row)
            conn.execute(current.table.insert(), [
                {c: decode(v, k) for c, v, k in zip(current.columns, row, current.kinds, strict=True)} for row in rows])
        elif kind == b"D" and written.settings.document_storage == "database":
            # Into the document_blobs table, in the transaction of the rows: one blob in memory at a time.
            document = (json.loads(payload)["key"], Path(), bytearray(), hashlib.sha256())
        elif kind == b"B" and document is not None and isinstance(document[2], bytearray):
            document[2].extend(payload)
            document[3].update(payload)
        elif kind == b"E" and document is not None and isinstance(document[2], bytearray):
            key, _, blob, digest = document
            end = json.loads(payload)
            if end["key"] != key or end["sha256"] != digest.hexdigest() or end["size"] != len(blob):
                raise ArchiveError(f"document {key} does not match its digest in the archive")
            insert_blob(conn, key, bytes(blob))
            report.documents[key] = {"size": end["size"], "sha256": end["sha256"]}
            document = None
        elif kind == b"D":
            key = json.loads(payload)["key"]
            final = blob_path(written.settings.documents_dir, key)
            for folder in (final.parents[2], final.parents[1], final.parent):
                folder.mkdir(mode=0o700, exist_ok=True)
            temp = final.with_name(f".restore-{key}")
            written.open_document = _create(temp, written.paths)
            document = (key, final, written.open_document, hashlib.sha256())
        elif kind == b"B" and document is not None:
            document[2].write(payload)
            document[3].update(payload)
        elif kind == b"E" and document is not None:
            key, final, fh, digest = document
            fh.close()
            written.open_document = None
            end = json.loads(payload)
            temp = final.with_name(f".restore-{key}")
            if end["key"] != key or end["sha256"] != digest.hexdigest() or end["size"] != temp.stat().st_size:
                raise ArchiveError(f"document {key} does not match its digest in the archive")
            os.replace(temp, final)
            written.paths.append(final)
            report.documents[key] = {"size": end["size"], "sha256": end["sha256"]}
            document = None
        elif kind == b"K":
            entry = json.loads(payload)
            key_contents[entry["name"]] = base64.b64decode(entry["content"])
        elif kind == b"Z":
            manifest = json.loads(payload)
        else:
            raise ArchiveError(f"the archive holds an unexpected frame {kind!r}")
    if manifest is None:
        raise ArchiveError("the archive has no manifest (cut short)")
    report.tables = {name: digest.as_dict() for name, digest in digests.items()}
    _check_manifest(manifest, report, key_contents)
    _follow_sequences(conn, tables.values())
    if report.keys_included:
        written.keys(key_contents, report)


def _check_manifest(manifest: dict[str, Any], report: RestoreReport, key_contents: dict[str, bytes]) -> None:
    if manifest["tables"] != report.tables:
        differ = sorted(n for n in set(manifest["tables"]) | set(report.tables)
                        if manifest["tables"].get(n) != report.tables.get(n))
        raise ArchiveError(f"the archive's rows do not match its manifest (tables: {', '.join(differ)})")
    if manifest["documents"]["count"] != len(report.documents):
        raise ArchiveError("the archive's documents do not match its manifest")
    report.keys = dict(manifest["keys"])
    report.key_ids = list(manifest["key_ids"])
    if {n: hashlib.sha256(c).hexdigest() for n, c in key_contents.items()} != report.keys:
        raise ArchiveError("the archive's keys do not match its manifest")


def _follow_sequences(conn: Connection, tables: Any) -> None:
    """PostgreSQL hands out ids from sequences that know nothing of the rows just inserted: move them past."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for raw in tables:
        if raw.serial:
            table, column = quote(raw.name), quote(raw.serial)
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # names from the model
                                 f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table}"),
                         {"table": raw.name, "column": raw.serial})
