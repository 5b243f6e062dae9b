"""``petitio processes migrate PROCESS``: move running instances to another version (default: the active one).

The dry run (``--dry-run``) only reads. A real run checks every instance, then moves each movable one in its own
transaction: an instance that fails (blocked meanwhile, or being worked on at that moment) stays on its version
and the others still move. Exit status 0 when every instance that could move moved.
"""

from __future__ import annotations

import click

from workflow.cli_support import Runtime, one_line_errors, pass_runtime
from workflow.db import unit_of_work
from workflow.errors import PetitioError
from workflow.models import ProcessDefinition
from workflow.problems import Problem


def _reasons(problems: tuple[Problem, ...] | list[Problem]) -> str:
    return "; ".join(p.text for p in problems)


@click.command("migrate")
@click.argument("process_id", metavar="PROCESS")
@click.option("--to", "version", type=int, help="The version to move to (default: the active version).")
@click.option("--dry-run", is_flag=True, help="Say which instances can move and why the others cannot; change nothing.")
@click.option("--instance", "instance_ids", type=int, multiple=True, help="Only this instance (repeat).")
@pass_runtime
@one_line_errors
def migrate(rt: Runtime, process_id: str, version: int | None, dry_run: bool, instance_ids: tuple[int, ...]) -> None:
    """Move the running instances of PROCESS to another version, each in its own transaction."""
    from workflow.services import process_migration

    engine = rt.ready_engine()
    with unit_of_work(engine) as session:
        target = process_migration.target_version(session, process_id, version)
        target_id = target.id
        checks = process_migration.plan(session, rt.settings, None, process_id, target,
                                        list(instance_ids) if instance_ids else None)
    moved = failed = blocked = 0
    for check in checks:
        where = f"instance {check.instance_id} ({check.case_ref or '-'}) v{check.from_version} -> v{check.to_version}"
        if not check.movable:
            blocked += 1
            click.echo(f"{where}: cannot move: {_reasons(check.blockers)}")
            continue
        if dry_run:
            click.echo(f"{where}: can move")
            continue
        try:
            with unit_of_work(engine) as session:
                target = session.get(ProcessDefinition, target_id)
                process_migration.migrate(session, rt.settings, None, check.instance_id, target)
        except PetitioError as err:  # this instance stays where it was; the others still move
            failed += 1
            click.echo(f"{where}: not moved: {_reasons(list(err.errors.values())) or err.message}")
            continue
        moved += 1
        click.echo(f"{where}: moved")
    verb = "can move" if dry_run else "moved"
    count = len(checks) - blocked if dry_run else moved
    click.echo(f"{len(checks)} instance(s) of {process_id} on other versions: {count} {verb}, {blocked} cannot move"
               + ("" if dry_run else f", {failed} failed"))
    if failed:
        raise SystemExit(1)
