"""The consent queue: the ``verify_consent`` tasks of a filtered queue, one case at a time, and the bulk request of
the documents that cases lack.

Every verification still goes through ``tasks.complete_task`` (lane, JSON Schema, the domain rule that refuses a
"verified" for a document the case does not have, audit); this module only says which task comes next and what
each case has on file. The bulk request is a job (``jobs.py``, kind ``consent_missing``): one item per task, each
completed in its own transaction as if the clerk had pressed "missing" on that case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.models import Case, Document, HumanTask, Job, JobItem, User
from workflow.problems import Problem
from workflow.services import jobs
from workflow.services.queues import TaskFilter, matching_task_ids
from workflow.services.tasks import complete_task
from workflow.states import CONSENT_DOCUMENTS

TASK = "verify_consent"
JOB_KIND = "consent_missing"


def queue_filter(flt: TaskFilter) -> TaskFilter:
    """The filter narrowed to the consent task, whatever task it named."""
    return replace(flt, task=TASK)


def queue_ids(session: Session, role: str, flt: TaskFilter) -> list[str]:
    """The ids of the ready ``verify_consent`` tasks of ``role`` matching ``flt``, in queue order."""
    return matching_task_ids(session, role, queue_filter(flt))


@dataclass(frozen=True)
class Place:
    """Where a task stands in its queue: ``position`` counts from 1; ``next_id`` is the task after it (the first
    again at the end, so a skipped case comes round again; None when it is the only one)."""

    task_id: str | None
    position: int
    total: int
    next_id: str | None
    asked_for_missing: bool = False  # the task asked for has left the queue (done by someone, or filtered out)


def place_in_queue(ids: list[str], wanted: str | None) -> Place:
    if not ids:
        return Place(None, 0, 0, None, asked_for_missing=wanted is not None)
    index = ids.index(wanted) if wanted in ids else 0
    following = ids[(index + 1) % len(ids)]
    return Place(ids[index], index + 1, len(ids), following if following != ids[index] else None,
                 asked_for_missing=wanted is not None and wanted not in ids)


def next_after(ids: list[str], task_id: str) -> str | None:
    """The task to open once ``task_id`` is done: the one after it, else the first other one left."""
    if task_id not in ids:
        return ids[0] if ids else None
    rest = ids[ids.index(task_id) + 1:] + ids[:ids.index(task_id)]
    return rest[0] if rest else None


def consent_documents(session: Session, case: Case) -> dict[str, Document | None]:
    """The latest version of each consent document of the case (None: not on file), in the order of the form."""
    latest: dict[str, Document | None] = dict.fromkeys(CONSENT_DOCUMENTS)
    for document in session.scalars(select(Document).where(Document.case_id == case.id,
                                                            Document.kind.in_(CONSENT_DOCUMENTS))):
        current = latest[document.kind]
        if current is None or document.version > current.version:
            latest[document.kind] = document
    return latest


def _kinds_on_file(session: Session, case_ids: list[int]) -> dict[int, set[str]]:
    kinds: dict[int, set[str]] = {case_id: set() for case_id in case_ids}
    for start in range(0, len(case_ids), 500):  # bounded IN lists on both backends
        for case_id, kind in session.execute(select(Document.case_id, Document.kind).where(
                Document.case_id.in_(case_ids[start:start + 500]), Document.kind.in_(CONSENT_DOCUMENTS))):
            kinds[case_id].add(kind)
    return kinds


@dataclass(frozen=True)
class Lacking:
    task_id: str
    case_id: int
    ref: str
    missing: tuple[str, ...]  # the consent document kinds not on file


def lacking_documents(session: Session, ids: list[str]) -> list[Lacking]:
    """Of the queue's tasks ``ids`` (``queue_ids``), the cases that lack a consent document (one or both), in order."""
    if not ids:
        return []
    rows: dict[str, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        for task_id, case_id, ref in session.execute(
                select(HumanTask.id, Case.id, Case.ref).join(Case, HumanTask.case_id == Case.id)
                .where(HumanTask.id.in_(ids[start:start + 500]))):
            rows[task_id] = (case_id, ref)
    on_file = _kinds_on_file(session, [case_id for case_id, _ in rows.values()])
    found = []
    for task_id in ids:
        case_id, ref = rows[task_id]
        if missing := tuple(k for k in CONSENT_DOCUMENTS if k not in on_file[case_id]):
            found.append(Lacking(task_id, case_id, ref, missing))
    return found


def request_missing(session: Session, actor: User, role: str, flt: TaskFilter, notes: str = "") -> Job:
    """A job that completes ``verify_consent`` as "not verified" for every case of the queue lacking a document,
    so that each goes to ``request_documents``; flushes. Run it with ``jobs.run`` (or leave it to the worker)."""
    lacking = lacking_documents(session, queue_ids(session, role, flt))
    return jobs.create_job(session, actor, JOB_KIND, {"notes": notes.strip()},
                           [jobs.Subject(item.task_id, item.case_id) for item in lacking])


@jobs.handler(JOB_KIND)
def _request_missing_item(session: Session, settings: Settings, actor: User, job: Job,
                          item: JobItem) -> jobs.ItemResult | None:
    row = session.get(HumanTask, item.subject)
    if row is None or row.state != "ready" or row.bpmn_id != TASK:
        return jobs.ItemResult(jobs.ItemState.SKIPPED, problems=[Problem("task_no_longer_ready")])
    case = session.get(Case, row.case_id)
    assert case is not None  # a verify_consent task always belongs to a case
    if all(consent_documents(session, case).values()):
        # Both arrived since the job was asked for: a person must look at them, not a bulk "missing".
        return jobs.ItemResult(jobs.ItemState.SKIPPED, problems=[Problem("consent_documents_on_file")])
    data: dict[str, Any] = {"form_of_appeal_verified": False, "power_of_attorney_verified": False}
    if notes := (job.params or {}).get("notes"):
        data["notes"] = notes
    complete_task(session, settings, row.id, actor, data)  # the same path as one completion; raises to refuse
    return jobs.ItemResult(outcome="documents_requested")


@dataclass(frozen=True)
class ReportRow:
    """One case of a bulk request, as its result page lists it."""

    ref: str | None
    state: str  # pending | done | refused | skipped
    problems: list[dict[str, Any]]  # as jobs.py records them: field, code, params (or message)


def report(session: Session, job: Job) -> list[ReportRow]:
    """The items of a ``consent_missing`` job with their cases' references, in order."""
    rows = session.execute(select(JobItem, Case.ref).outerjoin(Case, JobItem.case_id == Case.id)
                           .where(JobItem.job_id == job.id).order_by(JobItem.position)).all()
    return [ReportRow(ref, item.state, list(item.problems or [])) for item, ref in rows]
