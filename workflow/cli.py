"""The ``petitio`` command: thin click wrappers over the services, one transaction per command.

Errors are one clear line on standard error, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from workflow import schema
from workflow.config import Settings, load_settings
from workflow.db import engine_for, unit_of_work
from workflow.errors import PetitioError
from workflow.models import Case, HumanTask, Job

log = logging.getLogger("petitio")


class Runtime:
    """Settings and engine, created lazily so ``--help`` never touches the database."""

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings()

    @functools.cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url)

    def ready_engine(self) -> Engine:
        if not schema.is_current(self.engine):
            raise click.ClickException("the database is not initialised or is out of date; run `petitio init`")
        return self.engine


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


def one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PetitioError as err:
            details = "; ".join(f"{k}: {v}" for k, v in err.errors.items())
            if details and details not in err.message:
                raise click.ClickException(f"{err.message} ({details})") from None
            raise click.ClickException(err.message) from None
        except OperationalError as err:
            raise click.ClickException(f"cannot use the database: {type(err.orig).__name__}: "
                                       f"{str(err.orig).splitlines()[0] if err.orig else err}") from None
        except SQLAlchemyError as err:
            raise click.ClickException(f"database error: {type(err).__name__}") from None
        except (OSError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:
            # Last resort: still one line; the type says where to look without echoing any data.
            log.debug("unexpected error", exc_info=True)
            raise click.ClickException(f"internal error ({type(err).__name__}); rerun with PETITIO_DEBUG=1 "
                                       "to see the traceback") from None

    return wrapper


@click.group()
def main() -> None:
    """Petitio: case and filing workflow engine for human-rights organisations."""
    debug = bool(os.environ.get("PETITIO_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every task state change at INFO; alembic announces each connection.
    for noisy in ("spiff", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command()
@pass_runtime
@one_line_errors
def init(rt: Runtime) -> None:
    """Create or upgrade the database schema and deploy the processes in bpmn/ (idempotent)."""
    from workflow.services.install import initialise

    definitions = initialise(rt.engine, rt.settings)
    for definition in definitions:
        click.echo(f"process {definition.process_id} version {definition.version} ({definition.sha256[:12]})")
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")


# -- users ---------------------------------------------------------------------------------------------

@main.group()
def users() -> None:
    """Manage users and their API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, help="intake, legal, manager or admin")
@click.option("--full-name", default="")
@click.option("--locale", default="en", show_default=True)
@click.option("--email", default=None, help="Where the daily digest of deadlines goes.")
@pass_runtime
@one_line_errors
def users_add(rt: Runtime, name: str, role: str, full_name: str, locale: str, email: str | None) -> None:
    """Add a user; the password is read from stdin when it is not a terminal, prompted otherwise."""
    from workflow.services.digest import set_email
    from workflow.services.users import add_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with unit_of_work(rt.ready_engine()) as session:
        user = add_user(session, None, name, role, full_name=full_name, locale=locale, password=password)
        set_email(session, None, user, email)
        click.echo(f"user {user.username} ({user.role}) created")


@users.command("token")
@click.argument("name")
@pass_runtime
@one_line_errors
def users_token(rt: Runtime, name: str) -> None:
    """Print a new API token for NAME (alone on the last line; only its hash is stored)."""
    from workflow.services.users import get_user, issue_token

    with unit_of_work(rt.ready_engine()) as session:
        token = issue_token(session, None, get_user(session, name))
    click.echo(token)


# -- import --------------------------------------------------------------------------------------------

@main.group()
def episodes() -> None:
    """Episodes shared by many cases."""


@episodes.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_runtime
@one_line_errors
def episodes_import(rt: Runtime, file: Path) -> None:
    """Create or update episodes from a CSV file (key,title,start_date,end_date[,description])."""
    from workflow.services.importer import import_episodes

    with unit_of_work(rt.ready_engine()) as session:
        counts = import_episodes(session, None, file)
    click.echo(json.dumps(counts))


IMPORT_BATCH = 100  # rows per transaction of `intake import`


@main.group()
def intake() -> None:
    """Intake of appeals."""


@intake.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--documents", "documents_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; change nothing.")
@click.option("--partial", is_flag=True, help="Import the valid rows even when others are rejected.")
@pass_runtime
@one_line_errors
def intake_import(rt: Runtime, file: Path, documents_dir: Path | None, dry_run: bool, partial: bool) -> None:
    """Import appeals from CSV or XLSX; prints one JSON report as the last line.

    Every row is checked first (nothing written); the valid rows are then written in batches of IMPORT_BATCH,
    each its own transaction, so that other users' requests are not locked out for the whole file. Rows are
    idempotent by reference and content: a run killed halfway and started again finishes the rest.
    """
    from workflow.services.importer import apply_plan, plan_appeals_file

    engine = rt.ready_engine()
    with unit_of_work(engine) as session:
        plan = plan_appeals_file(session, rt.settings, file, documents_dir)
        session.rollback()
    report = plan.report
    if report.problems and not partial:
        report.outcomes = []
    for outcome in report.outcomes:
        report.count(outcome.outcome)
    if not dry_run and report.outcomes:
        rows = plan.rows
        for start in range(0, len(rows), IMPORT_BATCH):
            with unit_of_work(engine) as session:
                apply_plan(session, rt.settings, None, plan, rows[start:start + IMPORT_BATCH])
    for error in report.errors:
        click.echo(f"row {error['row']}, {error['column'] or '-'}: {error['message']}", err=True)
    counted = report.as_json()
    read_as = f" (read as {report.encoding})" if report.encoding else ""
    if dry_run:
        click.echo(f"dry run, nothing written: would create {counted['created']}, would update "
                   f"{counted['updated']}, would leave unchanged {counted['unchanged']}; "
                   f"{counted['rejected']} row(s) rejected{read_as}")
    else:
        click.echo(f"created {counted['created']}, updated {counted['updated']}, unchanged "
                   f"{counted['unchanged']}; {counted['rejected']} row(s) rejected{read_as}")
    click.echo(json.dumps(counted))
    sys.exit(0 if report.ok else 1)


# -- worker --------------------------------------------------------------------------------------------

@main.command()
@click.option("--once", is_flag=True, help="One sweep, then exit.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between sweeps.")
@pass_runtime
@one_line_errors
def worker(rt: Runtime, once: bool, interval: float) -> None:
    """Fire due timers and send the daily digests (several workers may run side by side on PostgreSQL)."""
    from workflow.services.worker import tick

    engine = rt.ready_engine()
    while True:
        report = tick(engine, rt.settings)
        timers, digests = report.sweep, report.digests
        if timers.fired or timers.failed or once:
            click.echo(f"fired due timers on {timers.fired} process instance(s); {timers.failed} failed")
        for failure in timers.failures:
            click.echo(failure, err=True)
        if digests.sent or once:
            click.echo(f"sent {digests.sent} digest(s)")
        if digests.error:
            click.echo(f"digests not sent: {digests.error}", err=True)
        if once:
            sys.exit(1 if timers.failed or digests.error else 0)
        time.sleep(interval)


# -- demo and serve ------------------------------------------------------------------------------------

@main.command()
@pass_runtime
@one_line_errors
def demo(rt: Runtime) -> None:
    """Load the fictional demo organisation (once; a second run changes nothing)."""
    from workflow.services.demo import DEMO_PASSWORD, load_demo

    with unit_of_work(rt.ready_engine()) as session:
        created = load_demo(session, rt.settings)
    click.echo(f"demo data {'loaded' if created else 'already present'}; sign in with any of:")
    for username, role in created_users():
        click.echo(f"  {username:<10} {role:<8} password: {DEMO_PASSWORD}")


def created_users() -> list[tuple[str, str]]:
    from workflow.services.demo import DEMO_USERS

    return [(u, r) for u, r, _ in DEMO_USERS]


# -- operators ----------------------------------------------------------------------------------------

@main.group()
def cases() -> None:
    """Inspect cases."""


@cases.command("list")
@click.option("--stage")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
@one_line_errors
def cases_list(rt: Runtime, stage: str | None, as_json: bool) -> None:
    """List cases with their stage and ready tasks."""
    from workflow.states import Stage

    if stage and stage not in Stage.codes():
        raise click.ClickException(f"unknown stage {stage!r}; stages: {', '.join(Stage.codes())}")
    with unit_of_work(rt.ready_engine()) as session:
        query = select(Case.ref, Case.stage, Case.urgent, func.count(HumanTask.id)).outerjoin(
            HumanTask, (HumanTask.case_id == Case.id) & (HumanTask.state == "ready")
        ).group_by(Case.id).order_by(Case.ref)
        if stage:
            query = query.where(Case.stage == stage)
        rows = session.execute(query).all()
    if as_json:
        click.echo(json.dumps([{"ref": r, "stage": s, "urgent": u, "ready_tasks": n} for r, s, u, n in rows]))
        return
    for ref, stage_, urgent, ready in rows:
        click.echo(f"{ref:<14} {stage_:<18} {'URGENT' if urgent else '':<7} {ready} ready task(s)")
    click.echo(f"{len(rows)} case(s)")


@cases.command("show")
@click.argument("ref")
@pass_runtime
@one_line_errors
def cases_show(rt: Runtime, ref: str) -> None:
    """Show one case as JSON (the read is audited)."""
    from workflow.roles import OPERATOR
    from workflow.schemas.reads import CaseSchema
    from workflow.services.cases import read_case

    with unit_of_work(rt.ready_engine()) as session:
        shown = CaseSchema().dump(read_case(session, ref, actor=None, role=OPERATOR, channel="cli"))
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@main.group()
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


# -- keys ----------------------------------------------------------------------------------------------

@main.group()
def keys() -> None:
    """Encryption keys of the documents and identity fields."""


@keys.command("rotate")
@click.option("--batch-size", default=200, show_default=True, help="Persons re-encrypted per transaction.")
@pass_runtime
@one_line_errors
def keys_rotate(rt: Runtime, batch_size: int) -> None:
    """Re-encrypt every document and identity field under a new key, then delete the old key files.

    Reads keep working throughout; an interrupted rotation is finished by running the command again.
    """
    from workflow.services.keys import rotate_keys

    click.echo(json.dumps(rotate_keys(rt.ready_engine(), rt.settings, batch_size=batch_size), sort_keys=True))
