"""``petitio processes list|deploy|activate``: the process versions, as the admin pages show and change them.

The same services as /admin/processes (``workflow/services/process_versions.py``), run as the operator (actor
None, audited like every command line action): ``deploy`` stores the files' processes as new inactive versions and
prints what changed; ``--activate`` (or ``activate PROCESS VERSION``) makes them the ones new instances start on.
A refused upload is one line on standard error, exit 1, nothing stored.
"""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli_migrate import migrate
from workflow.cli_support import Runtime, one_line_errors, pass_runtime
from workflow.db import unit_of_work
from workflow.runtime.changes import ChangeSummary, Node
from workflow.services import process_versions as service


@click.group()
def processes() -> None:
    """Process definitions: their versions, deploying a new one, activating one."""


def _node(node: Node) -> str:
    name = f" {node.name!r}" if node.name else ""
    return f"{node.process_id}:{node.node_id} ({node.kind}){name}"


def summary_lines(summary: ChangeSummary) -> list[str]:
    """The change summary as indented lines (empty: nothing changed in the flow or the forms)."""
    lines = [f"  added {_node(n)}" for n in summary.added]
    lines += [f"  removed {_node(n)}" for n in summary.removed]
    lines += [f"  renamed {_node(r.old)} -> {r.new.name!r}" for r in summary.renamed]
    lines += [f"  id changed {_node(r.old)} -> {r.new.node_id}" for r in summary.reidentified]
    lines += [f"  form of {_node(r.new)}: {r.old.form} -> {r.new.form}" for r in summary.task_forms]
    lines += [f"  form changed {name}" for name in summary.forms_changed]
    lines += [f"  form added {name}" for name in summary.forms_added]
    lines += [f"  form removed {name}" for name in summary.forms_removed]
    return lines or ["  no flow node or form changed"]


@processes.command("list")
@pass_runtime
@one_line_errors
def list_versions(rt: Runtime) -> None:
    """Every process and its versions, newest first; '*' marks the active version."""
    with unit_of_work(rt.ready_engine()) as session:
        for process in service.list_processes(session, None):
            click.echo(f"{process.process_id} (active: {process.active_version or 'none'})")
            for v in process.versions:
                counts = " ".join(f"{status} {number}" for status, number in v.instances.items())
                activated = (f" activated {v.activated_at:%Y-%m-%d %H:%M} by {v.activated_by or 'operator'}"
                             if v.activated_at else "")
                click.echo(f"{'*' if v.active else ' '} v{v.version} {v.short_sha} deployed "
                           f"{v.deployed_at:%Y-%m-%d %H:%M} by {v.deployed_by or 'operator'}{activated}; {counts}")


@processes.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--activate", "activate_now", is_flag=True, help="Activate each new version at once.")
@pass_runtime
@one_line_errors
def deploy(rt: Runtime, files: tuple[Path, ...], activate_now: bool) -> None:
    """Check FILES (.bpmn and form .json files; the others come from the active versions) and store each process
    they change as a new inactive version; prints what changed against the version before it."""
    with unit_of_work(rt.ready_engine()) as session:
        results = service.upload(session, None, [(path.name, path.read_bytes()) for path in files])
        for result in results:
            v = result.info
            if result.new:
                click.echo(f"{v.process_id}: version {v.version} stored ({v.short_sha}), not active")
            else:
                state = "the active version" if v.active else "not active"
                click.echo(f"{v.process_id}: these files are version {v.version} already ({state})")
            for line in summary_lines(result.changes):
                click.echo(line)
            if activate_now and not v.active:
                service.activate_version(session, None, v.process_id, v.version)
                click.echo(f"{v.process_id}: version {v.version} is now active")


@processes.command("activate")
@click.argument("process_id")
@click.argument("version", type=click.IntRange(min=1))
@pass_runtime
@one_line_errors
def activate(rt: Runtime, process_id: str, version: int) -> None:
    """Make VERSION of PROCESS_ID the active one: new cases and filings start on it (rolling back included)."""
    with unit_of_work(rt.ready_engine()) as session:
        before = service.activate_version(session, None, process_id, version)
        was = f" (was version {before.version})" if before else ""
        click.echo(f"{process_id}: version {version} is now active{was}")


processes.add_command(migrate)
