"""A killed import leaves no orphaned encrypted files, and `petitio storage check` finds and removes any (issue 14
item 7). The real `petitio intake import` is killed with SIGKILL in the middle of a batch, on SQLite and PostgreSQL.

New files keep a pending name until the transaction that records them commits (workflow/runtime/pending_blobs.py):
what a kill leaves is pending, and the check removes it once older than the grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import children_of
from tests.workflow.fixtures import others_still_busy, write_appeals_csv, write_episodes_csv
from tests.workflow.test_cli import BACKENDS, PETITIO, Cli, _make_cli, _reset_pg_schema, last_json, succeeded
from workflow.models import Document
from workflow.services.import_batches import IMPORT_BATCH
from workflow.storage import PENDING_SUFFIX

# Two batches of `intake import`; the second is long enough that between writing its files (all at once, before
# its workflows start) and its commit there is about a second or two for the kill to land in.
ROWS = IMPORT_BATCH + 400
FIRST_BATCH = IMPORT_BATCH


@pytest.fixture(scope="module")
def _pg_schema_back() -> Iterator[None]:
    yield
    _reset_pg_schema(upgrade=True)


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    if request.param == "postgresql":
        request.getfixturevalue("_pg_schema_back")
        _reset_pg_schema()
    made = _make_cli(tmp_path, request.param)
    made.initialise()
    with made.session() as session:
        from workflow.services.importer import import_episodes

        import_episodes(session, None, write_episodes_csv(made.work / "episodes"))
    return made


def _files(cli: Cli) -> tuple[list[Path], list[Path]]:
    """(final, left over) files of the store: left over are pending files and a write's temporary file."""
    root = cli.settings.documents_dir
    found = [p for p in root.glob("??/??/*") if p.is_file()] if root.exists() else []
    final = [p for p in found if re.fullmatch(r"[0-9a-f]{32}", p.name)]
    return final, [p for p in found if p not in final]


def _rows(cli: Cli) -> set[str]:
    with cli.session() as session:
        return set(session.scalars(select(Document.storage_key)))


def _check(cli: Cli, *args: str) -> tuple[int, dict]:
    result = cli.run("storage", "check", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, last_json(result.stdout)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie runs nothing: it waits for its new parent to reap it


def _in_the_window(cli: Cli) -> bool:
    """The first batch's files published, and a later batch's files written, not yet published by its commit."""
    final, pending = _files(cli)
    return len(final) >= 2 * FIRST_BATCH and any(p.name.endswith(PENDING_SUFFIX) for p in pending)


def _signal(pids: tuple[int, ...], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a writer done with its last batch, reaped already
            os.kill(pid, signum)


def _kill_mid_batch(cli: Cli, appeals: Path) -> None:
    """Start the import; SIGKILL it once its first batch has committed and a later one has written files (checked
    again with every process of it stopped). On PostgreSQL the batches are written by processes it forked: they die
    with it, however many batches are left."""
    log = (cli.work / "import.log").open("w")
    process = subprocess.Popen([str(PETITIO), "intake", "import", str(appeals), "--documents",
                                str(appeals.parent / "docs")], stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, env=cli.environ, cwd=cli.work)
    deadline = time.monotonic() + 300
    try:
        while True:
            assert process.poll() is None, f"the import ended before it could be killed: {process.returncode}"
            assert time.monotonic() < deadline, "the import never reached its second batch"
            if _in_the_window(cli):
                # Frozen where they are (the import, then the writers it forked), so that what is on disk stays
                # as it is while it is looked at again: a batch may have committed between the look and the stop.
                writers = children_of(process.pid)
                _signal((process.pid, *writers), signal.SIGSTOP)
                if _in_the_window(cli):
                    process.send_signal(signal.SIGKILL)  # a stopped process dies of it too
                    break
                _signal((process.pid, *writers), signal.SIGCONT)
            time.sleep(0.01)  # polling the disk of another process (a fast machine imports a batch in a second)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        log.close()
    assert process.returncode == -signal.SIGKILL
    assert bool(writers) is (cli.backend == "postgresql" and len(os.sched_getaffinity(0)) > 1)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in writers):  # the kernel sends each SIGKILL as the parent dies: a moment
        assert time.monotonic() < deadline, "a writer process outlived the killed import"
        time.sleep(0.05)
    while cli.backend == "postgresql" and _server_still_busy(cli):
        assert time.monotonic() < deadline, "the server never ended the killed import's sessions"
        time.sleep(0.05)


def _server_still_busy(cli: Cli) -> bool:
    with cli.session() as session:
        return others_still_busy(session)


def test_a_killed_import_leaves_only_pending_files_which_the_check_removes(cli: Cli) -> None:
    appeals = write_appeals_csv(cli.work / "appeals", n=ROWS, missing=0)
    _kill_mid_batch(cli, appeals)
    final, pending = _files(cli)
    rows = _rows(cli)
    published = {p.name for p in final}
    assert pending, "the kill left nothing to find"
    assert published <= rows, "a file was visible without its committed row"
    # A writer killed between its commit and its files' renames (PostgreSQL's writer processes publish hundreds
    # after each commit) leaves committed rows whose file still has its pending name: read under that name, and
    # given its final one by the check (workflow/runtime/pending_blobs.py). Any other row lost its file.
    unpublished = rows - published
    assert unpublished <= {p.name.removesuffix(PENDING_SUFFIX) for p in pending}, "a row lost its file"
    left_over = [p for p in pending if p.name.removesuffix(PENDING_SUFFIX) not in unpublished]
    assert left_over, "the kill left no uncommitted file to find"

    # Right after the kill the leftovers are young: a running import's could look the same. Reported, kept; the
    # committed rows' pending files are published.
    code, report = _check(cli)
    assert code == (1 if unpublished else 0), report
    assert (report["orphans"], report["recent"], report["missing"]) == ([], len(left_over), [])
    assert sorted(report["unpublished"]) == sorted(unpublished)
    code, report = _check(cli, "--remove")
    assert code == 0 and (report["removed"], report["published"]) == (0, len(unpublished)), report
    final, pending = _files(cli)
    assert {p.name for p in final} == rows and sorted(pending) == sorted(left_over)

    # Past the grace period they are orphans: listed (exit 1), then removed.
    code, report = _check(cli, "--grace-hours", "0")
    assert code == 1, report
    assert sorted(report["orphans"]) == sorted(p.relative_to(cli.settings.documents_dir).as_posix() for p in pending)
    assert (report["files"], report["documents"], report["missing"]) == (len(final) + len(pending), len(rows), [])
    code, report = _check(cli, "--remove", "--grace-hours", "0")
    assert code == 0, report
    assert report["removed"] == len(pending)
    final, pending = _files(cli)
    assert pending == [] and {p.name for p in final} == _rows(cli)

    # The import run again finishes the rest (idempotent by reference) and leaves nothing behind.
    report = last_json(succeeded(cli.run("intake", "import", appeals, "--documents", appeals.parent / "docs")))
    assert report["rejected"] == 0
    code, report = _check(cli, "--grace-hours", "0")
    assert code == 0 and report["orphans"] == [] and report["recent"] == 0, report
    with cli.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == report["documents"] == 2 * ROWS


def test_a_normal_import_leaves_no_orphan_and_a_missing_file_is_reported(cli: Cli) -> None:
    appeals = write_appeals_csv(cli.work / "appeals", n=12, missing=0)
    succeeded(cli.run("intake", "import", appeals, "--documents", appeals.parent / "docs"))
    code, report = _check(cli, "--grace-hours", "0")
    assert code == 0, report
    assert (report["files"], report["documents"], report["orphans"], report["recent"]) == (24, 24, [], 0)
    assert _files(cli)[1] == []  # every file has its final name

    # A file lost (a restore that missed it): its document is named, nothing is removed for it.
    lost = sorted(_files(cli)[0])[0]
    os.remove(lost)
    code, report = _check(cli, "--remove", "--grace-hours", "0")
    assert code == 1 and len(report["missing"]) == 1 and report["removed"] == 0, report
    assert json.dumps(report).count(lost.name) == 0  # ids are reported, not keys
