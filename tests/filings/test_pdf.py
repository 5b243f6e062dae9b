"""PDF copies through LibreOffice: None without it; a real conversion only where it is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from filings import render, to_pdf
from filings.pdf import office
from tests.filings.samples import case


def test_without_libreoffice_there_is_no_pdf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no soffice, no libreoffice
    assert office() is None
    assert to_pdf(render(case("un_sp"))) is None


@pytest.mark.skipif(office() is None, reason="LibreOffice is not installed")
def test_conversion_with_libreoffice() -> None:
    pdf = to_pdf(render(case("un_hrc", "ru")))
    assert pdf is not None and pdf.startswith(b"%PDF-")
