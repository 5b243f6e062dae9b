"""Page layout every generated document shares (filings, collective complaints, consent forms).

What a real word processor needs to lay the document out as intended, not as its defaults guess: A4 paper,
"page X of Y" fields, table rows kept on one page, header rows repeated, tables at the full text width with
space after them, and the document's language, so that spell-checking and hyphenation use the right
dictionary (python-docx's template says US English whatever the text is).
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from filings.text import xml_safe

PAGE_MARK: Final = "\x00"  # where a footer's wording puts the page number
PAGES_MARK: Final = "\x01"  # where it puts the number of pages
_FIELDS: Final = {PAGE_MARK: "PAGE", PAGES_MARK: "NUMPAGES"}

A4_WIDTH: Final = Mm(210)
A4_HEIGHT: Final = Mm(297)
# A wider left margin leaves room to punch and file the paper; the header and footer sit in the margins.
MARGINS: Final = {"top_margin": Mm(20), "bottom_margin": Mm(20), "left_margin": Mm(25), "right_margin": Mm(20),
                  "header_distance": Mm(10), "footer_distance": Mm(10)}
FULL_WIDTH: Final = "5000"  # w:tblW in fiftieths of a percent

# A row kept on one page must fit on one: estimated at 11 pt on A4 with the margins above (about 85
# characters a line across the text width, 50 lines a page), a row of more than ROW_LINES lines may break.
_LINE_CHARS: Final = 85
_ROW_LINES: Final = 30
_TEXT: Final = qn("w:t")
_BREAK: Final = qn("w:br")


# -- paper -----------------------------------------------------------------------------------------------

def a4(doc: DocxDocument, *, keep_margins: bool = False) -> None:
    """Every section on A4 portrait; the margins too unless ``keep_margins`` (a letterhead designs its own)."""
    for section in doc.sections:
        section.page_width, section.page_height = A4_WIDTH, A4_HEIGHT
        if not keep_margins:
            for name, value in MARGINS.items():
                setattr(section, name, value)


# -- language --------------------------------------------------------------------------------------------

def language_tag(locale: str) -> str:
    """The BCP 47 tag Word and LibreOffice pick a dictionary by: "en_GB" -> "en-GB", "ru" -> "ru-RU"."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown locale {locale!r}") from None
    territory = parsed.territory
    if territory is None:  # dictionaries are per country: take the language's most likely one (CLDR)
        likely = get_global("likely_subtags").get(parsed.language, "")
        territory = likely.rsplit("_", 1)[-1] if likely.count("_") else None
    return f"{parsed.language}-{territory}" if territory else parsed.language


def tag_language(doc: DocxDocument, tag: str) -> None:
    """Tag the text as ``tag`` (BCP 47): the default run language, any style that names one, the theme
    fonts' language and the document properties."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = _child(defaults, "w:rPrDefault", first=True)
    run_properties = _child(run_defaults, "w:rPr")
    _child(run_properties, "w:lang").set(qn("w:val"), tag)
    # A letterhead's styles may name a language of their own, which would win over the default.
    for lang in styles.iterfind(f"{qn('w:style')}/{qn('w:rPr')}/{qn('w:lang')}"):
        if lang.get(qn("w:val")):
            lang.set(qn("w:val"), tag)
    try:
        settings = doc.part.part_related_by(RT.SETTINGS).element
    except KeyError:
        settings = None
    if settings is not None:
        for theme_lang in settings.iterfind(qn("w:themeFontLang")):
            theme_lang.set(qn("w:val"), tag)
    doc.core_properties.language = tag


def _child(parent: Any, tag: str, *, first: bool = False) -> Any:
    found = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        if first:
            parent.insert(0, found)
        else:
            parent.append(found)
    return found


# -- fields ----------------------------------------------------------------------------------------------

def append_field(paragraph: Paragraph, instruction: str, cached: str = "1") -> None:
    # python-docx has no field API; a w:fldSimple is the smallest construct Word and LibreOffice both
    # update on open. The cached value is what viewers that don't compute fields show.
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = cached
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def append_page_field(paragraph: Paragraph) -> None:
    append_field(paragraph, "PAGE")


def write_with_fields(paragraph: Paragraph, text: str) -> None:
    """``text`` as runs, PAGE_MARK and PAGES_MARK replaced by the page number and the number of pages."""
    piece = []
    for char in text:
        if char in _FIELDS:
            if piece:
                paragraph.add_run(xml_safe("".join(piece)))
                piece = []
            append_field(paragraph, _FIELDS[char])
        else:
            piece.append(char)
    if piece:
        paragraph.add_run(xml_safe("".join(piece)))


# -- tables ----------------------------------------------------------------------------------------------

def lay_out_table(table: DocxTable, *, header_rows: int = 0) -> None:
    """Full text width; header rows repeated on every page; rows that fit on a page never split; space after.

    Call it once the table is filled (how long a row is decides whether it may break).
    """
    tbl = table._tbl
    width = tbl.tblPr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tbl.tblPr.append(width)
    width.set(qn("w:type"), "pct")
    width.set(qn("w:w"), FULL_WIDTH)
    shares = _column_shares(table)
    # Straight on the XML: python-docx's row.cells works out the grid for every row, which dominated the
    # rendering time of a collective complaint's long tables.
    for index, tr in enumerate(tbl.iterchildren(qn("w:tr"))):
        properties = tr.get_or_add_trPr()
        if index < header_rows:
            properties.append(OxmlElement("w:tblHeader"))
        if _row_lines(tr.iterchildren(qn("w:tc")), shares) <= _ROW_LINES:
            properties.append(OxmlElement("w:cantSplit"))
    _space_after(tbl)


def _column_shares(table: DocxTable) -> list[float]:
    widths = [column.width or 0 for column in table.columns]
    total = sum(widths)
    if not total:
        return [1 / len(widths)] * len(widths) if widths else []
    return [w / total for w in widths]


def _row_lines(cells: Iterable[Any], shares: list[float]) -> int:
    """Estimated height of a row in lines: its tallest cell, each paragraph and line break wrapped."""
    tallest = 0
    for cell, share in zip(cells, shares, strict=False):
        chars = max(int(_LINE_CHARS * share) - 2, 8)
        lines = 0
        for paragraph in cell.iterchildren(qn("w:p")):
            text = "".join("\n" if node.tag == _BREAK else node.text or ""
                           for node in paragraph.iter(_TEXT, _BREAK))
            lines += sum(max(ceil(len(line) / chars), 1) for line in text.split("\n"))
        tallest = max(tallest, lines)
    return tallest


def _space_after(tbl: Any) -> None:
    # A table has no spacing of its own: a tiny paragraph after it gives the gap a paragraph would have,
    # and keeps two tables in a row from merging into one when Word opens the file.
    spacer = OxmlElement("w:p")
    properties = OxmlElement("w:pPr")
    spacing = OxmlElement("w:spacing")
    for name, value in (("w:before", "0"), ("w:after", "160"), ("w:line", "20"), ("w:lineRule", "exact")):
        spacing.set(qn(name), value)
    properties.append(spacing)
    spacer.append(properties)
    tbl.addnext(spacer)
