"""The first worksheet of an XLSX workbook, streamed row by row from its XML with bounded memory.

Why not openpyxl's read-only mode: it trusts the sheet's declared ``<dimension>`` (a stale one silently drops
the rows beyond it) and spends about 40 µs of Python on every row, so a sheet whose formatting runs down a
million empty rows (8 MB on disk) took 38 s and half a gigabyte. Here each ``<row>`` element is parsed with
lxml's ``iterparse`` and freed at once; a row without a value costs a few microseconds. openpyxl still
supplies what it knows best: which number formats are dates, and Excel's serial-day calendars.

XML is parsed without DTDs, entities or network access. What a cell holds:

- shared and inline strings as text, ``str`` formula results as text, booleans as ``bool``, errors as their
  text (``#N/A``), ISO ``d`` cells as datetimes;
- numbers as ``int`` when whole (as typed: ``12345``) else ``float``, or as a ``datetime`` when the cell's
  style has a date format (as openpyxl does); formulas give their cached value.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from lxml import etree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_COLUMN = re.compile(r"[A-Z]+")
_T, _V, _IS = f"{MAIN}t", f"{MAIN}v", f"{MAIN}is"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_BUILTIN_DATE_IDS = frozenset({*range(14, 23), *range(45, 48)})


class WorkbookError(ValueError):
    """The workbook cannot be read (the message is safe to show)."""


def _parse(stream: IO[bytes], tag: str) -> Iterator[Any]:
    """``end`` events of ``tag`` elements, each freed (with what came before it) once the caller is done."""
    for _event, element in etree.iterparse(stream, events=("end",), tag=tag, resolve_entities=False,
                                           load_dtd=False, no_network=True, huge_tree=False):
        yield element
        element.clear()
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def _text(element: Any) -> str:
    """The text of a string item (``<si>`` or ``<is>``): its ``<t>``, or its rich-text runs joined."""
    if len(element) == 1 and element[0].tag == _T:  # the usual case, quickly
        return _unescaped(element[0].text or "")
    return _unescaped("".join(t.text or "" for t in element.iter(_T) if t.getparent().tag != f"{MAIN}rPh"))


def _unescaped(text: str) -> str:
    """OOXML's escapes (ST_Xstring): what XML cannot hold, such as a vertical tab pasted into a cell, is written
    ``_x000B_`` (and a literal ``_x`` as ``_x005F_x``). Undone here, so that the schema's character rule sees the
    real character (a vertical tab becomes a line break, a NUL is refused) instead of the escape as text."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _xml(archive: zipfile.ZipFile, name: str) -> Any | None:
    if name not in archive.namelist():
        return None
    with archive.open(name) as fh:
        parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
        return etree.parse(fh, parser).getroot()


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """(path of the first worksheet, whether the workbook counts days from 1904)."""
    workbook = _xml(archive, "xl/workbook.xml")
    if workbook is None:
        raise WorkbookError("it has no workbook part")
    pr = workbook.find(f"{MAIN}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    sheet = workbook.find(f"{MAIN}sheets/{MAIN}sheet")
    if sheet is None:
        raise WorkbookError("it has no worksheet")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels")
    target = None
    for rel in rels if rels is not None else []:
        if rel.get("Id") == sheet.get(f"{_REL}id"):
            target = rel.get("Target")
    if not target:
        raise WorkbookError("its first worksheet cannot be found")
    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return path, date1904


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    with archive.open("xl/sharedStrings.xml") as fh:
        return [_text(si) for si in _parse(fh, f"{MAIN}si")]


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """The indexes of the cell styles whose number format shows a date or time."""
    from openpyxl.styles.numbers import is_date_format

    styles = _xml(archive, "xl/styles.xml")
    if styles is None:
        return set()
    custom = {int(f.get("numFmtId", -1)): f.get("formatCode", "")
              for f in styles.iterfind(f"{MAIN}numFmts/{MAIN}numFmt")}
    dates = set()
    for index, xf in enumerate(styles.iterfind(f"{MAIN}cellXfs/{MAIN}xf")):
        fmt = int(xf.get("numFmtId", 0))
        if fmt in _BUILTIN_DATE_IDS or (fmt in custom and is_date_format(custom[fmt])):
            dates.add(index)
    return dates


@functools.lru_cache(maxsize=1024)
def _letters(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def _column(ref: str | None) -> int | None:
    """0-based column of a cell reference such as ``AB12``."""
    match = _COLUMN.match(ref or "")
    return _letters(match.group()) if match else None


class _Cells:
    def __init__(self, strings: list[str], dates: set[int], date1904: bool) -> None:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        self.strings = strings
        self.dates = dates
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900

    def value(self, cell: Any) -> object:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_IS)
            return _text(inline) if inline is not None else None
        text = cell.findtext(_V)
        if not text:
            return None
        if kind == "s":
            return self.strings[int(text)]
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return datetime.fromisoformat(text)
        number = float(text)
        if int(cell.get("s", 0)) in self.dates:
            from openpyxl.utils.datetime import from_excel

            return from_excel(number, self.epoch)
        return int(number) if number.is_integer() and not any(c in text for c in ".eE") else number


def rows(data: bytes, max_columns: int, max_uncompressed: int) -> Iterator[tuple[object, ...]]:
    """The rows of the first worksheet from row 1, each a tuple of at most ``max_columns`` values (None where
    empty); a row missing from the XML is an empty tuple, so numbering stays spreadsheet-style. Raises
    WorkbookError (or zipfile/lxml errors for a damaged file, which the caller maps to one message)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    if sum(info.file_size for info in archive.infolist()) > max_uncompressed:
        raise WorkbookError("it expands to too much data")
    path, date1904 = _first_sheet(archive)
    cells = _Cells(_shared_strings(archive), _date_styles(archive), date1904)
    expected = 1
    with archive.open(path) as fh:
        for row in _parse(fh, f"{MAIN}row"):
            number = int(row.get("r") or expected)
            while expected < number:  # rows the sheet leaves out are empty
                yield ()
                expected += 1
            values: list[object] = []
            for position, cell in enumerate(row.iterfind(f"{MAIN}c")):
                column = _column(cell.get("r"))
                column = position if column is None else column
                if column >= max_columns:
                    break
                value = cells.value(cell)
                if value is None:
                    continue
                if column >= len(values):
                    values.extend([None] * (column - len(values)))
                    values.append(value)
                else:  # cells out of order: rare, but valid XML
                    values[column] = value
            yield tuple(values)
            expected = number + 1
