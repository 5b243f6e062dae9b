"""The ``petitio`` command: thin click wrappers over the services, one transaction per command. Errors are one
clear line on standard error, never a traceback."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click
from sqlalchemy import func, select

from workflow.cli_backup import backup, restore
from workflow.cli_instances import instances
from workflow.cli_processes import processes
from workflow.cli_support import Runtime, one_line_errors, pass_runtime
from workflow.cli_tasks import tasks
from workflow.cli_templates import templates
from workflow.db import unit_of_work
from workflow.models import Case, HumanTask

__all__ = ["Runtime", "main", "one_line_errors", "pass_runtime"]  # web/cli.py builds `petitio serve` on them

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
@click.option("--name", "token_name", default="", help="What the token is for (default: token N).")
@click.option("--days", type=click.IntRange(1, None), default=None,
              help="Days until it expires (default 90, at most 366).")
@pass_runtime
@one_line_errors
def users_token(rt: Runtime, name: str, token_name: str, days: int | None) -> None:
    """Print a new API token for NAME (alone on the last line; only its hash is stored).

    The operator on the server issues it (audited with no actor, channel cli): the shell and the keys
    already grant everything. Users create their own tokens on their account page."""
    from workflow.services.api_tokens import create_token
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        _, token = create_token(session, None, get_user(session, name), name=token_name, days=days, channel="cli")
    click.echo(token)


@users.command("reset-second-factor")
@click.argument("name")
@pass_runtime
@one_line_errors
def users_reset_second_factor(rt: Runtime, name: str) -> None:
    """Remove NAME's lost second factor (audited); they set up a new one at their next sign-in."""
    from workflow.services import two_factor
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        two_factor.reset(session, None, get_user(session, name))
    click.echo(f"second factor of {name} removed: a new one is set up at the next sign-in")


@users.command("totp-code")
@click.argument("name")
@pass_runtime
@one_line_errors
def users_totp_code(rt: Runtime, name: str) -> None:
    """Print the current sign-in code of a demo user (only for the demo's own, published keys)."""
    from workflow.services import two_factor
    from workflow.services.demo import is_demo_secret
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        secret = two_factor.stored_secret(session, get_user(session, name))
    # Never a way round a real user's second factor: only a key that is already public in the demo's source.
    if not is_demo_secret(name, secret):
        raise click.ClickException(f"{name} is not a demo user with the demo's key: use their authenticator app")
    click.echo(two_factor.current_code(secret))  # type: ignore[arg-type]


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

    Every row is checked first (nothing written); the valid rows are then written in batches of 250, each its
    own transaction, so that other users' requests are not locked out for the whole file (on PostgreSQL by one
    process per CPU, up to four, side by side); stderr tells the rows written after each batch. Rows are idempotent
    by reference and content: a run killed halfway and started again finishes the rest.
    """
    from workflow.services.import_batches import write_plan
    from workflow.services.importer import plan_appeals_file

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
        write_plan(engine, rt.settings, None, plan,
                   progress=lambda done, total: click.echo(f"{done} / {total} rows written", err=True))
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
    """Fire due timers and send the daily digests (several workers side by side on PostgreSQL); SIGTERM ends it."""
    from workflow.services.worker import tick

    engine = rt.ready_engine()
    stopping = threading.Event()  # SIGTERM/SIGINT (a service manager, a deployment): after this loop, exit 0
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    while not stopping.is_set():
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
        stopping.wait(interval)
    click.echo("worker stopped")


# -- demo and serve ------------------------------------------------------------------------------------

@main.command()
@pass_runtime
@one_line_errors
def demo(rt: Runtime) -> None:
    """Load the fictional demo organisation (once; a second run changes nothing)."""
    from workflow.roles import second_factor_required
    from workflow.services.demo import DEMO_PASSWORD, demo_totp_secret, load_demo

    with unit_of_work(rt.ready_engine()) as session:
        created = load_demo(session, rt.settings)
    click.echo(f"demo data {'loaded' if created else 'already present'}; sign in with any of:")
    for username, role in created_users():
        key = f"  authenticator key: {demo_totp_secret(username)}" if second_factor_required(role) else ""
        click.echo(f"  {username:<10} {role:<8} password: {DEMO_PASSWORD}{key}")
    click.echo("Legal, manager and admin users then type a code: add the key to an authenticator app, or run "
               "`petitio users totp-code NAME` for the current one (demo users only).")


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


main.add_command(tasks)
main.add_command(instances)
main.add_command(templates)
main.add_command(backup)
main.add_command(restore)
main.add_command(processes)


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


# -- storage -------------------------------------------------------------------------------------------

@main.group()
def storage() -> None:
    """The encrypted document store."""


@storage.command("check")
@click.option("--remove", is_flag=True, help="Delete the orphaned files older than the grace period, and give "
                                             "committed documents' pending files their final name.")
@click.option("--grace-hours", default=24.0, show_default=True, type=click.FloatRange(min=0),
              help="Files younger than this are left alone (a running import's, a preview awaiting confirmation).")
@pass_runtime
@one_line_errors
def storage_check(rt: Runtime, remove: bool, grace_hours: float) -> None:
    """Files in storage that no document names (orphans), and documents whose file is gone; prints one JSON report.

    Exit 0 when storage and the database agree (after --remove, when everything found was repaired), 1 otherwise.
    """
    from datetime import timedelta

    from workflow.services.storage_check import check_storage

    with unit_of_work(rt.ready_engine()) as session:
        report = check_storage(session, rt.settings, remove=remove, grace=timedelta(hours=grace_hours))
    click.echo(json.dumps(report.as_json(), sort_keys=True))
    if not report.ok:
        left = len(report.orphans) - report.removed
        raise click.ClickException(
            f"{left} orphaned file(s), {len(report.unpublished) - report.published} unpublished, "
            f"{len(report.missing)} document(s) without a file" + ("" if remove else "; --remove deletes orphans"))


# -- audit ---------------------------------------------------------------------------------------------

@main.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@click.option("--head", default=None, help="A head hash recorded earlier: it must still be in the chain.")
@pass_runtime
@one_line_errors
def audit_verify(rt: Runtime, head: str | None) -> None:
    """Walk the hash chain of the audit log; exit 1 at the first broken link. Keep the printed head hash
    off this machine: it is what shows a rewrite of the whole chain."""
    from workflow.audit_chain import verify_chain

    with unit_of_work(rt.ready_engine()) as session:
        report = verify_chain(session, head=head)
    if report.broken is not None:
        where = f" at seq {report.at_seq}" if report.at_seq is not None else ""
        where += f" (event id {report.at_id})" if report.at_id is not None else ""
        click.echo(f"audit chain broken{where}: {report.broken}; {report.verified} event(s) verified before it",
                   err=True)
        sys.exit(1)
    click.echo(f"{report.verified} audit event(s) verified; head seq {report.head_seq} hash {report.head_hash}")
