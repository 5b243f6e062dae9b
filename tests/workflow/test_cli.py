"""The `petitio` command line (INTERFACES.md §1-§3), run as the real installed executable in a subprocess.

Every test that needs a database runs on SQLite (a file under ``PETITIO_HOME``) and, when
TEST_DATABASE_URL is set, on PostgreSQL: there each test starts from an empty ``public`` schema, and the
schema is put back at the current revision when this module is done, for the other modules' fixtures.
Steps that are not under test (schema, users, the imported appeals, moving a timer) are done in-process
with the same services and settings the command uses; what is under test goes through ``petitio``.

Error contract checked everywhere: exit code != 0, no "Traceback", the error is one line on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from tests.workflow.fixtures import appeal_rows, write_appeals_csv, write_documents, write_episodes_csv, write_rows_csv
from workflow import schema
from workflow.config import Settings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import ApiToken, AuditEvent, Case, HumanTask, ProcessInstance, User

PETITIO = Path(sys.executable).with_name("petitio")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TIMEOUT = 120  # seconds for one command; a hung command fails its test instead of the whole run
PASSWORD = "correct horse battery"
# "petitio init" prints one such line per deployed process definition.
DEPLOYED = re.compile(r"^process (\S+) version (\d+) \(([0-9a-f]{12})\)$", re.MULTILINE)
FIRED = re.compile(r"fired due timers on (\d+) process instance\(s\); (\d+) failed")
Command = list[str | Path] | tuple[list[str | Path], str]  # arguments, or (arguments, stdin)


# -- running the command -------------------------------------------------------------------------------


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return (f"`{' '.join(str(a) for a in result.args[1:])}` exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error contract: a failure exit, no traceback, and exactly one (non-blank) line on stderr."""
    assert result.returncode != 0, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, describe(result)
    return lines[0]


def last_json(stdout: str) -> Any:
    lines = stdout.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])


def base_environ(home: Path) -> dict[str, str]:
    """The caller's environment minus any Petitio settings, plus PETITIO_HOME and TZ=UTC.

    The command runs as installed (``pip install -e .``), exactly as ``make run`` starts it.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PETITIO_") and k != "DATABASE_URL"}
    environ.update(PETITIO_HOME=str(home), TZ="UTC")
    return environ


@dataclass
class Cli:
    backend: str
    home: Path  # PETITIO_HOME
    work: Path  # the working directory and the place for input files (outside PETITIO_HOME)
    environ: dict[str, str]

    @property
    def settings(self) -> Settings:
        return load_settings({k: self.environ[k] for k in ("PETITIO_HOME", "DATABASE_URL") if k in self.environ})

    def run(self, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
        # stdin is always a pipe (never the terminal pytest was started from), so nothing ever prompts.
        return subprocess.run([str(PETITIO), *map(str, args)], input=stdin, capture_output=True, text=True,
                              env=self.environ, cwd=self.work, timeout=TIMEOUT, check=False)

    def run_many(self, *commands: Command) -> list[subprocess.CompletedProcess[str]]:
        """Independent commands side by side (each spends about a second starting up); results in order.

        A command is a list of arguments, or (arguments, stdin)."""
        jobs = [(c, "") if isinstance(c, list) else c for c in commands]
        running = [subprocess.Popen([str(PETITIO), *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=self.environ, cwd=self.work)
                   for args, _ in jobs]
        results = []
        try:
            for process, (_, stdin) in zip(running, jobs, strict=True):
                stdout, stderr = process.communicate(stdin, timeout=TIMEOUT)
                results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        return results

    def ok(self, *args: str | Path, stdin: str = "") -> str:
        return succeeded(self.run(*args, stdin=stdin))

    def fails(self, *args: str | Path, stdin: str = "") -> str:
        return one_line_error(self.run(*args, stdin=stdin))

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        engine = make_engine(self.settings.database_url)
        try:
            yield engine
        finally:
            engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.engine() as engine, unit_of_work(engine) as session:
            yield session

    # In-process set-up for the steps a test does not check.

    def initialise(self) -> None:
        from workflow.services.install import initialise

        with self.engine() as engine:
            initialise(engine, self.settings)

    def seed(self) -> list[dict[str, Any]]:
        """Schema, two users (ina: intake, lena: legal) and 20 imported appeals (3 lack a document)."""
        from workflow.services.importer import import_appeals, import_episodes
        from workflow.services.users import add_user

        self.initialise()
        appeals = write_appeals_csv(self.work / "appeals", n=20, missing=3)
        with self.session() as session:
            add_user(session, None, "ina", "intake", full_name="Ina Intake", password=PASSWORD)
            add_user(session, None, "lena", "legal", full_name="Lena Legal", password=PASSWORD)
            import_episodes(session, None, write_episodes_csv(self.work / "episodes"))
            report = import_appeals(session, self.settings, None, appeals, documents_dir=appeals.parent / "docs")
            assert report.ok and report.created == 20, report
        return appeal_rows(n=20, missing=3)

    def refs(self, like: str = "%") -> list[str]:
        with self.session() as session:
            return list(session.scalars(select(Case.ref).where(Case.ref.like(like)).order_by(Case.ref)))


# -- fixtures ------------------------------------------------------------------------------------------


def _reset_pg_schema(*, upgrade: bool = False) -> None:
    engine = make_engine(PG_URL or "")
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        if upgrade:
            schema.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def _pg_schema_restored() -> Iterator[None]:
    """Leave PostgreSQL as conftest's ``env`` fixture expects it: the schema at the current revision."""
    yield
    _reset_pg_schema(upgrade=True)


def _make_cli(tmp_path: Path, backend: str) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    environ = base_environ(tmp_path / "home")
    if backend == "postgresql":
        environ["DATABASE_URL"] = PG_URL or ""
    return Cli(backend, tmp_path / "home", work, environ)


@pytest.fixture(params=BACKENDS)
def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """A fresh, uninitialised installation: an empty PETITIO_HOME, on SQLite or an empty PostgreSQL schema."""
    if request.param == "postgresql":
        request.getfixturevalue("_pg_schema_restored")
        _reset_pg_schema()
    return _make_cli(tmp_path, request.param)


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return _make_cli(tmp_path, "sqlite")


# -- help ------------------------------------------------------------------------------------------------


def test_help_never_touches_the_database(tmp_path: Path) -> None:
    cli = _make_cli(tmp_path, "sqlite")
    # A database nobody could reach: any attempt to connect would fail the command.
    cli.environ["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    commands: list[list[str | Path]] = [[], ["users"], ["episodes"], ["intake"], ["cases"], ["tasks"],
                                        ["intake", "import"], ["backup"], ["restore"]]
    outputs = {}
    for command, result in zip(commands, cli.run_many(*[[*c, "--help"] for c in commands]), strict=True):
        assert succeeded(result).startswith("Usage: petitio"), describe(result)
        assert result.stderr == "", describe(result)
        outputs[" ".join(map(str, command))] = result.stdout
    for name in ("init", "users", "episodes", "intake", "worker", "demo", "serve", "cases", "tasks", "backup",
                 "restore"):
        assert re.search(rf"^  {name}\b", outputs[""], re.MULTILINE), f"{name} missing from petitio --help"
    assert "add" in outputs["users"] and "token" in outputs["users"]
    assert "import" in outputs["episodes"] and "import" in outputs["intake"]
    assert "list" in outputs["cases"] and "show" in outputs["cases"]
    assert "complete" in outputs["tasks"]
    assert all(c in outputs["backup"] for c in ("create", "verify", "new-key")) and "--keys" in outputs["restore"]
    for option in ("--documents", "--dry-run", "--partial"):
        assert option in outputs["intake import"]
    assert not (tmp_path / "home").exists(), "--help created PETITIO_HOME"


# -- init ------------------------------------------------------------------------------------------------


def test_commands_before_init_fail_then_init_is_idempotent(cli_env: Cli) -> None:
    for result in cli_env.run_many(["cases", "list"], ["users", "token", "ina"], ["worker", "--once"], ["demo"]):
        assert "petitio init" in one_line_error(result), describe(result)

    first = cli_env.ok("init")
    versions = DEPLOYED.findall(first)
    assert {process for process, _, _ in versions} >= {"case", "filing"}, first
    assert cli_env.ok("init").splitlines() == first.splitlines()  # same versions, same digests

    if cli_env.backend == "sqlite":
        assert (cli_env.home / "petitio.sqlite3").is_file()
        assert cli_env.settings.database_url.endswith(str(cli_env.home / "petitio.sqlite3"))
    with cli_env.engine() as engine:
        assert schema.is_current(engine)
        assert {"cases", "users", "api_tokens", "audit_events"} <= set(inspect(engine).get_table_names())
    assert cli_env.ok("cases", "list").strip().splitlines()[-1] == "0 case(s)"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_init_keeps_petitio_home_private(sqlite_cli: Cli) -> None:
    # PETITIO_HOME holds the database (personal data), the documents and the keys: install.initialise
    # creates it with mode 0o700. A common umask (022) must not make it readable by other local users.
    result = subprocess.run([str(PETITIO), "init"], input="", capture_output=True, text=True, env=sqlite_cli.environ,
                            cwd=sqlite_cli.work, timeout=TIMEOUT, check=False, umask=0o022)
    succeeded(result)
    assert stat.S_IMODE(sqlite_cli.home.stat().st_mode) == 0o700


# -- users -----------------------------------------------------------------------------------------------


def test_users_add_and_token(cli_env: Cli) -> None:
    from workflow.services.passwords import verify_password

    cli_env.initialise()
    out = cli_env.ok("users", "add", "lena", "--role", "legal", "--full-name", "Lena Legal", stdin=PASSWORD + "\n")
    assert out.strip() == "user lena (legal) created"
    with cli_env.session() as session:
        user = session.scalars(select(User).where(User.username == "lena")).one()
        assert (user.role, user.full_name, user.locale) == ("legal", "Lena Legal", "en")
        assert verify_password(user, PASSWORD), "the password read from stdin is not the one stored"

    short, weak, taken, role, issued, nobody = cli_env.run_many(
        (["users", "add", "leo", "--role", "legal"], "short\n"),
        (["users", "add", "leo", "--role", "admin"], "admin12345\n"),
        (["users", "add", "lena", "--role", "intake"], PASSWORD + "\n"),
        (["users", "add", "leo", "--role", "boss"], PASSWORD + "\n"),
        ["users", "token", "lena"],
        ["users", "token", "nobody"],
    )
    line = one_line_error(short)
    assert "password" in line and "10" in line, line
    assert "password: too easy to guess" in one_line_error(weak)  # zxcvbn, not only the length
    assert "already taken" in one_line_error(taken)
    assert "role" in one_line_error(role) and "legal" in one_line_error(role)
    assert "nobody" in one_line_error(nobody)
    with cli_env.session() as session:
        assert list(session.scalars(select(User.username))) == ["lena"]

    out = succeeded(issued)
    token = out.strip().splitlines()[-1]
    assert re.fullmatch(r"\S{20,}", token), out
    with cli_env.session() as session:
        hashes = list(session.scalars(select(ApiToken.token_hash)))
        assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
        rows = session.execute(text("SELECT * FROM api_tokens")).all()
        assert not any(token in str(value) for row in rows for value in row)
        audit = session.scalars(select(AuditEvent.data)).all()
        assert not any(token in json.dumps(data) for data in audit)
        # The operator's token: audited with no actor, channel cli; a name and the default expiry.
        issued_event = session.scalars(select(AuditEvent).where(AuditEvent.action == "token_created")).one()
        assert issued_event.actor_id is None and issued_event.data["channel"] == "cli"
        row = session.scalars(select(ApiToken)).one()
        assert row.name == "token 1" and row.expires_at - row.created_at == timedelta(days=90)

    named = cli_env.ok("users", "token", "lena", "--name", "nightly export", "--days", "7")
    assert re.fullmatch(r"pt_\S{20,}", named.strip().splitlines()[-1]), named
    assert "366" in one_line_error(cli_env.run_many(["users", "token", "lena", "--days", "400"])[0])
    with cli_env.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "nightly export")).one()
        assert row.expires_at - row.created_at == timedelta(days=7)
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_audit_verify_reports_the_chain_and_a_broken_link(cli_env: Cli) -> None:
    cli_env.initialise()
    cli_env.ok("users", "add", "lena", "--role", "legal", stdin=PASSWORD + "\n")
    cli_env.ok("users", "token", "lena")
    out = cli_env.ok("audit", "verify").strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) audit event\(s\) verified; head seq (\d+) hash ([0-9a-f]{64})", out)
    assert match and match.group(1) == match.group(2) == "2", out
    assert cli_env.ok("audit", "verify", "--head", match.group(3))
    with cli_env.session() as session:
        session.execute(text("UPDATE audit_events SET action = 'user_deleted' WHERE seq = 1"))
    broken = cli_env.run_many(["audit", "verify"])[0]
    assert broken.returncode == 1, describe(broken)
    assert "broken at seq 1" in broken.stderr and "edited" in broken.stderr, describe(broken)


def test_unknown_role_is_a_single_line(sqlite_cli: Cli) -> None:
    sqlite_cli.fails("users", "add", "leo", "--role", "boss", stdin=PASSWORD + "\n")


# -- import ----------------------------------------------------------------------------------------------


def _new_appeals(folder: Path) -> tuple[Path, Path, Path]:
    """Four appeals NEW-001..NEW-004 that are not in the 20-row file: a valid file and one whose third row
    (spreadsheet row 4) names an unknown incident type. Returns (valid file, bad file, documents folder)."""
    rows = appeal_rows(n=4, missing=0, seed=11)
    for row in rows:
        row["ref"] = row["ref"].replace("APL-", "NEW-")
        row["form_of_appeal"], row["power_of_attorney"] = f"foa-{row['ref']}.pdf", f"poa-{row['ref']}.pdf"
    folder.mkdir(parents=True)
    docs = write_documents(folder, rows, seed=11)
    valid = write_rows_csv(folder / "new.csv", rows)
    rows[2]["incident_types"] = "detention_at_rally;alien_abduction"
    return valid, write_rows_csv(folder / "bad.csv", rows), docs


def test_episodes_and_intake_import(cli_env: Cli) -> None:
    cli_env.initialise()
    episodes = write_episodes_csv(cli_env.work / "episodes")
    appeals = write_appeals_csv(cli_env.work / "appeals", n=20, missing=3)
    docs = appeals.parent / "docs"
    refs = [f"APL-{i:03d}" for i in range(1, 21)]

    assert last_json(cli_env.ok("episodes", "import", episodes)) == {"created": 4, "updated": 0, "unchanged": 0}

    report = last_json(cli_env.ok("intake", "import", appeals, "--documents", docs))
    assert (report["created"], report["rejected"], report["errors"]) == (20, 0, [])
    # Three imports that must change nothing: the same file, a dry run, a file with one bad row.
    valid, bad, new_docs = _new_appeals(cli_env.work / "new")
    same, dry, result = cli_env.run_many(["intake", "import", appeals, "--documents", docs],
                                         ["intake", "import", valid, "--documents", new_docs, "--dry-run"],
                                         ["intake", "import", bad, "--documents", new_docs])
    again = last_json(succeeded(same))
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 20, 0)
    report = last_json(succeeded(dry))
    assert (report["created"], report["rejected"], report["errors"]) == (4, 0, [])
    listed = json.loads(cli_env.ok("cases", "list", "--json"))
    assert [c["ref"] for c in listed] == refs, "a dry run or a rejected file imported something"

    assert result.returncode == 1, describe(result)
    line = one_line_error(result)
    assert "row 4" in line and "incident_types" in line, line
    report = last_json(result.stdout)
    assert (report["created"], report["rejected"]) == (0, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "incident_types")]
    assert "alien_abduction" in report["errors"][0]["message"]
    assert cli_env.refs("NEW-%") == [], "one bad row must import nothing"

    result = cli_env.run("intake", "import", bad, "--documents", new_docs, "--partial")
    assert result.returncode == 1, describe(result)
    # With --partial the good rows are written: the batch's progress line, then the refused row's line.
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "3 / 3 rows written", "row 4, incident_types: unknown incident type 'alien_abduction'"], describe(result)
    report = last_json(result.stdout)
    assert (report["created"], report["rejected"]) == (3, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "incident_types")]
    assert cli_env.refs("NEW-%") == ["NEW-001", "NEW-002", "NEW-004"]


# -- cases and tasks -------------------------------------------------------------------------------------


def _identity_reads(cli: Cli, ref: str) -> list[dict[str, Any]]:
    with cli.session() as session:
        return list(session.scalars(select(AuditEvent.data).where(AuditEvent.action == "identity_read",
                                                                  AuditEvent.object_id == ref)))


def _ready_task_id(cli: Cli, ref: str, bpmn_id: str) -> str:
    with cli.session() as session:
        return session.scalars(select(HumanTask.id).join(Case, HumanTask.case_id == Case.id)
                               .where(Case.ref == ref, HumanTask.bpmn_id == bpmn_id,
                                      HumanTask.state == "ready")).one()


def test_cases_and_tasks(cli_env: Cli) -> None:
    rows = cli_env.seed()
    refs = [r["ref"] for r in rows]
    task_id = _ready_task_id(cli_env, "APL-001", "verify_consent")
    lacking = next(r for r in rows if not r["form_of_appeal"])
    both = json.dumps({"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    reads = len(_identity_reads(cli_env, "APL-001"))

    # Reads, and completions that must be refused, side by side: none of them changes a case.
    listing, listing_json, show, nope, wrong_role, bad_json, no_document = cli_env.run_many(
        ["cases", "list"], ["cases", "list", "--json"], ["cases", "show", "APL-001"], ["cases", "show", "NOPE"],
        ["tasks", "complete", task_id, "--as", "lena", "--data", both],
        ["tasks", "complete", task_id, "--as", "ina", "--data", '{"form_of_appeal_verified": tru'],
        ["tasks", "complete", _ready_task_id(cli_env, lacking["ref"], "verify_consent"), "--as", "ina",
         "--data", both],
    )
    lines = succeeded(listing).strip().splitlines()
    assert lines[-1] == "20 case(s)"
    assert [line.split()[:2] for line in lines[:-1]] == [[ref, "consent"] for ref in refs]
    listed = json.loads(succeeded(listing_json))
    assert [(c["ref"], c["stage"], c["ready_tasks"]) for c in listed] == [(ref, "consent", 1) for ref in refs]

    shown = json.loads(succeeded(show))
    assert (shown["ref"], shown["stage"]) == ("APL-001", "consent")
    assert [(t["id"], t["bpmn_id"], t["lane"]) for t in shown["tasks"]] == [(task_id, "verify_consent", "intake")]
    after = _identity_reads(cli_env, "APL-001")
    assert len(after) == reads + 1 and after[-1]["channel"] == "cli", after
    assert "NOPE" in one_line_error(nope)

    line = one_line_error(wrong_role)
    assert "intake" in line and "legal" in line, line
    assert "JSON" in one_line_error(bad_json)
    line = one_line_error(no_document)
    assert "form_of_appeal_verified" in line, line
    with cli_env.session() as session:
        assert set(session.scalars(select(Case.stage))) == {"consent"}, "a refused completion changed a case"

    out = cli_env.ok("tasks", "complete", shown["tasks"][0]["id"], "--as", "ina", "--data", both)
    assert out.strip().splitlines()[-1] == "task completed; case stage: legal_review"

    again, consent = cli_env.run_many(["tasks", "complete", task_id, "--as", "ina", "--data", both],
                                      ["cases", "list", "--stage", "consent"])
    line = one_line_error(again)
    assert task_id in line and "no longer ready" in line, line
    lines = succeeded(consent).strip().splitlines()
    assert lines[-1] == "19 case(s)"
    assert [line.split()[0] for line in lines[:-1]] == refs[1:]
    with cli_env.session() as session:
        assert session.scalar(select(Case.stage).where(Case.ref == "APL-001")) == "legal_review"


# -- worker ----------------------------------------------------------------------------------------------


def _move_timers_into_the_past(cli: Cli, ref: str) -> int:
    from workflow.runtime import instances
    from workflow.services import processes

    with cli.session() as session:
        instance = session.scalars(select(ProcessInstance).join(Case, ProcessInstance.case_id == Case.id)
                                   .where(Case.ref == ref)).one()
        loaded = processes.load(session, cli.settings, instance, None)
        moved = instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1))
        instances.save(loaded, action="timers_rescheduled")
        return moved


def _fired(stdout: str) -> tuple[int, int]:
    match = FIRED.search(stdout)
    assert match, stdout
    return int(match[1]), int(match[2])


def test_worker_once(cli_env: Cli) -> None:
    cli_env.seed()
    assert _fired(cli_env.ok("worker", "--once")) == (0, 0)
    assert _move_timers_into_the_past(cli_env, "APL-003") >= 1
    assert _fired(cli_env.ok("worker", "--once")) == (1, 0)
    assert _fired(cli_env.ok("worker", "--once")) == (0, 0), "a fired timer fired again"


# -- demo ------------------------------------------------------------------------------------------------


def _counts(cli: Cli) -> tuple[int, int, int]:
    with cli.session() as session:
        return (session.scalar(select(func.count(Case.id))) or 0, session.scalar(select(func.count(User.id))) or 0,
                session.scalar(select(func.count(AuditEvent.id))) or 0)


def test_demo_loads_once(cli_env: Cli) -> None:
    from workflow.services.demo import DEMO_PASSWORD, DEMO_USERS, demo_totp_secret

    cli_env.initialise()
    out = cli_env.ok("demo")
    assert "loaded" in out.splitlines()[0], out
    for username, role, _ in DEMO_USERS:
        # The roles that require a second factor get the demo's printed authenticator key.
        key = f"  authenticator key: {demo_totp_secret(username)}" if role != "intake" else ""
        assert re.search(rf"^\s*{username}\s+{role}\s+password: {DEMO_PASSWORD}{key}$", out, re.MULTILINE), out
    assert "petitio users totp-code NAME" in out
    before = _counts(cli_env)
    assert before[0] >= 30 and before[1] == len(DEMO_USERS)

    second, listing = cli_env.run_many(["demo"], ["cases", "list", "--json"])
    assert "already present" in succeeded(second).splitlines()[0], second.stdout
    assert _counts(cli_env) == before, "a second demo changed the database"

    # The current code of a demo user, for who has no authenticator app at hand; never for anyone else.
    code = cli_env.ok("users", "totp-code", "lara").strip()
    totp = pyotp.TOTP(demo_totp_secret("lara"))
    assert code in {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    assert "not a demo user" in cli_env.fails("users", "totp-code", "dana")  # intake: no second factor
    cli_env.ok("users", "add", "lara2", "--role", "legal", stdin="umbrella quartz fennel 42\n")
    assert "not a demo user" in cli_env.fails("users", "totp-code", "lara2")
    assert "removed" in cli_env.ok("users", "reset-second-factor", "lara")
    assert "not a demo user" in cli_env.fails("users", "totp-code", "lara")

    stages = {c["stage"] for c in json.loads(succeeded(listing))}
    expected = {"intake", "consent", "legal_review", "approval", "filing", "awaiting_response", "follow_up",
                "closed", "rejected", "withdrawn"}
    assert expected <= stages, f"missing stages: {expected - stages}"


# -- serve -----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_health(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1/health"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    log = sqlite_cli.work / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen([str(PETITIO), "serve", "--port", str(port)], stdin=subprocess.DEVNULL,
                                   stdout=sink, stderr=subprocess.STDOUT, env=sqlite_cli.environ, cwd=sqlite_cli.work)
    try:
        deadline = time.monotonic() + 60  # gunicorn's master and its workers each build the app
        answer: Any = None
        while answer is None:
            assert process.poll() is None, f"serve exited {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer from {url} in 60 s:\n{log.read_text()}"
            try:
                with direct.open(url, timeout=2) as response:
                    assert response.status == 200
                    answer = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # listening before the workers boot
                time.sleep(0.2)
        assert answer == {"status": "ok"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=45)  # gunicorn's graceful stop
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert "Traceback" not in log.read_text()
