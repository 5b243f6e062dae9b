"""The encrypted document store, over a backend that keeps the encrypted blobs.

Nothing is stored in the clear: each blob is AES-256-GCM under the current key of the ring
(``workflow/keyring.py``) with its own key bound as associated data, so blobs cannot be swapped. Uploads are
checked first (``workflow/uploads.py``). Two backends hold the ciphertext, chosen by ``document_storage``:
``FilesystemBackend`` (here: files at ``root/ab/cd/<key>``, one machine) and ``DatabaseBackend``
(``workflow/storage_db.py``: the ``document_blobs`` table, shared by every machine that reaches the database).
Free of Flask and SQLAlchemy: callers keep the returned ``StoredBlob`` metadata wherever they like.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from workflow.keyring import KeyRing, UnknownKey, atomic_write
from workflow.problems import Problem
from workflow.uploads import DEFAULT_MAX_DOCUMENT_BYTES, DocumentRejected, check_document, sniff_media_type

_BLOB_KEY_RE: Final = re.compile(r"[0-9a-f]{32}")
PENDING_SUFFIX: Final = ".pending"  # a new blob whose row has not committed yet (workflow/runtime/pending_blobs.py)


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the store's root
    key: str | None  # None: a temporary file of a write that never finished
    pending: bool
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str  # of the plaintext, so integrity/deduplication never needs decryption
    size: int  # plaintext bytes
    media_type: str


class BlobBackend(Protocol):
    """Where the encrypted blobs live: bytes in, the same bytes out, by key. Never sees a key of the ring."""

    def write(self, key: str, ciphertext: bytes, *, pending: bool) -> None:
        """Store a new blob; ``pending``: visible once ``publish`` (or, in a database, the session's commit)."""

    def bind(self, session: object, key: str) -> None:
        """A pending blob joins the transaction of ``session`` that records its row."""

    def publish(self, key: str) -> None:
        """The row of a pending blob has committed."""

    def sync_pending(self, keys: list[str]) -> None:
        """Make these pending blobs durable, all at once, before the transaction recording them commits."""

    def discard(self, key: str) -> None:
        """The transaction that would have recorded a pending blob rolled back."""

    def read(self, key: str) -> bytes:
        """The stored ciphertext; raises FileNotFoundError when there is none."""

    def replace(self, key: str, ciphertext: bytes) -> None:
        """Rewrite an existing blob at once (a key rotation)."""

    def delete(self, key: str) -> None:
        """Remove a blob; one already gone is no error."""

    def stored_keys(self) -> list[str]:
        """Every stored blob's key, including those no row refers to any more."""

    def files(self) -> list[StoredFile]:
        """Everything the backend holds, with its age, for ``petitio storage check``."""

    def remove_file(self, relative: str) -> None:
        """Delete one entry ``files`` listed (an orphan)."""


class DocumentStore:
    """Encrypted blobs in a backend: by default on the local filesystem at ``root/ab/cd/<key>``."""

    def __init__(self, root: Path, keyring: KeyRing, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
                 backend: BlobBackend | None = None) -> None:
        self.root = Path(root)
        self.keyring = keyring
        self.max_bytes = max_bytes
        self.backend: BlobBackend = backend if backend is not None else FilesystemBackend(self.root)

    def put(self, data: bytes, filename: str | None = None, *, pending: bool = False) -> StoredBlob:
        """Validate an uploaded document and store it encrypted; raises DocumentRejected. ``pending``: under the
        pending name until ``publish`` (``workflow/runtime/pending_blobs.py`` does it when the row commits)."""
        media_type = check_document(data, filename, self.max_bytes)
        return self._store(data, media_type, pending=pending)

    def put_generated(self, data: bytes, media_type: str, *, pending: bool = False) -> StoredBlob:
        """Store a document we produced ourselves.

        No filename or upload-size check (the upload limit is about untrusted input), but the
        content must still be what the caller claims, which catches generator bugs early.
        """
        if not data:
            raise DocumentRejected(Problem("file_empty"))
        sniffed = sniff_media_type(data)
        if sniffed != media_type:
            raise DocumentRejected(Problem("unknown_content"))
        return self._store(data, media_type, pending=pending)

    def stage(self, data: bytes) -> StoredBlob:
        """Keep an upload that is checked later (an import's spreadsheet and documents, between the preview and
        the job): encrypted like every blob, its content unchecked, so callers check what they read back."""
        return self._store(data, "application/octet-stream")

    def publish(self, key: str) -> None:
        """A pending blob takes its final name (its row has committed); nothing to do when it already has it."""
        self.backend.publish(key)

    def sync_pending(self, keys: list[str]) -> None:
        """Make these pending blobs durable (stored before the rows naming them commit)."""
        if keys:
            self.backend.sync_pending(keys)

    def discard(self, key: str) -> None:
        """A pending blob is deleted (the transaction that would have recorded it rolled back)."""
        self.backend.discard(key)

    def get(self, key: str) -> bytes:
        """Decrypted content; raises FileNotFoundError, UnknownKey or DocumentCorrupted."""
        blob = self.backend.read(key)
        try:
            return self.keyring.decrypt(blob, aad=key.encode("ascii"))
        except UnknownKey:
            # A rotation in another process re-encrypted the blob under a key newer than our ring.
            fresh = self.keyring.reloaded()
            if fresh is None or fresh.key_ids == self.keyring.key_ids:
                raise
            self.keyring = fresh
            return self.keyring.decrypt(self.backend.read(key), aad=key.encode("ascii"))

    def files(self) -> list[StoredFile]:
        """Every blob the backend holds (files: also pending blobs and temporary files a killed write left)."""
        return self.backend.files()

    def remove_file(self, relative: str) -> None:
        """Delete one entry ``files`` listed (an orphan); a path outside the root or not of ours is refused."""
        self.backend.remove_file(relative)

    def blob_keys(self) -> list[str]:
        """Every stored blob's key (including any no row refers to any more)."""
        return self.backend.stored_keys()

    def reencrypt(self, key: str) -> bool:
        """Rewrite one blob under the current key (atomically); False when it already is."""
        blob = self.backend.read(key)
        if self.keyring.is_current(blob):
            return False
        data = self.keyring.decrypt(blob, aad=key.encode("ascii"))
        self.backend.replace(key, self.keyring.encrypt(data, aad=key.encode("ascii")))
        return True

    def delete(self, key: str) -> None:
        """Remove a blob; deleting one that is already gone is not an error (retries are safe)."""
        self.backend.delete(check_key(key))

    def _store(self, data: bytes, media_type: str, *, pending: bool = False) -> StoredBlob:
        key = uuid.uuid4().hex
        # Binding the blob to its key (AAD) stops an attacker with disk or database access swapping blobs.
        self.backend.write(key, self.keyring.encrypt(data, aad=key.encode("ascii")), pending=pending)
        digest = hashlib.sha256(data).hexdigest()
        return StoredBlob(key=key, sha256=digest, size=len(data), media_type=media_type)


class FilesystemBackend:
    """Blobs as files at ``root/ab/cd/<key>``; a pending blob under ``<key>.pending`` until its row commits."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write(self, key: str, ciphertext: bytes, *, pending: bool) -> None:
        path = self._pending_path(key) if pending else self._path(key)
        self._make_dirs(path.parent)
        # A pending blob is made durable with the others of its transaction just before that commits
        # (``sync_pending``): one filesystem sync for a batch instead of a journal commit per file (9 ms each on
        # a busy disk).
        atomic_write(path, ciphertext, sync=not pending)

    def sync_pending(self, keys: list[str]) -> None:
        sync_files(self.root, [self._pending_path(key) for key in keys])

    def bind(self, session: object, key: str) -> None:
        pass  # the file is renamed by ``publish`` after the commit

    def publish(self, key: str) -> None:
        try:
            os.replace(self._pending_path(key), self._path(key))
        except FileNotFoundError:
            if not self._path(key).exists():
                raise

    def discard(self, key: str) -> None:
        self._pending_path(key).unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            # Its row committed, the rename did not happen yet (or the process died in between): still readable.
            return self._pending_path(key).read_bytes()

    def replace(self, key: str, ciphertext: bytes) -> None:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(path)
        atomic_write(path, ciphertext)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def stored_keys(self) -> list[str]:
        return blob_keys(self.root)

    def files(self) -> list[StoredFile]:
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            key = name.removesuffix(PENDING_SUFFIX)
            if not path.is_file():
                continue
            if _BLOB_KEY_RE.fullmatch(key):
                found.append(StoredFile(path.relative_to(self.root).as_posix(), key, name != key, path.stat().st_mtime))
            elif name.startswith(".tmp-"):
                found.append(StoredFile(path.relative_to(self.root).as_posix(), None, False, path.stat().st_mtime))
        return found

    def remove_file(self, relative: str) -> None:
        path = (self.root / relative).resolve()
        if path.parent.parent.parent != self.root.resolve() or not any(f.path == relative for f in self.files()):
            raise ValueError(f"not a file of the document store: {relative!r}")
        path.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return blob_path(self.root, key)

    def _pending_path(self, key: str) -> Path:
        path = self._path(key)
        return path.with_name(path.name + PENDING_SUFFIX)

    def _make_dirs(self, leaf: Path) -> None:
        # mkdir(parents=True) ignores `mode` for intermediate dirs, so create each level explicitly.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        leaf.parent.mkdir(mode=0o700, exist_ok=True)
        leaf.mkdir(mode=0o700, exist_ok=True)


def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2) (one journal commit for a whole filesystem), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs()


def sync_files(root: Path, paths: list[Path]) -> None:
    """Every file in ``paths`` (all under ``root``) on disk: the filesystem synced once, or each file fsynced."""
    if _SYNCFS is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def blob_keys(root: Path) -> list[str]:
    """The keys of the blobs under ``root`` (backups read and write the encrypted blobs without any key)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.glob("??/??/*") if _BLOB_KEY_RE.fullmatch(p.name) and p.is_file())


def check_key(key: str) -> str:
    # Keys come back from the database/URLs; only our own format may ever become a path or a stored key.
    if not _BLOB_KEY_RE.fullmatch(key):
        raise ValueError(f"invalid document key {key!r}")
    return key


def blob_path(root: Path, key: str) -> Path:
    check_key(key)
    return root / key[:2] / key[2:4] / key
