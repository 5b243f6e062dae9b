"""``petitio processes``: the deployed processes and their versions."""

from __future__ import annotations

import click

from workflow.cli_migrate import migrate


@click.group()
def processes() -> None:
    """Deployed processes, their versions and their running instances."""


processes.add_command(migrate)
