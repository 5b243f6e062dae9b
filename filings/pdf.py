"""PDF copies of generated filings, through LibreOffice when the host has it (optional: bodies take .docx)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Final

DEFAULT_TIMEOUT: Final = 120.0  # seconds; a first start of LibreOffice builds its profile


class PdfError(RuntimeError):
    """LibreOffice is installed but did not produce a PDF."""


def office() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> bytes | None:
    """``docx`` converted to PDF, or None when LibreOffice is not installed."""
    executable = office()
    if executable is None:
        return None
    with tempfile.TemporaryDirectory(prefix="petitio-pdf-") as folder:
        root = Path(folder)
        source = root / "filing.docx"
        source.write_bytes(docx)
        # A profile of its own: no clash with a LibreOffice the same user has open, and parallel
        # conversions do not wait on one another's profile lock.
        command = [executable, "--headless", "--norestore", "--nologo", "--nodefault",
                   f"-env:UserInstallation={(root / 'profile').as_uri()}",
                   "--convert-to", "pdf", "--outdir", str(root), str(source)]
        returncode = _run(command, timeout)
        target = root / "filing.pdf"
        if returncode != 0 or not target.is_file():
            raise PdfError(f"LibreOffice could not convert the document (exit status {returncode})")
        return target.read_bytes()


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
