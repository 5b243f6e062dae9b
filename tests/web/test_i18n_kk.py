"""The Kazakh catalog: complete, no fuzzy entry, placeholders intact, in step with the code, marked as awaiting a
lawyer's reading, chosen on /account and used by the pages, the forms to sign and the digest."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.helpers import open_sample_case
from tests.web.conftest import PASSWORD, csrf_token
from tests.web.test_i18n import extracted_ids, label, messages, placeholders
from web import create_app
from workflow.i18n import UI_LANGUAGES, language_name, translate
from workflow.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
KK_PO = ROOT / "workflow" / "translations" / "kk" / "LC_MESSAGES" / "messages.po"
KAZAKH_LETTERS = frozenset("әғқңөұүһі")


@pytest.fixture(scope="module")
def kk() -> Catalog:
    with KK_PO.open("rb") as source:
        return read_po(source, locale="kk")


def test_kazakh_is_a_ui_language_with_its_own_name():
    assert "kk" in UI_LANGUAGES
    assert language_name("kk", "kk") == "Қазақ тілі"


def test_the_catalog_says_it_awaits_a_lawyers_reading(kk):
    header = KK_PO.read_text(encoding="utf-8").split('msgid ""', 1)[0]
    assert "AWAITING A LAWYER'S READING" in header and "docs/OPERATIONS.md" in header
    assert "Wording awaiting a lawyer" in (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    assert kk.num_plurals == 2 and not kk.fuzzy


def test_every_kazakh_message_is_translated_with_its_placeholders_and_none_is_fuzzy(kk):
    assert len(messages(kk)) > 200
    fuzzy = [label(m) for m in messages(kk) if m.fuzzy]
    assert not fuzzy, f"fuzzy in kk: {', '.join(fuzzy)}"
    wrong, untranslated = [], []
    for m in messages(kk):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if len(strings) != (kk.num_plurals if m.pluralizable else 1) or not all(s.strip() for s in strings):
            untranslated.append(label(m))
        wrong += [label(m) for s in strings if s and placeholders(s) != placeholders(ids[0])]
    assert not untranslated, f"untranslated in kk: {', '.join(untranslated)}"
    assert not wrong, f"placeholders changed in kk: {', '.join(wrong)}"
    assert not [m for m, errors in kk.check() if errors]


def test_every_string_of_the_code_has_a_kazakh_translation(kk):
    missing = sorted(f"{msgid!r} ({where})" for msgid, where in extracted_ids().items()
                     if kk.get(msgid) is None or not kk.get(msgid).string)
    assert not missing, "not translated in kk (run `make i18n`, then translate):\n" + "\n".join(missing)


def test_the_catalog_is_written_in_kazakh(kk):
    text = " ".join(m.string for m in messages(kk) if isinstance(m.string, str))
    assert KAZAKH_LETTERS - {"һ"} <= set(text.lower())  # һ is rare: loanwords and names
    assert translate("kk", "My tasks") == "Менің тапсырмаларым"


def test_a_user_chooses_kazakh_on_the_account_page_and_reads_kazakh_pages(env, login):
    open_sample_case(env, "APL-771")
    ina = login("ina")
    page = ina.get("/account").get_data(as_text=True)
    assert 'value="kk"' in page and "Қазақ тілі" in page
    response = ina.post("/account", data={"csrf_token": csrf_token(page), "locale": "kk", "timezone": "Asia/Almaty"})
    assert response.status_code == 303

    tasks = ina.get("/tasks").get_data(as_text=True)
    assert '<html lang="kk">' in tasks
    for word in ("Менің тапсырмаларым", "Істер", "Келісімді тексеру", "Шығу"):
        assert word in tasks, word
    for english in ("My tasks", "Verify consent", "Sign out"):
        assert english not in tasks, english

    case = ina.get("/cases/APL-771")
    assert case.status_code == 200
    text = case.get_data(as_text=True)
    for word in ("Өтініш беруші", "Келісім", "Өтініш беруші қол қоятын нысандар", "Құжаттар", "Тарих"):
        assert word in text, word
    # The forms to sign offer Kazakh, with its wording's review status beside it.
    assert "lang=kk" in text and "awaiting a lawyer&#39;s reading" in text
    form = ina.get("/cases/APL-771/forms/power_of_attorney.docx")  # the user's language by default
    assert form.status_code == 200 and form.headers["Content-Disposition"].endswith("-power_of_attorney-kk.docx")
    assert ina.get("/cases/APL-771/forms/power_of_attorney.docx?lang=de").status_code == 404


def test_a_broken_consent_file_is_not_offered_and_its_download_is_refused(env, staff, tmp_path):
    root = tmp_path / "wording"
    shutil.copytree(ROOT / "templates", root)
    source = root / "consent" / "kk.toml"
    source.write_text(source.read_text(encoding="utf-8").replace("{ref}", "{reference}"), encoding="utf-8")
    open_sample_case(env, "APL-772")
    app = create_app(dataclasses.replace(env.settings, templates_dir=root), TESTING=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "ina", "password": PASSWORD, "csrf_token": csrf_token(page)})
    case = client.get("/cases/APL-772")
    assert case.status_code == 200
    text = case.get_data(as_text=True)
    assert "lang=ru" in text and "lang=kk" not in text
    refused = client.get("/cases/APL-772/forms/power_of_attorney.docx?lang=kk")
    assert refused.status_code == 409 and "petitio templates check" in refused.get_data(as_text=True)
    assert not events_of(env, "consent_form_downloaded")  # nothing was handed out
    assert client.get("/cases/APL-772/forms/power_of_attorney.docx?lang=ru").status_code == 200


def events_of(env, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
