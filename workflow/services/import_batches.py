"""Writing a planned import in batches, each batch its own transaction (``petitio intake import``, the benchmark).

A commit every ``IMPORT_BATCH`` rows keeps memory bounded (the session forgets each batch's objects) and other
users' requests are never locked out for the whole file; a run killed halfway keeps the batches it committed,
and the same file imported again finishes the rest: rows are idempotent by reference and content, so a row a
committed batch wrote is "unchanged" the second time.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from sqlalchemy import Engine

from workflow.config import Settings
from workflow.db import unit_of_work
from workflow.models import User
from workflow.services.importer import ImportPlan, apply_plan

IMPORT_BATCH = 250  # rows per transaction
# progress(rows written, rows to write): after each committed batch.
ProgressCallback = Callable[[int, int], None]


def write_plan(engine: Engine, settings: Settings, actor: User | None, plan: ImportPlan, *,
               batch: int = IMPORT_BATCH, progress: ProgressCallback | None = None,
               batches: int | None = None) -> dict[str, int]:
    """Write the plan's valid rows, ``batch`` rows per committed transaction; {outcome: count}.

    ``batches`` stops after that many batches (what a run killed there leaves behind). ``actor`` must be
    usable in every batch's session: None (the command line) or a user the caller re-reads is fine.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rows = plan.rows
    # The plan (every row, checked) and all that was loaded before lives until the import ends: frozen, the
    # collector's full passes, which the batches' many short-lived objects set off again and again, skip it
    # (their CPU more than halved at 6,000 rows). Only the command line runs this, in a process of its own.
    gc.freeze()
    try:
        for number, start in enumerate(range(0, len(rows), batch)):
            if batches is not None and number >= batches:
                break
            with unit_of_work(engine) as session:
                for outcome, count in apply_plan(session, settings, actor, plan, rows[start:start + batch]).items():
                    counts[outcome] += count
            if progress is not None:
                progress(min(start + batch, len(rows)), len(rows))
    finally:
        gc.unfreeze()
    return counts


__all__ = ["IMPORT_BATCH", "ProgressCallback", "write_plan"]
