"""Spreadsheets read as rows: CSV (UTF-8 or Windows-1251, `,` or `;`) and XLSX (the first sheet, streamed row by
row), with size and shape limits.

What the appeal and episode imports read (``workflow/services/importer.py``). Rows are ``{column: value}``
with the header's column names trimmed and lower-cased; ``rows[i]`` is spreadsheet row ``i + 2``. A file that
cannot be read raises ``ValidationFailed`` with one line saying why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from workflow.errors import ValidationFailed
from workflow.uploads import human_size

MAX_ROWS = 10_000
MAX_COLUMNS = 200
_MB = 1024 * 1024
MAX_CSV_BYTES = 5 * _MB
MAX_XLSX_BYTES = 20 * _MB
MAX_XLSX_UNCOMPRESSED = 200 * _MB  # a zip-bomb guard: a 10,000-row sheet is a few MB of XML


UTF8 = "UTF-8"
WINDOWS_1251 = "Windows-1251"
# What Windows-1251 text holds besides ASCII: Cyrillic letters (U+0400-U+04FF) and the typographic marks a
# Russian keyboard types. A file that is neither UTF-8 nor mostly these is some other encoding: refused.
_CP1251_MARKS = frozenset("«»„“”‘’–—…№•°±§©®™€\u00a0\u00ad")
_MOSTLY = 0.9


@dataclass
class Table:
    header: list[str]
    rows: list[dict[str, object]]  # rows[i] is spreadsheet row i + 2; blank rows inside are kept
    extra_cells: dict[int, int] = field(default_factory=dict)  # spreadsheet row -> cells beyond the header
    encoding: str | None = None  # how a CSV was read (UTF8 or WINDOWS_1251); None for a workbook
    delimiter: str | None = None  # a CSV's delimiter


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_value(value: object) -> object:
    """XLSX date cells arrive as datetimes; a date column wants a date (parse_appeal compares with today)."""
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) and value.tzinfo is None else value.isoformat(sep=" ")
    return value


def _header(cells: Sequence[object], name: str) -> list[str]:
    header = [("" if c is None else str(c)).strip().lower() for c in cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ValidationFailed(f"{name}: the first row must be the header (column names); it is empty")
    if len(header) > MAX_COLUMNS:
        raise ValidationFailed(f"{name}: more than {MAX_COLUMNS} columns in the header")
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise ValidationFailed(f"{name}: column {column!r} appears twice in the header")
        seen.add(column)
    return header


def _add_row(table: Table, cells: Sequence[object], name: str) -> None:
    number = len(table.rows) + 2
    if number - 1 > MAX_ROWS:
        raise ValidationFailed(f"{name}: more than {MAX_ROWS} data rows; split the file")
    width = len(table.header)
    extra = [c for c in cells[width:] if not is_blank(c)]
    if extra:
        table.extra_cells[number] = len(extra)
    values = list(cells[:width]) + [None] * (width - len(cells))
    table.rows.append({col: cell_value(v) for col, v in zip(table.header, values, strict=True) if col})


def _collect(table: Table, rows: Iterator[Sequence[object]], name: str) -> None:
    """Add the data rows; blank rows count only when data follows them (trailing ones are dropped)."""
    blanks = 0
    for cells in rows:
        if all(is_blank(c) for c in cells):
            blanks += 1
            continue
        for _ in range(blanks):
            _add_row(table, (), name)
        blanks = 0
        _add_row(table, cells, name)


def blank_row(table: Table, index: int) -> bool:
    """A row with nothing in it, skipped silently (spreadsheets often carry a few)."""
    return index + 2 not in table.extra_cells and all(is_blank(v) for v in table.rows[index].values())


def decode_csv(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding). The rule: a UTF-8 byte-order mark, or bytes that are valid UTF-8, are UTF-8; anything
    else is read as Windows-1251 (what Excel's "CSV" writes on a Russian Windows) when at least 90 % of its
    non-ASCII characters then are Cyrillic letters or Russian typography, and refused otherwise. Valid UTF-8
    is never Windows-1251 by accident: Cyrillic in Windows-1251 is almost never a valid UTF-8 sequence."""
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
    refused = ValidationFailed(f"{name} is neither UTF-8 nor Windows-1251 text (first non-UTF-8 byte on line "
                               f"{line}); save it as \"CSV UTF-8\"")
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:  # 0x98, the one byte Windows-1251 leaves undefined
        raise refused from None
    foreign = [c for c in text if ord(c) > 127]
    russian = sum(1 for c in foreign if "\u0400" <= c <= "\u04ff" or c in _CP1251_MARKS)
    if russian < _MOSTLY * len(foreign):
        raise refused
    return text, WINDOWS_1251


def csv_delimiter(first_line: str) -> str:
    """`;` when the header has more `;` than `,` (Excel in many locales, Russian and Kazakh included, writes
    `;`-separated "CSV"); `,` otherwise."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _read_csv(data: bytes, name: str) -> Table:
    if len(data) > MAX_CSV_BYTES:
        raise ValidationFailed(f"{name}: the file is {human_size(len(data))}; a CSV may be at most "
                               f"{human_size(MAX_CSV_BYTES)}")
    text, encoding = decode_csv(data, name)
    if "\x00" in text:
        raise ValidationFailed(f"{name} contains NUL bytes: it is not a CSV text file")
    delimiter = csv_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    done = {"records": 0, "lines": 0}  # read so far, to say where a broken record starts

    def records() -> Iterator[list[str]]:
        for cells in reader:
            done["records"], done["lines"] = done["records"] + 1, reader.line_num
            yield cells

    rows = records()
    try:
        header_cells = next(rows, None)
        if header_cells is None:
            raise ValidationFailed(f"{name} is empty: the first row must be the header (column names)")
        table = Table(_header(header_cells, name), [], encoding=encoding, delimiter=delimiter)
        _collect(table, rows, name)
    except csv.Error as err:
        raise ValidationFailed(f"{name} is not a readable CSV file (row {done['records'] + 1}, "
                               f"from line {done['lines'] + 1}: {err})") from None
    return table


def _read_xlsx(data: bytes, name: str) -> Table:
    """The first sheet, streamed row by row (``workflow/xlsx.py``), whatever dimension it declares."""
    from workflow import xlsx

    if len(data) > MAX_XLSX_BYTES:
        raise ValidationFailed(f"{name}: the file is {human_size(len(data))}; a workbook may be at most "
                               f"{human_size(MAX_XLSX_BYTES)}")
    unreadable = f"{name} is not a readable XLSX workbook"
    try:
        rows = xlsx.rows(data, MAX_COLUMNS + 1, MAX_XLSX_UNCOMPRESSED)
        header_cells = next(rows, None)
        if header_cells is None:
            raise ValidationFailed(f"{name} is empty: the first row must be the header (column names)")
        table = Table(_header(header_cells, name), [])
        _collect(table, rows, name)
    except ValidationFailed:
        raise
    except xlsx.WorkbookError as err:
        if "expands" in str(err):
            raise ValidationFailed(f"{name}: the workbook expands to more than "
                                   f"{human_size(MAX_XLSX_UNCOMPRESSED)}") from None
        raise ValidationFailed(f"{unreadable}: {err}") from None
    except Exception:  # a damaged zip or XML raises many kinds of errors; none is safe to show
        raise ValidationFailed(unreadable) from None
    return table


def read_table(path: Path) -> Table:
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed(f"{name}: only .csv and .xlsx files can be imported")
    if not path.is_file():
        raise ValidationFailed(f"{name}: no such file")
    try:
        limit = MAX_CSV_BYTES if suffix == ".csv" else MAX_XLSX_BYTES
        with path.open("rb") as fh:
            data = fh.read(limit + 1)  # one byte over says "too large" without reading a huge file
    except OSError as err:
        raise ValidationFailed(f"{name}: cannot read the file ({err.strerror or 'input/output error'})") from None
    if len(data) > limit:
        data_size = path.stat().st_size
        kind = "a CSV" if suffix == ".csv" else "a workbook"
        raise ValidationFailed(f"{name}: the file is {human_size(data_size)}; {kind} may be at most "
                               f"{human_size(limit)}")
    return parse_table(name, data)


def parse_table(name: str, data: bytes) -> Table:
    """The table of a file's content (an upload held in memory); ``name`` says CSV or XLSX by its ending."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed(f"{name}: only .csv and .xlsx files can be imported")
    return _read_csv(data, name) if suffix == ".csv" else _read_xlsx(data, name)


def read_rows(path: Path) -> list[dict[str, object]]:
    """The data rows of a CSV or XLSX file as {column: value}; ``rows[i]`` is spreadsheet row ``i + 2``.

    Column names are the header's, trimmed and lower-cased. Blank rows at the end are dropped; blank
    rows in between are kept (as rows of empty values) so that numbering stays spreadsheet-style.
    """
    return read_table(path).rows
