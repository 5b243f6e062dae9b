"""Bulk import of appeals and episodes from CSV or XLSX files (INTERFACES.md §2-§3).

Every row is validated before anything is written, and every problem is reported with its
spreadsheet row (the header is row 1) and column. Like every service, this module only flushes:
the caller owns the transaction and commits. A dry run validates and counts but writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import vocab
from workflow.appeals import REQUIRED, Appeal, AppealErrors, parse_appeal
from workflow.config import Settings
from workflow.errors import ValidationFailed
from workflow.models import Case, Document, Episode, User
from workflow.services.cases import open_case, update_case
from workflow.services.documents import attach_document
from workflow.services.episodes import upsert_episode
from workflow.storage import DocumentRejected, check_document, human_size

MAX_ROWS = 10_000
MAX_COLUMNS = 200
_MB = 1024 * 1024
MAX_CSV_BYTES = 5 * _MB
MAX_XLSX_BYTES = 20 * _MB
MAX_XLSX_UNCOMPRESSED = 200 * _MB  # a zip-bomb guard: a 10,000-row sheet is a few MB of XML
DOCUMENT_COLUMNS = ("form_of_appeal", "power_of_attorney")
# Documents kept in memory between validation and import; beyond this, a file is read again at
# import time and must still have the SHA-256 it was validated with.
DOCUMENT_CACHE_BYTES = 256 * _MB

EPISODE_REQUIRED = ("key", "title", "start_date", "end_date")
EPISODE_OPTIONAL = ("description",)
EPISODE_KEY = re.compile(r"^[a-z0-9_]{1,80}$")
_EPISODE_LIMITS = {"title": 300, "description": 20000}


# -- reading files --------------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: list[dict[str, object]]  # rows[i] is spreadsheet row i + 2; blank rows inside are kept
    extra_cells: dict[int, int] = field(default_factory=dict)  # spreadsheet row -> cells beyond the header


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(value: object) -> object:
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


def _add_row(table: _Table, cells: Sequence[object], name: str) -> None:
    number = len(table.rows) + 2
    if number - 1 > MAX_ROWS:
        raise ValidationFailed(f"{name}: more than {MAX_ROWS} data rows; split the file")
    width = len(table.header)
    extra = [c for c in cells[width:] if not _is_blank(c)]
    if extra:
        table.extra_cells[number] = len(extra)
    values = list(cells[:width]) + [None] * (width - len(cells))
    table.rows.append({col: _cell(v) for col, v in zip(table.header, values, strict=True) if col})


def _collect(table: _Table, rows: Iterator[Sequence[object]], name: str) -> None:
    """Add the data rows; blank rows count only when data follows them (trailing ones are dropped)."""
    blanks = 0
    for cells in rows:
        if all(_is_blank(c) for c in cells):
            blanks += 1
            continue
        for _ in range(blanks):
            _add_row(table, (), name)
        blanks = 0
        _add_row(table, cells, name)


def _blank_row(table: _Table, index: int) -> bool:
    """A row with nothing in it, skipped silently (spreadsheets often carry a few)."""
    return index + 2 not in table.extra_cells and all(_is_blank(v) for v in table.rows[index].values())


def _read_csv(path: Path, name: str) -> _Table:
    data = path.read_bytes()
    if len(data) > MAX_CSV_BYTES:
        raise ValidationFailed(f"{name}: the file is {human_size(len(data))}; a CSV may be at most "
                               f"{human_size(MAX_CSV_BYTES)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ValidationFailed(f"{name} is not UTF-8 text (first bad byte on line {line}); "
                               "save it as \"CSV UTF-8\"") from None
    if "\x00" in text:
        raise ValidationFailed(f"{name} contains NUL bytes: it is not a CSV text file")
    first_line = text.split("\n", 1)[0]
    # Excel in many locales (Russian and Kazakh included) writes ';'-separated "CSV".
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
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
        table = _Table(_header(header_cells, name), [])
        _collect(table, rows, name)
    except csv.Error as err:
        raise ValidationFailed(f"{name} is not a readable CSV file (row {done['records'] + 1}, "
                               f"from line {done['lines'] + 1}: {err})") from None
    return table


def _read_xlsx(path: Path, name: str) -> _Table:
    import openpyxl  # only needed here; keeps the import cheap for everything else

    size = path.stat().st_size
    if size > MAX_XLSX_BYTES:
        raise ValidationFailed(f"{name}: the file is {human_size(size)}; a workbook may be at most "
                               f"{human_size(MAX_XLSX_BYTES)}")
    unreadable = f"{name} is not a readable XLSX workbook"
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
                raise ValidationFailed(f"{name}: the workbook expands to more than "
                                       f"{human_size(MAX_XLSX_UNCOMPRESSED)}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ValidationFailed(unreadable) from None
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation, conditional formats): not our business.
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds of errors for damaged files; none is safe to show
            raise ValidationFailed(unreadable) from None
        try:
            if not workbook.worksheets:
                raise ValidationFailed(f"{unreadable}: it has no worksheet")
            sheet = workbook.worksheets[0]
            header_cells = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS + 1, values_only=True), None)
            if header_cells is None:
                raise ValidationFailed(f"{name} is empty: the first row must be the header (column names)")
            table = _Table(_header(header_cells, name), [])
            # One column past the header is enough to notice data outside the table.
            width = len(table.header) + 1
            _collect(table, sheet.iter_rows(min_row=2, max_col=width, values_only=True), name)
        except ValidationFailed:
            raise
        except Exception:
            raise ValidationFailed(unreadable) from None
        finally:
            workbook.close()
    return table


def _read_table(path: Path) -> _Table:
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationFailed(f"{name}: only .csv (UTF-8) and .xlsx files can be imported")
    if not path.is_file():
        raise ValidationFailed(f"{name}: no such file")
    try:
        return _read_csv(path, name) if suffix == ".csv" else _read_xlsx(path, name)
    except OSError as err:
        raise ValidationFailed(f"{name}: cannot read the file ({err.strerror or 'input/output error'})") from None


def read_rows(path: Path) -> list[dict[str, object]]:
    """The data rows of a CSV or XLSX file as {column: value}; ``rows[i]`` is spreadsheet row ``i + 2``.

    Column names are the header's, trimmed and lower-cased. Blank rows at the end are dropped; blank
    rows in between are kept (as rows of empty values) so that numbering stays spreadsheet-style.
    """
    return _read_table(path).rows


# -- appeals -------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row": int, "column": str|None, "message": str}

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "errors": [dict(e) for e in self.errors]}


@dataclass
class _Row:
    number: int
    appeal: Appeal
    documents: dict[str, tuple[str, str]]  # kind -> (file name, sha256)


class _Documents:
    """Reads and checks each named document once; keeps the bytes for the import within a budget."""

    def __init__(self, folder: Path | None, max_bytes: int) -> None:
        self.folder = folder.resolve() if folder is not None else None
        self.max_bytes = max_bytes
        self._checked: dict[str, tuple[str, str | None]] = {}  # name -> (sha256 or "", error or None)
        self._bytes: dict[str, bytes] = {}
        self._cached = 0

    def check(self, name: str) -> str:
        """The file's SHA-256; raises ValueError with a message for the report."""
        if name not in self._checked:
            try:
                self._checked[name] = (self._check(name), None)
            except ValueError as err:
                self._checked[name] = ("", str(err))
        digest, error = self._checked[name]
        if error is not None:
            raise ValueError(error)
        return digest

    def _path(self, name: str) -> Path:
        if self.folder is None:
            raise ValueError(f"{name}: names a document, but no documents folder was given (--documents)")
        if any(c in name for c in "/\\\x00") or name in (".", ".."):
            raise ValueError(f"{name}: give a plain file name inside the documents folder, not a path")
        path = self.folder / name
        # A symbolic link inside the folder must not lead out of it either.
        if path.resolve().parent != self.folder:
            raise ValueError(f"{name}: the file is outside the documents folder")
        return path

    def _check(self, name: str) -> str:
        path = self._path(name)
        if not path.is_file():
            raise ValueError(f"{name}: no such file in the documents folder")
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ValueError(f"{name}: file is {human_size(size)}, over the "
                                 f"{human_size(self.max_bytes)} limit")
            with path.open("rb") as fh:
                data = fh.read(self.max_bytes + 1)
        except OSError as err:
            raise ValueError(f"{name}: cannot read the file ({err.strerror or 'input/output error'})") from None
        try:
            check_document(data, name, self.max_bytes)
        except DocumentRejected as err:
            raise ValueError(f"{name}: {err}") from None
        if self._cached + len(data) <= DOCUMENT_CACHE_BYTES:
            self._bytes[name] = data
            self._cached += len(data)
        return hashlib.sha256(data).hexdigest()

    def for_row(self, row: _Row) -> dict[str, tuple[bytes, str]]:
        """{kind: (content, file name)}, as open_case wants them."""
        return {kind: (self.content(name, digest), name) for kind, (name, digest) in row.documents.items()}

    def content(self, name: str, sha256: str) -> bytes:
        data = self._bytes.get(name)
        if data is None:  # over the memory budget: read again, and insist it is the file we checked
            try:
                data = self._path(name).read_bytes()
            except (OSError, ValueError):
                raise ValidationFailed(f"{name} can no longer be read; run the import again") from None
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValidationFailed(f"{name} changed while the import was running; run the import again")
        return data


def _known_episodes(session: Session) -> set[str]:
    return set(session.scalars(select(Episode.key)))


def _existing_cases(session: Session, refs: Sequence[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        found.update((c.ref, c) for c in session.scalars(select(Case).where(Case.ref.in_(chunk))))
    return found


def import_appeals(session: Session, settings: Settings, actor: User | None, path: Path, *,
                   documents_dir: Path | None, dry_run: bool = False, partial: bool = False) -> ImportReport:
    """Validate every row of an appeals file, then open or update one case per valid row.

    Without ``partial`` one error imports nothing; with it, the valid rows are imported and each bad
    row is reported. ``dry_run`` validates and counts but writes nothing. Raises ValidationFailed when
    the file itself cannot be read; row problems are reported in the returned ImportReport.
    """
    table = _read_table(path)
    if documents_dir is not None and not Path(documents_dir).is_dir():
        raise ValidationFailed(f"documents folder {Path(documents_dir).name!r} not found")
    report = ImportReport()
    rows = [(i + 2, row) for i, row in enumerate(table.rows) if not _blank_row(table, i)]

    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        report.errors = [{"row": 1, "column": c, "message": "required column is missing"} for c in missing]
        report.rejected = len(rows)
        return report

    order = {c: i for i, c in enumerate(table.header)}
    episode_keys = _known_episodes(session)
    incident_types = set(vocab.keys(session, "incident_type"))
    documents = _Documents(documents_dir, settings.max_document_bytes)
    seen_refs: dict[str, int] = {}
    valid: list[_Row] = []
    bad_rows: set[int] = set()

    for number, row in rows:
        problems: dict[str | None, str] = {}
        if number in table.extra_cells:
            problems[None] = (f"{table.extra_cells[number]} more cell(s) than the header has columns "
                              "(an unquoted comma?)")
        appeal: Appeal | None = None
        try:
            appeal = parse_appeal(row, episode_keys, incident_types)
        except AppealErrors as err:
            problems.update(err.errors)
        ref = appeal.ref if appeal else str(row.get("ref") or "").strip()
        if ref and "ref" not in problems:
            if ref in seen_refs:
                problems["ref"] = f"{ref} is also the ref of row {seen_refs[ref]}"
            else:
                seen_refs[ref] = number
        files: dict[str, tuple[str, str]] = {}
        for kind in DOCUMENT_COLUMNS:
            if kind in problems:
                continue
            name = getattr(appeal, kind) if appeal else str(row.get(kind) or "").strip()
            if not name:
                continue
            try:
                files[kind] = (name, documents.check(name))
            except ValueError as err:
                problems[kind] = str(err)
        if problems:
            bad_rows.add(number)
            for column in sorted(problems, key=lambda c: (c is not None, order.get(c or "", len(order)))):
                report.errors.append({"row": number, "column": column, "message": problems[column]})
        else:
            assert appeal is not None
            valid.append(_Row(number, appeal, files))

    report.rejected = len(bad_rows)
    if report.errors and not partial:
        return report

    existing = _existing_cases(session, [r.appeal.ref for r in valid])
    for item in valid:
        case = existing.get(item.appeal.ref)
        if dry_run:
            if case is None:
                report.created += 1
            elif case.source_hash == item.appeal.fingerprint():
                report.unchanged += 1
            else:
                report.updated += 1
            continue
        if case is None:
            open_case(session, settings, actor, item.appeal, documents.for_row(item), imported=True)
            report.created += 1
        elif update_case(session, actor, case, item.appeal):
            _attach_new_documents(session, settings, actor, case, documents.for_row(item))
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _attach_new_documents(session: Session, settings: Settings, actor: User | None, case: Case,
                          contents: Mapping[str, tuple[bytes, str]]) -> None:
    """A changed row may name a document that came later (or a new scan): store what is not there yet."""
    for kind, (content, name) in contents.items():
        digest = hashlib.sha256(content).hexdigest()
        stored = session.scalar(select(Document.id).where(Document.case_id == case.id, Document.kind == kind,
                                                          Document.sha256 == digest).limit(1))
        if stored is None:
            attach_document(session, settings, actor, case, kind, content, name)


# -- episodes ------------------------------------------------------------------------------------------


def _optional_date(value: object) -> date | None:
    value = _cell(value)
    if _is_blank(value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None


def read_episodes(path: Path) -> list[dict[str, Any]]:
    """Validated episodes: ``key``, ``title``, ``start_date``, ``end_date``, ``description``.

    Every row is checked first; any problem raises one ValidationFailed naming each row and column.
    """
    table = _read_table(path)
    name = Path(path).name
    missing = [c for c in EPISODE_REQUIRED if c not in table.header]
    if missing:
        raise ValidationFailed(f"{name}: row 1: required column(s) missing: {', '.join(missing)}",
                               errors={f"row 1: {c}": "required column is missing" for c in missing})
    problems: dict[str, str] = {}
    episodes: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(table.rows):
        number = index + 2
        if _blank_row(table, index):
            continue
        errors: dict[str, str] = {}
        if number in table.extra_cells:
            errors["row"] = "more cells than the header has columns (an unquoted comma?)"
        text = {c: ("" if _is_blank(row.get(c)) else str(row.get(c)).strip())
                for c in ("key", "title", "description")}
        key = text["key"]
        if not EPISODE_KEY.match(key):
            errors["key"] = "use 1 to 80 lower-case letters, digits or underscores"
        elif key in seen:
            errors["key"] = f"{key} is also the key of row {seen[key]}"
        else:
            seen[key] = number
        if not text["title"]:
            errors["title"] = "is required"
        for column, limit in _EPISODE_LIMITS.items():
            if len(text[column]) > limit:
                errors[column] = f"longer than {limit} characters"
        dates: dict[str, date | None] = {}
        for column in ("start_date", "end_date"):
            try:
                dates[column] = _optional_date(row.get(column))
            except ValueError as err:
                errors[column] = str(err)
        start, end = dates.get("start_date"), dates.get("end_date")
        if start and end and end < start:
            errors["end_date"] = "is before start_date"
        if errors:
            problems.update({f"row {number}: {c}": m for c, m in errors.items()})
            continue
        episodes.append({"key": key, "title": text["title"], "start_date": start, "end_date": end,
                         "description": text["description"] or None})
    if problems:
        listed = "; ".join(f"{k}: {m}" for k, m in list(problems.items())[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValidationFailed(f"{name}: {len(problems)} error(s), nothing imported: {listed}{more}",
                               errors=problems)
    return episodes


def import_episodes(session: Session, actor: User | None, path: Path) -> dict[str, int]:
    """Create or update episodes by key (idempotent); returns {"created", "updated", "unchanged"}."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for episode in read_episodes(path):
        _, outcome = upsert_episode(session, actor, episode["key"], episode["title"], episode["start_date"],
                                    episode["end_date"], episode["description"])
        counts[outcome] += 1
    return counts


__all__ = ["ImportReport", "import_appeals", "import_episodes", "read_episodes", "read_rows"]
