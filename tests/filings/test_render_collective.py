"""The collective complaint (DESIGN.md §1): 129 fictional complainants from 19 cities, read back."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from babel.dates import format_date

from filings import available_collective, render_collective
from tests.filings.samples import (
    GENERATED_AT,
    body_text,
    collective,
    complainant_names,
    every_part,
    reopen,
    split_named,
    styled,
)

NAMED, UNNAMED = split_named(complainant_names(129))


@pytest.fixture(scope="module")
def english() -> bytes:
    return render_collective(collective())


@pytest.fixture(scope="module")
def russian() -> bytes:
    return render_collective(collective("ru"))


def rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[cell.text for cell in row.cells] for row in table.rows]


def table_starting(document, first_cell: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return next(rows(t) for t in document.tables if t.rows[0].cells[0].text == first_cell)


def test_languages() -> None:
    assert available_collective() == ("en", "ru")


def test_the_sections_of_the_reference_report(english: bytes) -> None:
    document = reopen(english)
    assert styled(document, "Title") == ["Persecution of the Civic Future movement"]
    assert styled(document, "Heading 1") == [
        "1. Summary", "2. The legal basis of the persecution", "3. The movement and why it was banned",
        "4. Who signed this complaint", "5. How the complainants were persecuted",
        "6. Methods used by law enforcement", "7. Patterns", "8. Pressure on human rights defenders",
        "9. Officials responsible", "10. Rights violated", "11. The complainants", "12. Requests"]
    text = body_text(document)
    for narrative in ("banned the movement as extremist", "campaigns peacefully for free elections",
                      "phone searches, fingerprinting", "lists of unreliable citizens", "pressed to repent publicly",
                      "end the persecution and release those detained"):
        assert narrative in text


def test_the_figures(english: bytes) -> None:
    document = reopen(english)
    figures = {row[0]: row[1] for row in table_starting(document, "Period covered by the incidents")}
    assert figures == {
        "Period covered by the incidents": "1 January 2022 – 31 August 2022",
        "Period in which the complainants' appeals were received": "14 February 2022 – 30 November 2022",
        "Appeals received by Freedom Watch": "150",
        "Complainants included in this complaint": "129",
        "Cities and towns where the complainants live": "19",
        "Episodes of persecution described": "4",
        "Complainants reporting torture or ill-treatment": "7",
    }
    text = body_text(document)
    assert "Freedom Watch received 150 appeals. This complaint includes only the 129 complainants who sent both " \
           "a signed form of appeal and a power of attorney, verified by Freedom Watch." in text
    # When the appeals were received is the appeals' date of receipt, not the incidents' dates.
    assert "The complainants included sent their appeals between 14 February 2022 and 30 November 2022." in text
    assert "The other appeals are not included, for the following reasons:" in text
    assert table_starting(document, "Reason") == [
        ["Reason", "Appeals"],
        ["The signed form of appeal was not received", "7"],
        ["The power of attorney was not received", "12"],
        ["Neither the form of appeal nor the power of attorney was received", "2"],
        ["Total", "21"]]
    assert "both documents" not in text.replace("without both documents", "")
    assert "The complainants live in 19 cities and towns:" in text


def test_appeals_counted_beyond_those_recorded_are_said_to_be_so() -> None:
    document = reopen(render_collective(collective(appeals_received=160)))
    assert table_starting(document, "Reason")[4:] == [["Not recorded appeal by appeal", "10"], ["Total", "31"]]
    every = reopen(render_collective(collective(appeals_received=129, excluded=())))
    assert "Every appeal received is included." in body_text(every)
    assert not any(t.rows[0].cells[0].text == "Reason" for t in every.tables)


def test_more_appeals_left_out_than_received_is_refused() -> None:
    with pytest.raises(ValueError, match="appeals left out"):
        render_collective(collective(appeals_received=140))


def test_charts_by_episode_city_and_kind_with_alt_text(english: bytes, russian: bytes) -> None:
    for content, titles in ((english, ["Complainants by city or town", "Complainants by episode",
                                       "Complainants by form of persecution"]),
                            (russian, ["Число заявителей по городам и населённым пунктам",
                                       "Число заявителей по эпизодам", "Число заявителей по видам преследования"])):
        document = reopen(content)
        shapes = document.inline_shapes
        assert len(shapes) == 3
        described = [(s._inline.docPr.get("title"), s._inline.docPr.get("descr")) for s in shapes]
        assert [title for title, _ in described] == sorted(titles, key=[t for t, _ in described].index)
        assert sorted(title for title, _ in described) == sorted(titles)
        for _title, alt in described:
            assert alt and re.search(r"— \d", alt)  # every bar's figure is in the alternative text
        for shape in shapes:
            image = document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed]
            assert image.content_type == "image/png" and image.blob.startswith(b"\x89PNG")
    english_alts = [s._inline.docPr.get("descr") for s in reopen(english).inline_shapes]
    assert any("Mass detentions at the January rally — 87" in alt for alt in english_alts)
    assert any("Almaty — 7" in alt for alt in english_alts)
    russian_alts = [s._inline.docPr.get("descr") for s in reopen(russian).inline_shapes]
    assert any("Массовые задержания на январской акции — 87" in alt for alt in russian_alts)


def test_a_chart_follows_its_table(english: bytes) -> None:
    body = reopen(english).element.body
    order = [child for child in body.iterchildren() if child.tag.endswith(("}tbl", "}p"))]
    for first_cell in ("City or town", "Episode", "Form of persecution"):
        table = next(i for i, child in enumerate(order) if child.tag.endswith("}tbl")
                     and child.xpath("string(.//w:tc[1])").startswith(first_cell))
        # The first thing after the table (past the empty spacer paragraph every table gets) is its chart.
        following = next(child for child in order[table + 1:]
                         if child.xpath("string(.)").strip() or child.xpath(".//wp:docPr"))
        assert following.xpath(".//wp:docPr"), first_cell


def test_the_cities(english: bytes) -> None:
    cities = table_starting(reopen(english), "City or town")
    assert len(cities) == 1 + 19 + 1
    assert cities[1] == ["Almaty", "7"] and cities[-1] == ["Total", "129"]
    assert sum(int(count) for _, count in cities[1:-1]) == 129


def test_incident_types_with_torture(english: bytes) -> None:
    document = reopen(english)
    types = table_starting(document, "Form of persecution")
    assert types[1:] == [["Detention at a rally", "87"], ["Interrogation", "54"], ["Preventive detention", "41"],
                         ["Prosecution for online speech", "12"], ["Torture or ill-treatment", "7"]]
    assert "7 complainants report having been subjected to torture or ill-treatment." in body_text(document)


def test_one_subsection_per_episode_with_its_count_next_to_the_known_totals(english: bytes) -> None:
    document = reopen(english)
    assert styled(document, "Heading 2") == [
        "5.1 Mass detentions at the January rally", "5.2 Preventive detentions before the February march",
        "5.3 Interrogations of people carrying the symbol", "5.4 Prosecution for social-media comments"]
    overview = table_starting(document, "Episode")
    assert overview[0] == ["Episode", "Dates", "Known totals from other sources", "Complainants"]
    assert overview[1] == ["Mass detentions at the January rally", "5 January 2022 – 7 January 2022",
                           "more than 150 detained in two cities, about 30 elsewhere", "87"]
    assert overview[3][2:] == ["not known", "23"]
    assert overview[4][1] == "1 June 2022"  # an open-ended episode
    text = body_text(document)
    assert "Known totals from other sources: more than 150 detained in two cities, about 30 elsewhere." in text
    for count in (87, 41, 23, 12):
        assert f"{count} complainants of this complaint were persecuted in this episode." in text
    assert "add up to more than the number of complainants" in text


def test_rights_and_mandates(english: bytes) -> None:
    document = reopen(english)
    text = body_text(document)
    assert "The complaint concerns the following Special Procedures mandates:" in text
    bullets = styled(document, "List Bullet")
    assert bullets == ["ICCPR art. 21 (assembly) (Universal Declaration of Human Rights, article 20(1))",
                       "Freedom of peaceful assembly", "Human rights defenders"]
    without = body_text(reopen(render_collective(collective(mandates=()))))
    assert "mandates" not in without


def test_the_officials_table(english: bytes) -> None:
    officials = table_starting(reopen(english), "Position")
    assert officials == [["Position", "Agency", "Name", "What they did"],
                         ["Head of the city police department", "Police", "Col. Erik Fictionov",
                          "Ordered the detentions"],
                         ["District prosecutor", "Prosecutor's office", "", "Issued the warnings"]]


def test_only_the_named_complainants_are_listed(english: bytes) -> None:
    document = reopen(english)
    listed = styled(document, "List Number")
    assert listed == sorted(NAMED) and len(listed) == 43
    assert "86 further complainants are not named at their request." in body_text(document)


def test_no_unnamed_complainant_appears_in_any_part_of_the_file(english: bytes, russian: bytes) -> None:
    for content in (english, russian):
        parts = every_part(content)
        assert {"word/document.xml", "docProps/core.xml", "docProps/app.xml"} <= set(parts)
        assert any(name.startswith("word/header") for name in parts)
        assert any(name.startswith("word/footer") for name in parts)
        for name, xml in parts.items():
            for person in UNNAMED:
                assert person not in xml, (name, person)
        metadata = parts["docProps/core.xml"] + parts["docProps/app.xml"]
        assert not any(person in metadata for person in NAMED)


def test_header_footer_and_metadata(english: bytes) -> None:
    document = reopen(english)
    assert document.sections[0].header.paragraphs[0].text == "COL-2024-001 · UN Special Procedures"
    assert document.sections[0].footer.paragraphs[0].text.startswith("Confidential · page")
    props = document.core_properties
    assert (props.title, props.author) == ("COL-2024-001 · UN Special Procedures", "Freedom Watch")
    assert props.created == GENERATED_AT


def test_the_russian_complaint(russian: bytes) -> None:
    document = reopen(russian)
    assert styled(document, "Heading 1")[:4] == ["1. Краткое изложение", "2. Правовое основание преследования",
                                                 "3. Движение и причины его запрета", "4. Кто подписал жалобу"]
    assert styled(document, "Heading 2")[0] == "5.1 Массовые задержания на январской акции"
    text = body_text(document)
    start, end = (format_date(d, format="long", locale="ru") for d in (collective().received_start,
                                                                      collective().received_end))
    assert f"прислали свои обращения в период с {start} по {end}" in text and "февраля" in text
    assert "организацией Freedom Watch, — 150" in text and "их число — 129" in text
    assert "Остальные обращения в жалобу не включены по следующим причинам:" in text
    assert table_starting(document, "Причина")[1:] == [
        ["Не получено подписанное обращение", "7"], ["Не получена доверенность", "12"],
        ["Не получены ни обращение, ни доверенность", "2"], ["Итого", "21"]]
    assert "(всего — 19)" in text
    assert "В этом эпизоде пострадали 87 заявителей по настоящей жалобе." in text
    assert "В этом эпизоде пострадали 23 заявителя по настоящей жалобе." in text
    assert "О пытках или жестоком обращении сообщили 7 заявителей." in text
    assert "Ещё 86 заявителей не названы по их просьбе." in text
    assert ".." not in text
    assert document.sections[0].footer.paragraphs[0].text.startswith("Конфиденциально · стр.")
    assert not re.search(r"\b(January|August|Summary|Total)\b", text)


@pytest.mark.parametrize(("unnamed", "english", "russian"), [
    (1, "1 further complainant is not named at their request.", "Ещё 1 заявитель не назван по его просьбе."),
    (2, "2 further complainants are not named at their request.", "Ещё 2 заявителя не названы по их просьбе."),
    (21, "21 further complainants are not named at their request.", "Ещё 21 заявитель не назван по его просьбе."),
])
def test_plural_forms(unnamed: int, english: str, russian: str) -> None:
    for language, expected in (("en", english), ("ru", russian)):
        snapshot = collective(language, complainants=unnamed + 1, cities=1,
                              named=("Aigerim Abenova",), unnamed=unnamed)
        assert expected in body_text(reopen(render_collective(snapshot)))


def test_a_thousand_complainants_use_grouped_numbers() -> None:
    snapshot = collective(complainants=129, appeals_received=1500)
    assert "Freedom Watch received 1,500 appeals." in body_text(reopen(render_collective(snapshot)))


def test_empty_narratives_and_lists_are_visible_gaps() -> None:
    snapshot = collective(summary="", legal_basis="", officials=(), named=(), unnamed=129, episodes=(),
                          incident_types=())
    document = reopen(render_collective(snapshot))
    text = body_text(document)
    assert text.count("[To be completed by the legal officer before submission.]") == 2
    for expected in ("No official has yet been identified.", "None of the complainants has agreed to be named.",
                     "No episode has been recorded.", "The forms of persecution have not yet been classified.",
                     "129 further complainants are not named at their request."):
        assert expected in text


def test_contradictory_figures_are_refused() -> None:
    with pytest.raises(ValueError, match="named"):
        render_collective(replace(collective(), unnamed=10))
    with pytest.raises(ValueError, match="appeals received"):
        render_collective(collective(appeals_received=100))


def test_the_same_snapshot_gives_the_same_bytes() -> None:
    assert render_collective(collective("ru")) == render_collective(collective("ru"))


def test_a_language_without_a_template_is_refused() -> None:
    with pytest.raises(ValueError, match="no filing template for body 'collective' in language 'de'"):
        render_collective(collective("de"))


def test_chart_labels_in_cyrillic_and_kazakh_have_every_glyph() -> None:
    import warnings

    from filings.charts import MAX_BARS, bar_chart

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = bar_chart([("Қарағанды, Өскемен: ә ғ қ ң ө ұ ү һ і", 3), ("Алматы", 2)], "Шағымданушылар саны",
                        "Басқалар")
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from" in str(w.message)]  # matplotlib: "Glyph ... missing from font"
    many = [(f"City {n}", 100 - n) for n in range(MAX_BARS + 5)]
    assert bar_chart(many, "Cities", "Others") == bar_chart(many, "Cities", "Others")  # same figures, same bytes
