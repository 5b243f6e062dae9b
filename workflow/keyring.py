"""The key ring: AES-256-GCM keys by id, which one encrypts new data, rotation, and the blob format.

Every document and identity field is encrypted under a key of this ring (``workflow/storage.py``,
``workflow/crypto.py``). Keys live in ``PETITIO_HOME/keys`` (0700/0600) or come from the environment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DocumentCorrupted(Exception):
    """A stored blob failed authentication: it was tampered with, truncated, or the key is wrong."""


class UnknownKey(KeyError):
    """A blob names an encryption key that is not in the key ring."""

    def __str__(self) -> str:
        # KeyError.__str__ repr()-quotes its argument, which makes log lines confusing.
        return str(self.args[0]) if self.args else "unknown key"


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


def atomic_write(path: Path, content: bytes, *, sync: bool = True) -> None:
    """Write via a 0o600 temp file in the same directory + os.replace, so readers never see half a file.

    ``sync=False``: the caller makes the file durable later, many at once (``storage.sync_files``)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            if sync:
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
            atomic_write(keys_dir / _CURRENT_FILE, f"{key_id}\n".encode("ascii"))
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
        atomic_write(keys_dir / _CURRENT_FILE, f"{key_id}\n".encode("ascii"))
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

    def is_current(self, blob: bytes) -> bool:
        """Whether ``blob`` is already encrypted under the current key (rotation skips it)."""
        return blob[len(_MAGIC) : len(_MAGIC) + _KEY_ID_LEN] == self._current_id.encode("ascii")

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
