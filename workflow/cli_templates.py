"""``petitio templates check [DIR]``: validate an edited wording folder before it is deployed."""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli_support import Runtime, pass_runtime
from workflow.wording import check_folder


@click.group()
def templates() -> None:
    """The wording staff edit: filing templates, consent forms, the digest mail (templates/README.md)."""


@templates.command("check")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@pass_runtime
def check(rt: Runtime, folder: Path | None) -> None:
    """Check every template in FOLDER (default: the installation's PETITIO_TEMPLATES_DIR).

    Prints each problem as "file: reason" and exits with 1 when there is any, 0 when the folder is clean.
    """
    root = folder if folder is not None else _configured(rt)
    problems = check_folder(root)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{root.resolve()}: every template is valid")


def _configured(rt: Runtime) -> Path:
    try:
        return rt.settings.templates_dir
    except ValueError as error:  # the setting names a folder that is not there
        raise click.ClickException(str(error)) from None
