"""The pre-filled forms for signature, reopened with python-docx (pure: no database, no Flask)."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from datetime import date
from pathlib import Path

import docx
import pytest

from filings import (
    DEFAULT_ROOT,
    ConsentFormData,
    TemplateError,
    consent_forms,
    consent_languages,
    form_of_appeal,
    power_of_attorney,
    to_pdf,
)
from filings.consent_forms import CHECKED, UNCHECKED, review_statuses
from tests.helpers import require_office

DATA = ConsentFormData(
    organisation="Freedom Watch", ref="APL-042", full_name="Aigerim Testova", full_name_native="Айгерим Тестова",
    birth_date=date(1991, 4, 12), city="Almaty", passport_number="N0012345", address="12 Abay Avenue, flat 3",
    phone="+7 700 000 0000", email="a.testova@example.org",
    incident_summary="Detained at the square during a peaceful rally.\nHeld for 15 days.", date=date(2026, 3, 5),
    share_name_with_government=True, publish_name=False, initials_only=True, anonymous=False,
)
FORMS = {"form_of_appeal": form_of_appeal, "power_of_attorney": power_of_attorney}
TITLES = {("form_of_appeal", "ru"): "Обращение за правовой помощью",
          ("form_of_appeal", "en"): "Request for legal assistance",
          ("power_of_attorney", "ru"): "Доверенность", ("power_of_attorney", "en"): "Power of attorney"}
BODIES = {
    "ru": ("специальные процедуры Совета ООН", "Комитет ООН по правам человека",
           "Рабочая группа ООН по произвольным задержаниям", "БДИПЧ ОБСЕ", "Европейский парламент"),
    "en": ("Special Procedures of the UN Human Rights Council", "UN Human Rights Committee",
           "UN Working Group on Arbitrary Detention", "OSCE/ODIHR", "European Parliament"),
}


def reopen(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def all_text(document) -> str:  # type: ignore[no-untyped-def]
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def styled(document, style: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs if p.style.name == style]


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("form", list(FORMS))
def test_forms_carry_the_person_and_real_styles(form, language):
    document = reopen(FORMS[form](DATA, language))
    assert styled(document, "Title") == [TITLES[(form, language)]]
    assert len(styled(document, "Heading 1")) >= 1
    text = all_text(document)
    for value in ("Aigerim Testova", "Айгерим Тестова", "N0012345", "12 Abay Avenue, flat 3"):
        assert value in text, (form, language, value)
    assert ("12.04.1991" if language == "ru" else "12 April 1991") in text
    assert ("05.03.2026" if language == "ru" else "5 March 2026") in text
    assert "Freedom Watch" in text and "APL-042" in text
    props = document.core_properties
    assert props.author == "Freedom Watch" and props.title == TITLES[(form, language)]
    metadata = " ".join(str(getattr(props, name) or "") for name in (
        "author", "title", "subject", "keywords", "comments", "category", "last_modified_by", "identifier"))
    for personal in ("Aigerim", "Айгерим", "N0012345", "APL-042", "Abay"):
        assert personal not in metadata
    assert "python-docx" not in metadata


def test_the_form_of_appeal_holds_the_details_and_the_story():
    document = reopen(form_of_appeal(DATA, "en"))
    assert styled(document, "Heading 1") == ["About me", "What happened", "My request",
                                             "Consent to the use of my personal data"]
    rows = {r.cells[0].text: r.cells[1].text for r in document.tables[0].rows}
    assert rows["Full name"] == "Aigerim Testova" and rows["Passport or identity card number"] == "N0012345"
    assert "Held for 15 days." in all_text(document)
    assert any(p.text.startswith("Signature:") for p in document.paragraphs)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_power_of_attorney_lists_the_bodies_and_ticks_the_consent(language):
    document = reopen(power_of_attorney(DATA, language))
    bullets = " ".join(styled(document, "List Bullet 2"))
    for body in BODIES[language]:
        assert body in bullets, body
    assert len(styled(document, "List Number")) == 3
    boxes = styled(document, "List Paragraph")
    assert [b[0] for b in boxes] == [CHECKED, UNCHECKED, CHECKED, UNCHECKED]  # government, public, initials, anon
    # Russian forms lead with the name in Cyrillic, English ones with the Latin form.
    signature, name = ("Подпись", "Айгерим Тестова") if language == "ru" else ("Signature", "Aigerim Testova")
    assert any(p.text.startswith(signature) and name in p.text for p in document.paragraphs)

    anonymous = dataclasses.replace(DATA, share_name_with_government=False, initials_only=False, anonymous=True)
    ticks = [b[0] for b in styled(reopen(power_of_attorney(anonymous, language)), "List Paragraph")]
    assert ticks == [UNCHECKED, UNCHECKED, UNCHECKED, CHECKED]


def test_missing_details_leave_a_line_to_fill_in_and_unknown_languages_fail():
    sparse = dataclasses.replace(DATA, full_name_native=None, birth_date=None, passport_number=None, address=None)
    text = all_text(reopen(power_of_attorney(sparse, "en")))
    assert "No. ________" in text and "()" not in text
    with pytest.raises(ValueError, match="unsupported language"):
        form_of_appeal(DATA, "de")
    with pytest.raises(ValueError, match="unsupported language"):
        power_of_attorney(DATA, "../consent/en")


def test_same_data_same_bytes_for_the_metadata():
    first, second = reopen(form_of_appeal(DATA, "ru")), reopen(form_of_appeal(DATA, "ru"))
    assert first.core_properties.created == second.core_properties.created
    assert first.core_properties.created.date() == DATA.date


# -- names in Cyrillic first, Kazakh, the signature kept with its text, the wording as data ------------------

KAZAKH = dataclasses.replace(DATA, full_name="Shakhizada Ongarova", full_name_native="Шаһизада Оңғарова",
                             city="Өскемен")
KAZAKH_LETTERS = "әғқңөұүһі"


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_cyrillic_names_come_first_in_russian_and_kazakh_forms(language):
    appeal = reopen(form_of_appeal(KAZAKH, language))
    values = [row.cells[1].text for row in appeal.tables[0].rows]
    assert values[:2] == ["Шаһизада Оңғарова", "Shakhizada Ongarova"]
    grant = next(p.text for p in reopen(power_of_attorney(KAZAKH, language)).paragraphs if "Шаһизада" in p.text)
    assert grant.index("Шаһизада Оңғарова") < grant.index("(Shakhizada Ongarova)")
    english = reopen(power_of_attorney(KAZAKH, "en")).paragraphs
    grant = next(p.text for p in english if "Shakhizada" in p.text)
    assert grant.index("Shakhizada Ongarova") < grant.index("(Шаһизада Оңғарова)")


@pytest.mark.parametrize("form", list(FORMS))
def test_kazakh_forms_render_with_kazakh_letters_and_reopen(form):
    document = reopen(FORMS[form](KAZAKH, "kk"))
    text = all_text(document)
    letters = {letter for letter in KAZAKH_LETTERS if letter in text}
    assert letters == set(KAZAKH_LETTERS), set(KAZAKH_LETTERS) - letters
    assert styled(document, "Title") == [{"form_of_appeal": "Құқықтық көмек сұрау туралы өтініш",
                                          "power_of_attorney": "Сенімхат"}[form]]
    assert "05.03.2026" in text and "Өскемен" in text
    assert document.core_properties.language == "kk-KZ"
    assert "Қолы:" in text and "Іс APL-042" in document.sections[0].header.paragraphs[0].text


def test_the_kazakh_wording_is_marked_as_awaiting_a_lawyer():
    statuses = review_statuses()
    assert statuses["kk"] == "awaiting a lawyer's reading"
    assert statuses["ru"] is None and statuses["en"] is None
    assert consent_languages() == ("en", "kk", "ru")


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_signature_and_date_stay_on_the_page_of_the_text(language):
    paragraphs = reopen(power_of_attorney(DATA, language)).paragraphs
    signature = next(i for i, p in enumerate(paragraphs) if p.text.startswith(("Подпись", "Қолы", "Signature")))
    # From the risks paragraph on, every paragraph keeps with the next, down to the date line.
    closing = paragraphs[signature - 3:signature + 1]
    assert closing[0].text.startswith(("Мне разъяснены", "Халықаралық", "The possible risks"))
    assert all(p.paragraph_format.keep_with_next for p in closing)
    assert all(p.paragraph_format.keep_together for p in paragraphs[signature - 3:])
    assert paragraphs[-1].text.startswith(("Дата", "Күні", "Date")) and paragraphs[-1] is paragraphs[signature + 1]


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_power_of_attorney_is_one_page_in_libreoffice(language):
    require_office()  # skips on a machine without LibreOffice, fails in CI (which installs it)
    pdf = to_pdf(power_of_attorney(DATA, language))
    assert pdf is not None
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1


def test_the_wording_comes_from_the_folder_given(tmp_path: Path):
    root = tmp_path / "wording"
    shutil.copytree(DEFAULT_ROOT / "consent", root / "consent")
    source = root / "consent" / "en.toml"
    source.write_text(source.read_text(encoding="utf-8").replace('"Power of attorney"', '"Mandate"'),
                      encoding="utf-8")
    assert styled(reopen(power_of_attorney(DATA, "en", root=root)), "Title") == ["Mandate"]
    assert styled(reopen(power_of_attorney(DATA, "en")), "Title") == ["Power of attorney"]
    assert consent_languages(root) == ("en", "kk", "ru")


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda s: s.replace("{organisation}", "{organization}", 1), "unknown placeholder {organization}"),
    (lambda s: s.replace('term = ', 'terms = '), "unknown key(s) terms"),
    (lambda s: s.replace('anonymous = "my name', 'anonymus = "my name'), "consents: needs exactly"),
    (lambda s: s.replace("page {page}", "page"), "must contain {page}"),
    (lambda s: s.replace('date_pattern = "d MMMM yyyy"', 'date_pattern = 5'), "date_pattern must be a string"),
    (lambda s: s + "\n[oops", "not valid TOML"),
])
def test_a_broken_consent_file_names_itself_and_the_reason(tmp_path: Path, edit, reason):
    path = tmp_path / "consent" / "en.toml"
    path.parent.mkdir()
    path.write_text(edit((DEFAULT_ROOT / "consent" / "en.toml").read_text(encoding="utf-8")), encoding="utf-8")
    problems = consent_forms.check_folder(tmp_path)
    assert len(problems) == 1 and str(path) in str(problems[0]) and reason in str(problems[0]), problems
    with pytest.raises(TemplateError, match=r"en\.toml"):
        power_of_attorney(DATA, "en", root=tmp_path)
