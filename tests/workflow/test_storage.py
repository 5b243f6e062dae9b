from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import docx
import pytest

from workflow.keyring import DocumentCorrupted, KeyRing, UnknownKey
from workflow.storage import DocumentStore, StoredBlob
from workflow.uploads import DEFAULT_MAX_DOCUMENT_BYTES, DocumentRejected, check_document, sniff_media_type

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# A valid 1x1 transparent PNG.
PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SECRET = b"Detention order no. 4711 -- SECRET-MARKER-Zq9"
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"% " + SECRET + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
# SOI + APP0/JFIF header + EOI: enough for magic-byte sniffing.
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Statement of the witness.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_with(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def zip_of_zeros(path: Path, size: int) -> bytes:
    """A DOCX-shaped zip whose document.xml is ``size`` zero bytes, written streaming (low memory)."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as fh:
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    return path.read_bytes()


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return zip_of_zeros(tmp_path_factory.mktemp("bomb") / "bomb.docx", 200 * 1024 * 1024)


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    return KeyRing.load_or_create(tmp_path / "keys")


@pytest.fixture
def store(tmp_path: Path, keyring: KeyRing) -> DocumentStore:
    return DocumentStore(tmp_path / "blobs", keyring)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (PDF_BYTES, "order.pdf", PDF),
        (JPEG_BYTES, "photo.jpg", JPEG),
        (JPEG_BYTES, "PHOTO.JPEG", JPEG),
        (PNG_BYTES, "scan.png", PNG),
        (make_docx(), "statement.docx", DOCX),
        (PDF_BYTES, None, PDF),
        (PNG_BYTES, "no-extension", PNG),
        (PDF_BYTES, "C:\\Users\\me\\order.pdf", PDF),
    ],
)
def test_accepts_supported_documents(data: bytes, filename: str | None, expected: str) -> None:
    assert check_document(data, filename, DEFAULT_MAX_DOCUMENT_BYTES) == expected
    assert sniff_media_type(data) == expected


def test_rejects_png_named_pdf() -> None:
    with pytest.raises(DocumentRejected, match=r"content is a PNG but the name says \.pdf"):
        check_document(PNG_BYTES, "order.pdf", DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_unknown_extension() -> None:
    with pytest.raises(DocumentRejected, match=r"\.exe"):
        check_document(PDF_BYTES, "order.exe", DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_empty() -> None:
    with pytest.raises(DocumentRejected, match="file is empty"):
        check_document(b"", "x.pdf", DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_over_limit() -> None:
    data = PDF_BYTES + bytes(DEFAULT_MAX_DOCUMENT_BYTES)
    with pytest.raises(DocumentRejected, match=r"file is 20\.0 MB, over the 20 MB limit"):
        check_document(data, "big.pdf", DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_unknown_content() -> None:
    with pytest.raises(DocumentRejected, match="not a PDF, JPEG, PNG or DOCX"):
        check_document(b"MZ\x90\x00 windows executable", None, DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_zip_that_is_not_docx() -> None:
    with pytest.raises(DocumentRejected, match="not a PDF, JPEG, PNG or DOCX"):
        sniff_media_type(zip_with({"readme.txt": b"hello"}))


def test_rejects_corrupt_zip() -> None:
    data = make_docx()
    corrupt = data[:200] + bytes(64)  # valid local header, central directory gone
    with pytest.raises(DocumentRejected, match="DOCX is malformed"):
        sniff_media_type(corrupt)


def test_rejects_zip_bomb(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 1024 * 1024  # the point of a bomb: small on the wire
    with pytest.raises(DocumentRejected, match=r"DOCX expands to more than 100 MB \(zip bomb\?\)"):
        check_document(zip_bomb, "evil.docx", DEFAULT_MAX_DOCUMENT_BYTES)


def test_rejects_highly_compressed_entry(tmp_path: Path) -> None:
    data = zip_of_zeros(tmp_path / "ratio.docx", 20 * 1024 * 1024)  # under the total cap
    with pytest.raises(DocumentRejected, match=r"compressed more than 100:1"):
        sniff_media_type(data)


def test_rejects_too_many_entries() -> None:
    entries = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<doc/>"}
    entries.update({f"word/media/{i}.bin": b"" for i in range(1000)})
    with pytest.raises(DocumentRejected, match="more than 1000 entries"):
        sniff_media_type(zip_with(entries))


# --- key ring --------------------------------------------------------------------------------


def test_load_or_create_creates_private_key_material(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ring = KeyRing.load_or_create(keys_dir)

    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    key_file = keys_dir / f"{ring.current_id}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (keys_dir / "current").read_text().strip() == ring.current_id
    raw_key = base64.urlsafe_b64decode(key_file.read_text().strip())
    assert len(raw_key) == 32
    assert ring.current_id == hashlib.sha256(raw_key).hexdigest()[:8]

    again = KeyRing.load_or_create(keys_dir)
    assert again.current_id == ring.current_id
    assert again.decrypt(ring.encrypt(b"hello")) == b"hello"


def test_env_key_takes_precedence(tmp_path: Path) -> None:
    raw = os.urandom(32)
    env_key = base64.urlsafe_b64encode(raw).decode()
    ring = KeyRing.load_or_create(tmp_path / "unused", env_key=env_key)
    assert ring.current_id == hashlib.sha256(raw).hexdigest()[:8]
    assert not (tmp_path / "unused").exists()
    blob = ring.encrypt(b"payload")
    assert blob[:4] == b"PTO1"
    assert blob[4:12] == ring.current_id.encode("ascii")
    assert len(blob) == 4 + 8 + 12 + len(b"payload") + 16


def test_env_key_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing.load_or_create(tmp_path, env_key=base64.urlsafe_b64encode(b"short").decode())


def test_aad_is_checked(keyring: KeyRing) -> None:
    blob = keyring.encrypt(b"payload", aad=b"doc-1")
    assert keyring.decrypt(blob, aad=b"doc-1") == b"payload"
    with pytest.raises(DocumentCorrupted):
        keyring.decrypt(blob, aad=b"doc-2")


def test_tampered_blob_is_corrupted(keyring: KeyRing) -> None:
    blob = bytearray(keyring.encrypt(b"payload"))
    blob[-1] ^= 0x01
    with pytest.raises(DocumentCorrupted):
        keyring.decrypt(bytes(blob))
    with pytest.raises(DocumentCorrupted):
        keyring.decrypt(b"PTO1short")


def test_same_id_different_key_is_corrupted(keyring: KeyRing) -> None:
    impostor = KeyRing({keyring.current_id: os.urandom(32)}, keyring.current_id)
    with pytest.raises(DocumentCorrupted):
        impostor.decrypt(keyring.encrypt(b"payload"))


def test_repr_hides_keys(keyring: KeyRing, tmp_path: Path) -> None:
    key_text = (tmp_path / "keys" / f"{keyring.current_id}.key").read_text().strip()
    assert key_text not in repr(keyring)


# --- store -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [(PDF_BYTES, "order.pdf"), (JPEG_BYTES, "photo.jpeg"), (PNG_BYTES, "scan.png"), (make_docx(), "s.docx")],
)
def test_round_trip(store: DocumentStore, data: bytes, filename: str) -> None:
    blob = store.put(data, filename)
    assert isinstance(blob, StoredBlob)
    assert blob.size == len(data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get(blob.key) == data


def test_on_disk_layout_and_encryption(store: DocumentStore, tmp_path: Path) -> None:
    blob = store.put(PDF_BYTES, "order.pdf")
    assert blob.media_type == PDF
    path = tmp_path / "blobs" / blob.key[:2] / blob.key[2:4] / blob.key
    raw = path.read_bytes()

    assert SECRET not in raw
    assert b"%PDF" not in raw
    assert raw.startswith(b"PTO1" + store.keyring.current_id.encode("ascii"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (tmp_path / "blobs", path.parent.parent, path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [blob.key]  # no temp files left behind


def test_blob_bound_to_its_key(store: DocumentStore, tmp_path: Path) -> None:
    a = store.put(PDF_BYTES, "a.pdf")
    b = store.put(PNG_BYTES, "b.png")
    root = tmp_path / "blobs"
    path_a = root / a.key[:2] / a.key[2:4] / a.key
    path_b = root / b.key[:2] / b.key[2:4] / b.key
    path_a.write_bytes(path_b.read_bytes())  # swap content on disk
    with pytest.raises(DocumentCorrupted):
        store.get(a.key)


def test_store_rejects_bad_uploads(store: DocumentStore, tmp_path: Path) -> None:
    with pytest.raises(DocumentRejected):
        store.put(PNG_BYTES, "order.pdf")
    with pytest.raises(DocumentRejected):
        store.put(b"", "x.pdf")
    small = DocumentStore(tmp_path / "small", store.keyring, max_bytes=100)
    with pytest.raises(DocumentRejected, match="over the 100 bytes limit"):
        small.put(PDF_BYTES + bytes(200), "x.pdf")
    assert not (tmp_path / "small").exists()


def test_different_keyring_cannot_decrypt(store: DocumentStore, tmp_path: Path) -> None:
    blob = store.put(PDF_BYTES, "order.pdf")
    other = DocumentStore(tmp_path / "blobs", KeyRing.load_or_create(tmp_path / "other-keys"))
    with pytest.raises(UnknownKey, match="not in the key ring"):
        other.get(blob.key)
    with pytest.raises(KeyError):  # UnknownKey is a KeyError for callers that only know that
        other.get(blob.key)


def test_rotation_keeps_old_blobs_readable(store: DocumentStore, tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    old_id = store.keyring.current_id
    old = store.put(PDF_BYTES, "old.pdf")

    new_id = store.keyring.add_new_key(keys_dir)
    assert new_id != old_id
    assert store.keyring.current_id == new_id
    assert (keys_dir / "current").read_text().strip() == new_id
    assert stat.S_IMODE((keys_dir / f"{new_id}.key").stat().st_mode) == 0o600

    new = store.put(PNG_BYTES, "new.png")
    new_raw = (tmp_path / "blobs" / new.key[:2] / new.key[2:4] / new.key).read_bytes()
    assert new_raw[4:12] == new_id.encode("ascii")
    assert store.get(old.key) == PDF_BYTES
    assert store.get(new.key) == PNG_BYTES

    # A fresh process sees both keys and the new current one.
    reloaded = DocumentStore(tmp_path / "blobs", KeyRing.load_or_create(keys_dir))
    assert reloaded.keyring.current_id == new_id
    assert reloaded.get(old.key) == PDF_BYTES
    assert reloaded.get(new.key) == PNG_BYTES


def test_delete(store: DocumentStore) -> None:
    blob = store.put(PDF_BYTES, "order.pdf")
    store.delete(blob.key)
    with pytest.raises(FileNotFoundError):
        store.get(blob.key)
    store.delete(blob.key)  # idempotent


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABCDEF", "0" * 31, "g" * 32])
def test_invalid_keys_never_become_paths(store: DocumentStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid document key"):
        store.get(key)


def test_put_generated(store: DocumentStore) -> None:
    data = make_docx()
    blob = store.put_generated(data, DOCX)
    assert blob.media_type == DOCX
    assert store.get(blob.key) == data
    with pytest.raises(DocumentRejected):
        store.put_generated(PNG_BYTES, PDF)
