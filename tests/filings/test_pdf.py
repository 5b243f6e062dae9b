"""PDF copies through LibreOffice, read back with pypdf: one document per template (every body and language,
the collective complaint) and per consent form, converted in one LibreOffice run, on A4, within sensible page
counts, "page X of Y" filled in, and their Latin, Cyrillic and Kazakh text readable. A 20,000-character
account breaks across pages like any text and is printed to its last word.

Without LibreOffice these tests skip, except in CI (the CI variable set), where they fail: CI installs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from filings import ConsentFormData, available, available_collective, render, render_collective, to_pdf, to_pdfs
from filings.consent_forms import FORMS, languages
from filings.docx_writer import Page, write
from filings.elements import Heading, Table, Text
from filings.pdf import office
from filings.wording import load
from tests.filings.samples import BODIES, GENERATED_AT, REAL_NAME, case, collective
from tests.helpers import is_a4, letters, read_pdf, require_office

KAZAKH = "Қазақстан Республикасы"  # ә ғ қ ң ө ұ ү һ і: letters Russian fonts and encodings lack
CONSENT_NAME = "Aigerim Testova"
MARKER = "END-OF-THE-ACCOUNT"
LONG = ("Officers questioned her for hours about her views, her friends and her posts online. " * 240)[:19_980]
LONG_ACCOUNT = f"{LONG} {MARKER}"
CONSENT = ConsentFormData(
    organisation="Freedom Watch", ref="APL-042", full_name=CONSENT_NAME, full_name_native="Әйгерім Тестова",
    birth_date=date(1991, 4, 12), city="Алматы", passport_number="N0012345", address="Абай даңғылы 12",
    phone="+7 700 000 0000", email="a.testova@example.org", incident_summary=f"Ұсталды: {KAZAKH}.",
    date=date(2026, 3, 5), share_name_with_government=True,
)


def _long_filing() -> bytes:
    sample = case("un_hrc", "en", state=KAZAKH)
    first = dataclasses.replace(sample.incidents[0], description=LONG_ACCOUNT)
    return render(dataclasses.replace(sample, incidents=(first, *sample.incidents[1:])))


def _long_elements() -> bytes:
    page = Page(title="Layout", author="Freedom Watch", header="APL-1", footer="page \x00 of \x01",
                generated_at=GENERATED_AT, locale="en_GB")
    return write([Heading("A long account", 0), Text(LONG_ACCOUNT),
                  Table(("Date", "Account"), (("5 January 2022", LONG_ACCOUNT), ("6 January 2022", "Released.")))],
                 page)


# name -> (build the .docx, the most pages it may take, the texts its PDF must read back)
DOCUMENTS: dict[str, tuple[Callable[[], bytes], int, tuple[str, ...]]] = {
    **{f"{body}-{language}": ((lambda b=body, lang=language: render(case(b, lang, state=KAZAKH))), 8,
                              (REAL_NAME, KAZAKH))
       for body in BODIES for language in available(body)},
    **{f"collective-{language}": ((lambda lang=language: render_collective(collective(lang, state=KAZAKH))), 20,
                                  ("Aigerim Abenova", KAZAKH))
       for language in available_collective()},
    **{f"{form}-{language}": ((lambda f=form, lang=language: FORMS[f](CONSENT, lang)), 4,
                              (CONSENT_NAME, "Әйгерім Тестова"))
       for form in FORMS for language in languages()},
    # 20,000 characters at full width are about five pages, in half a page's width about ten.
    "long-account-un_hrc-en": (_long_filing, 12, (MARKER,)),
    "long-account-elements": (_long_elements, 20, (MARKER, "Released.")),
}


@pytest.fixture(scope="module")
def converted() -> dict[str, tuple[list[tuple[float, float]], str]]:
    """Every document of DOCUMENTS as (page sizes, text) of its PDF: one LibreOffice run for them all."""
    require_office()
    names = list(DOCUMENTS)
    pdfs = to_pdfs([DOCUMENTS[name][0]() for name in names])
    assert pdfs is not None
    return {name: read_pdf(pdf) for name, pdf in zip(names, pdfs, strict=True)}


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_document_converts_to_a4_within_bounds_and_reads_back(converted, name: str) -> None:
    sizes, text = converted[name]
    _, most_pages, expected = DOCUMENTS[name]
    assert 1 <= len(sizes) <= most_pages, (name, len(sizes))
    assert all(is_a4(size) for size in sizes), (name, sizes)
    for value in expected:
        assert letters(value) in letters(text), (name, value)


@pytest.mark.parametrize("template", [*(f"{b}/{lang}" for b in BODIES for lang in available(b)),
                                      *(f"collective/{lang}" for lang in available_collective())])
def test_the_footer_reads_page_x_of_y(converted, template: str) -> None:
    body, language = template.split("/")
    sizes, text = converted[f"{body}-{language}"]
    pages = str(len(sizes))
    last = load(body, language).raw("footer").replace("{page}", pages).replace("{pages}", pages)
    assert letters(last) in letters(text), (template, last)


def test_the_long_account_breaks_across_pages_and_is_printed_whole(converted) -> None:
    sizes, text = converted["long-account-elements"]
    assert len(sizes) >= 5  # the row holding it was allowed to break: nothing of it was cut off
    assert letters(text).count(letters(MARKER)) == 2


def test_without_libreoffice_there_is_no_pdf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no soffice, no libreoffice
    assert office() is None
    assert to_pdf(render(case("un_sp"))) is None
    assert to_pdfs([render(case("un_sp"))]) is None
