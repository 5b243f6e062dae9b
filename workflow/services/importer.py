"""Bulk import of appeals and episodes from CSV or XLSX files (docs/INTERFACES.md §3).

Every row is validated before anything is written (``schemas.appeal.AppealSchema``, the same rules as the API),
and every problem is reported with its spreadsheet row (the header is row 1) and column. Like every service, this
module only flushes: the caller owns the transaction and commits. A dry run validates and counts but writes
nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import ValidationFailed
from workflow.models import Case, Document, User
from workflow.problems import Problem, in_file
from workflow.schemas.appeal import COLUMNS, DOCUMENT_FIELDS, REQUIRED, Appeal, AppealSchema
from workflow.services.cases import KnownKeys, open_case, open_cases, update_case
from workflow.services.documents import attach_document
from workflow.services.episodes import import_episodes, read_episodes
from workflow.storage import DocumentStore
from workflow.tabular import Table, blank_row, cell_value, read_rows, read_table
from workflow.uploads import DocumentRejected, check_document, human_size

_MB = 1024 * 1024
# Documents kept in memory between validation and import; beyond this, a file is read again at
# import time and must still have the SHA-256 it was validated with.
DOCUMENT_CACHE_BYTES = 256 * _MB
DATE_COLUMNS = frozenset({"incident_date", "received_on", "birth_date"})



@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    problem: Problem


@dataclass(frozen=True)
class RowOutcome:
    row: int
    ref: str
    outcome: str  # created, updated or unchanged (what was done, or in a dry run what would be)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)  # per valid row, in file order
    encoding: str | None = None  # how a CSV was read (tabular.UTF8 or WINDOWS_1251)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> list[dict[str, Any]]:
        """{"row", "column", "message"} per problem: the report's JSON shape (messages in English)."""
        return [{"row": p.row, "column": p.column, "message": p.problem.text} for p in self.problems]

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "errors": self.errors}


@dataclass
class ValidRow:
    number: int
    appeal: Appeal
    documents: dict[str, tuple[str, str]]  # kind -> (file name, sha256)


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


class Documents:
    """Reads and checks each named document once; keeps the bytes for the import within a budget.

    Where the files come from is the subclass's business: a folder (the command line) or the encrypted
    staging of an upload (the pages).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._checked: dict[str, tuple[str, Problem | None]] = {}  # name -> (sha256 or "", problem or None)
        self._bytes: dict[str, bytes] = {}
        self._cached = 0

    def _read(self, name: str) -> bytes:
        """The file's content (at most max_bytes + 1 of it); raises _Refused."""
        raise NotImplementedError

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

    def _check(self, name: str) -> str:
        data = self._read(name)
        try:
            check_document(data, name, self.max_bytes)
        except DocumentRejected as err:
            raise _Refused(err.problem) from None
        if self._cached + len(data) <= DOCUMENT_CACHE_BYTES:
            self._bytes[name] = data
            self._cached += len(data)
        return hashlib.sha256(data).hexdigest()

    def for_row(self, row: ValidRow) -> dict[str, tuple[bytes, str]]:
        """{kind: (content, file name)}, as open_case wants them."""
        return {kind: (self.content(name, digest), name) for kind, (name, digest) in row.documents.items()}

    def content(self, name: str, sha256: str) -> bytes:
        data = self._bytes.get(name)
        if data is None:  # over the memory budget: read again, and insist it is the file we checked
            try:
                data = self._read(name)
            except _Refused:
                raise ValidationFailed(f"{name} can no longer be read; run the import again") from None
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValidationFailed(f"{name} changed while the import was running; run the import again")
        return data


class FolderDocuments(Documents):
    """The documents of ``petitio intake import --documents DIR``: plain names inside one folder."""

    def __init__(self, folder: Path | None, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.folder = folder.resolve() if folder is not None else None

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

    def _read(self, name: str) -> bytes:
        path = self._path(name)
        if not path.is_file():
            raise _Refused(Problem("document_missing"))
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise _Refused(Problem("file_too_large", {"size": human_size(size),
                                                          "limit": human_size(self.max_bytes)}))
            with path.open("rb") as fh:
                return fh.read(self.max_bytes + 1)
        except OSError as err:
            raise _Refused(Problem("document_unreadable", {"reason": err.strerror or "input/output error"})) from None


class StagedDocuments(Documents):
    """Documents uploaded with an import page: ``{file name: blob key}`` in the encrypted document store."""

    def __init__(self, store: DocumentStore, keys: Mapping[str, str], max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.store = store
        self.keys = dict(keys)

    def _read(self, name: str) -> bytes:
        key = self.keys.get(name)
        if key is None:
            raise _Refused(Problem("document_not_uploaded"))
        try:
            return self.store.get(key)
        except (OSError, ValueError):
            raise _Refused(Problem("document_unreadable", {"reason": "staged copy missing"})) from None


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


def existing_cases(session: Session, refs: Sequence[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        found.update((c.ref, c) for c in session.scalars(select(Case).where(Case.ref.in_(chunk))))
    return found


def check_row(schema: AppealSchema, row: Mapping[str, object], documents: Documents,
              extra_cells: int = 0) -> tuple[Appeal | None, dict[str, tuple[str, str]], dict[str | None, Problem]]:
    """One data row checked: (appeal or None, {kind: (file name, sha256)}, {column or None: problem})."""
    problems: dict[str | None, Problem] = {}
    if extra_cells:
        problems[None] = Problem("extra_cells", {"count": extra_cells})
    appeal: Appeal | None = None
    try:
        appeal = schema.appeal({c: _as_input(c, v) for c, v in row.items() if c in COLUMNS})
    except ValidationFailed as err:
        problems.update(err.errors)
    files: dict[str, tuple[str, str]] = {}
    for kind in DOCUMENT_FIELDS:
        name = getattr(appeal, kind) if appeal else str(row.get(kind) or "").strip()
        if kind in problems or not name:
            continue
        try:
            files[kind] = (name, documents.check(name))
        except _Refused as err:
            problems[kind] = err.problem
    return appeal, files, problems


def _check_rows(table: Table, rows: list[tuple[int, dict[str, object]]], schema: AppealSchema,
                documents: Documents, report: ImportReport) -> list[ValidRow]:
    """The valid rows; each problem of the others goes into the report."""
    order = {c: i for i, c in enumerate(table.header)}
    seen_refs: dict[str, int] = {}
    valid: list[ValidRow] = []
    for number, row in rows:
        appeal, files, problems = check_row(schema, row, documents, table.extra_cells.get(number, 0))
        ref = appeal.ref if appeal else str(row.get("ref") or "").strip()
        if ref and "ref" not in problems:
            if ref in seen_refs:
                problems["ref"] = Problem("duplicate_ref", {"ref": ref, "row": seen_refs[ref]})
            else:
                seen_refs[ref] = number
        if problems:
            report.rejected += 1
            for column in sorted(problems, key=lambda c: (c is not None, order.get(c or "", len(order)))):
                report.problems.append(RowProblem(number, column, problems[column]))
        elif appeal is not None:
            valid.append(ValidRow(number, appeal, files))
    return valid


@dataclass
class ImportPlan:
    """What a file would do: the report of its problems (and, once counted, outcomes) and its valid rows."""

    report: ImportReport
    rows: list[ValidRow]
    documents: Documents


def plan_import(session: Session, table: Table, documents: Documents) -> ImportPlan:
    """Validate every row and count what each valid one would do (created, updated, unchanged); writes nothing."""
    report = ImportReport(encoding=table.encoding)
    rows = [(i + 2, row) for i, row in enumerate(table.rows) if not blank_row(table, i)]
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        report.problems = [RowProblem(1, c, Problem("missing_column")) for c in missing]
        report.rejected = len(rows)
        return ImportPlan(report, [], documents)
    known = KnownKeys(session)
    schema = AppealSchema(known=lambda: known, documents="names")
    valid = _check_rows(table, rows, schema, documents, report)
    existing = existing_cases(session, [r.appeal.ref for r in valid])
    for item in valid:
        report.outcomes.append(RowOutcome(item.number, item.appeal.ref,
                                          would_do(existing.get(item.appeal.ref), item.appeal)))
    return ImportPlan(report, valid, documents)


def would_do(case: Case | None, appeal: Appeal) -> str:
    if case is None:
        return "created"
    return "unchanged" if case.source_hash == appeal.fingerprint() else "updated"


def apply_row(session: Session, settings: Settings, actor: User | None, appeal: Appeal,
              contents: Mapping[str, tuple[bytes, str]], case: Case | None = None) -> str:
    """Open or update the case of one valid row; 'created', 'updated' or 'unchanged'. Idempotent by ref and
    fingerprint, so a batch or job item done again after a crash changes nothing."""
    if case is None:
        case = session.scalar(select(Case).where(Case.ref == appeal.ref))
    if case is None:
        open_case(session, settings, actor, appeal, contents, imported=True)
        return "created"
    if update_case(session, actor, case, appeal):
        _attach_new_documents(session, settings, actor, case, contents)
        return "updated"
    return "unchanged"


def apply_plan(session: Session, settings: Settings, actor: User | None, plan: ImportPlan,
               rows: Sequence[ValidRow]) -> dict[str, int]:
    """Write ``rows`` (a batch of the plan's valid rows); {outcome: count}. Flushes; the caller commits.

    The new cases of the batch are opened together (``open_cases``: a few flushes for the lot, not a dozen each);
    existing ones are updated row by row, as ``apply_row`` does."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = existing_cases(session, [r.appeal.ref for r in rows])
    new = [item for item in rows if item.appeal.ref not in existing]
    if new:
        open_cases(session, settings, actor, [(item.appeal, plan.documents.for_row(item)) for item in new],
                   imported=True)
        counts["created"] = len(new)
    for item in rows:
        if (case := existing.get(item.appeal.ref)) is not None:
            counts[apply_row(session, settings, actor, item.appeal, plan.documents.for_row(item), case)] += 1
    return counts


def import_appeals(session: Session, settings: Settings, actor: User | None, path: Path, *,
                   documents_dir: Path | None, dry_run: bool = False, partial: bool = False) -> ImportReport:
    """Validate every row of an appeals file, then open or update one case per valid row, in one transaction.

    Without ``partial`` one error imports nothing; with it, the valid rows are imported and each bad
    row is reported. ``dry_run`` validates and counts but writes nothing. Raises ValidationFailed when
    the file itself cannot be read; row problems are reported in the returned ImportReport.
    """
    plan = plan_appeals_file(session, settings, path, documents_dir)
    report = plan.report
    if report.problems and not partial:
        report.outcomes = []
        return report
    for outcome in report.outcomes:
        report.count(outcome.outcome)
    if not dry_run:
        apply_plan(session, settings, actor, plan, plan.rows)
    return report


def plan_appeals_file(session: Session, settings: Settings, path: Path, documents_dir: Path | None) -> ImportPlan:
    """``plan_import`` of a file and a documents folder (the command line)."""
    table = read_table(path)
    if documents_dir is not None and not Path(documents_dir).is_dir():
        raise ValidationFailed(f"documents folder {Path(documents_dir).name!r} not found")
    return plan_import(session, table, FolderDocuments(documents_dir, settings.max_document_bytes))


def _attach_new_documents(session: Session, settings: Settings, actor: User | None, case: Case,
                          contents: Mapping[str, tuple[bytes, str]]) -> None:
    """A changed row may name a document that came later (or a new scan): store what is not there yet."""
    for kind, (content, name) in contents.items():
        digest = hashlib.sha256(content).hexdigest()
        stored = session.scalar(select(Document.id).where(Document.case_id == case.id, Document.kind == kind,
                                                          Document.sha256 == digest).limit(1))
        if stored is None:
            attach_document(session, settings, actor, case, kind, content, name)


__all__ = ["Documents", "FolderDocuments", "ImportPlan", "ImportReport", "StagedDocuments", "apply_plan", "apply_row",
           "import_appeals", "import_episodes", "plan_appeals_file", "plan_import", "read_episodes", "read_rows"]
