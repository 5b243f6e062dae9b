"""Elements to .docx with python-docx: real Word styles, running header, page numbers, clean metadata.

The base is python-docx's own template or the organisation's letterhead. From a letterhead only the page
set-up, the headers and footers and the styles are kept; its body, and any metadata it carried (author,
company, comments, thumbnail, custom properties, the path of its template), are dropped, because the file
leaves the organisation and is rarely inspected before it does.
"""

from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.parts.numbering import NumberingPart
from docx.section import _Footer, _Header
from docx.shared import Cm
from docx.text.paragraph import Paragraph

from filings.docx_layout import (
    PAGE_MARK,
    PAGES_MARK,
    a4,
    append_page_field,
    language_tag,
    lay_out_table,
    tag_language,
    write_with_fields,
)
from filings.elements import Element, Heading, ItemList, Picture, Table, Text
from filings.text import xml_safe

__all__ = ["PAGES_MARK", "PAGE_MARK", "Page", "append_page_field", "write"]
NUMBERED: Final = "List Number"
BULLETED: Final = "List Bullet"
GRID: Final = "Table Grid"
_HEADING_STYLES: Final = ("Title", "Heading 1", "Heading 2")  # by Heading.level
_STYLES: Final = (*_HEADING_STYLES, BULLETED, NUMBERED, GRID)
_DROPPED_PACKAGE_RELS: Final = frozenset({RT.CORE_PROPERTIES, RT.EXTENDED_PROPERTIES, RT.CUSTOM_PROPERTIES,
                                          RT.THUMBNAIL})
# Comments and their authors ("people") would survive a cleared body as orphaned parts.
_DROPPED_DOCUMENT_RELS: Final = frozenset({"comments", "commentsExtended", "commentsIds", "commentsExtensible",
                                           "people"})
# Extended properties naming no company, manager or template; Word recomputes the statistics on save.
_APP_XML: Final = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                   b"<Application>Petitio</Application><DocSecurity>0</DocSecurity></Properties>")
_ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
PICTURE_WIDTH: Final = Cm(16)  # the text width of an A4 page with 2.5 cm margins


@dataclass(frozen=True, slots=True)
class Page:
    """Everything around the content: the metadata and the running header and footer."""

    title: str
    author: str
    header: str
    footer: str  # holds PAGE_MARK where the page number goes, and may hold PAGES_MARK for the page count
    generated_at: datetime
    locale: str  # the CLDR locale of the text ("en_GB", "ru"): the document is tagged with its language


def write(elements: list[Element], page: Page, letterhead: bytes | None = None) -> bytes:
    doc = _base(letterhead)
    # Before any content: python-docx sizes table columns from the page's text width.
    a4(doc, keep_margins=letterhead is not None)
    _ensure_styles(doc)
    tag_language(doc, language_tag(page.locale))
    _running(doc, page)
    content = _Content(doc)
    for element in elements:
        content.add(element)
    _metadata(doc, page)
    return _stable_zip(doc, page.generated_at)


# -- base document and styles ----------------------------------------------------------------------------

def _base(letterhead: bytes | None) -> DocxDocument:
    if letterhead is None:
        return Document()
    try:
        doc = Document(io.BytesIO(letterhead))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError):
        raise ValueError("the letterhead is not a readable .docx file") from None
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):  # the body's own section properties hold the page set-up
            body.remove(child)
    return doc


def _ensure_styles(doc: DocxDocument) -> None:
    """Copy from python-docx's template the styles a letterhead made in Word usually lacks."""
    missing = [name for name in _STYLES if name not in doc.styles]
    if not missing:
        return
    source = Document()
    for name in missing:
        style = copy.deepcopy(source.styles[name].element)
        _carry_numbering(style, source, doc)
        doc.styles.element.append(style)


def _numbering(doc: DocxDocument) -> Any:
    try:
        return doc.part.part_related_by(RT.NUMBERING).element
    except KeyError:
        # python-docx cannot create a numbering part itself (NumberingPart.new is not implemented).
        part = NumberingPart(PackURI("/word/numbering.xml"), CT.WML_NUMBERING,
                             parse_xml(f"<w:numbering {nsdecls('w')}/>"), doc.part.package)
        doc.part.relate_to(part, RT.NUMBERING)
        return part.element


def _carry_numbering(style: Any, source: DocxDocument, doc: DocxDocument) -> None:
    """A list style points at a numbering definition: copy that too, under ids free in ``doc``."""
    ids = style.xpath("./w:pPr/w:numPr/w:numId")
    if not ids:
        return
    source_numbering = source.part.numbering_part.element
    abstract_id = source_numbering.num_having_numId(int(ids[0].get(qn("w:val")))).abstractNumId.val
    abstract = copy.deepcopy(source_numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract_id}"]')[0])
    target = _numbering(doc)
    new_abstract_id = max((int(i) for i in target.xpath("./w:abstractNum/@w:abstractNumId")), default=-1) + 1
    abstract.set(qn("w:abstractNumId"), str(new_abstract_id))
    nums = target.xpath("./w:num")
    if nums:
        nums[0].addprevious(abstract)  # the schema wants every abstractNum before the first num
    else:
        target.append(abstract)
    ids[0].set(qn("w:val"), str(target.add_num(new_abstract_id).numId))


# -- header and footer -----------------------------------------------------------------------------------

def _running(doc: DocxDocument, page: Page) -> None:
    section = doc.sections[0]
    headers = [section.header]
    footers = [section.footer]
    if section.different_first_page_header_footer:  # a letterhead may design its first page apart
        headers.append(section.first_page_header)
        footers.append(section.first_page_footer)
    for header in headers:
        _free_paragraph(header).add_run(xml_safe(page.header))
    for footer in footers:
        write_with_fields(_free_paragraph(footer), page.footer)


def _free_paragraph(part: _Header | _Footer) -> Paragraph:
    """An empty paragraph in a header or footer, after whatever the letterhead put there."""
    part.is_linked_to_previous = False
    paragraphs = part.paragraphs
    if len(paragraphs) == 1 and not paragraphs[0]._p.xpath("./w:r"):
        return paragraphs[0]
    return part.add_paragraph()


# -- content ---------------------------------------------------------------------------------------------

class _Content:
    """Appends elements to the body.

    Style ids are looked up once: python-docx resolves a style name on every paragraph by scanning every
    style of the document, which would otherwise be most of the rendering time.
    """

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.style_ids = {name: doc.styles[name].style_id for name in _STYLES}

    def add(self, element: Element) -> None:
        if isinstance(element, Heading):
            self._paragraph(_HEADING_STYLES[element.level]).add_run(xml_safe(element.text))
        elif isinstance(element, Text):
            _runs(self._paragraph(None), element)
        elif isinstance(element, ItemList):
            self._list(element)
        elif isinstance(element, Picture):
            self._picture(element)
        else:
            self._table(element)

    def _picture(self, picture: Picture) -> None:
        run = self._paragraph(None).add_run()
        shape = run.add_picture(io.BytesIO(picture.png), width=PICTURE_WIDTH)
        # python-docx has no alt-text API: wp:docPr's descr is what Word shows as alternative text and what
        # screen readers say; its title is the short name.
        properties = shape._inline.docPr
        properties.set("descr", picture.alt)
        if picture.title:
            properties.set("title", picture.title)

    def _paragraph(self, style: str | None) -> Paragraph:
        paragraph = self.doc.add_paragraph()
        if style is not None:
            paragraph._p.style = self.style_ids[style]
        return paragraph

    def _list(self, items: ItemList) -> None:
        num_id = _restarted_numbering(self.doc) if items.numbered else None
        for item in items.items:
            paragraph = self._paragraph(NUMBERED if items.numbered else BULLETED)
            if num_id is not None:
                num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_ilvl().val = 0
                num_pr.get_or_add_numId().val = num_id
            _runs(paragraph, item)

    def _table(self, table: Table) -> None:
        width = len(table.columns) or max((len(row) for row in table.rows), default=0)
        if not width:
            return
        first = 1 if table.columns else 0
        grid = self.doc.add_table(rows=first + len(table.rows), cols=width)
        grid._tbl.tblStyle_val = self.style_ids[GRID]
        rows = grid.rows
        if table.columns:
            _fill(rows[0].cells, table.columns, bold=True)
        for row, values in zip(rows[first:], table.rows, strict=True):
            _fill(row.cells, values)
        # The column headings repeat on every page a long table runs over.
        lay_out_table(grid, header_rows=first)


def _runs(paragraph: Paragraph, text: Text) -> None:
    if text.lead:
        paragraph.add_run(xml_safe(text.lead)).bold = True
    if text.body:
        paragraph.add_run(xml_safe(text.body)).italic = text.note or None


def _restarted_numbering(doc: DocxDocument) -> int:
    """A new instance of the List Number numbering, so that each numbered list starts again at 1."""
    style_num_id = doc.styles[NUMBERED].element.xpath("./w:pPr/w:numPr/w:numId/@w:val")[0]
    numbering = _numbering(doc)
    abstract_id = numbering.num_having_numId(int(style_num_id)).abstractNumId.val
    num = numbering.add_num(abstract_id)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    return num.numId


def _fill(cells: Any, values: tuple[str, ...], *, bold: bool = False) -> None:
    for cell, value in zip(cells, values, strict=False):
        if value:
            cell.paragraphs[0].add_run(xml_safe(value)).bold = bold or None


# -- metadata and packaging ------------------------------------------------------------------------------

def _metadata(doc: DocxDocument, page: Page) -> None:
    package = doc.part.package
    for rel in list(package.rels.values()):
        if rel.reltype in _DROPPED_PACKAGE_RELS:
            package.rels.pop(rel.rId)
    for rel in list(doc.part.rels.values()):
        if rel.reltype.rsplit("/", 1)[-1] in _DROPPED_DOCUMENT_RELS:
            doc.part.rels.pop(rel.rId)
    _drop_attached_template(doc)
    package.relate_to(Part(PackURI("/docProps/app.xml"), CT.OFC_EXTENDED_PROPERTIES, _APP_XML, package),
                      RT.EXTENDED_PROPERTIES)
    # With its relationship gone, python-docx builds a fresh core-properties part: nothing of the
    # letterhead's author, comments or dates survives, and every field we do not set stays absent.
    props = doc.core_properties
    props.title = xml_safe(page.title)
    props.author = xml_safe(page.author)
    props.language = language_tag(page.locale)
    props.last_modified_by = ""
    props.revision = 1
    # Pinned to the snapshot so that the same snapshot always gives the same bytes.
    props.created = page.generated_at
    props.modified = page.generated_at


def _drop_attached_template(doc: DocxDocument) -> None:
    # Word records the path of the template a letterhead was made from, often under the user's home folder.
    try:
        settings = doc.part.part_related_by(RT.SETTINGS)
    except KeyError:
        return
    for element in settings.element.findall(qn("w:attachedTemplate")):
        settings.element.remove(element)
    for rel in list(settings.rels.values()):
        if rel.reltype.endswith("/attachedTemplate"):
            settings.rels.pop(rel.rId)


def _stable_zip(doc: DocxDocument, generated_at: datetime) -> bytes:
    """The package with every entry stamped at ``generated_at``: the same snapshot gives the same bytes."""
    raw = io.BytesIO()
    doc.save(raw)
    stamp = max(generated_at.timetuple()[:6], _ZIP_EPOCH)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info))
    return out.getvalue()
