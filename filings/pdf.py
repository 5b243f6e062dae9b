"""PDF copies of generated filings, through LibreOffice when the host has it (optional: bodies take .docx)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

DEFAULT_TIMEOUT: Final = 120.0  # seconds; a first start of LibreOffice builds its profile
PER_DOCUMENT: Final = 30.0  # seconds more for each further document of a batch


class PdfError(RuntimeError):
    """LibreOffice is installed but did not produce a PDF."""


def office() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> bytes | None:
    """``docx`` converted to PDF, or None when LibreOffice is not installed."""
    converted = to_pdfs([docx], timeout=timeout)
    return None if converted is None else converted[0]


def to_pdfs(documents: Sequence[bytes], *, timeout: float | None = None) -> list[bytes] | None:
    """Each .docx converted to PDF, in order, by one run of LibreOffice (its start-up is most of the time
    a conversion takes); None when LibreOffice is not installed. PdfError when any one fails."""
    executable = office()
    if executable is None:
        return None
    if not documents:
        return []
    if timeout is None:
        timeout = DEFAULT_TIMEOUT + PER_DOCUMENT * (len(documents) - 1)
    with tempfile.TemporaryDirectory(prefix="petitio-pdf-") as folder:
        root = Path(folder)
        sources = [root / f"filing-{n}.docx" for n in range(len(documents))]
        for source, content in zip(sources, documents, strict=True):
            source.write_bytes(content)
        # A profile of its own: no clash with a LibreOffice the same user has open, and parallel
        # conversions do not wait on one another's profile lock.
        command = [executable, "--headless", "--norestore", "--nologo", "--nodefault",
                   f"-env:UserInstallation={(root / 'profile').as_uri()}",
                   "--convert-to", "pdf", "--outdir", str(root), *map(str, sources)]
        returncode = _run(command, timeout)
        targets = [source.with_suffix(".pdf") for source in sources]
        missing = sum(not target.is_file() for target in targets)
        if returncode != 0 or missing:
            raise PdfError(f"LibreOffice could not convert {missing or 'every'} of {len(documents)} "
                           f"document(s) (exit status {returncode})")
        return [target.read_bytes() for target in targets]


def _run(command: list[str], timeout: float) -> int:
    # soffice is a launcher that starts soffice.bin: on timeout, kill the whole process group, not
    # only the launcher, or the real converter lingers.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise PdfError(f"LibreOffice did not finish within {timeout:g} seconds") from None
