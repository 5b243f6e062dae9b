"""The layout a word processor reads from the .docx (no LibreOffice needed): A4 paper and margins, "page X of Y"
fields, table rows that do not split, repeated header rows, full-width tables with space after them, the
language tag, and text with characters XML cannot hold."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import docx
import pytest
from docx.shared import Mm

from filings import ConsentFormData, available, available_collective, render, render_collective
from filings.consent_forms import FORMS, languages
from filings.docx_layout import language_tag
from filings.docx_writer import Page, write
from filings.elements import Heading, ItemList, Table, Text
from filings.text import xml_safe
from filings.wording import load
from tests.filings.samples import BODIES, GENERATED_AT, case, collective, every_part, reopen

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CONSENT = ConsentFormData(
    organisation="Freedom Watch", ref="APL-042", full_name="Aigerim Testova", full_name_native=None,
    birth_date=None, city="Almaty", passport_number=None, address=None, phone=None, email=None,
    incident_summary="Detained at the square.", date=date(2026, 3, 5))
FILINGS = [(body, language) for body in BODIES for language in available(body)]


def documents() -> list[tuple[str, str, bytes]]:
    """(name, locale, .docx) for every template and every consent form."""
    out = [(f"{body}-{language}", load(body, language).locale, render(case(body, language)))
           for body, language in FILINGS]
    out += [(f"collective-{language}", load("collective", language).locale, render_collective(collective(language)))
            for language in available_collective()]
    out += [(f"{form}-{language}", language, FORMS[form](CONSENT, language))
            for form in FORMS for language in languages()]
    return out


ALL = documents()


@pytest.mark.parametrize(("name", "locale", "content"), ALL, ids=[name for name, _, _ in ALL])
def test_a4_with_margins_and_the_language_tag(name: str, locale: str, content: bytes) -> None:
    document = reopen(content)
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1), name
        assert Mm(15) <= section.left_margin <= Mm(30) and Mm(15) <= section.right_margin <= Mm(30)
        assert Mm(15) <= section.top_margin <= Mm(30) and Mm(15) <= section.bottom_margin <= Mm(30)
    tag = language_tag(locale)
    assert tag == {"en_GB": "en-GB", "en": "en-US", "ru": "ru-RU", "kk": "kk-KZ"}[locale]
    styles = every_part(content)["word/styles.xml"]
    assert re.findall(r'<w:lang w:val="([^"]+)"', styles) == [tag], name  # the default, and no style says else
    assert f'w:themeFontLang w:val="{tag}"' in every_part(content)["word/settings.xml"]
    assert document.core_properties.language == tag


@pytest.mark.parametrize(("name", "locale", "content"), ALL, ids=[name for name, _, _ in ALL])
def test_tables_are_full_width_rows_unsplit_headers_repeated_and_followed_by_space(name: str, locale: str,
                                                                                  content: bytes) -> None:
    body = reopen(content).element.body
    tables = body.findall(f"{W}tbl")
    for table in tables:
        width = table.find(f"{W}tblPr/{W}tblW")
        assert (width.get(f"{W}type"), width.get(f"{W}w")) == ("pct", "5000"), name
        rows = table.findall(f"{W}tr")
        assert all(row.find(f"{W}trPr/{W}cantSplit") is not None for row in rows), name  # all short here
        spacer = table.getnext()
        assert spacer.tag == f"{W}p" and spacer.find(f"{W}pPr/{W}spacing").get(f"{W}after") != "0"
    headed = [t for t in tables if t.find(f"{W}tr/{W}trPr/{W}tblHeader") is not None]
    if name.startswith(tuple(f"{body}-" for body in BODIES)) or name.startswith("collective"):
        assert tables and headed, name  # the filings' tables have column headings, repeated on every page


@pytest.mark.parametrize(("body", "language"), FILINGS)
def test_the_footer_says_page_x_of_y(body: str, language: str) -> None:
    footers = "".join(xml for part, xml in every_part(render(case(body, language))).items()
                      if part.startswith("word/footer"))
    assert footers.index('w:instr=" PAGE "') < footers.index('w:instr=" NUMPAGES "')


def page(**overrides: str) -> Page:
    values = {"title": "Layout", "author": "Freedom Watch", "header": "APL-1", "footer": "page \x00 of \x01",
              "locale": "ru", **overrides}
    return Page(generated_at=GENERATED_AT, **values)  # type: ignore[arg-type]


def test_a_row_too_tall_for_a_page_may_break_and_the_heading_row_repeats() -> None:
    long = "Слово " * 4000
    content = write([Table(("Date", "Account"), (("5 January 2022", "Short."), ("6 January 2022", long)))], page())
    [table] = reopen(content).element.body.findall(f"{W}tbl")
    header, short, tall = table.findall(f"{W}tr")
    assert header.find(f"{W}trPr/{W}tblHeader") is not None and short.find(f"{W}trPr/{W}tblHeader") is None
    assert short.find(f"{W}trPr/{W}cantSplit") is not None
    assert tall.find(f"{W}trPr/{W}cantSplit") is None  # kept whole it would not fit: let it run over


def test_two_tables_in_a_row_stay_two_tables() -> None:
    content = write([Table(("A",), (("1",),)), Table(("B",), (("2",),))], page())
    assert len(reopen(content).tables) == 2
    body = reopen(content).element.body
    assert [child.tag.removeprefix(W) for child in body][:4] == ["tbl", "p", "tbl", "p"]


DIRTY = "Line one\x0bline two\x0cline three\x00\x01\x1f\ud800\ufffe end\ttab"
CLEAN = "Line one\nline two\nline three end\ttab"


def test_xml_safe_keeps_breaks_and_drops_what_xml_cannot_hold() -> None:
    assert xml_safe(DIRTY) == CLEAN
    assert xml_safe("Қазақстан 😀 «ok»\r\n") == "Қазақстан 😀 «ok»\n"  # one kind of line break


def test_text_xml_cannot_hold_is_cleaned_wherever_it_enters_the_document() -> None:
    elements = [Heading(DIRTY, 0), Text(DIRTY, lead=DIRTY), ItemList((Text(DIRTY),)), Table((DIRTY,), ((DIRTY,),))]
    content = write(elements, page(title=DIRTY, author=DIRTY, header=DIRTY, footer=f"{DIRTY} \x00 of \x01"))
    document = docx.Document(io.BytesIO(content))
    assert document.paragraphs[0].text == CLEAN
    assert document.core_properties.title == CLEAN and document.core_properties.author == CLEAN
    assert document.sections[0].header.paragraphs[0].text == CLEAN
    assert document.tables[0].rows[1].cells[0].text == CLEAN
    xml = "".join(every_part(content).values())
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", xml)
    assert 'w:instr=" NUMPAGES "' in xml


def test_consent_forms_survive_control_characters() -> None:
    dirty = dataclasses.replace(CONSENT, incident_summary="Held\x0bfor 15 days\x00.", full_name="Aigerim\x01 Testova")
    for name, form in FORMS.items():
        paragraphs = [p.text for p in reopen(form(dirty, "en")).paragraphs]
        assert "Aigerim Testova" in "\n".join(paragraphs)
        if name == "form_of_appeal":  # the line break the person typed starts a new paragraph of the story
            assert "Held" in paragraphs and "for 15 days." in paragraphs


def test_a_letterhead_keeps_its_margins_on_a4() -> None:
    base = docx.Document()  # python-docx's own template is US Letter
    base.sections[0].left_margin = Mm(40)
    out = io.BytesIO()
    base.save(out)
    section = reopen(write([Text("Body.")], page(), letterhead=out.getvalue())).sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1)
    assert abs(section.left_margin - Mm(40)) < Mm(0.1)  # the letterhead's design, its logo in the margin
