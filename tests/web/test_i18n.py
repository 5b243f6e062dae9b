"""The Russian catalog: complete, no fuzzy entry, placeholders intact, in step with the code, and used by the pages."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, ngettext

from tests.helpers import expire_timers, open_sample_case
from workflow.services.users import get_user

ROOT = Path(__file__).resolve().parents[2]
RU_PO = ROOT / "workflow" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
RU_PLURAL_FORMS = ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                   "(n%100<10 || n%100>=20) ? 1 : 2);")
# The keywords of `make i18n` (pybabel's defaults: _, gettext, ngettext, ... plus -k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# %(name)s, %s, %d, %.1f, %% ... and str.format fields: {0}, {name}, {name!r:>10}
PERCENT = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACES = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")


def placeholders(text: str) -> Counter[str]:
    return Counter(PERCENT.findall(text)) + Counter(BRACES.findall(text))


def label(message: Message) -> str:
    return repr(message.id[0] if isinstance(message.id, tuple) else message.id)


@pytest.fixture(scope="module")
def ru() -> Catalog:
    with RU_PO.open("rb") as source:
        return read_po(source, locale="ru")


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]  # without the header entry


# -- (a) complete, nothing fuzzy -------------------------------------------------------------------------

def test_the_header_declares_the_three_russian_plural_forms(ru):
    assert ru.num_plurals == 3
    assert " ".join(ru.plural_forms.split()) == RU_PLURAL_FORMS
    assert not ru.fuzzy, "the catalog header is marked fuzzy"


def test_every_russian_message_is_translated_and_none_is_fuzzy(ru):
    fuzzy = [label(m) for m in messages(ru) if m.fuzzy]
    assert not fuzzy, f"fuzzy in ru: {', '.join(fuzzy)}"
    untranslated = []
    for m in messages(ru):
        if m.pluralizable:
            forms = m.string if isinstance(m.string, tuple) else (m.string,)
            if len(forms) != ru.num_plurals or not all(form.strip() for form in forms):
                untranslated.append(f"{label(m)} (plural forms: {forms!r})")
        elif not (m.string or "").strip():
            untranslated.append(label(m))
    assert not untranslated, f"untranslated in ru: {', '.join(untranslated)}"
    assert len(messages(ru)) > 200  # a sanity floor: the catalog was read, not an empty file


# -- (b) placeholders ------------------------------------------------------------------------------------

def test_placeholders_are_kept_in_every_translation(ru):
    wrong = []
    for m in messages(ru):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = placeholders(ids[0])
        for plural_id in ids[1:]:
            assert placeholders(plural_id) == expected, f"msgid and msgid_plural differ: {label(m)}"
        for index, string in enumerate(strings):
            if string and placeholders(string) != expected:
                wrong.append(f"{label(m)} [{index}]: {sorted(placeholders(string).elements())} "
                             f"!= {sorted(expected.elements())}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_babel_finds_no_format_error(ru):
    problems = [f"{label(m)}: {'; '.join(str(e) for e in errors)}" for m, errors in ru.check()]
    assert not problems, "\n".join(problems)


def test_the_placeholder_check_catches_a_broken_translation():
    assert placeholders("Done: %(task)s.") != placeholders("Выполнено: %(tasks)s.")
    assert placeholders("%(num)d case") != placeholders("%(num)s дело")
    assert placeholders("page %(page)d of %(pages)d") != placeholders("страница %(page)d")
    assert placeholders("{0} of {1}") != placeholders("{0} из {0}")
    assert placeholders("%(size)s KB") == placeholders("%(size)s КБ")


# -- (c) in step with the code ---------------------------------------------------------------------------

def extracted_ids() -> dict[str, str]:
    """msgid -> where it was found, for every string `make i18n` would extract."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_every_string_of_the_code_has_a_russian_translation(ru):
    found = extracted_ids()
    assert "My tasks" in found and "Approve the filing" in found  # templates and Python were both read
    missing = sorted(f"{msgid!r} ({where})" for msgid, where in found.items()
                     if ru.get(msgid) is None or ru.get(msgid).fuzzy)
    assert not missing, ("not in the ru catalog (run `make i18n`, then translate):\n" + "\n".join(missing))
    untranslated = sorted(repr(msgid) for msgid in found
                          if not (ru.get(msgid).string if not ru.get(msgid).pluralizable
                                  else all(ru.get(msgid).string)))
    assert not untranslated, "extracted but untranslated in ru:\n" + "\n".join(untranslated)


# -- (d) the pages in Russian ----------------------------------------------------------------------------

def russian(env, username: str) -> None:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        get_user(session, username).locale = "ru"


def test_russian_plural_forms_are_chosen_by_number(app: Flask):
    with app.test_request_context(), force_locale("ru"):
        words = {n: ngettext("%(num)d case", "%(num)d cases", n) for n in (1, 2, 5, 11, 21, 22, 104)}
    assert words == {1: "1 дело", 2: "2 дела", 5: "5 дел", 11: "11 дел", 21: "21 дело", 22: "22 дела",
                     104: "104 дела"}


def test_tasks_cases_and_a_case_page_are_in_russian(env, login):
    open_sample_case(env, "APL-701")
    open_sample_case(env, "APL-702")
    expire_timers(env, "APL-702")
    russian(env, "ina")
    client = login("ina")

    tasks = client.get("/tasks").get_data(as_text=True)
    assert '<html lang="ru">' in tasks
    for word in ("Мои задачи", "Дела", "Проверить согласие", "просрочено", "Срок", "Задача", "Выйти"):
        assert word in tasks, word
    for english in ("My tasks", "Verify consent", ">overdue<", "Sign out", "Ready tasks of the"):
        assert english not in tasks, english

    cases = client.get("/cases").get_data(as_text=True)
    for word in ("<h1>Дела</h1>", "2 дела", "Этап", "Город", "Только просроченные", "Применить", "Сбросить"):
        assert word in cases, word
    for english in ("<h1>Cases</h1>", "2 cases", "Overdue only", "Incident type", ">Filter<"):
        assert english not in cases, english

    case = client.get("/cases/APL-701").get_data(as_text=True)
    for word in ("Задачи к выполнению", "Заявитель", "Согласие", "Форма обращения проверена", "Доверенность",
                 "Что произошло", "Задержание на акции", "Сроки", "Документы", "История",
                 "Выполнить: Проверить согласие", "Зафиксировать отзыв согласия"):
        assert word in case, word
    for english in ("Ready tasks", "Complainant", "Form of appeal verified", "What happened",
                    "Detention at a rally", "Complete: ", "Record a withdrawal of consent", ">History<"):
        assert english not in case, english
