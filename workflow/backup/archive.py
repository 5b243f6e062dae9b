"""The backup archive format: a versioned header, then AES-256-GCM chunks holding a stream of frames.

Layout (format 1)::

    b"PTOBACKUP" 0x01 | header length (4 bytes, big-endian) | header (JSON, ASCII)
    chunk*: ciphertext length (4 bytes) | AES-256-GCM(nonce = chunk counter (11 bytes) | last flag (1 byte),
                                                      associated data = everything before the first chunk)

The header says how the archive key is obtained (``kdf``: scrypt over a passphrase with its salt and cost, or a
key file) and carries a random salt from which HKDF derives this archive's own AES key, so counter nonces never
repeat under one key. The header is authenticated by every chunk; the counter stops chunks being reordered or
dropped, and the last flag stops the archive being cut short. Nothing but the header is in the clear.

Inside, the plaintext is a sequence of frames ``kind (1 byte) | length (4 bytes) | payload``; ``workflow.backup.dump``
says which kinds there are. Chunks and frames are bounded, so neither writing nor reading holds the archive in
memory.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from workflow.errors import PetitioError

MAGIC: Final = b"PTOBACKUP"
FORMAT: Final = 1
CHUNK_BYTES: Final = 1 << 20  # plaintext per chunk: memory stays at a few MiB whatever the archive's size
MAX_HEADER_BYTES: Final = 4096
MAX_FRAME_BYTES: Final = 16 << 20
MIN_PASSPHRASE_CHARS: Final = 16
# scrypt at 2**17 x 8 (128 MiB, about half a second): the cost OWASP recommends; recorded in each archive's header.
SCRYPT_N: Final = 1 << 17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_ARCHIVE_INFO: Final = b"petitio backup archive v1"
_LENGTH: Final = struct.Struct(">I")
_FRAME: Final = struct.Struct(">cI")
_TAG_BYTES: Final = 16


class ArchiveError(PetitioError):
    """The archive cannot be read: not an archive, a newer format, wrong passphrase or key, altered or cut short."""

    code = "backup_archive_invalid"


@dataclass(frozen=True, repr=False)
class BackupSecret:
    """What unlocks an archive: a passphrase (scrypt) or a 32-byte key file. Never printed."""

    passphrase: bytes | None = None
    key: bytes | None = None

    def __repr__(self) -> str:
        return "BackupSecret(passphrase)" if self.passphrase is not None else "BackupSecret(key file)"

    @classmethod
    def from_passphrase(cls, text: str) -> BackupSecret:
        text = text.rstrip("\r\n")
        if len(text) < MIN_PASSPHRASE_CHARS:
            raise ArchiveError(f"the backup passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
        return cls(passphrase=text.encode("utf-8"))

    @classmethod
    def from_key_file(cls, path: Path) -> BackupSecret:
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
        try:
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ArchiveError(f"{path}: a backup key file holds 32 bytes in URL-safe base64 "
                               "(`petitio backup new-key FILE` writes one)")
        return cls(key=key)

    def new_kdf(self) -> dict[str, Any]:
        if self.key is not None:
            return {"name": "keyfile"}
        return {"name": "scrypt", "salt": _b64(secrets.token_bytes(16)), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}

    def master_key(self, kdf: dict[str, Any]) -> bytes:
        name = kdf.get("name")
        if name == "keyfile":
            if self.key is None:
                raise ArchiveError("this archive is encrypted under a key file: give it with --key-file")
            return self.key
        if name != "scrypt":
            raise ArchiveError(f"unknown key derivation {name!r} in the archive header")
        if self.passphrase is None:
            raise ArchiveError("this archive is encrypted under a passphrase, not a key file")
        try:
            n, r, p, salt = int(kdf["n"]), int(kdf["r"]), int(kdf["p"]), base64.b64decode(kdf["salt"])
        except (KeyError, TypeError, ValueError):
            raise ArchiveError("the archive header's scrypt parameters are invalid") from None
        if not (1 << 14 <= n <= 1 << 20 and 1 <= r <= 16 and 1 <= p <= 4):  # an edited header cannot exhaust memory
            raise ArchiveError("the archive header's scrypt parameters are out of range")
        return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self.passphrase)


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _archive_key(master: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_ARCHIVE_INFO).derive(master))


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ArchiveWriter:
    """Encrypts a stream of frames into chunks on ``out`` (an open binary file)."""

    def __init__(self, out: IO[bytes], secret: BackupSecret) -> None:
        salt = secrets.token_bytes(16)
        kdf = secret.new_kdf()
        header_json = json.dumps({"format": FORMAT, "cipher": "AES-256-GCM", "chunk_bytes": CHUNK_BYTES,
                                  "kdf": kdf, "salt": _b64(salt)}, sort_keys=True).encode("ascii")
        self._aad = MAGIC + bytes([FORMAT]) + _LENGTH.pack(len(header_json)) + header_json
        self._aead = _archive_key(secret.master_key(kdf), salt)
        self._out = out
        self._out.write(self._aad)
        self._buffer = bytearray()
        self._counter = 0

    def frame(self, kind: bytes, payload: bytes) -> None:
        if len(payload) > MAX_FRAME_BYTES:
            raise ValueError(f"frame of {len(payload)} bytes is larger than {MAX_FRAME_BYTES}")
        self._write(_FRAME.pack(kind, len(payload)))
        self._write(payload)

    def json_frame(self, kind: bytes, value: Any) -> None:
        self.frame(kind, json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    def _write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= CHUNK_BYTES:
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        ciphertext = self._aead.encrypt(_nonce(self._counter, last), plaintext, self._aad)
        self._out.write(_LENGTH.pack(len(ciphertext)) + ciphertext)
        self._counter += 1

    def close(self) -> None:
        """Seal the rest as the last chunk (possibly empty): a reader that never sees it knows it was cut."""
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()


def _read_exact(source: IO[bytes], n: int) -> bytes:
    data = source.read(n)
    if len(data) != n:
        raise ArchiveError("the archive is cut short (truncated)")
    return data


def read_header(source: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    """The authenticated prefix and the parsed header; raises ArchiveError for anything not an archive."""
    magic = source.read(len(MAGIC) + 1)
    if magic[: len(MAGIC)] != MAGIC:
        raise ArchiveError("not a Petitio backup archive")
    if magic[len(MAGIC):] != bytes([FORMAT]):
        raise ArchiveError(f"archive format {magic[len(MAGIC):].hex()} is not supported (this version reads {FORMAT})")
    (length,) = _LENGTH.unpack(_read_exact(source, _LENGTH.size))
    if length > MAX_HEADER_BYTES:
        raise ArchiveError("the archive header is too long")
    raw = _read_exact(source, length)
    try:
        header = json.loads(raw)
        if not isinstance(header, dict):
            raise ValueError
    except ValueError:
        raise ArchiveError("the archive header is not valid") from None
    return magic + _LENGTH.pack(length) + raw, header


def decrypted_chunks(source: IO[bytes], secret: BackupSecret) -> Iterator[bytes]:
    """The plaintext chunks, each authenticated before it is handed out; raises ArchiveError at the first doubt."""
    aad, header = read_header(source)
    try:
        salt = base64.b64decode(header["salt"])
        kdf = dict(header["kdf"])
    except (KeyError, TypeError, ValueError):
        raise ArchiveError("the archive header is not valid") from None
    aead = _archive_key(secret.master_key(kdf), salt)
    counter = 0
    while True:
        prefix = source.read(_LENGTH.size)
        if not prefix:
            raise ArchiveError("the archive is cut short (its last chunk is missing)")
        if len(prefix) < _LENGTH.size:
            raise ArchiveError("the archive is cut short (truncated)")
        (length,) = _LENGTH.unpack(prefix)
        if length < _TAG_BYTES or length > CHUNK_BYTES + _TAG_BYTES:
            raise ArchiveError("the archive does not authenticate (a chunk has an impossible length)")
        ciphertext = _read_exact(source, length)
        for last in (False, True):
            try:
                plaintext = aead.decrypt(_nonce(counter, last), ciphertext, aad)
                break
            except InvalidTag:
                continue
        else:
            raise ArchiveError("the archive does not authenticate: wrong passphrase or key, or it was altered"
                               if counter == 0 else "the archive does not authenticate: it was altered")
        counter += 1
        yield plaintext
        if last:
            if source.read(1):
                raise ArchiveError("the archive does not authenticate: data after its last chunk")
            return


class FrameReader:
    """Frames out of the decrypted chunks, reading only as far as needed."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._done = False

    def _fill(self, n: int) -> bool:
        while len(self._buffer) < n and not self._done:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._done = True
        return len(self._buffer) >= n

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        while True:
            if not self._fill(_FRAME.size):
                if self._buffer:
                    raise ArchiveError("the archive ends inside a frame")
                return
            kind, length = _FRAME.unpack(bytes(self._buffer[: _FRAME.size]))
            if length > MAX_FRAME_BYTES or not self._fill(_FRAME.size + length):
                raise ArchiveError("the archive holds a frame that is too long or cut short")
            payload = bytes(self._buffer[_FRAME.size : _FRAME.size + length])
            del self._buffer[: _FRAME.size + length]
            yield kind, payload


def open_frames(path: Path, secret: BackupSecret) -> Generator[tuple[bytes, bytes], None, None]:
    with Path(path).open("rb") as source:
        yield from FrameReader(decrypted_chunks(source, secret))


def create_private(path: Path) -> IO[bytes]:
    """A new file readable by its owner only; refuses to overwrite an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")
