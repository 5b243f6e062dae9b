"""The wording folder (templates/): located by a setting, checked by `petitio templates check`, and recorded
per generated version as the hash of the template file that produced it (SQLite and PostgreSQL, no mocks)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import filings
from tests.helpers import filing_in_check
from workflow.cli import main
from workflow.config import PROJECT_ROOT, load_settings
from workflow.models import Filing, User
from workflow.runtime.context import document_store
from workflow.schemas.reads import FilingSchema
from workflow.services.deadlines import Item
from workflow.services.digest import compose
from workflow.services.filing_documents import render_case_filing
from workflow.wording import check_folder, digest_wording

SHIPPED = PROJECT_ROOT / "templates"
VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
REF = "APL-881"
MOMENT = datetime(2026, 12, 6, 9, 5, tzinfo=UTC)


def copy_of_shipped(tmp_path: Path) -> Path:
    root = tmp_path / "wording"
    shutil.copytree(SHIPPED, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the setting ----------------------------------------------------------------------------------------------

def test_the_setting_locates_the_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert load_settings({"PETITIO_HOME": str(home)}).templates_dir == SHIPPED
    root = copy_of_shipped(tmp_path)
    assert load_settings({"PETITIO_HOME": str(home), "PETITIO_TEMPLATES_DIR": str(root)}).templates_dir == root
    (home / "config.toml").write_text(f'templates_dir = "{root}"\n', encoding="utf-8")
    assert load_settings({"PETITIO_HOME": str(home)}).templates_dir == root
    with pytest.raises(ValueError, match="PETITIO_TEMPLATES_DIR: no such folder"):
        load_settings({"PETITIO_HOME": str(home), "PETITIO_TEMPLATES_DIR": str(tmp_path / "missing")})


# -- petitio templates check ----------------------------------------------------------------------------------

def test_the_shipped_folder_passes_the_check(tmp_path: Path) -> None:
    assert check_folder(SHIPPED) == []
    result = CliRunner().invoke(main, ["templates", "check", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "every template is valid" in result.output
    # Without a folder: the installation's setting.
    home = tmp_path / "home"
    home.mkdir()
    root = copy_of_shipped(tmp_path)
    result = CliRunner().invoke(main, ["templates", "check"],
                                env={"PETITIO_HOME": str(home), "PETITIO_TEMPLATES_DIR": str(root)})
    assert result.exit_code == 0 and str(root) in result.output, result.output


def test_a_broken_copy_fails_the_check_naming_each_file_and_reason(tmp_path: Path) -> None:
    root = copy_of_shipped(tmp_path)
    hrc = root / "filings" / "un_hrc" / "ru.toml"
    edit(hrc, "{organisation}", "{organization}")
    consent = root / "consent" / "kk.toml"
    edit(consent, 'term = "', 'terms = "')
    digest = root / "digest" / "en.toml"
    edit(digest, "{count}", "{number}")
    (root / "filings" / "ep_peti" / "en.toml").write_bytes(b"title = \"\xff\"\n")
    result = CliRunner().invoke(main, ["templates", "check", str(root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 4, result.output
    assert any(str(hrc) in line and "unknown placeholder {organization}" in line for line in lines), lines
    assert any(str(consent) in line and "unknown key(s) terms" in line for line in lines), lines
    assert any(str(digest) in line and "unknown placeholder {number}" in line for line in lines), lines
    assert any("ep_peti/en.toml" in line and "UTF-8" in line for line in lines), lines
    # A folder without the digest's English fallback or any consent wording is refused too.
    shutil.rmtree(root / "consent")
    (root / "digest" / "en.toml").unlink()
    messages = [str(problem) for problem in check_folder(root)]
    assert any("consent: no consent wording" in m for m in messages)
    assert any("digest/en.toml: missing" in m for m in messages)
    assert CliRunner().invoke(main, ["templates", "check", str(tmp_path / "nowhere")]).exit_code == 1


# -- the digest's texts ---------------------------------------------------------------------------------------

def test_the_digest_speaks_each_language_from_its_file_and_falls_back_to_english(tmp_path: Path) -> None:
    assert digest_wording("ru").say("overdue", count=2) == "Просрочено (2)"
    assert "мерзімі" in digest_wording("kk").say("due", at="1 Dec").lower()
    assert digest_wording("de").language == "en" and digest_wording("../x").language == "en"
    root = copy_of_shipped(tmp_path)
    edit(root / "digest" / "en.toml", "Overdue ({count})", "Late ({count})")
    assert digest_wording("en", root).say("overdue", count=3) == "Late (3)"


# -- the generated filing: its wording from the setting's folder, its hash recorded --------------------------

@pytest.fixture
def filing_id(env, staff) -> int:  # type: ignore[no-untyped-def]
    return filing_in_check(env, REF)


def test_an_edited_copy_changes_the_filing_and_its_recorded_hash(env, filing_id, tmp_path: Path) -> None:
    shipped = SHIPPED / "filings" / "un_sp" / "en.toml"
    with env.uow() as session:
        first = session.get(Filing, filing_id).documents[0]
        assert first.wording_sha256 == sha256_of(shipped) == filings.wording_sha256("un_sp", "en")

    root = copy_of_shipped(tmp_path)
    copied = root / "filings" / "un_sp" / "en.toml"
    edit(copied, "respectfully submits this communication", "hereby lodges this communication")
    settings = dataclasses.replace(env.settings, templates_dir=root)
    with env.uow() as session:
        second = render_case_filing(session, settings, document_store(settings), session.get(Filing, filing_id),
                                    None)
        assert second.version == 2
        assert second.wording_sha256 == sha256_of(copied) != sha256_of(shipped)
        content = document_store(settings).get(second.storage_key)
        before = document_store(settings).get(first.storage_key)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    assert "hereby lodges this communication" in text and "respectfully submits" not in text
    assert "respectfully submits this communication" in "\n".join(
        p.text for p in docx.Document(io.BytesIO(before)).paragraphs)

    with env.uow() as session:
        filing = session.scalar(select(Filing).where(Filing.id == filing_id))
        versions = FilingSchema().dump(filing)["versions"]
    assert [v["wording_sha256"] for v in versions] == [sha256_of(shipped), sha256_of(copied)]


def test_the_digest_mail_is_written_from_the_folders_files(tmp_path: Path) -> None:
    item = Item(id=1, subject="APL-604", label="Consent verification due", due_at=MOMENT, state="missed",
                closed_at=MOMENT, overdue=False)
    kazakh = User(username="ina", role="intake", locale="kk", timezone="Asia/Almaty", email="ina@example.org")
    mail = compose(kazakh, "petitio@example.org", [item], [], MOMENT)
    text = mail.get_content()
    assert mail["Subject"] == "Petitio: мерзімі өткені 1, 7 күн ішінде аяқталатыны 0"
    assert "Мерзімі өткен (1)" in text and "Келісімді растау мерзімі" in text and "(өткізіп алынды)" in text
    root = copy_of_shipped(tmp_path)
    edit(root / "digest" / "kk.toml", 'missed = "өткізіп алынды"', 'missed = "мерзімі өтіп кетті"')
    assert "(мерзімі өтіп кетті)" in compose(kazakh, "petitio@example.org", [item], [], MOMENT,
                                             templates_dir=root).get_content()
