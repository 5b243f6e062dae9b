"""Document storage: validate uploads, then keep them encrypted at rest (AES-256-GCM).

Uploaded evidence (detention orders, medical reports, photos) is the most sensitive data the system
holds, so nothing is written to disk in the clear and nothing is accepted whose type we cannot
establish from its bytes. Intentionally free of Flask/SQLAlchemy: callers store the returned
StoredBlob metadata wherever they like.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import secrets
import tempfile
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_MB: Final = 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES: Final = 20 * _MB

# Short names used in user-facing messages.
_TYPE_NAMES: Final = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", DOCX: "DOCX"}
_EXTENSIONS: Final = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".docx": DOCX}

# Zip-bomb limits. A genuine DOCX of evidence is a few MB uncompressed; these are generous.
_DOCX_MAX_TOTAL_UNCOMPRESSED: Final = 100 * _MB
_DOCX_MAX_ENTRIES: Final = 1000
_DOCX_MAX_RATIO: Final = 100
_DOCX_RATIO_APPLIES_ABOVE: Final = 10 * _MB  # small XML parts legitimately compress very well


class DocumentRejected(ValueError):
    """The document cannot be accepted; ``str(exc)`` is safe and meant to be shown to the user."""


class DocumentCorrupted(Exception):
    """A stored blob failed authentication: it was tampered with, truncated, or the key is wrong."""


class UnknownKey(KeyError):
    """A blob names an encryption key that is not in the key ring."""

    def __str__(self) -> str:
        # KeyError.__str__ repr()-quotes its argument, which makes log lines confusing.
        return str(self.args[0]) if self.args else "unknown key"


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < _MB:
        return f"{n / 1024:.1f} KB"
    return f"{n // _MB} MB" if n % _MB == 0 else f"{n / _MB:.1f} MB"


def sniff_media_type(data: bytes) -> str:
    """Media type established from content alone; raises DocumentRejected for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        _check_docx(data)
        return DOCX
    raise DocumentRejected("content is not a PDF, JPEG, PNG or DOCX")


def _check_docx(data: bytes) -> None:
    # Only the central directory is read; nothing is decompressed here. Declared sizes can lie, so
    # these checks stop honest-looking bombs cheaply; any later consumer must still bound its reads.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise DocumentRejected("DOCX is malformed") from None

    if len(entries) > _DOCX_MAX_ENTRIES:
        raise DocumentRejected(f"DOCX has more than {_DOCX_MAX_ENTRIES} entries (zip bomb?)")
    total = sum(info.file_size for info in entries)
    if total > _DOCX_MAX_TOTAL_UNCOMPRESSED:
        raise DocumentRejected(
            f"DOCX expands to more than {human_size(_DOCX_MAX_TOTAL_UNCOMPRESSED)} (zip bomb?)"
        )
    for info in entries:
        too_compressed = info.file_size > _DOCX_MAX_RATIO * max(info.compress_size, 1)
        if too_compressed and info.file_size > _DOCX_RATIO_APPLIES_ABOVE:
            raise DocumentRejected(
                f"DOCX entry {info.filename} is compressed more than {_DOCX_MAX_RATIO}:1 (zip bomb?)"
            )
    names = {info.filename for info in entries}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        # Some other zip (xlsx, odt, plain archive): not something we accept.
        raise DocumentRejected("content is not a PDF, JPEG, PNG or DOCX")


def _extension(filename: str) -> str | None:
    """Lower-cased extension with dot, or None; tolerant of Windows paths sent by old browsers."""
    base = re.split(r"[\\/]", filename.strip())[-1]
    if "." not in base:
        return None
    ext = base.rpartition(".")[2]
    return f".{ext.lower()}" if ext else None


def check_document(data: bytes, filename: str | None, max_bytes: int) -> str:
    """Validate an upload and return its media type; raises DocumentRejected with a user message."""
    if not data:
        raise DocumentRejected("file is empty")
    if len(data) > max_bytes:
        raise DocumentRejected(f"file is {human_size(len(data))}, over the {human_size(max_bytes)} limit")

    ext = _extension(filename) if filename else None
    if ext is not None and ext not in _EXTENSIONS:
        allowed = ", ".join(_EXTENSIONS)
        raise DocumentRejected(f"files ending in {ext} are not accepted (allowed: {allowed})")

    media_type = sniff_media_type(data)
    # A mismatch is either a mistake worth telling the user about or a disguise attempt; either
    # way the name would mislead whoever downloads the file later.
    if ext is not None and _EXTENSIONS[ext] != media_type:
        raise DocumentRejected(f"content is a {_TYPE_NAMES[media_type]} but the name says {ext}")
    return media_type


# --------------------------------------------------------------------------------------------
# Encryption
# --------------------------------------------------------------------------------------------

_MAGIC: Final = b"PTO1"
_KEY_ID_LEN: Final = 8
_NONCE_LEN: Final = 12
_TAG_LEN: Final = 16
_HEADER_LEN: Final = len(_MAGIC) + _KEY_ID_LEN + _NONCE_LEN
_KEY_LEN: Final = 32
_KEY_ID_RE: Final = re.compile(r"[0-9A-Za-z_-]{8}")
_CURRENT_FILE: Final = "current"


def _key_id_for(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:_KEY_ID_LEN]


def _decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    try:
        # Accept keys with or without '=' padding; people copy them around by hand.
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"{source}: not valid urlsafe base64") from None
    if len(key) != _KEY_LEN:
        raise ValueError(f"{source}: key must be {_KEY_LEN} bytes, got {len(key)}")
    return key


def _write_new_file(path: Path, content: bytes) -> None:
    """Create ``path`` with mode 0o600; refuses to overwrite (O_EXCL) so a key is never clobbered."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _atomic_write(path: Path, content: bytes) -> None:
    """Write via a 0o600 temp file in the same directory + os.replace, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class KeyRing:
    """Data-encryption keys by id, plus which one encrypts new data.

    Old keys stay in the ring after rotation so existing blobs remain readable.
    """

    def __init__(self, keys: Mapping[str, bytes], current_id: str) -> None:
        for key_id, key in keys.items():
            # The id is embedded in every blob as exactly 8 ASCII bytes.
            if not _KEY_ID_RE.fullmatch(key_id):
                raise ValueError(f"invalid key id {key_id!r}: need {_KEY_ID_LEN} chars of [0-9A-Za-z_-]")
            if len(key) != _KEY_LEN:
                raise ValueError(f"key {key_id} must be {_KEY_LEN} bytes, got {len(key)}")
        if current_id not in keys:
            raise ValueError(f"current key {current_id!r} is not in the key ring")
        self._keys: dict[str, bytes] = dict(keys)
        self._current_id = current_id
        self.keys_dir: Path | None = None  # set when loaded from a directory, so the ring can be re-read

    @property
    def current_id(self) -> str:
        return self._current_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def __repr__(self) -> str:
        # Never let key material reach logs or tracebacks.
        return f"KeyRing(current_id={self._current_id!r}, key_ids={sorted(self._keys)!r})"

    @classmethod
    def load_or_create(cls, keys_dir: Path, env_key: str | None = None) -> KeyRing:
        """Key ring from ``env_key`` (urlsafe base64, 32 bytes) if given, else from ``keys_dir``.

        ``keys_dir`` holds ``<key id>.key`` files (base64 key) and a ``current`` file naming the
        active id. On first use the directory (0o700) and a first key (0o600) are created.
        """
        if env_key:
            key = _decode_key(env_key, "encryption key from environment")
            key_id = _key_id_for(key)
            return cls({key_id: key}, key_id)

        keys_dir = Path(keys_dir)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys = cls._read_keys(keys_dir)
        if not keys:
            key_id = cls._create_key_file(keys_dir)
            _atomic_write(keys_dir / _CURRENT_FILE, f"{key_id}\n".encode("ascii"))
            # Re-read rather than trust our own write: if another process raced us, both keys are
            # on disk and both end up in every ring, so nothing either process encrypted is lost.
            keys = cls._read_keys(keys_dir)

        current_file = keys_dir / _CURRENT_FILE
        if current_file.exists():
            current_id = current_file.read_text(encoding="ascii").strip()
        elif len(keys) == 1:
            current_id = next(iter(keys))
        else:
            raise ValueError(f"{keys_dir}: several keys but no '{_CURRENT_FILE}' file naming the active one")
        if current_id not in keys:
            raise ValueError(f"{current_file}: names key {current_id!r}, which has no {current_id}.key file")
        ring = cls(keys, current_id)
        ring.keys_dir = keys_dir
        return ring

    def reloaded(self) -> KeyRing | None:
        """The ring as it is on disk now (another process may have rotated), or None for an env key."""
        return None if self.keys_dir is None else KeyRing.load_or_create(self.keys_dir)

    def export_keys(self) -> dict[str, bytes]:
        """The key material by id, for deriving purpose-specific sub-keys (``workflow.crypto``)."""
        return dict(self._keys)

    def retire(self, key_id: str) -> None:
        """Rotation's last step: delete a key file, so whatever it encrypted can no longer be read."""
        if key_id == self._current_id:
            raise ValueError(f"key {key_id} is the current key and cannot be retired")
        if self.keys_dir is None:
            raise ValueError("this key ring does not come from a keys directory")
        if not _KEY_ID_RE.fullmatch(key_id):
            raise ValueError(f"invalid key id {key_id!r}")
        path = self.keys_dir / f"{key_id}.key"
        if path.exists():
            # Best effort against undelete on simple filesystems (journals and SSDs may keep copies).
            size = path.stat().st_size
            with path.open("r+b") as fh:
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
        self._keys.pop(key_id, None)

    @staticmethod
    def _read_keys(keys_dir: Path) -> dict[str, bytes]:
        return {
            path.stem: _decode_key(path.read_text(encoding="ascii"), str(path))
            for path in sorted(keys_dir.glob("*.key"))
        }

    @staticmethod
    def _create_key_file(keys_dir: Path) -> str:
        key = AESGCM.generate_key(bit_length=256)
        key_id = _key_id_for(key)
        _write_new_file(keys_dir / f"{key_id}.key", base64.urlsafe_b64encode(key) + b"\n")
        return key_id

    def add_new_key(self, keys_dir: Path) -> str:
        """Rotate: write a new key file, make it current on disk and in this ring; returns its id."""
        keys_dir = Path(keys_dir)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_id = self._create_key_file(keys_dir)
        key = _decode_key((keys_dir / f"{key_id}.key").read_text(encoding="ascii"), key_id)
        # Key file first, pointer second: a crash in between leaves the old key current and valid.
        _atomic_write(keys_dir / _CURRENT_FILE, f"{key_id}\n".encode("ascii"))
        self._keys[key_id] = key
        self._current_id = key_id
        return key_id

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """``b"PTO1" + key id (8 ASCII bytes) + 12-byte nonce + ciphertext-with-tag``."""
        header = _MAGIC + self._current_id.encode("ascii")
        # Random 96-bit nonces are safe far beyond the number of documents one key will ever see.
        nonce = secrets.token_bytes(_NONCE_LEN)
        # The header is authenticated too, so flipping the version or key id is detected.
        ciphertext = AESGCM(self._keys[self._current_id]).encrypt(nonce, plaintext, header + aad)
        return header + nonce + ciphertext

    def decrypt(self, blob: bytes, aad: bytes = b"") -> bytes:
        if len(blob) < _HEADER_LEN + _TAG_LEN or not blob.startswith(_MAGIC):
            raise DocumentCorrupted("not an encrypted Petitio blob (bad header or truncated)")
        header = blob[: len(_MAGIC) + _KEY_ID_LEN]
        key_id = header[len(_MAGIC) :].decode("ascii", errors="replace")
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownKey(f"blob was encrypted with key {key_id!r}, which is not in the key ring")
        nonce = blob[len(header) : _HEADER_LEN]
        try:
            return AESGCM(key).decrypt(nonce, blob[_HEADER_LEN:], header + aad)
        except InvalidTag as exc:
            raise DocumentCorrupted(f"blob failed authentication with key {key_id!r}") from exc


# --------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------

_BLOB_KEY_RE: Final = re.compile(r"[0-9a-f]{32}")


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

    def put(self, data: bytes, filename: str | None = None) -> StoredBlob:
        """Validate an uploaded document and store it encrypted; raises DocumentRejected."""
        media_type = check_document(data, filename, self.max_bytes)
        return self._store(data, media_type)

    def put_generated(self, data: bytes, media_type: str) -> StoredBlob:
        """Store a document we produced ourselves.

        No filename or upload-size check (the upload limit is about untrusted input), but the
        content must still be what the caller claims, which catches generator bugs early.
        """
        if not data:
            raise DocumentRejected("file is empty")
        sniffed = sniff_media_type(data)
        if sniffed != media_type:
            raise DocumentRejected(f"content is {sniffed}, not the declared {media_type}")
        return self._store(data, media_type)

    def get(self, key: str) -> bytes:
        """Decrypted content; raises FileNotFoundError, UnknownKey or DocumentCorrupted."""
        blob = self._path(key).read_bytes()
        try:
            return self.keyring.decrypt(blob, aad=key.encode("ascii"))
        except UnknownKey:
            # A rotation in another process re-encrypted the blob under a key newer than our ring.
            fresh = self.keyring.reloaded()
            if fresh is None or fresh.key_ids == self.keyring.key_ids:
                raise
            self.keyring = fresh
            return self.keyring.decrypt(self._path(key).read_bytes(), aad=key.encode("ascii"))

    def blob_keys(self) -> list[str]:
        """Every stored blob's key (files on disk, including any no row refers to any more)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.glob("??/??/*") if _BLOB_KEY_RE.fullmatch(p.name) and p.is_file())

    def reencrypt(self, key: str) -> bool:
        """Rewrite one blob under the current key (atomically); False when it already is."""
        path = self._path(key)
        blob = path.read_bytes()
        if blob[len(_MAGIC) : len(_MAGIC) + _KEY_ID_LEN] == self.keyring.current_id.encode("ascii"):
            return False
        data = self.keyring.decrypt(blob, aad=key.encode("ascii"))
        _atomic_write(path, self.keyring.encrypt(data, aad=key.encode("ascii")))
        return True

    def delete(self, key: str) -> None:
        """Remove a blob; deleting one that is already gone is not an error (retries are safe)."""
        self._path(key).unlink(missing_ok=True)

    def _store(self, data: bytes, media_type: str) -> StoredBlob:
        key = uuid.uuid4().hex
        path = self._path(key)
        self._make_dirs(path.parent)
        # Binding the blob to its key (AAD) stops an attacker with disk access swapping files.
        _atomic_write(path, self.keyring.encrypt(data, aad=key.encode("ascii")))
        digest = hashlib.sha256(data).hexdigest()
        return StoredBlob(key=key, sha256=digest, size=len(data), media_type=media_type)

    def _path(self, key: str) -> Path:
        # Keys come back from the database/URLs; only our own format may ever become a path.
        if not _BLOB_KEY_RE.fullmatch(key):
            raise ValueError(f"invalid document key {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def _make_dirs(self, leaf: Path) -> None:
        # mkdir(parents=True) ignores `mode` for intermediate dirs, so create each level explicitly.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        leaf.parent.mkdir(mode=0o700, exist_ok=True)
        leaf.mkdir(mode=0o700, exist_ok=True)
