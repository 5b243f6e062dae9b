"""``petitio tasks``: complete one task, or many of one kind, as a named user (the same checks as the pages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from workflow.cli_support import Runtime, one_line_errors, pass_runtime
from workflow.db import unit_of_work
from workflow.models import Case, Job


@click.group()
def tasks() -> None:
    """Work on tasks."""


@tasks.command("complete")
@click.argument("task_id")
@click.option("--as", "username", required=True, help="The user completing the task.")
@click.option("--data", "data_json", default="{}", help="The form data as a JSON object.")
@pass_runtime
@one_line_errors
def tasks_complete(rt: Runtime, task_id: str, username: str, data_json: str) -> None:
    """Complete a ready task as USER with the given form data."""
    from workflow.services.tasks import complete_task
    from workflow.services.users import get_user

    try:
        data = json.loads(data_json)
    except ValueError as err:
        raise click.ClickException(f"--data is not valid JSON: {err}") from None
    with unit_of_work(rt.ready_engine()) as session:
        instance = complete_task(session, rt.settings, task_id, get_user(session, username), data)
        stage = instance.case.stage if instance.case else instance.status
    click.echo(f"task completed; case stage: {stage}")


@tasks.command("complete-many")
@click.option("--as", "username", required=True, help="The user completing the tasks.")
@click.option("--task", "task", required=True, help="The kind of task, e.g. legal_review or approve_review.")
@click.option("--task-id", "task_ids", multiple=True, help="A task to complete (repeat); else every matching one.")
@click.option("--episode")
@click.option("--city")
@click.option("--body")
@click.option("--ref")
@click.option("--urgent/--not-urgent", default=None)
@click.option("--overdue/--not-overdue", default=None)
@click.option("--assignee", type=int, help="A user id; 0 for tasks assigned to nobody.")
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The form data (a JSON object), the same for every task.")
@click.option("--dry-run", is_flag=True, help="Try each task and roll it back: say what would happen.")
@pass_runtime
@one_line_errors
def tasks_complete_many(rt: Runtime, username: str, task: str, task_ids: tuple[str, ...], data_file: Path,
                        dry_run: bool, **flt: Any) -> None:
    """Complete many tasks of one kind as USER, each on its own (the same checks as one at a time); prints a
    result per task. The selection is the ready tasks of USER's team matching the filters, or --task-id."""
    from workflow.services import bulk, jobs
    from workflow.services.queues import TaskFilter
    from workflow.services.users import get_user

    try:
        data = json.loads(data_file.read_text(encoding="utf-8"))
    except ValueError as err:  # OSError (no such file) is one line through one_line_errors
        raise click.ClickException(f"--data is not valid JSON: {err}") from None
    selection = bulk.Selection(task_ids=task_ids, filter=TaskFilter(**flt))
    with unit_of_work(rt.ready_engine()) as session:
        actor = get_user(session, username)
        if dry_run:
            for row, result in bulk.dry_run(session, rt.settings, actor, task, data, selection):
                reasons = "; ".join(p.text for p in result.problems)
                verb = {"done": "would complete", "refused": "would refuse", "skipped": "would skip"}[result.state]
                name = _ref(session, row.case_id) if row.case_id else row.id
                click.echo("\t".join(filter(None, (name, verb, reasons))))
            return
        job_id = bulk.start(session, actor, task, data, selection).id
    jobs.run(rt.engine, rt.settings, job_id)  # each task in its own transaction; the worker resumes it if cut
    with unit_of_work(rt.engine) as session:
        read = bulk.read_job(session, session.get_one(Job, job_id))
    for item in read.items:
        reasons = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in item.problems)
        click.echo("\t".join(filter(None, (item.case_ref or item.task_id, item.state, item.outcome, reasons))))
    counts = ", ".join(f"{n} {state}" for state, n in sorted(read.progress.counts.items()))
    click.echo(f"job {job_id}: {counts}")


def _ref(session: Any, case_id: int) -> str:
    return session.scalar(select(Case.ref).where(Case.id == case_id))
