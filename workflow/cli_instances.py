"""``petitio instances``: the process instances in error, and their repair (retry, reset to an earlier task), as a
named administrator (the same service, checks and audit as the admin pages: ``services/repair.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from workflow.cli_support import Runtime, one_line_errors, pass_runtime
from workflow.db import unit_of_work

if TYPE_CHECKING:
    from workflow.services.repair import Outcome

AS_ADMIN = click.option("--as", "username", required=True, help="The administrator doing it (audited).")


@click.group()
def instances() -> None:
    """Process instances in error."""


@instances.command("errors")
@AS_ADMIN
@pass_runtime
@one_line_errors
def instances_errors(rt: Runtime, username: str) -> None:
    """List the instances in error: id, case, process and version, failed step, since when, the error."""
    from workflow.services.repair import instances_in_error
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        found = instances_in_error(session, get_user(session, username))
        for item in found:
            since = item.failure.since.isoformat(timespec="seconds") if item.failure.since else "-"
            click.echo("\t".join([str(item.instance_id), item.case_ref or "-", f"{item.process_id}:{item.version}",
                                  item.failure.step or "-", since, (item.error or "").replace("\n", " ")]))
    if not found:
        click.echo("no instance is in error")


def _report(outcome: Outcome) -> None:
    if outcome.error is not None:
        raise click.ClickException(f"instance {outcome.instance_id} failed again and stays in error: {outcome.error}")
    click.echo(f"instance {outcome.instance_id}: {outcome.status}")


@instances.command("retry")
@click.argument("instance_id", type=int)
@AS_ADMIN
@pass_runtime
@one_line_errors
def instances_retry(rt: Runtime, instance_id: int, username: str) -> None:
    """Run INSTANCE_ID again from where it stopped (once the cause of its error is gone)."""
    from workflow.services.repair import retry
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        outcome = retry(session, rt.settings, get_user(session, username), instance_id)
    _report(outcome)


@instances.command("reset")
@click.argument("instance_id", type=int)
@click.argument("task")
@AS_ADMIN
@pass_runtime
@one_line_errors
def instances_reset(rt: Runtime, instance_id: int, task: str, username: str) -> None:
    """Reset INSTANCE_ID to TASK (a task id, or a BPMN id: its latest run) and run it from there."""
    from workflow.services.repair import reset
    from workflow.services.users import get_user

    with unit_of_work(rt.ready_engine()) as session:
        outcome = reset(session, rt.settings, get_user(session, username), instance_id, task)
    _report(outcome)
