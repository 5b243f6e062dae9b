"""Identity fields encrypted at rest (AES-256-GCM) and a keyed blind index for exact-name search.

The keys are the document keys (``PETITIO_HOME/keys`` or ``PETITIO_DOCUMENT_KEY``), but never used
directly: HKDF derives one sub-key per purpose, so a field ciphertext, a blind index and a document blob
are produced under unrelated keys. A field value is a ``keyring.KeyRing`` blob (``PTO1`` + key id +
nonce + ciphertext) whose associated data is ``table.column``: a value copied into another column, or
into a document, does not decrypt.

One process-wide ``FieldCrypto`` serves the SQLAlchemy types below. It is set up by ``configure(settings)``
or, failing that, lazily from ``load_settings()`` (the same environment every entry point reads), and it
follows a key rotation done by another process: it reloads the key ring when the ``current`` key file
changes (before encrypting) or when it meets a key id it does not know (before giving up on a decrypt).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import LargeBinary, TypeDecorator

from workflow.keyring import DocumentCorrupted, KeyRing, UnknownKey

FIELD_INFO: Final = b"petitio fields v1"
INDEX_INFO: Final = b"petitio blind index v1"
_MAGIC: Final = b"PTO1"
_KEY_ID_SLICE: Final = slice(4, 12)


class FieldDecryptionError(ValueError):
    """A stored identity value cannot be decrypted. The message names the column, never a value."""


def derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def normalise_name(name: str) -> str:
    """What makes two spellings of a name "the same" for exact search: Unicode form, case and spacing."""
    text = unicodedata.normalize("NFKC", name)
    return " ".join(unicodedata.normalize("NFKC", text.casefold()).split())


def key_id_of(blob: bytes) -> str | None:
    """The key id in a ciphertext's header, or None for something that is not one of our blobs."""
    blob = bytes(blob)
    if not blob.startswith(_MAGIC) or len(blob) < 12:
        return None
    return blob[_KEY_ID_SLICE].decode("ascii", errors="replace")


class FieldCrypto:
    """Field encryption and blind indexes under sub-keys derived from one document key ring."""

    def __init__(self, base: KeyRing) -> None:
        keys = base.export_keys()
        self.current_id = base.current_id
        self._fields = KeyRing({kid: derive(key, FIELD_INFO) for kid, key in keys.items()}, base.current_id)
        self._index = {kid: derive(key, INDEX_INFO) for kid, key in keys.items()}

    @property
    def key_ids(self) -> frozenset[str]:
        return self._fields.key_ids

    def __repr__(self) -> str:
        return f"FieldCrypto(current_id={self.current_id!r}, key_ids={sorted(self.key_ids)!r})"

    def encrypt(self, column: str, plaintext: str) -> bytes:
        return self._fields.encrypt(plaintext.encode("utf-8"), aad=column.encode("ascii"))

    def decrypt(self, column: str, blob: bytes) -> str:
        try:
            return self._fields.decrypt(bytes(blob), aad=column.encode("ascii")).decode("utf-8")
        except UnknownKey:
            raise FieldDecryptionError(
                f"{column}: the value is encrypted with key {key_id_of(blob)!r}, which is not in the key ring "
                "(a retired or missing key file)") from None
        except (DocumentCorrupted, UnicodeDecodeError):
            raise FieldDecryptionError(
                f"{column}: the stored value does not decrypt (not encrypted for this column, tampered with, "
                "or the wrong key)") from None

    def blind_index(self, name: str | None) -> str | None:
        """HMAC-SHA256 of the normalised name under the current index key (hex), or None."""
        return self._index_with(self.current_id, name)

    def blind_indexes(self, name: str | None) -> list[str]:
        """The name's index under every key in the ring: finds rows a rotation has not reached yet."""
        digests = [self._index_with(kid, name) for kid in sorted(self._index)]
        return [d for d in digests if d is not None]

    def _index_with(self, key_id: str, name: str | None) -> str | None:
        if name is None:
            return None
        normalised = normalise_name(name)
        if not normalised:
            return None
        return hmac.new(self._index[key_id], normalised.encode("utf-8"), hashlib.sha256).hexdigest()


# -- the process-wide instance ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    keys_dir: Path
    env_key: str | None

    def load(self) -> KeyRing:
        return KeyRing.load_or_create(self.keys_dir, env_key=self.env_key)

    def stamp(self) -> tuple[int, int, int] | None:
        """Changes whenever a rotation points ``current`` at another key (os.replace gives a new inode)."""
        if self.env_key:
            return None
        try:
            st = (self.keys_dir / "current").stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)


_lock = threading.Lock()
_source: _Source | None = None
_active: FieldCrypto | None = None
_stamp: tuple[int, int, int] | None = None


def configure(settings: Any) -> FieldCrypto:
    """Use the keys of ``settings`` (a ``workflow.config.Settings``) from now on; safe to call again."""
    global _source
    with _lock:
        _source = _Source(Path(settings.keys_dir), settings.document_key)
        return _reload_locked()


def reload() -> FieldCrypto:
    """Re-read the key files (after a rotation in this or another process)."""
    with _lock:
        return _reload_locked()


def _reload_locked() -> FieldCrypto:
    global _source, _active, _stamp
    if _source is None:
        from workflow.config import load_settings

        settings = load_settings()
        _source = _Source(settings.keys_dir, settings.document_key)
    _stamp = _source.stamp()
    _active = FieldCrypto(_source.load())
    return _active


def active(*, fresh: bool = False) -> FieldCrypto:
    """The configured instance; ``fresh`` first checks whether a rotation changed the current key."""
    current = _active
    if current is None or (fresh and _source is not None and _source.stamp() != _stamp):
        return reload()
    return current


def encrypt(column: str, plaintext: str) -> bytes:
    return active(fresh=True).encrypt(column, plaintext)


def decrypt(column: str, blob: bytes) -> str:
    crypto = active()
    kid = key_id_of(blob)
    if kid is not None and kid not in crypto.key_ids:
        crypto = reload()  # another process may have rotated since we loaded the ring
    return crypto.decrypt(column, blob)


def blind_index(name: str | None) -> str | None:
    return active(fresh=True).blind_index(name)


def blind_indexes(name: str | None) -> list[str]:
    return active(fresh=True).blind_indexes(name)


# -- SQLAlchemy column types --------------------------------------------------------------------------


class EncryptedText(TypeDecorator[str]):
    """A text column stored as an AES-GCM blob bound to ``column`` ("table.column")."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return encrypt(self.column, self._to_text(value))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self._from_text(decrypt(self.column, bytes(value)))

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        raise TypeError(f"{self.column} is encrypted and cannot be rendered as a SQL literal")

    def _to_text(self, value: Any) -> str:
        return value if isinstance(value, str) else str(value)

    def _from_text(self, text: str) -> Any:
        return text


class EncryptedDate(EncryptedText):
    """A date column stored as the encrypted ISO form (``YYYY-MM-DD``)."""

    cache_ok = True

    def _to_text(self, value: Any) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if not isinstance(value, date):
            raise TypeError(f"{self.column} takes a date, not {type(value).__name__}")
        return value.isoformat()

    def _from_text(self, text: str) -> date:
        return date.fromisoformat(text)


class EncryptedJSON(EncryptedText):
    """A JSON value stored encrypted: parameters that may carry free text (a job's review notes, file names)."""

    cache_ok = True

    def _to_text(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    def _from_text(self, text: str) -> Any:
        return json.loads(text)
