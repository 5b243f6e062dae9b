"""A DOCX whose zip entries lie about their size is refused while it is read (issue 14 item 7).

The central directory's sizes are checked first (tests/workflow/test_storage.py has the honest bombs); these files
declare small sizes in both headers and hold a stream that inflates to far more.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from tests.helpers import docx_bytes
from workflow.uploads import DOCX, DocumentRejected, check_document

MB = 1024 * 1024
DECLARED = 1000


def lying_docx(actual: int = 30 * MB, declared: int = DECLARED, entry: str = "word/document.xml") -> bytes:
    """A DOCX-shaped zip whose ``entry`` inflates to ``actual`` bytes but declares ``declared`` in its local header
    and in the central directory (the CRC left as it is: a reader that trusts the sizes stops early)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(entry, b"\0" * actual)
        if entry != "word/document.xml":
            archive.writestr("word/document.xml", "<document/>")
    data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(entry)
    # Local header: the uncompressed size is at offset 22. Central directory record: at offset 24.
    assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<L", data, info.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02" + data[info.header_offset + 4:info.header_offset + 6])
    while True:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + name_length]) == entry.encode():
            break
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<L", data, central + 24, declared)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:  # what any reader of the directory now believes
        assert archive.getinfo(entry).file_size == declared
    return bytes(data)


def test_an_entry_that_inflates_past_its_declared_size_is_refused() -> None:
    with pytest.raises(DocumentRejected) as refused:
        check_document(lying_docx(), "statement.docx", 20 * MB)
    assert refused.value.problem.code == "docx_size_lies"
    assert refused.value.problem.params == {"entry": "word/document.xml"}
    assert str(refused.value) == "DOCX entry word/document.xml holds more than its declared size (zip bomb?)"


def test_any_entry_is_checked_and_a_small_lie_too() -> None:
    with pytest.raises(DocumentRejected) as refused:
        check_document(lying_docx(actual=DECLARED + 1, entry="word/media/image1.png"), "a.docx", 20 * MB)
    assert refused.value.problem.code == "docx_size_lies"


def test_honest_docx_files_pass() -> None:
    assert check_document(docx_bytes("A statement of a fictional person."), "statement.docx", 20 * MB) == DOCX
    assert check_document(lying_docx(actual=DECLARED), "exact.docx", 20 * MB) == DOCX  # a true size is no lie
    big = lying_docx(actual=5 * MB, declared=5 * MB)  # large, compressing well, and honest
    assert check_document(big, "big.docx", 20 * MB) == DOCX


def test_a_cut_stream_or_another_method_is_malformed() -> None:
    honest = bytearray(lying_docx(actual=2 * MB, declared=2 * MB))
    with zipfile.ZipFile(io.BytesIO(bytes(honest))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    cut = honest[:start + 100] + honest[start + info.compress_size:]  # the stream stops short; directory moved
    with pytest.raises(DocumentRejected) as refused:
        check_document(bytes(cut), "cut.docx", 20 * MB)
    assert refused.value.problem.code == "docx_malformed"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(DocumentRejected) as refused:
        check_document(out.getvalue(), "bzip2.docx", 20 * MB)
    assert refused.value.problem.code == "docx_malformed"
