"""Fictional snapshots for the filings tests: one case in English and Russian, and a collective complaint.

Every name, place of detention and official here is invented.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import docx

from filings import (
    CaseSnapshot,
    CollectiveSnapshot,
    ConsentSnapshot,
    CountedEpisode,
    EpisodeSnapshot,
    GroundSnapshot,
    IncidentSnapshot,
    Official,
    PersonSnapshot,
    RemediesSnapshot,
)

GENERATED_AT = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
REAL_NAME = "Aliya Testova"
NATIVE_NAME = "Алия Тестова"
BIRTH_DATE = date(1991, 4, 12)
BODIES = ("un_sp", "un_wgad", "un_hrc", "osce_odihr", "ep_droi", "ep_peti")
BODY_LANGUAGES = [("un_sp", "en"), ("un_wgad", "en"), ("un_hrc", "en"), ("un_hrc", "ru"), ("osce_odihr", "en"),
                  ("osce_odihr", "ru"), ("ep_droi", "en"), ("ep_peti", "en")]

# Everything a case says, in each document language (the workflow hands over labels, not keys).
WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "body_name": {"un_sp": "UN Special Procedures", "un_wgad": "UN Working Group on Arbitrary Detention",
                      "un_hrc": "UN Human Rights Committee", "osce_odihr": "OSCE/ODIHR",
                      "ep_droi": "European Parliament, Subcommittee on Human Rights",
                      "ep_peti": "European Parliament, Committee on Petitions"},
        "state": "Kazakhstan", "city": "Almaty", "gender": "Female", "occupation": "Journalist",
        "rally": "Detention at a rally", "torture": "Torture or ill-treatment", "police": "Police",
        "investigators": "Investigative bodies", "place_1": "Republic Square, Almaty",
        "place_2": "Police station No. 3, Almaty",
        "description_1": "Detained by plain-clothes officers while holding a placard at a peaceful rally.",
        "description_2": "Beaten during questioning and denied access to a lawyer for two days.",
        "episode": "Mass detentions at the January rally", "totals": "more than 150 detained in two cities",
        "iccpr_21": "ICCPR art. 21 (assembly)", "iccpr_7": "ICCPR art. 7 (torture, ill-treatment)",
        "mandate": "Freedom of peaceful assembly", "remedies": "Complaint to the city prosecutor rejected.",
        "procedure": "UN Working Group on Arbitrary Detention",
    },
    "ru": {
        "body_name": {"un_hrc": "Комитет ООН по правам человека", "osce_odihr": "БДИПЧ ОБСЕ"},
        "state": "Казахстан", "city": "Алматы", "gender": "Женский", "occupation": "Журналист",
        "rally": "Задержание на акции", "torture": "Пытки или жестокое обращение", "police": "Полиция",
        "investigators": "Следственные органы", "place_1": "Площадь Республики, Алматы",
        "place_2": "Отдел полиции № 3, Алматы",
        "description_1": "Задержана сотрудниками в штатском с плакатом на мирной акции.",
        "description_2": "Избита на допросе; два дня не допускали адвоката.",
        "episode": "Массовые задержания на январской акции", "totals": "более 150 задержанных в двух городах",
        "iccpr_21": "МПГПП, ст. 21 (свобода мирных собраний)",
        "iccpr_7": "МПГПП, ст. 7 (пытки, жестокое обращение)",
        "mandate": "Свобода мирных собраний", "remedies": "Жалоба в прокуратуру города отклонена.",
        "procedure": "Рабочая группа ООН по произвольным задержаниям",
    },
}
RALLY_DAY = date(2022, 1, 5)
QUESTIONED_DAY = date(2022, 1, 6)


def person(*, named: bool = True, language: str = "en", display_name: str = REAL_NAME) -> PersonSnapshot:
    """The alleged victim as workflow/snapshots.py hands them over: identity fields only when named."""
    words = WORDS[language]
    if not named:
        return PersonSnapshot(display_name=display_name, gender=words["gender"], city=words["city"],
                              occupation=words["occupation"], detained_now=True)
    return PersonSnapshot(display_name=REAL_NAME, named=True, native_name=NATIVE_NAME, birth_date=BIRTH_DATE,
                          gender=words["gender"], city=words["city"], occupation=words["occupation"],
                          organisation="Civic Future", detained_now=True)


def case(body: str = "un_sp", language: str = "en", **overrides: Any) -> CaseSnapshot:
    words = WORDS[language]
    values: dict[str, Any] = dict(
        ref="APL-2024-0042",
        body=body,
        body_name=words["body_name"].get(body, body),
        language=language,
        organisation="Freedom Watch",
        person=person(language=language),
        received_on=date(2022, 2, 1),
        incidents=(
            # Recorded out of order on purpose: the filing must put them in chronological order.
            IncidentSnapshot(types=(words["torture"],), occurred_on=QUESTIONED_DAY, place=words["place_2"],
                             description=words["description_2"],
                             perpetrators=(words["police"], words["investigators"]),
                             type_keys=("torture_ill_treatment",)),
            IncidentSnapshot(types=(words["rally"],), occurred_on=RALLY_DAY, place=words["place_1"],
                             description=words["description_1"], perpetrators=(words["police"],),
                             episodes=("rally_jan",), type_keys=("detention_at_rally",),
                             deprivation_of_liberty=True),
        ),
        episodes=(EpisodeSnapshot("rally_jan", words["episode"], RALLY_DAY, date(2022, 1, 7),
                                  known_totals=words["totals"]),),
        grounds=(GroundSnapshot("iccpr_21", words["iccpr_21"], "20(1)"),
                 GroundSnapshot("iccpr_7", words["iccpr_7"], "5")),
        mandates=(words["mandate"],) if body == "un_sp" else (),
        communication_type="urgent_appeal" if body in ("un_sp", "un_wgad") else None,
        wgad_categories=("II", "III") if body == "un_wgad" else (),
        urgent=True,
        remedies=RemediesSnapshot(exhausted_on=date(2023, 3, 1), summary=words["remedies"], ineffective=True),
        consent=ConsentSnapshot(verified=True, share_name_with_government=True, publish_name=True,
                                initials_only=False, anonymous=False),
        state=words["state"],
        generated_at=GENERATED_AT,
    )
    values.update(overrides)
    return CaseSnapshot(**values)


def unnamed_case(body: str, language: str = "en", display_name: str = "A. T.") -> CaseSnapshot:
    consent = ConsentSnapshot(verified=True, share_name_with_government=True, publish_name=False,
                              initials_only=True, anonymous=False)
    return case(body, language, person=person(named=False, language=language, display_name=display_name),
                consent=consent)


# -- the collective complaint ----------------------------------------------------------------------------

FIRST_NAMES = ("Aigerim", "Nurlan", "Dana", "Yerlan", "Madina", "Timur", "Saule", "Arman", "Gulnara", "Daniyar",
               "Zhanna", "Askar")
LAST_NAMES = ("Abenova", "Bekturov", "Childinova", "Dosmukhamedov", "Ergaliyeva", "Furmanov", "Galymzhanova",
              "Ismailov", "Kenzhebayeva", "Loginov", "Mukanova", "Nurpeisov")
CITIES_EN = ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Oskemen", "Semey",
             "Kostanay", "Kyzylorda", "Oral", "Atyrau", "Petropavl", "Aktau", "Temirtau", "Turkistan", "Taldykorgan",
             "Ekibastuz", "Rudny", "Zhanaozen", "Kentau", "Balkhash")


def complainant_names(count: int) -> list[str]:
    """``count`` distinct fictional full names (no name is part of another)."""
    names = [f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES]
    if count > len(names):
        raise ValueError(f"only {len(names)} fictional names")
    return names[:count]


def split_named(names: list[str]) -> tuple[list[str], list[str]]:
    """Every third complainant agreed to be named; the others did not."""
    return [n for i, n in enumerate(names) if i % 3 == 0], [n for i, n in enumerate(names) if i % 3]


def spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def collective(language: str = "en", *, complainants: int = 129, cities: int = 19, **overrides: Any
               ) -> CollectiveSnapshot:
    named, unnamed = split_named(complainant_names(complainants))
    ru = language == "ru"
    episodes = (
        CountedEpisode(EpisodeSnapshot("rally_jan", "Массовые задержания на январской акции" if ru
                                       else "Mass detentions at the January rally", date(2022, 1, 5), date(2022, 1, 7),
                                       description="Police dispersed the rally.",
                                       known_totals="more than 150 detained in two cities, about 30 elsewhere"), 87),
        CountedEpisode(EpisodeSnapshot("preventive_feb", "Preventive detentions before the February march",
                                       date(2022, 2, 20), date(2022, 2, 28), known_totals="at least 60 detained"), 41),
        CountedEpisode(EpisodeSnapshot("symbol_mar", "Interrogations of people carrying the symbol",
                                       date(2022, 3, 1), date(2022, 5, 31)), 23),
        CountedEpisode(EpisodeSnapshot("online_speech", "Prosecution for social-media comments",
                                       date(2022, 6, 1), None, known_totals="14 criminal cases opened"), 12),
    )
    values: dict[str, Any] = dict(
        reference="COL-2024-001",
        title="Пресечение мирной активности" if ru else "Persecution of the Civic Future movement",
        body="un_sp",
        body_name="Специальные процедуры ООН" if ru else "UN Special Procedures",
        language=language,
        organisation="Freedom Watch",
        period_start=date(2022, 1, 1),
        period_end=date(2022, 8, 31),
        received_start=date(2022, 2, 14),
        received_end=date(2022, 11, 30),
        # The reference report's 21 appeals left out, each for its own reason.
        excluded=(("missing_power_of_attorney", 12), ("missing_form_of_appeal", 7), ("missing_both", 2)),
        appeals_received=150,
        complainants=complainants,
        cities=tuple(zip(CITIES_EN[:cities], spread(complainants, cities), strict=True)),
        episodes=episodes,
        incident_types=(("Detention at a rally", 87), ("Interrogation", 54), ("Preventive detention", 41),
                        ("Prosecution for online speech", 12), ("Torture or ill-treatment", 7)),
        torture_cases=7,
        named=tuple(sorted(named)),
        unnamed=len(unnamed),
        summary="Over eight months the authorities detained, questioned and prosecuted supporters of the movement.",
        legal_basis="On 3 December 2021 a district court banned the movement as extremist.",
        context="The movement campaigns peacefully for free elections.",
        methods="Detention, phone searches, fingerprinting, forced declarations.",
        patterns="Interrogations about political views; lists of unreliable citizens.",
        pressure_on_defenders="Lawyers were pressed to repent publicly.",
        officials=(Official("Head of the city police department", "Police", "Col. Erik Fictionov",
                            "Ordered the detentions"),
                   Official("District prosecutor", "Prosecutor's office", "", "Issued the warnings")),
        requests="Ask the Government to end the persecution and release those detained.",
        grounds=(GroundSnapshot("iccpr_21", "ICCPR art. 21 (assembly)", "20(1)"),),
        mandates=("Freedom of peaceful assembly", "Human rights defenders"),
        state="Казахстан" if ru else "Kazakhstan",
        generated_at=GENERATED_AT,
    )
    values.update(overrides)
    return CollectiveSnapshot(**values)


# -- reading documents back ------------------------------------------------------------------------------

def reopen(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def body_text(document: docx.document.Document) -> str:
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def styled(document: docx.document.Document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def every_part(content: bytes) -> dict[str, str]:
    """Every XML part of the package, as text: body, headers, footers, metadata, styles, numbering."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                if name.endswith((".xml", ".rels"))}

