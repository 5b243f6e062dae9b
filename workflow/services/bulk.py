"""Bulk actions: one form's data applied to many tasks of one kind, each item as a single completion.

Every item goes through ``tasks.complete_task`` (the lane, four eyes, the form's JSON Schema and the task's
domain rules: a review runs each case's admissibility checks on its own), in its own transaction with its own
audit event: a job of ``workflow/services/jobs.py``. An item that is refused (a blocking finding, four eyes) is
rolled back alone and listed with its reason; the others go on. The selection (explicit task ids, or every
task matching a ``queues.TaskFilter``) is resolved when the job is created, so its items are fixed.

Kinds: ``bulk_review`` (legal_review), ``bulk_approve`` (approve_review) and ``complete_many`` (any other
task kind, for the API and the command line); one handler does them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import Conflict, Forbidden, PetitioError, Unfinished, ValidationFailed
from workflow.models import Case, CollectiveComplaint, Filing, HumanTask, Job, JobItem, Person, Review, User
from workflow.problems import MESSAGES, SEVERAL, Problem
from workflow.roles import CASEWORK
from workflow.services import jobs, queues, tasks
from workflow.services.jobs import ItemResult, ItemState, Subject
from workflow.task_forms import validate_form

BULK_REVIEW = "bulk_review"
BULK_APPROVE = "bulk_approve"
COMPLETE_MANY = "complete_many"
KIND_OF_TASK = {"legal_review": BULK_REVIEW, "approve_review": BULK_APPROVE}
KINDS = (BULK_REVIEW, BULK_APPROVE, COMPLETE_MANY)
# One selection at most this many tasks: a day's work (150 appeals) with room to spare, and a bounded job.
MAX_ITEMS = 1000
TASK_ID_LENGTH = 64  # the width of JobItem.subject; SpiffWorkflow's ids are 36


def job_kind(task: str) -> str:
    return KIND_OF_TASK.get(task, COMPLETE_MANY)


@dataclass(frozen=True)
class Selection:
    """Which tasks: explicit ids (kept in the order given), or every ready task matching a filter."""

    task_ids: tuple[str, ...] = ()
    filter: queues.TaskFilter | None = None


def select_tasks(session: Session, actor: User, task: str, selection: Selection) -> list[HumanTask]:
    """The inbox rows a bulk action over ``selection`` would go through, in order; ValidationFailed when it names
    none, too many or a malformed id. Ids of other kinds, lanes or states stay in: each is refused on its own."""
    if selection.task_ids:
        ids = list(dict.fromkeys(selection.task_ids))
        if any(not isinstance(i, str) or not i or len(i) > TASK_ID_LENGTH for i in ids):
            raise ValidationFailed("the selection has errors", errors={"task_ids": Problem("invalid")})
    elif selection.filter is not None:
        flt = replace(selection.filter, task=task)
        ids = queues.matching_task_ids(session, actor.role, flt, limit=MAX_ITEMS + 1)
    else:
        ids = []
    if not ids:
        raise ValidationFailed("nothing is selected", errors={"task_ids": Problem("nothing_selected")})
    if len(ids) > MAX_ITEMS:
        raise ValidationFailed("too many tasks are selected",
                               errors={"task_ids": Problem("too_many_selected", {"max": MAX_ITEMS})})
    found = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
    # An id that names no task is kept as a row of its own, so that it is reported (refused), not dropped.
    return [found.get(i) or HumanTask(id=i, bpmn_id="", name="", state="missing") for i in ids]


def check_data(session: Session, task: str, rows: Sequence[HumanTask], data: Any) -> dict[str, Any]:
    """The form data checked once against the form of ``task`` (as the first selected task of that kind has it
    deployed), so that a mistake in the form is shown next to its field instead of refusing every item."""
    sample = next((r for r in rows if r.bpmn_id == task and r.state == "ready"), None)
    if sample is None:
        if not isinstance(data, dict):
            raise ValidationFailed("form data must be a JSON object", errors={"data": Problem("not_object")})
        return dict(data)
    return validate_form(tasks.task_schema(session, sample), data)


def start(session: Session, actor: User, task: str, data: Any, selection: Selection) -> Job:
    """A queued job completing every selected task of kind ``task`` with ``data``; flushes (the caller commits,
    then runs it at once when it is small, ``jobs.INLINE_LIMIT``, or leaves it to the worker)."""
    if actor.role not in CASEWORK or not actor.active:
        raise Forbidden("only casework staff complete tasks")
    if not isinstance(task, str) or not task:
        raise ValidationFailed("name the kind of task", errors={"task": Problem("required")})
    rows = select_tasks(session, actor, task, selection)
    clean = check_data(session, task, rows, data)
    params = {"task": task, "data": clean,
              "filter": selection.filter.as_params() if selection.filter and not selection.task_ids else None}
    return jobs.create_job(session, actor, job_kind(task), params,
                           [Subject(row.id, row.case_id) for row in rows])


def _flat(err: PetitioError) -> PetitioError:
    """The error with one problem per entry (an item's problems are stored as JSON, one code each)."""
    errors: dict[str, Problem] = {}
    for name, problem in err.errors.items():
        parts = problem.params["parts"] if problem.code == SEVERAL else (problem,)
        for n, part in enumerate(parts):
            errors[name if n == 0 else f"{name}#{n + 1}"] = part
    return type(err)(err.message, errors=errors)


def _complete_one(session: Session, settings: Settings, actor: User, job: Job, item: JobItem) -> ItemResult:
    task, data = job.params["task"], job.params["data"]
    row = session.get(HumanTask, item.subject)
    if row is None:
        raise ValidationFailed("no such task", errors={"task": Problem("task_not_found")})
    if row.bpmn_id != task:
        raise ValidationFailed("a task of another kind",
                               errors={"task": Problem("not_this_task", {"found": row.bpmn_id, "task": task})})
    if row.state != "ready":
        return ItemResult(ItemState.SKIPPED, problems=[Problem("task_not_ready")])
    if row.lane != actor.role:
        raise Forbidden(f"task {task!r} is for the {row.lane} role",
                        errors={"task": Problem("not_your_lane", {"lane": row.lane})})
    try:
        tasks.complete_task(session, settings, row.id, actor, dict(data))
    except Unfinished as err:  # a complaint with sections still to write: refused, with the sections named
        raise _flat(err) from err
    except Conflict:
        # Someone completed it between the selection and now: nothing to do, and nothing done twice.
        return ItemResult(ItemState.SKIPPED, problems=[Problem("task_not_ready")])
    except PetitioError as err:
        raise _flat(err) from err
    decision = data.get("decision")
    return ItemResult(outcome=decision if isinstance(decision, str) else None)


for _kind in KINDS:
    jobs.handler(_kind)(_complete_one)


def dry_run(session: Session, settings: Settings, actor: User, task: str, data: Any,
            selection: Selection) -> list[tuple[HumanTask, ItemResult]]:
    """What a bulk action would do to each selected task, each tried and rolled back; nothing is kept."""
    rows = select_tasks(session, actor, task, selection)
    clean = check_data(session, task, rows, data)
    probe = Job(kind=job_kind(task), params={"task": task, "data": clean})
    results = []
    for row in rows:
        item = JobItem(subject=row.id, case_id=row.case_id, position=0)
        savepoint = session.begin_nested()
        try:
            result = _complete_one(session, settings, actor, probe, item)
        except PetitioError as err:
            result = ItemResult(ItemState.REFUSED, problems=[p for p in err.errors.values()]
                                or [Problem("invalid")])
        savepoint.rollback()
        results.append((row, result))
    return results


# -- reads -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemProblem:
    field: str | None
    problem: Problem | None  # None when the refusal carried no problem code (a bare Forbidden, NotFound, ...)
    message: str  # the English sentence

    @property
    def code(self) -> str | None:
        return self.problem.code if self.problem else None


@dataclass(frozen=True)
class ItemRow:
    position: int
    task_id: str
    case_ref: str | None
    state: str
    outcome: str | None
    problems: list[ItemProblem] = field(default_factory=list)


def _item_problems(stored: list[dict[str, Any]] | None) -> list[ItemProblem]:
    found = []
    for entry in stored or []:
        code, name = entry.get("code"), entry.get("field")
        if code in MESSAGES and code != SEVERAL:
            problem = Problem(code, entry.get("params") or {})
            found.append(ItemProblem(name, problem, problem.text))
        else:
            found.append(ItemProblem(name, None, str(entry.get("message") or code or "")))
    return found


def item_rows(session: Session, job: Job, states: Sequence[str] | None = None) -> list[ItemRow]:
    """The job's items with their case references, in order."""
    query = (select(JobItem, Case.ref).outerjoin(Case, JobItem.case_id == Case.id)
             .where(JobItem.job_id == job.id).order_by(JobItem.position))
    if states:
        query = query.where(JobItem.state.in_(states))
    return [ItemRow(item.position, item.subject, ref, item.state, item.outcome, _item_problems(item.problems))
            for item, ref in session.execute(query)]


def done_refs(session: Session, job: Job) -> list[str]:
    """The references of the cases the job completed a task of (for "collective complaint from these cases")."""
    return list(session.scalars(select(Case.ref).join(JobItem, JobItem.case_id == Case.id)
                                .where(JobItem.job_id == job.id, JobItem.state == ItemState.DONE)
                                .order_by(JobItem.position)))


@dataclass(frozen=True)
class ReviewRow:
    """A task of the bulk approval table: the review it approves, as the manager must see it."""

    task: HumanTask
    ref: str | None
    review: Review | None
    reviewer: str | None
    own: bool  # the viewer did this review: four eyes will refuse it


def approval_rows(session: Session, actor: User, rows: Sequence[HumanTask]) -> list[ReviewRow]:
    """Each selected task with its case's latest review and who did it."""
    case_ids = [r.case_id for r in rows if r.case_id is not None]
    latest = (select(func.max(Review.id)).where(Review.case_id.in_(case_ids)).group_by(Review.case_id))
    reviews = {r.case_id: r for r in session.scalars(select(Review).where(Review.id.in_(latest)))}
    refs = dict(session.execute(select(Case.id, Case.ref).where(Case.id.in_(case_ids))).all())
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(
        {r.reviewer_id for r in reviews.values()})))}
    found = []
    for row in rows:
        review = reviews.get(row.case_id) if row.case_id is not None else None
        reviewer = users.get(review.reviewer_id) if review else None
        found.append(ReviewRow(row, refs.get(row.case_id) if row.case_id else None, review,
                               reviewer.display_name if reviewer else None,
                               bool(review and review.reviewer_id == actor.id)))
    return found


@dataclass(frozen=True)
class TaskRow:
    """A selected task as a bulk page lists it: never an identity field (the city is the only person field)."""

    task: HumanTask
    ref: str | None
    city: str | None
    urgent: bool
    body: str | None = None  # the filing's, for the tasks of a filing
    collective_id: int | None = None  # a collective complaint's task (it has no case)
    title: str | None = None  # that complaint's title


def task_rows(session: Session, ids: Sequence[str]) -> list[TaskRow]:
    """The ready tasks among ``ids``, in the order given."""
    found = {row[0].id: TaskRow(row[0], row[1], row[2], bool(row[3]), *row[4:]) for row in session.execute(
        select(HumanTask, Case.ref, Person.city, Case.urgent, Filing.body, CollectiveComplaint.id,
               CollectiveComplaint.title)
        .outerjoin(Case, HumanTask.case_id == Case.id)
        .outerjoin(Person, Case.person_id == Person.id)
        .outerjoin(Filing, HumanTask.filing_id == Filing.id)
        .outerjoin(CollectiveComplaint, Filing.collective_id == CollectiveComplaint.id)
        .where(HumanTask.id.in_(list(ids)), HumanTask.state == "ready"))}
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True)
class JobRead:
    """A bulk job as the API and the command line show it (``schemas/jobs.JobSchema``)."""

    job: Job
    progress: jobs.Progress
    items: list[ItemRow]

    @property
    def task(self) -> str | None:
        return (self.job.params or {}).get("task")


def read_job(session: Session, job: Job) -> JobRead:
    """The job's progress, and its items once it has finished."""
    progress = jobs.progress(session, job)
    return JobRead(job, progress, item_rows(session, job) if progress.finished else [])
