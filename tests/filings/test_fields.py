"""Field coverage: every field of every body's questionnaire (filings/fields.py) is in its filing, in every
template language; a fact marked not known prints "not known", a missing one a placeholder that
``filings.missing`` lists; docs/FILING-FIELDS.md is the table filings/fields.py generates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date

from filings import NOT_KNOWN, CaseSnapshot, available, missing, render
from filings.blocks import individual_values
from filings.fields import FIELDS, SOURCES, document, field_of
from filings.formatting import Formats
from filings.wording import Template, load
from tests.filings.samples import (
    ARRESTED_ON,
    BIRTH_DATE,
    FULL,
    GENERATED_AT,
    NATIVE_NAME,
    QUESTIONED_DAY,
    RALLY_DAY,
    RELEASED_ON,
    STEP_1,
    STEP_2,
    WORDS,
    body_text,
    full_case,
    reopen,
)

BODIES = tuple(FIELDS)
EVERY_TEMPLATE = [(body, language) for body in BODIES for language in available(body)]


class Doc:
    """What a field's expected text is built from: the snapshot, its template and its language's formats."""

    def __init__(self, snapshot: CaseSnapshot) -> None:
        self.snapshot = snapshot
        self.template: Template = load(snapshot.body, snapshot.language)
        self.formats = Formats(self.template.locale, self.template.raw("unknown"))
        self.values = individual_values(snapshot, self.formats)
        self.full = FULL[snapshot.language]
        self.words = WORDS[snapshot.language]

    def date(self, value: date) -> str:
        return format_date(value, format="long", locale=self.template.locale)

    def label(self, key: str, **extra: str) -> str:
        return " ".join(self.template.label(key, self.values, **extra).split())

    def labelled(self, key: str, value: str) -> str:
        return f"{self.label(key)}: {value}"

    def opening(self, key: str) -> str:
        """The first words of a label's first paragraph (a list follows it in the document)."""
        first = self.template.label(key, self.values).strip().split("\n\n")[0]
        return " ".join(first.split())[:60]


def _where(d: Doc, day: date, city: str, place: str) -> str:
    return f"{d.date(day)}, {d.full[city]}, {d.words[place]}"


# For each field key, the texts that must appear in a fully filled filing.
EXPECTED: dict[str, Callable[[Doc], list[str]]] = {
    "reference": lambda d: [d.snapshot.ref],
    "date": lambda d: [d.date(GENERATED_AT.date())],
    "state": lambda d: [d.words["state"]],
    "person.name": lambda d: [d.snapshot.person.display_name],
    "person.native_name": lambda d: [NATIVE_NAME],
    "person.birth_date": lambda d: [d.date(BIRTH_DATE)],
    "person.gender": lambda d: [d.words["gender"]],
    "person.nationality": lambda d: [d.full["nationality"]],
    "person.city": lambda d: [d.words["city"]],
    "person.occupation": lambda d: [d.words["occupation"]],
    "person.organisation": lambda d: ["Civic Future"],
    "person.activity": lambda d: [d.labelled("activity", d.full["activity"])],
    "person.situation": lambda d: [d.labelled("situation", d.full["situation"])],
    "person.detained_now": lambda d: [d.label("detained_now")],
    "incidents.occurred_on": lambda d: [d.date(RALLY_DAY), d.date(QUESTIONED_DAY)],
    "incidents.city": lambda d: [_where(d, RALLY_DAY, "city_1", "place_1"),
                                 _where(d, QUESTIONED_DAY, "city_2", "place_2")],
    "incidents.place": lambda d: [d.words["place_1"], d.words["place_2"]],
    "incidents.types": lambda d: [d.words["rally"], d.words["torture"]],
    "incidents.description": lambda d: [d.words["description_1"], d.words["description_2"]],
    "incidents.perpetrators": lambda d: [d.full["agency_1"], f"{d.full['agency_2']}, {d.full['agency_3']}"],
    "episodes": lambda d: [d.words["episode"]],
    "perpetrators.agency": lambda d: [f"{d.full[f'agency_{n}']}. " for n in (1, 2, 3)],
    "perpetrators.unit": lambda d: [d.labelled("perpetrator_unit", d.full[f"unit_{n}"]) for n in (1, 2, 3)],
    "perpetrators.position": lambda d: [d.labelled("perpetrator_position", d.full[f"position_{n}"])
                                        for n in (1, 2, 3)],
    "perpetrators.name": lambda d: [d.labelled("perpetrator_name", d.full[f"name_{n}"]) for n in (1, 2, 3)],
    "perpetrators.actions": lambda d: [d.labelled("perpetrator_actions", d.full[f"actions_{n}"])
                                       for n in (1, 2, 3)],
    "perpetrators.incidents": lambda d: [
        d.labelled("perpetrator_incidents", _where(d, RALLY_DAY, "city_1", "place_1")),
        d.labelled("perpetrator_incidents", _where(d, QUESTIONED_DAY, "city_2", "place_2"))],
    "arrests.arrested_on": lambda d: [d.labelled("arrest_date", d.date(ARRESTED_ON))],
    "arrests.place": lambda d: [d.labelled("arrest_place", d.full["arrest_place"])],
    "arrests.forces": lambda d: [d.labelled("arrest_forces", d.full["forces"])],
    "arrests.warrant_shown": lambda d: [d.labelled("arrest_warrant_shown", d.template.raw("no"))],
    "arrests.warrant_issued_by": lambda d: [d.labelled("arrest_warrant_issued_by", d.full["warrant_by"])],
    "arrests.reasons_given": lambda d: [d.labelled("arrest_reasons", d.full["reasons"])],
    "arrests.legal_provision": lambda d: [d.labelled("arrest_legal_provision", d.full["provision"])],
    "arrests.custody": lambda d: [f"{d.full[f'custody_{n}']} ({d.full[f'custody_authority_{n}']})"
                                  for n in (1, 2, 3)],
    "arrests.duration": lambda d: [d.labelled("arrest_duration", d.full["duration"])],
    "arrests.lawyer_access": lambda d: [d.labelled("arrest_lawyer", d.full["lawyer"])],
    "arrests.family_access": lambda d: [d.labelled("arrest_family", d.full["family"])],
    "arrests.released_on": lambda d: [d.labelled("arrest_released_on", d.date(RELEASED_ON))],
    "arrests.release": lambda d: [d.labelled("arrest_release", d.full["release"])],
    "ill_treatments.methods": lambda d: [d.labelled("ill_methods", d.full["methods"])],
    "ill_treatments.duration": lambda d: [d.labelled("ill_duration", d.full["ill_duration"])],
    "ill_treatments.effects": lambda d: [d.labelled("ill_effects", d.full["effects"])],
    "ill_treatments.medical_evidence": lambda d: [d.labelled("ill_medical", d.full["medical"])],
    "ill_treatments.complaints": lambda d: [d.labelled("ill_complaints", d.full["complaints"])],
    "ill_treatments.outcome": lambda d: [d.labelled("ill_outcome", d.full["outcome"])],
    "remedies.exhausted_on": lambda d: [d.label("remedies_exhausted", date=d.date(date(2023, 3, 1)))],
    "remedies.summary": lambda d: [d.words["remedies"]],
    "remedy_steps.authority": lambda d: [f"{d.full['authority_1']}. ", f"{d.full['authority_2']}. "],
    "remedy_steps.taken_on": lambda d: [d.labelled("remedy_taken_on", d.date(STEP_1[0])),
                                        d.labelled("remedy_taken_on", d.date(STEP_2[0]))],
    "remedy_steps.outcome": lambda d: [d.labelled("remedy_outcome", d.full["remedy_outcome_1"]),
                                       d.labelled("remedy_outcome", d.full["remedy_outcome_2"])],
    "remedy_steps.decided_on": lambda d: [d.labelled("remedy_decided_on", d.date(STEP_1[1])),
                                          d.labelled("remedy_decided_on", d.date(STEP_2[1]))],
    "remedy_steps.final": lambda d: [d.labelled("remedy_final", d.template.raw("yes")),
                                     d.labelled("remedy_final", d.template.raw("no"))],
    "other_procedures": lambda d: [d.opening("other_none")],
    "grounds": lambda d: [d.words["iccpr_21"], d.words["iccpr_7"]],
    "mandates": lambda d: [d.words["mandate"]],
    "communication_type": lambda d: [d.opening("request_urgent_appeal")],
    "wgad_categories": lambda d: [d.label("category_II"), d.label("category_III")],
    "consent": lambda d: [d.label("consent_verified"), d.label("consent_government"), d.label("consent_public")],
    "eu_status": lambda d: [d.label("eu_status_resident")],
    "eu_subject": lambda d: ["fields of activity of the European Union"],
    "request": lambda d: [d.opening("request_urgent_appeal" if "request_urgent_appeal" in d.template.labels
                                    else "request")],
    "organisation.name": lambda d: ["Freedom Watch"],
    "organisation.address": lambda d: [d.full["org_address"]],
    "organisation.email": lambda d: [d.full["org_email"]],
    "organisation.phone": lambda d: [d.full["org_phone"]],
    "organisation.representative": lambda d: [d.full["representative"]],
    "organisation.representative_title": lambda d: [f"{d.full['representative']}, {d.full['title']}"],
    "signature": lambda d: [d.label("signature_line")],
    "annexes": lambda d: [d.full["annex_1"], d.full["annex_2"], d.full["annex_3"]],
}


def test_every_field_has_a_source_and_an_expectation() -> None:
    keys = {key for fields in FIELDS.values() for key, _ in fields}
    assert keys <= set(SOURCES)
    assert keys == set(EXPECTED)
    for body, fields in FIELDS.items():
        assert len({key for key, _ in fields}) == len(fields), f"{body} lists a field twice"


def test_the_field_table_in_docs_is_the_generated_one() -> None:
    written = Path(__file__).resolve().parents[2].joinpath("docs", "FILING-FIELDS.md").read_text(encoding="utf-8")
    assert written == document(), "regenerate: python -m filings.fields > docs/FILING-FIELDS.md"


def test_every_body_has_a_template_in_each_language_it_is_tested_in() -> None:
    assert {body for body, _ in EVERY_TEMPLATE} == set(BODIES)
    assert ("un_hrc", "ru") in EVERY_TEMPLATE and ("osce_odihr", "ru") in EVERY_TEMPLATE


@pytest.mark.parametrize(("body", "language"), EVERY_TEMPLATE)
def test_a_fully_filled_case_prints_every_questionnaire_field(body: str, language: str) -> None:
    snapshot = full_case(body, language)
    text = " ".join(body_text(reopen(render(snapshot))).split())
    d = Doc(snapshot)
    absent = {key: [value for value in EXPECTED[key](d) if " ".join(value.split()) not in text]
              for key, _ in FIELDS[body]}
    assert not {key: values for key, values in absent.items() if values}
    assert missing(snapshot) == ()
    assert "[" not in text.replace("[…]", "")  # no placeholder anywhere


@pytest.mark.parametrize(("body", "language"), EVERY_TEMPLATE)
def test_missing_facts_print_a_placeholder_and_are_listed_and_marked_ones_print_not_known(
        body: str, language: str) -> None:
    full = full_case(body, language)
    person = dataclasses.replace(full.person, nationality=NOT_KNOWN, situation=None, activity=None)
    perpetrator = dataclasses.replace(full.perpetrators[0], unit=NOT_KNOWN, name=None)
    snapshot = dataclasses.replace(full, person=person, perpetrators=(perpetrator, *full.perpetrators[1:]),
                                   profile=None, remedy_steps=(), not_known=frozenset({"remedy_steps"}))
    d = Doc(snapshot)
    document = reopen(render(snapshot))
    text = " ".join(body_text(document).split())
    rows = {row.cells[0].text: row.cells[-1].text for table in document.tables for row in table.rows}
    lacking = missing(snapshot)
    placeholder = d.label("missing", what=d.label("perpetrator_name"))
    assert d.labelled("perpetrator_unit", d.formats.unknown) in text
    assert d.labelled("perpetrator_name", placeholder) in text
    assert "perpetrators[1].name" in lacking and "perpetrators[1].unit" not in lacking
    assert d.label("missing", what=d.label("submitter_email")) in text
    assert "organisation.email" in lacking and "organisation.representative" in lacking
    assert "person.nationality" not in lacking
    assert ("person.situation" in lacking) == any(key == "person.situation" for key, _ in FIELDS[body])
    if any(key == "person.situation" for key, _ in FIELDS[body]):
        assert d.labelled("situation", d.label("missing", what=d.label("situation"))) in text
    assert "remedy_steps" not in lacking
    assert text.count(d.label("missing", what="").split(":")[0]) >= len(lacking)  # each lacking fact shows
    assert rows[d.label("nationality")] == d.formats.unknown  # marked not known: says so, is not missing


def test_an_unrecorded_list_is_missing_and_a_marked_one_is_not_known() -> None:
    full = full_case("un_wgad")
    unrecorded = dataclasses.replace(full, arrests=(), perpetrators=())
    marked = dataclasses.replace(unrecorded, not_known=frozenset({"arrests", "perpetrators"}))
    assert {"arrests", "perpetrators"} <= set(missing(unrecorded))
    assert not {"arrests", "perpetrators"} & set(missing(marked))
    text = body_text(reopen(render(marked)))
    assert "It is not known whether the person was arrested or detained." in text
    assert "[To be completed: the arrest and detention]" in body_text(reopen(render(unrecorded)))


def test_russian_placeholder_and_not_known() -> None:
    full = full_case("un_hrc", "ru")
    arrest = dataclasses.replace(full.arrests[0], place=NOT_KNOWN, forces=None)
    text = body_text(reopen(render(dataclasses.replace(full, arrests=(arrest,)))))
    assert "Место задержания: неизвестно" in text
    assert "Кто произвёл задержание: [Заполнить: Кто произвёл задержание]" in text
    assert missing(dataclasses.replace(full, arrests=(arrest,))) == ("arrests[1].forces",)


def test_a_marked_incident_date_says_so_and_a_missing_one_asks_for_it() -> None:
    full = full_case("un_sp")
    first, second = full.incidents
    snapshot = dataclasses.replace(full, incidents=(dataclasses.replace(first, occurred_on=NOT_KNOWN),
                                                    dataclasses.replace(second, city=None)))
    text = body_text(reopen(render(snapshot)))
    assert "Date not known, Almaty" in text
    assert "[To be completed: city]" in text
    assert missing(snapshot) == ("incidents[1].city",)  # the dated incident comes first


def test_every_missing_key_names_a_field_of_the_table_or_a_kind_of_row() -> None:
    empty = dataclasses.replace(full_case("un_hrc"), perpetrators=(), remedy_steps=(), profile=None,
                                person=dataclasses.replace(full_case("un_hrc").person, nationality=None))
    arrest = dataclasses.replace(empty.arrests[0], place=None)
    lacking = missing(dataclasses.replace(empty, arrests=(arrest,)))
    assert "arrests[1].place" in lacking and field_of("arrests[1].place") == "arrests.place"
    kinds = {"incidents", "perpetrators", "arrests", "ill_treatments", "remedy_steps"}
    assert all(field_of(key) in SOURCES or field_of(key) in kinds for key in lacking), lacking
