"""Checks of uploaded documents: the type established from the bytes alone, the size, zip bombs.

Uploaded evidence (detention orders, medical reports, photos) is the most sensitive data the system holds:
nothing is accepted whose type cannot be established from its content, and a name that says otherwise is
refused (a mistake worth telling the user about, or a disguise). No Flask, no database: callers store or
refuse. Encryption at rest is ``workflow/keyring.py`` and ``workflow/storage.py``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import Final

import filings.text as text_rule
from workflow.problems import Problem

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_MB: Final = 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES: Final = 20 * _MB

# Short names used in messages.
_TYPE_NAMES: Final = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", DOCX: "DOCX"}
_EXTENSIONS: Final = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".docx": DOCX}
ACCEPTED_EXTENSIONS: Final = tuple(_EXTENSIONS)

# Zip-bomb limits. A genuine DOCX of evidence is a few MB uncompressed; these are generous.
_DOCX_MAX_TOTAL_UNCOMPRESSED: Final = 100 * _MB
_DOCX_MAX_ENTRIES: Final = 1000
_DOCX_MAX_RATIO: Final = 100
_DOCX_RATIO_APPLIES_ABOVE: Final = 10 * _MB  # small XML parts legitimately compress very well


class DocumentRejected(ValueError):
    """The document cannot be accepted: ``problem`` says why; ``str(exc)`` is its English text."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


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
    raise DocumentRejected(Problem("unknown_content"))


def _check_docx(data: bytes) -> None:
    # The central directory first: its declared sizes stop honest-looking bombs cheaply. Declared sizes can lie, so
    # every entry is then inflated as a stream, without keeping what comes out, and refused as soon as it gives more
    # than it declared (_check_actual_sizes): what Word, LibreOffice or python-docx will later inflate is bounded.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise DocumentRejected(Problem("docx_malformed")) from None

    if len(entries) > _DOCX_MAX_ENTRIES:
        raise DocumentRejected(Problem("docx_too_many_entries", {"max": _DOCX_MAX_ENTRIES}))
    total = sum(info.file_size for info in entries)
    if total > _DOCX_MAX_TOTAL_UNCOMPRESSED:
        raise DocumentRejected(Problem("docx_too_large", {"size": human_size(_DOCX_MAX_TOTAL_UNCOMPRESSED)}))
    for info in entries:
        too_compressed = info.file_size > _DOCX_MAX_RATIO * max(info.compress_size, 1)
        if too_compressed and info.file_size > _DOCX_RATIO_APPLIES_ABOVE:
            raise DocumentRejected(Problem("docx_compressed", {"entry": info.filename, "ratio": _DOCX_MAX_RATIO}))
    names = {info.filename for info in entries}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        # Some other zip (xlsx, odt, plain archive): not something we accept.
        raise DocumentRejected(Problem("unknown_content"))
    _check_actual_sizes(data, entries)


_LOCAL_HEADER: Final = struct.Struct("<4s2B4HL2L2H")  # a zip entry's local header (APPNOTE 4.3.7), 30 bytes
_LOCAL_SIGNATURE: Final = b"PK\x03\x04"
_INFLATE_CHUNK: Final = 64 * 1024


def _check_actual_sizes(data: bytes, entries: list[zipfile.ZipInfo]) -> None:
    """Each entry's data, inflated as a stream from where its local header says it starts (not trusting either
    header's sizes), gives no more than its declared size: refused (``docx_size_lies``) as soon as it does, so no
    more than the declared total (at most _DOCX_MAX_TOTAL_UNCOMPRESSED) is ever inflated, and nothing is kept."""
    view = memoryview(data)
    for info in entries:
        start = info.header_offset
        header = bytes(view[start:start + _LOCAL_HEADER.size])
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise DocumentRejected(Problem("docx_malformed"))
        fields = _LOCAL_HEADER.unpack(header)
        flags, method, name_length, extra_length = fields[3], fields[4], fields[10], fields[11]
        if flags & 0x1:  # encrypted: no DOCX Word writes, and nothing we could look into
            raise DocumentRejected(Problem("docx_malformed"))
        begin = start + _LOCAL_HEADER.size + name_length + extra_length
        if method == zipfile.ZIP_STORED:
            # Stored as is: its data is what the central directory says it compressed to, no more than it declares.
            actual = min(info.compress_size, len(data) - begin)
        elif method == zipfile.ZIP_DEFLATED:
            actual = _inflated_size(view[begin:], info.file_size)
        else:  # bzip2, lzma...: Word writes only the two above
            raise DocumentRejected(Problem("docx_malformed"))
        if actual > info.file_size:
            raise DocumentRejected(Problem("docx_size_lies", {"entry": info.filename}))


def _inflated_size(stream: memoryview, declared: int) -> int:
    """How many bytes a raw deflate stream inflates to, counting no further than ``declared`` + one chunk."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, position = 0, 0
    pending = b""
    try:
        while not inflater.eof and produced <= declared:
            if pending or position < len(stream):
                if not pending:
                    pending = bytes(stream[position:position + _INFLATE_CHUNK])
                    position += _INFLATE_CHUNK
                out = inflater.decompress(pending, _INFLATE_CHUNK)  # never more than a chunk at once
                pending = inflater.unconsumed_tail
            else:  # all read: what the inflater still holds, and if nothing, the stream was cut short
                out = inflater.decompress(b"", _INFLATE_CHUNK)
                if not out:
                    raise DocumentRejected(Problem("docx_malformed"))
            produced += len(out)
    except zlib.error:
        raise DocumentRejected(Problem("docx_malformed")) from None
    return produced


def _extension(filename: str) -> str | None:
    """Lower-cased extension with dot, or None; tolerant of Windows paths sent by old browsers."""
    base = re.split(r"[\\/]", filename.strip())[-1]
    if "." not in base:
        return None
    ext = base.rpartition(".")[2]
    return f".{ext.lower()}" if ext else None


def check_filename(filename: str) -> None:
    """A file's name holds no control character, tab or line break, and no broken character (the rule of
    ``filings/text.py``): it is shown in pages and written into bundles."""
    if text_rule.has_non_characters(filename):
        raise DocumentRejected(Problem("invalid_text"))
    for position, char in enumerate(filename, start=1):
        if char in "\t\n" or text_rule.CONTROL.match(char) or text_rule.LINE_BREAKS.match(char):
            raise DocumentRejected(Problem("control_characters", {"position": position}))


def check_document(data: bytes, filename: str | None, max_bytes: int) -> str:
    """Validate an upload and return its media type; raises DocumentRejected naming the problem."""
    if not data:
        raise DocumentRejected(Problem("file_empty"))
    if len(data) > max_bytes:
        raise DocumentRejected(Problem("file_too_large", {"size": human_size(len(data)),
                                                          "limit": human_size(max_bytes)}))

    if filename:
        check_filename(filename)
    ext = _extension(filename) if filename else None
    if ext is not None and ext not in _EXTENSIONS:
        raise DocumentRejected(Problem("extension_refused", {"extension": ext, "allowed": list(_EXTENSIONS)}))

    media_type = sniff_media_type(data)
    # A mismatch is either a mistake worth telling the user about or a disguise attempt; either
    # way the name would mislead whoever downloads the file later.
    if ext is not None and _EXTENSIONS[ext] != media_type:
        raise DocumentRejected(Problem("name_mismatch", {"type": _TYPE_NAMES[media_type], "extension": ext}))
    return media_type
