"""``petitio storage check``: the document store and the ``documents`` table agree.

Lists the files no row names (orphans: a process killed before its commit, a preview of an import never confirmed,
a write cut short), the rows whose file is gone, and the rows whose file still has its pending name (killed between
the commit and the rename, ``workflow/runtime/pending_blobs.py``). With ``remove``, orphans older than the grace
period are deleted and pending files of committed rows take their final name. A younger file is left alone: it may
belong to an import or an upload that is still running, or to an import's preview awaiting confirmation.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.models import Document
from workflow.runtime.context import document_store
from workflow.services.import_jobs import staged_keys

GRACE = timedelta(hours=24)  # longer than any import, upload or a preview left open over a night


@dataclass
class StorageReport:
    files: int = 0  # files of the store on disk
    documents: int = 0  # rows of the documents table
    orphans: list[str] = field(default_factory=list)  # files no row names, older than the grace period
    recent: int = 0  # files no row names yet, younger than the grace period: left alone
    missing: list[int] = field(default_factory=list)  # ids of documents whose file is gone
    unpublished: list[str] = field(default_factory=list)  # keys of committed rows whose file is still pending
    removed: int = 0
    published: int = 0

    @property
    def ok(self) -> bool:
        left = len(self.orphans) - self.removed + len(self.unpublished) - self.published
        return left == 0 and not self.missing

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def check_storage(session: Session, settings: Settings, *, remove: bool = False, grace: timedelta = GRACE,
                  now: float | None = None) -> StorageReport:
    """Compare the store with the rows; with ``remove``, delete the old orphans and publish pending files of rows."""
    store = document_store(settings, session)  # a database store deletes in this transaction
    # Rows first, files after: a file written meanwhile is younger than the grace period, never an orphan.
    rows: dict[str, int] = {key: id_ for key, id_ in session.execute(select(Document.storage_key, Document.id))}
    kept = staged_keys(session)
    files = store.files()
    cutoff = (time.time() if now is None else now) - grace.total_seconds()
    report = StorageReport(files=len(files), documents=len(rows))
    found = {f.key for f in files if f.key}
    for stored in files:
        if stored.key is not None and (stored.key in rows or stored.key in kept):
            if stored.pending and stored.key in rows:
                report.unpublished.append(stored.key)
            continue
        if stored.modified > cutoff:
            report.recent += 1
        else:
            report.orphans.append(stored.path)
    report.missing = sorted(id_ for key, id_ in rows.items() if key not in found)
    if remove:
        for path in report.orphans:
            store.remove_file(path)
            report.removed += 1
        for key in report.unpublished:
            store.publish(key)
            report.published += 1
    return report
