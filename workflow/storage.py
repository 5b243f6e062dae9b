"""The encrypted document store: blobs on the local filesystem at ``root/ab/cd/<key>``.

Nothing is written to disk in the clear: each blob is AES-256-GCM under the current key of the ring
(``workflow/keyring.py``) with its own key bound as associated data, so files cannot be swapped. Uploads are
checked first (``workflow/uploads.py``). Free of Flask and SQLAlchemy: callers keep the returned
``StoredBlob`` metadata wherever they like.
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
from typing import Final

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


class DocumentStore:
    """Encrypted blobs on the local filesystem at ``root/ab/cd/<key>``."""

    def __init__(self, root: Path, keyring: KeyRing, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> None:
        self.root = Path(root)
        self.keyring = keyring
        self.max_bytes = max_bytes

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
        try:
            os.replace(self._pending_path(key), self._path(key))
        except FileNotFoundError:
            if not self._path(key).exists():
                raise

    def sync_pending(self, keys: list[str]) -> None:
        """Make these pending blobs durable (on disk before the rows naming them commit)."""
        if keys:
            sync_files(self.root, [self._pending_path(key) for key in keys])

    def discard(self, key: str) -> None:
        """A pending blob is deleted (the transaction that would have recorded it rolled back)."""
        self._pending_path(key).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        """Decrypted content; raises FileNotFoundError, UnknownKey or DocumentCorrupted."""
        blob = self._read(key)
        try:
            return self.keyring.decrypt(blob, aad=key.encode("ascii"))
        except UnknownKey:
            # A rotation in another process re-encrypted the blob under a key newer than our ring.
            fresh = self.keyring.reloaded()
            if fresh is None or fresh.key_ids == self.keyring.key_ids:
                raise
            self.keyring = fresh
            return self.keyring.decrypt(self._read(key), aad=key.encode("ascii"))

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            # Its row committed, the rename did not happen yet (or the process died in between): still readable.
            return self._pending_path(key).read_bytes()

    def files(self) -> list[StoredFile]:
        """Every file under the root that the store wrote: blobs, pending blobs, and temporary files a killed write
        left (``atomic_write``), with their age, for ``petitio storage check``."""
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
        """Delete one file ``files`` listed (an orphan); a path outside the root or not of ours is refused."""
        path = (self.root / relative).resolve()
        if path.parent.parent.parent != self.root.resolve() or not any(f.path == relative for f in self.files()):
            raise ValueError(f"not a file of the document store: {relative!r}")
        path.unlink(missing_ok=True)

    def blob_keys(self) -> list[str]:
        """Every stored blob's key (files on disk, including any no row refers to any more)."""
        return blob_keys(self.root)

    def reencrypt(self, key: str) -> bool:
        """Rewrite one blob under the current key (atomically); False when it already is."""
        path = self._path(key)
        blob = path.read_bytes()
        if self.keyring.is_current(blob):
            return False
        data = self.keyring.decrypt(blob, aad=key.encode("ascii"))
        atomic_write(path, self.keyring.encrypt(data, aad=key.encode("ascii")))
        return True

    def delete(self, key: str) -> None:
        """Remove a blob; deleting one that is already gone is not an error (retries are safe)."""
        self._path(key).unlink(missing_ok=True)

    def _store(self, data: bytes, media_type: str, *, pending: bool = False) -> StoredBlob:
        key = uuid.uuid4().hex
        path = self._pending_path(key) if pending else self._path(key)
        self._make_dirs(path.parent)
        # Binding the blob to its key (AAD) stops an attacker with disk access swapping files. A pending blob is
        # made durable with the others of its transaction just before that commits (``sync_pending``): one
        # filesystem sync for a batch instead of a journal commit per file (9 ms each on a busy disk).
        atomic_write(path, self.keyring.encrypt(data, aad=key.encode("ascii")), sync=not pending)
        digest = hashlib.sha256(data).hexdigest()
        return StoredBlob(key=key, sha256=digest, size=len(data), media_type=media_type)

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


def blob_path(root: Path, key: str) -> Path:
    # Keys come back from the database/URLs; only our own format may ever become a path.
    if not _BLOB_KEY_RE.fullmatch(key):
        raise ValueError(f"invalid document key {key!r}")
    return root / key[:2] / key[2:4] / key
