"""Imports from the pages: uploads staged encrypted, a preview (a dry run), and the job that writes the rows.

The clerk's upload (a CSV or XLSX, and the documents as a zip or as many files) is staged in the encrypted
document store, never in the clear on disk, with a small manifest (itself a staged blob) naming what was
uploaded. The preview plans the import from the staging and writes nothing. Confirming plans again (the
database may have changed since) and creates a job of kind ``import_appeals`` with one item per valid row;
each item checks its row again and opens or updates its case in its own transaction (``services/jobs.py``).
When the job is finished its staged files are deleted (``jobs.FINISHERS``).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import Case, Job, JobItem, User
from workflow.problems import Problem, from_data, to_data
from workflow.runtime.context import document_store
from workflow.schemas.appeal import COLUMNS, AppealSchema
from workflow.services import jobs
from workflow.services.cases import KnownKeys
from workflow.services.importer import ImportPlan, StagedDocuments, ValidRow, apply_row, check_row, plan_import
from workflow.storage import DocumentStore
from workflow.tabular import MAX_CSV_BYTES, MAX_XLSX_BYTES, Table, parse_table
from workflow.uploads import DocumentRejected, check_filename, human_size

KIND = "import_appeals"
_MB = 1024 * 1024
MAX_UPLOAD_BYTES = 512 * _MB  # one request: the spreadsheet and every document
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_UNCOMPRESSED = 1024 * _MB
ZIP_MAX_RATIO = 100  # scans and PDFs barely compress; a bomb compresses a thousandfold
_RATIO_APPLIES_ABOVE = _MB
# Archive entries that are not documents: folders, macOS resource forks, desktop files.
_IGNORED_PREFIXES = ("__MACOSX/",)


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


@dataclass
class Staging:
    """What one upload staged: the manifest, itself kept encrypted under ``key``."""

    user_id: int
    table_name: str
    table_key: str
    documents: dict[str, str] = field(default_factory=dict)  # file name -> blob key
    encoding: str | None = None
    key: str = ""

    def blob_keys(self) -> list[str]:
        return [k for k in (self.table_key, *self.documents.values(), self.key) if k]


def base_name(name: str) -> str:
    """The file name alone: folders in a zip, or a Windows path an old browser sends, are dropped."""
    return PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name.strip()


def _zip_documents(upload: Upload, max_document: int) -> Iterable[tuple[str, bytes]]:
    """The files of a zip, each by its base name, with the limits of a hostile archive checked first."""
    name = upload.filename
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.content))
        entries = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith(_IGNORED_PREFIXES)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise _refused("documents", Problem("zip_unreadable", {"name": name})) from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise _refused("documents", Problem("zip_too_many_entries", {"name": name, "max": ZIP_MAX_ENTRIES}))
    if sum(i.file_size for i in entries) > ZIP_MAX_UNCOMPRESSED:
        raise _refused("documents", Problem("zip_too_large", {"name": name,
                                                              "limit": human_size(ZIP_MAX_UNCOMPRESSED)}))
    for info in entries:
        parts = info.filename.replace("\\", "/").split("/")
        if ".." in parts or info.filename.startswith(("/", "\\")) or ":" in parts[0]:
            # Never extracted to disk here, but an archive built to climb out of its folder is not a scan.
            raise _refused("documents", Problem("zip_entry_path", {"name": name, "entry": info.filename}))
        entry = base_name(info.filename)
        if not entry or entry.startswith("."):
            continue
        if info.file_size > max_document:
            raise _refused("documents", Problem("zip_entry_too_large", {
                "name": name, "entry": entry, "limit": human_size(max_document)}))
        if info.file_size > _RATIO_APPLIES_ABOVE and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise _refused("documents", Problem("zip_compressed", {"name": name, "entry": entry,
                                                                   "ratio": ZIP_MAX_RATIO}))
        try:
            with archive.open(info) as fh:
                data = fh.read(max_document + 1)  # the declared size may lie: never read past the limit
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError):
            raise _refused("documents", Problem("zip_unreadable", {"name": name})) from None
        if len(data) > max_document:
            raise _refused("documents", Problem("zip_entry_too_large", {
                "name": name, "entry": entry, "limit": human_size(max_document)}))
        yield entry, data


def _refused(field_name: str, problem: Problem) -> ValidationFailed:
    return ValidationFailed(f"the upload was refused: {problem.text}", errors={field_name: problem})


def stage_upload(settings: Settings, actor: User, table: Upload, documents: Sequence[Upload],
                 session: Session | None = None) -> Staging:
    """Check the upload's shape and stage it encrypted; ValidationFailed (``spreadsheet`` or ``documents``)
    names what was refused, and then nothing stays staged."""
    name = base_name(table.filename)
    try:  # shown on the pages and in the report: the rule of every file name
        check_filename(name)
    except DocumentRejected as err:
        raise _refused("spreadsheet", err.problem) from None
    suffix = PurePosixPath(name.lower()).suffix
    if suffix not in (".csv", ".xlsx"):
        raise _refused("spreadsheet", Problem("import_file_type"))
    limit = MAX_CSV_BYTES if suffix == ".csv" else MAX_XLSX_BYTES
    if len(table.content) > limit:
        raise _refused("spreadsheet", Problem("file_too_large", {"size": human_size(len(table.content)),
                                                                 "limit": human_size(limit)}))
    # With documents in the database the staged blobs go in the request's transaction (``session``): on SQLite
    # a write of its own would wait for the lock that transaction holds.
    store = document_store(settings, session)
    staging = Staging(actor.id, name, "")
    try:
        staging.table_key = store.stage(table.content).key
        for upload in documents:
            if not upload.filename and not upload.content:
                continue  # an empty file input
            if base_name(upload.filename).lower().endswith(".zip"):
                found: Iterable[tuple[str, bytes]] = _zip_documents(upload, settings.max_document_bytes)
            else:
                found = [(base_name(upload.filename), upload.content)]
            # Each file is staged as soon as it is read: one expanded document in memory at a time.
            for entry, content in found:
                if entry in staging.documents:
                    raise _refused("documents", Problem("duplicate_document_name", {"file": entry}))
                staging.documents[entry] = store.stage(content).key
        staging.key = store.stage(json.dumps(asdict(staging)).encode()).key
    except BaseException:
        _delete(store, staging.blob_keys())
        raise
    return staging


def load_staging(settings: Settings, actor: User, key: str, session: Session | None = None) -> Staging:
    """The staging an upload made; only its uploader may use it. ValidationFailed when it is gone."""
    gone = ValidationFailed("this upload is no longer staged", errors={"spreadsheet": Problem("staging_gone")})
    try:
        data = json.loads(document_store(settings, session).get(key))
    except (OSError, ValueError):
        raise gone from None
    staging = Staging(**data)
    staging.key = key
    if staging.user_id != actor.id:
        raise Forbidden("this upload belongs to someone else")
    return staging


def discard_staging(settings: Settings, staging: Staging, session: Session | None = None) -> None:
    _delete(document_store(settings, session), staging.blob_keys())
    _CACHE.pop(staging.table_key, None)


def _delete(store: DocumentStore, keys: Iterable[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # not a key of ours: nothing on disk to delete
            store.delete(key)


# The staged table and documents of the job being run, so that each item does not decrypt and parse the
# whole spreadsheet again. One entry: a process runs one import job at a time.
_CACHE: dict[str, tuple[Table, StagedDocuments]] = {}


def _staged(settings: Settings, staging: Staging, *, keep: bool,
            session: Session | None = None) -> tuple[Table, StagedDocuments]:
    """The staged table and documents; ``keep`` caches them for the items of a running job (a preview does
    not: a web process should not hold a clerk's scans in memory until the next import)."""
    cached = _CACHE.get(staging.table_key)
    if cached is None:
        store = document_store(settings, None if keep else session)  # a kept store outlives the session
        table = parse_table(staging.table_name, store.get(staging.table_key))
        staging.encoding = table.encoding
        cached = (table, StagedDocuments(store, staging.documents, settings.max_document_bytes))
        if keep:
            _CACHE.clear()
            _CACHE[staging.table_key] = cached
    return cached


def preview(session: Session, settings: Settings, staging: Staging) -> ImportPlan:
    """What the staged upload would do (a dry run: the report's outcomes and problems); writes nothing."""
    try:
        table, documents = _staged(settings, staging, keep=False, session=session)
    except OSError:
        raise ValidationFailed("the upload is no longer staged",
                               errors={"spreadsheet": Problem("staging_gone")}) from None
    return plan_import(session, table, documents)


def start_import(session: Session, settings: Settings, actor: User, staging: Staging) -> Job:
    """A job importing the staged upload's valid rows (planned again now); the rows with errors are
    recorded in its report. Flushes; the caller commits and runs it (``jobs.run``) or leaves it to the worker."""
    plan = preview(session, settings, staging)
    if not plan.rows:
        raise ValidationFailed("no row can be imported", errors={"spreadsheet": Problem("nothing_to_import")})
    rejected = [{"row": p.row, "column": p.column, "problem": to_data(p.problem)} for p in plan.report.problems]
    params = {"staging": asdict(staging), "rows": [r.number for r in plan.rows], "rejected": rejected}
    return jobs.create_job(session, actor, KIND, params, [jobs.Subject(r.appeal.ref) for r in plan.rows])


def _staging_of(job: Job) -> Staging:
    return Staging(**job.params["staging"])


@jobs.handler(KIND)
def _import_row(session: Session, settings: Settings, actor: User, job: Job, item: JobItem) -> jobs.ItemResult:
    """One row: checked again (episodes or terms may have changed since the preview), then its case opened
    or updated. A row with a problem now is refused with it, as in the preview."""
    table, documents = _staged(settings, _staging_of(job), keep=True)
    number = job.params["rows"][item.position]
    known = KnownKeys(session)
    schema = AppealSchema(known=lambda: known, documents="names")
    appeal, files, problems = check_row(schema, table.rows[number - 2], documents)
    if problems or appeal is None:
        raise ValidationFailed(f"row {number} has errors",
                               errors={c or "row": Problem(p.code, to_data(p)["params"]) for c, p in problems.items()})
    outcome = apply_row(session, settings, actor, appeal, documents.for_row(ValidRow(number, appeal, files)))
    item.case_id = session.scalar(select(Case.id).where(Case.ref == appeal.ref))
    return jobs.ItemResult(outcome=outcome)


def _finish(session: Session, settings: Settings, job: Job) -> None:
    discard_staging(settings, _staging_of(job), session)


def staged_keys(session: Session) -> set[str]:
    """The blobs import jobs stage (spreadsheets, documents, manifests): not orphans while their job may need them
    (a finished job's are deleted). A staging no job was made from (a preview never confirmed) is in no row."""
    keys: set[str] = set()
    for params in session.scalars(select(Job.params).where(Job.kind == KIND)):
        if params and params.get("staging"):
            keys.update(Staging(**params["staging"]).blob_keys())
    return keys


jobs.FINISHERS[KIND] = _finish


# -- the result ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportLine:
    row: int
    ref: str
    outcome: str  # created, updated, unchanged, refused (at run time), rejected (in the preview), pending
    problems: list[tuple[str | None, Problem]]  # (column, problem)


def report_lines(session: Session, job: Job) -> list[ReportLine]:
    """Every row of the file the job was made from, by row: what each valid row did, and each rejected row."""
    if job.kind != KIND:
        raise ValidationFailed("not an import job")
    rows: list[int] = job.params["rows"]
    lines = []
    for item in jobs.items(session, job):
        outcome = item.outcome if item.state == jobs.ItemState.DONE and item.outcome else item.state
        found = [(p.get("field"), from_data(p)) for p in item.problems or []]
        lines.append(ReportLine(rows[item.position], item.subject, outcome, found))
    rejected: dict[int, list[tuple[str | None, Problem]]] = {}
    for entry in job.params.get("rejected", []):
        rejected.setdefault(entry["row"], []).append((entry["column"], from_data(entry["problem"])))
    lines += [ReportLine(row, "", "rejected", found) for row, found in rejected.items()]
    return sorted(lines, key=lambda line: line.row)


# -- the template file -------------------------------------------------------------------------------------

EXAMPLE = {
    "ref": "APL-0001", "full_name": "Test-Person Example", "city": "Almaty", "episodes": "rally-2018-05-10",
    "incident_types": "detention_at_rally", "incident_date": "2018-05-10",
    "description": "Fictional example: detained at a peaceful rally and held for ten hours.",
    "form_of_appeal": "foa-APL-0001.pdf", "power_of_attorney": "poa-APL-0001.pdf", "consent_publish_name": "no",
    "received_on": "2018-06-01", "full_name_native": "", "gender": "female", "birth_date": "1990-01-31",
    "phone": "+7 000 000 0000", "email": "test-person@example.org", "passport_number": "", "occupation": "teacher",
    "organisation": "", "detained_now": "no", "nationality": "Kazakhstan", "age": "",
    "activity": "Fictional example: volunteer observer at peaceful assemblies.",
    "situation": "Fictional example: summoned for questioning again; fears a criminal charge.",
    "incident_city": "", "incident_place": "Astana Square", "perpetrator_agencies": "police",
    "arrest_date": "2018-05-10", "arrest_place": "Astana Square", "arrest_forces": "Police patrol (fictional)",
    "legal_provision": "Art. 488 of the Code of Administrative Offences",
}


def template_csv() -> bytes:
    """The import's columns and one fictional example row, as UTF-8 CSV with a byte-order mark (Excel)."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE[c] for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Appeals"
    sheet.append(list(COLUMNS))
    sheet.append([EXAMPLE[c] or None for c in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


__all__ = ["KIND", "ReportLine", "Staging", "Upload", "discard_staging", "load_staging", "preview",
           "report_lines", "stage_upload", "staged_keys", "start_import", "template_csv", "template_xlsx"]
