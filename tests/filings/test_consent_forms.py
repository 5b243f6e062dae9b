"""The pre-filled forms for signature, reopened with python-docx (pure: no database, no Flask)."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import docx
import pytest

from filings import ConsentFormData, form_of_appeal, power_of_attorney
from filings.consent_forms import CHECKED, UNCHECKED

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
    signature = "Подпись" if language == "ru" else "Signature"
    assert any(p.text.startswith(signature) and "Aigerim Testova" in p.text for p in document.paragraphs)

    anonymous = dataclasses.replace(DATA, share_name_with_government=False, initials_only=False, anonymous=True)
    ticks = [b[0] for b in styled(reopen(power_of_attorney(anonymous, language)), "List Paragraph")]
    assert ticks == [UNCHECKED, UNCHECKED, UNCHECKED, CHECKED]


def test_missing_details_leave_a_line_to_fill_in_and_unknown_languages_fail():
    sparse = dataclasses.replace(DATA, full_name_native=None, birth_date=None, passport_number=None, address=None)
    text = all_text(reopen(power_of_attorney(sparse, "en")))
    assert "No. ________" in text and "()" not in text
    with pytest.raises(ValueError, match="unsupported language"):
        form_of_appeal(DATA, "kk")


def test_same_data_same_bytes_for_the_metadata():
    first, second = reopen(form_of_appeal(DATA, "ru")), reopen(form_of_appeal(DATA, "ru"))
    assert first.core_properties.created == second.core_properties.created
    assert first.core_properties.created.date() == DATA.date
