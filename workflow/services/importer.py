"""Bulk import of appeals and episodes from CSV or XLSX files (docs/INTERFACES.md §3).

Every row is validated before anything is written (``schemas.appeal.AppealSchema``, the same rules as the API),
and every problem is reported with its spreadsheet row (the header is row 1) and column. Like every service, this
module only flushes: the caller owns the transaction and commits. A dry run validates and counts but writes
nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import ValidationFailed
from workflow.models import Case, Document, User
from workflow.problems import Problem, in_file
from workflow.schemas.appeal import COLUMNS, DOCUMENT_FIELDS, REQUIRED, Appeal, AppealSchema
from workflow.services.cases import KnownKeys, open_case, update_case
from workflow.services.documents import attach_document
from workflow.services.episodes import upsert_episode
from workflow.tabular import Table, blank_row, cell_value, is_blank, read_rows, read_table
from workflow.uploads import DocumentRejected, check_document, human_size

_MB = 1024 * 1024
# Documents kept in memory between validation and import; beyond this, a file is read again at
# import time and must still have the SHA-256 it was validated with.
DOCUMENT_CACHE_BYTES = 256 * _MB
DATE_COLUMNS = frozenset({"incident_date", "received_on", "birth_date"})

EPISODE_REQUIRED = ("key", "title", "start_date", "end_date")
EPISODE_OPTIONAL = ("description",)
EPISODE_KEY = re.compile(r"^[a-z0-9_]{1,80}$")
_EPISODE_LIMITS = {"title": 300, "description": 20000}


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    problem: Problem


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> list[dict[str, Any]]:
        """{"row", "column", "message"} per problem: the report's JSON shape (messages in English)."""
        return [{"row": p.row, "column": p.column, "message": p.problem.text} for p in self.problems]

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "errors": self.errors}


@dataclass
class _Row:
    number: int
    appeal: Appeal
    documents: dict[str, tuple[str, str]]  # kind -> (file name, sha256)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


class _Documents:
    """Reads and checks each named document once; keeps the bytes for the import within a budget."""

    def __init__(self, folder: Path | None, max_bytes: int) -> None:
        self.folder = folder.resolve() if folder is not None else None
        self.max_bytes = max_bytes
        self._checked: dict[str, tuple[str, Problem | None]] = {}  # name -> (sha256 or "", problem or None)
        self._bytes: dict[str, bytes] = {}
        self._cached = 0

    def check(self, name: str) -> str:
        """The file's SHA-256; raises _Refused with the problem for the report."""
        if name not in self._checked:
            try:
                self._checked[name] = (self._check(name), None)
            except _Refused as err:
                self._checked[name] = ("", in_file(name, err.problem))
        digest, problem = self._checked[name]
        if problem is not None:
            raise _Refused(problem)
        return digest

    def _path(self, name: str) -> Path:
        if self.folder is None:
            raise _Refused(Problem("no_documents_folder"))
        if any(c in name for c in "/\\\x00") or name in (".", ".."):
            raise _Refused(Problem("document_path"))
        path = self.folder / name
        # A symbolic link inside the folder must not lead out of it either.
        if path.resolve().parent != self.folder:
            raise _Refused(Problem("document_outside"))
        return path

    def _check(self, name: str) -> str:
        path = self._path(name)
        if not path.is_file():
            raise _Refused(Problem("document_missing"))
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise _Refused(Problem("file_too_large", {"size": human_size(size),
                                                          "limit": human_size(self.max_bytes)}))
            with path.open("rb") as fh:
                data = fh.read(self.max_bytes + 1)
        except OSError as err:
            raise _Refused(Problem("document_unreadable", {"reason": err.strerror or "input/output error"})) from None
        try:
            check_document(data, name, self.max_bytes)
        except DocumentRejected as err:
            raise _Refused(err.problem) from None
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
            except (OSError, _Refused):
                raise ValidationFailed(f"{name} can no longer be read; run the import again") from None
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValidationFailed(f"{name} changed while the import was running; run the import again")
        return data


def _as_input(column: str, value: object) -> object:
    """A spreadsheet cell as the appeal schema reads it: numbers typed into text columns become text."""
    value = cell_value(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():  # spreadsheets turn "12345" into 12345.0
        value = int(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date) and column not in DATE_COLUMNS:
        return value.isoformat()
    return value


def _existing_cases(session: Session, refs: Sequence[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        found.update((c.ref, c) for c in session.scalars(select(Case).where(Case.ref.in_(chunk))))
    return found


def _check_rows(table: Table, rows: list[tuple[int, dict[str, object]]], schema: AppealSchema,
                documents: _Documents, report: ImportReport) -> list[_Row]:
    """The valid rows; each problem of the others goes into the report."""
    order = {c: i for i, c in enumerate(table.header)}
    seen_refs: dict[str, int] = {}
    valid: list[_Row] = []
    for number, row in rows:
        problems: dict[str | None, Problem] = {}
        if number in table.extra_cells:
            problems[None] = Problem("extra_cells", {"count": table.extra_cells[number]})
        appeal: Appeal | None = None
        try:
            appeal = schema.appeal({c: _as_input(c, v) for c, v in row.items() if c in COLUMNS})
        except ValidationFailed as err:
            problems.update(err.errors)
        ref = appeal.ref if appeal else str(row.get("ref") or "").strip()
        if ref and "ref" not in problems:
            if ref in seen_refs:
                problems["ref"] = Problem("duplicate_ref", {"ref": ref, "row": seen_refs[ref]})
            else:
                seen_refs[ref] = number
        files: dict[str, tuple[str, str]] = {}
        for kind in DOCUMENT_FIELDS:
            name = getattr(appeal, kind) if appeal else str(row.get(kind) or "").strip()
            if kind in problems or not name:
                continue
            try:
                files[kind] = (name, documents.check(name))
            except _Refused as err:
                problems[kind] = err.problem
        if problems:
            report.rejected += 1
            for column in sorted(problems, key=lambda c: (c is not None, order.get(c or "", len(order)))):
                report.problems.append(RowProblem(number, column, problems[column]))
        elif appeal is not None:
            valid.append(_Row(number, appeal, files))
    return valid


def import_appeals(session: Session, settings: Settings, actor: User | None, path: Path, *,
                   documents_dir: Path | None, dry_run: bool = False, partial: bool = False) -> ImportReport:
    """Validate every row of an appeals file, then open or update one case per valid row.

    Without ``partial`` one error imports nothing; with it, the valid rows are imported and each bad
    row is reported. ``dry_run`` validates and counts but writes nothing. Raises ValidationFailed when
    the file itself cannot be read; row problems are reported in the returned ImportReport.
    """
    table = read_table(path)
    if documents_dir is not None and not Path(documents_dir).is_dir():
        raise ValidationFailed(f"documents folder {Path(documents_dir).name!r} not found")
    report = ImportReport()
    rows = [(i + 2, row) for i, row in enumerate(table.rows) if not blank_row(table, i)]

    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        report.problems = [RowProblem(1, c, Problem("missing_column")) for c in missing]
        report.rejected = len(rows)
        return report

    known = KnownKeys(session)
    schema = AppealSchema(known=lambda: known, documents="names")
    documents = _Documents(documents_dir, settings.max_document_bytes)
    valid = _check_rows(table, rows, schema, documents, report)
    if report.problems and not partial:
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
    value = cell_value(value)
    if is_blank(value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _Refused(Problem("not_date")) from None


def read_episodes(path: Path) -> list[dict[str, Any]]:
    """Validated episodes: ``key``, ``title``, ``start_date``, ``end_date``, ``description``.

    Every row is checked first; any problem raises one ValidationFailed naming each row and column.
    """
    table = read_table(path)
    name = Path(path).name
    missing = [c for c in EPISODE_REQUIRED if c not in table.header]
    if missing:
        raise ValidationFailed(f"{name}: row 1: required column(s) missing: {', '.join(missing)}",
                               errors={f"row 1: {c}": Problem("missing_column") for c in missing})
    problems: dict[str, Problem] = {}
    episodes: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(table.rows):
        number = index + 2
        if blank_row(table, index):
            continue
        errors: dict[str, Problem] = {}
        if number in table.extra_cells:
            errors["row"] = Problem("extra_cells", {"count": table.extra_cells[number]})
        text = {c: ("" if is_blank(row.get(c)) else str(row.get(c)).strip())
                for c in ("key", "title", "description")}
        key = text["key"]
        if not EPISODE_KEY.match(key):
            errors["key"] = Problem("bad_episode_key")
        elif key in seen:
            errors["key"] = Problem("duplicate_episode_key", {"key": key, "row": seen[key]})
        else:
            seen[key] = number
        if not text["title"]:
            errors["title"] = Problem("required")
        for column, limit in _EPISODE_LIMITS.items():
            if len(text[column]) > limit:
                errors[column] = Problem("too_long", {"max": limit})
        dates: dict[str, date | None] = {}
        for column in ("start_date", "end_date"):
            try:
                dates[column] = _optional_date(row.get(column))
            except _Refused as err:
                errors[column] = err.problem
        start, end = dates.get("start_date"), dates.get("end_date")
        if start and end and end < start:
            errors["end_date"] = Problem("end_before_start")
        if errors:
            problems.update({f"row {number}: {c}": m for c, m in errors.items()})
            continue
        episodes.append({"key": key, "title": text["title"], "start_date": start, "end_date": end,
                         "description": text["description"] or None})
    if problems:
        listed = "; ".join(f"{k}: {m.text}" for k, m in list(problems.items())[:5])
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
