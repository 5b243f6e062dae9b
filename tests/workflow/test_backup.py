"""Backups (`petitio backup`, `petitio restore`, `petitio backup verify`): an instance with cases, identities and
documents goes into one encrypted archive and comes back identical into an empty instance, on SQLite and
PostgreSQL and across the two; an altered archive does not authenticate; a non-empty target is refused and left
alone; an archive taken before `petitio keys rotate` still restores readable after it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import Env
from tests.helpers import PDF, appeal, docx_bytes, ensure_episode
from workflow import crypto, schema
from workflow.audit import audit
from workflow.backup.archive import ArchiveError, BackupSecret, new_key_text
from workflow.backup.dump import BackupRefused, write_backup
from workflow.backup.restore import RestoreRefused, TargetNotEmpty, check_empty, restore_archive
from workflow.backup.verify import verify_archive
from workflow.config import Settings, load_settings
from workflow.db import make_engine, unit_of_work
from workflow.models import Document
from workflow.roles import OPERATOR
from workflow.runtime.context import document_store
from workflow.services.cases import open_case, read_case
from workflow.services.documents import download_document
from workflow.services.install import initialise
from workflow.services.keys import rotate_keys
from workflow.services.users import add_user, get_user
from workflow.storage import blob_keys

PETITIO = Path(sys.executable).with_name("petitio")
PG_URL = os.environ.get("TEST_DATABASE_URL")
SENTENCE = "Fictional statement: the applicant was questioned for eleven hours."
PASSPHRASE = "fictional backup passphrase for tests"


@pytest.fixture
def secret(tmp_path: Path) -> BackupSecret:
    key_file = tmp_path / "backup.key"
    key_file.write_text(new_key_text() + "\n", encoding="ascii")
    return BackupSecret.from_key_file(key_file)


@pytest.fixture
def pg_schema_restored(env: Env) -> Iterator[None]:
    """A test that empties PostgreSQL leaves it as conftest's ``env`` expects: the schema at the current revision."""
    yield
    if env.backend == "postgresql":
        _wipe_pg()
        schema.upgrade(env.engine)


def _wipe_pg() -> None:
    engine = make_engine(PG_URL or "")
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    finally:
        engine.dispose()


def seed(env: Env, n: int = 3) -> None:
    with env.uow() as session:
        ensure_episode(session)
        add_user(session, None, "lena", "legal", full_name="Lena Legal", password="correct horse battery")
        for i in range(1, n + 1):
            ref = f"BAK-{i:03d}"
            files = {"form_of_appeal": (PDF, f"foa-{i}.pdf"),
                     "power_of_attorney": (docx_bytes(f"{SENTENCE} ({ref})"), f"poa-{i}.docx")}
            open_case(session, env.settings, None, appeal(
                ref, full_name=f"Aigerim Backupova {i}", birth_date=date(1980, 2, i), phone=f"+7 701 555 02{i:02d}",
                passport_number=f"B{i:08d}"), files, imported=True)


def what_services_read(settings: Settings, engine: Any) -> dict[str, Any]:
    """Each case's identity as the operator reads it, and every document's content as a legal officer opens it."""
    crypto.configure(settings)
    with unit_of_work(engine) as session:
        lena = get_user(session, "lena")
        people = {}
        for ref in ("BAK-001", "BAK-002", "BAK-003"):
            person = read_case(session, ref, actor=None, role=OPERATOR, channel="cli").person
            people[ref] = {k: person[k] for k in ("full_name", "birth_date", "phone", "passport_number")}
        documents = {d.storage_key: hashlib.sha256(download_document(session, settings, lena, d, channel="cli"))
                     .hexdigest() for d in session.scalars(select(Document).order_by(Document.id))}
    return {"people": people, "documents": documents}


def new_instance(tmp_path: Path, name: str, database_url: str | None = None,
                 storage: str = "filesystem") -> tuple[Settings, Any]:
    values = {"PETITIO_HOME": str(tmp_path / name), "PETITIO_DOCUMENT_STORAGE": storage}
    if database_url:
        values["DATABASE_URL"] = database_url
    settings = load_settings(values)
    return settings, make_engine(settings.database_url)


def test_backup_restores_identical_on_both_databases_and_across(env: Env, tmp_path: Path, secret: BackupSecret,
                                                                 pg_schema_restored: None) -> None:
    seed(env)
    with env.uow() as session:  # a table of several frames (500 rows each)
        for i in range(1200):
            audit(session, None, "backup_test", "case", i, None, {"fields": ["note"], "n": i})
    before = what_services_read(env.settings, env.engine)
    assert before["people"]["BAK-002"]["full_name"] == "Aigerim Backupova 2" and len(before["documents"]) == 6
    archive = tmp_path / "first.ptob"
    made = write_backup(env.engine, env.settings, archive, secret)
    assert made["keys_included"] and made["documents"] == 6 and made["tables"]["persons"]["rows"] == 3
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    raw = archive.read_bytes()
    for marker in (b"Aigerim", b"B00000002", SENTENCE.encode(), b"%PDF"):
        assert marker not in raw  # nothing readable, not even the ciphertext's framing around it

    summary = verify_archive(archive, secret, live=(env.engine, env.settings))
    assert summary["ok"], summary
    assert summary["restored"]["rows"] == summary["rows"] == summary["live"]["rows"]
    assert summary["readable"]["documents"] == 6 and summary["readable"]["fields"] >= 12

    # Restore into an empty SQLite instance (from SQLite or from PostgreSQL): the services read the same.
    target, engine = new_instance(tmp_path, "restored")
    try:
        restored = restore_archive(engine, target, archive, secret)
        assert sorted(restored.keys_written) == sorted([f"{k}.key" for k in made["key_ids"]] + ["current"])
        for key_file in target.keys_dir.iterdir():
            assert oct(key_file.stat().st_mode & 0o777) == "0o600", key_file
        assert verify_archive(archive, secret, live=(engine, target))["ok"]  # before reads add audit events
        assert what_services_read(target, engine) == before
        if env.backend != "postgresql":
            return
        # ... and from that SQLite copy back into an emptied PostgreSQL database.
        second = tmp_path / "second.ptob"
        write_backup(engine, target, second, secret)
    finally:
        engine.dispose()
    _wipe_pg()
    again, pg_engine = new_instance(tmp_path, "pg-again", PG_URL)
    try:
        restore_archive(pg_engine, again, second, secret)
        assert verify_archive(second, secret, live=(pg_engine, again))["ok"]
        assert what_services_read(again, pg_engine) == before
        with unit_of_work(pg_engine) as session:  # the sequences follow the restored ids
            add_user(session, None, "newcomer", "intake", full_name="New Comer", password="correct horse battery")
    finally:
        pg_engine.dispose()


@pytest.mark.parametrize("storage", ["filesystem", "database"])
def test_a_backup_restores_into_either_document_store(env: Env, tmp_path: Path, secret: BackupSecret,
                                                      storage: str) -> None:
    """Whichever store the documents came from (TEST_DOCUMENT_STORAGE), the archive holds the same encrypted blobs
    and they restore into files or into the document_blobs table alike: also the way to move an instance from
    one store to the other."""
    seed(env)
    before = what_services_read(env.settings, env.engine)
    archive = tmp_path / "across.ptob"
    assert write_backup(env.engine, env.settings, archive, secret)["documents"] == 6
    target, engine = new_instance(tmp_path, "restored", storage=storage)
    try:
        restore_archive(engine, target, archive, secret)
        with engine.connect() as conn:
            in_table = conn.execute(text("SELECT count(*) FROM document_blobs")).scalar()
        on_disk = [p for p in target.documents_dir.rglob("*") if p.is_file()]
        assert (in_table, len(on_disk)) == ((6, 0) if storage == "database" else (0, 6))
        assert verify_archive(archive, secret, live=(engine, target))["ok"]
        assert what_services_read(target, engine) == before
        assert document_store(target).blob_keys() == sorted(before["documents"])
    finally:
        engine.dispose()


def test_altered_archives_do_not_authenticate_and_leave_nothing(env: Env, tmp_path: Path,
                                                                 secret: BackupSecret) -> None:
    seed(env, n=1)
    document_store(env.settings).stage(os.urandom(3 << 20))  # several chunks: damage at the end comes after rows
    archive = tmp_path / "a.ptob"
    write_backup(env.engine, env.settings, archive, secret)
    raw = archive.read_bytes()
    header_end = 14 + int.from_bytes(raw[10:14], "big")  # magic, format, header length, header
    altered = {
        "a flipped byte in the middle": _flipped(raw, len(raw) // 2),
        "a flipped byte near the end": _flipped(raw, len(raw) - 40),
        "a flipped byte in the header": _flipped(raw, header_end - 3),
        "cut short": raw[:-100],
        "the last chunk dropped": raw[: _last_chunk_start(raw, header_end)],
        "data appended": raw + raw[-50:],
    }
    target, engine = new_instance(tmp_path, "target")
    try:
        for what, content in altered.items():
            bad = tmp_path / "bad.ptob"
            bad.write_bytes(content)
            with pytest.raises(ArchiveError) as caught:
                restore_archive(engine, target, bad, secret)
            assert "authenticate" in str(caught.value) or "cut short" in str(caught.value) \
                or "header" in str(caught.value), what
            with pytest.raises(ArchiveError):
                verify_archive(bad, secret)
            # Whatever the restore had written before it met the damage is gone: the target is still empty.
            assert check_empty(engine, target) in (None, schema.head_revision()), what
            assert not [p for p in target.documents_dir.rglob("*") if p.is_file()], what
            assert not list(target.keys_dir.glob("*")), what
        wrong = BackupSecret.from_key_file(_key_file(tmp_path / "other.key"))
        with pytest.raises(ArchiveError, match="wrong passphrase or key"):
            restore_archive(engine, target, archive, wrong)
        with pytest.raises(ArchiveError, match="key file"):
            restore_archive(engine, target, archive, BackupSecret.from_passphrase(PASSPHRASE))
        restore_archive(engine, target, archive, secret)  # the untouched archive still restores there
    finally:
        engine.dispose()


def _flipped(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:]


def _key_file(path: Path) -> Path:
    path.write_text(new_key_text(), encoding="ascii")
    return path


def _last_chunk_start(raw: bytes, offset: int) -> int:
    last = offset
    while offset < len(raw):
        last = offset
        offset += 4 + int.from_bytes(raw[offset:offset + 4], "big")
    return last


def test_restore_refuses_a_target_that_holds_data(env: Env, tmp_path: Path, secret: BackupSecret) -> None:
    seed(env, n=1)
    archive = tmp_path / "a.ptob"
    write_backup(env.engine, env.settings, archive, secret)
    blobs, keys = blob_keys(env.settings.documents_dir), sorted(env.settings.keys_dir.iterdir())
    with pytest.raises(TargetNotEmpty, match="not empty"):
        restore_archive(env.engine, env.settings, archive, secret)
    assert blob_keys(env.settings.documents_dir) == blobs and sorted(env.settings.keys_dir.iterdir()) == keys
    with pytest.raises(BackupRefused, match="exists"):
        write_backup(env.engine, env.settings, archive, secret)  # an archive is never overwritten


def test_restore_into_an_instance_petitio_init_has_prepared(env: Env, tmp_path: Path, secret: BackupSecret) -> None:
    seed(env, n=3)
    before = what_services_read(env.settings, env.engine)
    archive = tmp_path / "a.ptob"
    write_backup(env.engine, env.settings, archive, secret)
    target, engine = new_instance(tmp_path, "prepared")
    try:
        initialise(engine, target)  # seeds the catalogue and makes a key of its own: still an empty instance
        own_key = sorted(p.name for p in target.keys_dir.glob("*.key"))
        restored = restore_archive(engine, target, archive, secret)
        assert restored.keys_set_aside
        assert sorted(p.name for p in Path(restored.keys_set_aside).glob("*.key")) == own_key
        assert what_services_read(target, engine) == before
    finally:
        engine.dispose()


def test_a_backup_from_before_a_rotation_restores_readable_after_it(env: Env, tmp_path: Path,
                                                                    secret: BackupSecret) -> None:
    seed(env)
    before = what_services_read(env.settings, env.engine)
    with_keys, without_keys = tmp_path / "with.ptob", tmp_path / "without.ptob"
    write_backup(env.engine, env.settings, with_keys, secret)
    made = write_backup(env.engine, env.settings, without_keys, secret, with_keys=False)
    saved_keys = tmp_path / "saved-keys"  # what the operator keeps beside an archive made --without-keys
    shutil.copytree(env.settings.keys_dir, saved_keys)

    rotated = rotate_keys(env.engine, env.settings)
    assert rotated["retired"] == made["key_ids"]  # the live instance can no longer read the old archives' data

    first, engine = new_instance(tmp_path, "from-archive-keys")
    try:
        restore_archive(engine, first, with_keys, secret)
        assert what_services_read(first, engine) == before
    finally:
        engine.dispose()
    second, engine = new_instance(tmp_path, "from-saved-keys")
    try:
        with pytest.raises(RestoreRefused, match="--keys DIR"):
            restore_archive(engine, second, without_keys, secret)  # the new instance's keys cannot read it
        restore_archive(engine, second, without_keys, secret, keys_from=saved_keys)
        assert what_services_read(second, engine) == before
        assert verify_archive(without_keys, secret)["readable"] is None  # no keys inside: whole, not read
    finally:
        engine.dispose()


# -- the real command ------------------------------------------------------------------------------------------


def _run(home: Path, *args: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PETITIO_") and k != "DATABASE_URL"}
    environ.update({"PETITIO_HOME": str(home), "TZ": "UTC", "PETITIO_BACKUP_PASSPHRASE": PASSPHRASE, **extra})
    return subprocess.run([str(PETITIO), *map(str, args)], capture_output=True, text=True, env=environ,
                          cwd=home.parent, timeout=300, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0 and "Traceback" not in result.stderr, (result.stdout, result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _shown(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code and "Traceback" not in result.stderr, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_petitio_commands(tmp_path: Path) -> None:
    live, copy = tmp_path / "live", tmp_path / "copy"
    settings, engine = new_instance(tmp_path, "live")  # set up in-process: the commands are what is under test
    try:
        initialise(engine, settings)
        seed(Env(settings, engine, "sqlite"))
    finally:
        engine.dispose()
    archive = tmp_path / "demo.ptob"
    made = _ok(_run(live, "backup", archive))
    assert made["documents"] > 0 and made["keys_included"], made
    assert _ok(_run(live, "backup", "verify", archive, "--against-live"))["ok"]

    assert _ok(_run(copy, "restore", archive))["documents"] == made["documents"]
    message = _one_line_error(_run(copy, "restore", archive), 3)
    assert "not empty" in message
    shown = [_shown(_run(home, "cases", "show", "BAK-001")) for home in (live, copy)]
    assert shown[0] == shown[1] and shown[0]["person"]["full_name"]

    # The live instance moves on: verify against it says so, and exits 1.
    _shown(_run(live, "cases", "show", "BAK-002"))  # an audited read adds a row
    drifted = _run(live, "backup", "verify", archive, "--against-live")
    assert drifted.returncode == 1 and json.loads(drifted.stdout)["live"]["tables_differ"] == ["audit_events"]

    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    tampered = tmp_path / "tampered.ptob"
    tampered.write_bytes(bytes(raw))
    assert "does not authenticate" in _one_line_error(_run(live, "backup", "verify", tampered), 1)
    assert "does not authenticate" in _one_line_error(
        _run(live, "backup", "verify", archive, PETITIO_BACKUP_PASSPHRASE="another fictional passphrase"), 1)
    assert "no backup secret" in _one_line_error(_run(live, "backup", tmp_path / "x", PETITIO_BACKUP_PASSPHRASE=""), 1)


def test_key_file_without_keys_and_passphrase_file_through_the_command(tmp_path: Path) -> None:
    """The other ways of giving the secret, and an archive made --without-keys restored with the saved folder
    (in-process through click: the subprocess test above already runs the installed command)."""
    from click.testing import CliRunner

    from workflow.cli import main

    settings, engine = new_instance(tmp_path, "live")  # the command's options do not depend on the database
    try:
        initialise(engine, settings)
        seed(Env(settings, engine, "sqlite"), n=1)
    finally:
        engine.dispose()
    env = Env(settings, engine, "sqlite")
    runner = CliRunner()
    live = {"PETITIO_HOME": str(env.settings.home), "PETITIO_BACKUP_PASSPHRASE": ""}
    key_file, archive, saved = tmp_path / "backup.key", tmp_path / "nokeys.ptob", tmp_path / "saved-keys"
    assert runner.invoke(main, ["backup", "new-key", str(key_file)]).exit_code == 0
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert runner.invoke(main, ["backup", "new-key", str(key_file)]).exit_code == 1  # never overwritten
    made = runner.invoke(main, ["backup", "--without-keys", "--key-file", str(key_file), str(archive)], env=live)
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["keys_included"] is False
    shutil.copytree(env.settings.keys_dir, saved)

    copy = {"PETITIO_HOME": str(tmp_path / "copy"), "PETITIO_BACKUP_PASSPHRASE": ""}
    refused = runner.invoke(main, ["restore", str(archive), "--key-file", str(key_file)], env=copy)
    assert refused.exit_code == 1 and "--keys DIR" in refused.output
    restored = runner.invoke(main, ["restore", str(archive), "--key-file", str(key_file), "--keys", str(saved)],
                             env=copy)
    assert restored.exit_code == 0, restored.output
    assert sorted(p.name for p in (tmp_path / "copy" / "keys").iterdir()) == sorted(p.name for p in saved.iterdir())

    passphrase_file = tmp_path / "passphrase.txt"
    passphrase_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    with_passphrase = tmp_path / "pass.ptob"
    assert runner.invoke(main, ["backup", str(with_passphrase), "--passphrase-file", str(passphrase_file)],
                         env=live).exit_code == 0
    checked = runner.invoke(main, ["backup", "verify", str(with_passphrase), "--passphrase-file", str(passphrase_file)],
                            env=live)
    assert checked.exit_code == 0 and json.loads(checked.output)["ok"], checked.output
    both = runner.invoke(main, ["backup", "verify", str(with_passphrase), "--passphrase-file", str(passphrase_file),
                                "--key-file", str(key_file)], env=live)
    assert both.exit_code == 1 and "not both" in both.output
