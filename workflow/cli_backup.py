"""``petitio backup OUT``, ``petitio backup verify ARCHIVE``, ``petitio backup new-key FILE`` and
``petitio restore ARCHIVE`` (``workflow/backup``): one encrypted archive of an instance, and back.

The archive's secret is never a command-line argument (the process list shows those): a passphrase comes from
``PETITIO_BACKUP_PASSPHRASE`` or ``--passphrase-file``, or a 32-byte key from ``--key-file``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from workflow.backup.archive import BackupSecret, create_private, new_key_text
from workflow.cli_support import Runtime, one_line_errors, pass_runtime

PASSPHRASE_ENV = "PETITIO_BACKUP_PASSPHRASE"
NOT_EMPTY_EXIT = 3  # `petitio restore` into an instance that holds data: refused, nothing changed


class _BackupGroup(click.Group):
    """``petitio backup OUT`` is ``petitio backup create OUT``: a first argument that is not a subcommand is a file."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


def secret_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--key-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                      help="A backup key file (`petitio backup new-key FILE`) instead of a passphrase.")(fn)
    return click.option("--passphrase-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help=f"Read the passphrase from this file (first line) instead of {PASSPHRASE_ENV}.")(fn)


def _secret(passphrase_file: Path | None, key_file: Path | None) -> BackupSecret:
    if passphrase_file and key_file:
        raise click.ClickException("give either --passphrase-file or --key-file, not both")
    if key_file:
        return BackupSecret.from_key_file(key_file)
    if passphrase_file:
        lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        return BackupSecret.from_passphrase(lines[0] if lines else "")
    if os.environ.get(PASSPHRASE_ENV):
        return BackupSecret.from_passphrase(os.environ[PASSPHRASE_ENV])
    raise click.ClickException(f"no backup secret: set {PASSPHRASE_ENV}, or give --passphrase-file or --key-file")


@click.group(cls=_BackupGroup)
def backup() -> None:
    """One encrypted archive of the database, the documents and the keys.

    `petitio backup OUT` (the same as `petitio backup create OUT`) writes it; `petitio backup verify ARCHIVE` proves
    it restores identical; `petitio restore ARCHIVE` brings it back into an empty instance. The secret comes from
    PETITIO_BACKUP_PASSPHRASE, --passphrase-file or --key-file (docs/OPERATIONS.md, "Backups")."""


@backup.command("create")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--without-keys", is_flag=True,
              help="Leave the key ring out (keep PETITIO_HOME/keys yourself; restore with --keys DIR).")
@secret_options
@pass_runtime
@one_line_errors
def create(rt: Runtime, out: Path, without_keys: bool, passphrase_file: Path | None, key_file: Path | None) -> None:
    """Write the archive OUT (a new file, mode 0600); prints what it holds as JSON."""
    from workflow.backup.dump import write_backup

    secret = _secret(passphrase_file, key_file)
    report = write_backup(rt.ready_engine(), rt.settings, out, secret, with_keys=not without_keys)
    click.echo(json.dumps(report, sort_keys=True))


@backup.command("verify")
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--against-live", is_flag=True, help="Also compare with this instance's database and documents.")
@secret_options
@pass_runtime
@one_line_errors
def verify(rt: Runtime, archive: Path, against_live: bool, passphrase_file: Path | None,
           key_file: Path | None) -> None:
    """Restore ARCHIVE into a temporary instance and compare it with its manifest; prints a JSON summary and exits 1
    on any difference."""
    from workflow.backup.verify import verify_archive

    live = (rt.ready_engine(), rt.settings) if against_live else None
    summary = verify_archive(archive, _secret(passphrase_file, key_file), live=live)
    click.echo(json.dumps(summary, sort_keys=True))
    if not summary["ok"]:
        sys.exit(1)


@backup.command("new-key")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def new_key(file: Path) -> None:
    """Write a new random backup key to FILE (mode 0600) for --key-file; keep it apart from the archives."""
    with create_private(file) as fh:
        fh.write(new_key_text().encode("ascii") + b"\n")
    click.echo(f"backup key written to {file}")


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The key folder saved with an archive made --without-keys.")
@secret_options
@pass_runtime
@one_line_errors
def restore(rt: Runtime, archive: Path, keys_dir: Path | None, passphrase_file: Path | None,
            key_file: Path | None) -> None:
    """Restore ARCHIVE into this instance (PETITIO_HOME, DATABASE_URL), which must be empty; prints JSON.

    Exits 3, changing nothing, when the instance already holds data."""
    from workflow import schema
    from workflow.backup.restore import TargetNotEmpty, restore_archive

    try:
        report = restore_archive(rt.engine, rt.settings, archive, _secret(passphrase_file, key_file),
                                 keys_from=keys_dir)
    except TargetNotEmpty as err:
        click.echo(f"Error: {err.message}", err=True)
        sys.exit(NOT_EMPTY_EXIT)
    click.echo(json.dumps(report.as_dict(), sort_keys=True))
    if report.revision != schema.head_revision():
        click.echo("the archive comes from an older version: run `petitio init` to upgrade the schema", err=True)
