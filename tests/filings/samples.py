"""Fictional snapshots for the filings tests: one case in English and Russian, and a collective complaint.

Every name, place of detention and official here is invented.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import docx

from filings import (
    ArrestSnapshot,
    CaseSnapshot,
    CollectiveSnapshot,
    ConsentSnapshot,
    CountedEpisode,
    CustodySnapshot,
    EpisodeSnapshot,
    GroundSnapshot,
    IllTreatmentSnapshot,
    IncidentSnapshot,
    Official,
    OrganisationSnapshot,
    PerpetratorSnapshot,
    PersonSnapshot,
    RemediesSnapshot,
    RemedyStepSnapshot,
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



# -- a fully filled case: every fact each body's questionnaire asks for (filings/fields.py) ---------------

FULL: dict[str, dict[str, str]] = {
    "en": {
        "nationality": "Kazakhstani", "age": "33", "activity": "Monitors peaceful assemblies for Civic Future.",
        "situation": "Released on bail; summoned weekly; her lawyer was threatened with disbarment.",
        "city_1": "Almaty", "city_2": "Astana",
        "agency_1": "Police", "agency_2": "National Security Committee", "agency_3": "Prosecutor's office",
        "unit_1": "Almaty city police, patrol battalion 2", "unit_2": "Astana regional department",
        "unit_3": "Almalinsky district prosecutor's office",
        "position_1": "Major", "position_2": "Investigator", "position_3": "District prosecutor",
        "name_1": "Erik Fictionov", "name_2": "Dana Inventova", "name_3": "Bolat Madeupov",
        "actions_1": "Ordered the arrest and tore up the placard.", "actions_2": "Questioned her without a lawyer.",
        "actions_3": "Refused to open an investigation into the beating.",
        "arrest_place": "Corner of Abay Avenue, Almaty", "forces": "Patrol police in plain clothes",
        "warrant_by": "No warrant; a protocol was drawn up later by the district court",
        "reasons": "Participation in an unauthorised assembly",
        "provision": "Article 488 of the Code of Administrative Offences", "duration": "15 days",
        "lawyer": "Denied for the first 48 hours", "family": "Allowed one call on the third day",
        "release": "Released at the end of the term without conditions",
        "custody_1": "Police station No. 3, Almaty", "custody_authority_1": "City police",
        "custody_2": "Temporary detention facility, Almaty", "custody_authority_2": "Ministry of Internal Affairs",
        "custody_3": "Special detention centre, Astana", "custody_authority_3": "Ministry of Internal Affairs",
        "methods": "Beating with batons, stress positions", "ill_duration": "About three hours, twice",
        "effects": "Bruised ribs, insomnia", "medical": "Forensic report of 8 January 2022",
        "complaints": "Complaint to the city prosecutor on 10 January 2022", "outcome": "Refused on 1 February 2022",
        "authority_1": "Almalinsky District Court", "authority_2": "Almaty City Court",
        "remedy_outcome_1": "Fine upheld", "remedy_outcome_2": "Appeal dismissed",
        "org_address": "1 Example Street, Vilnius, Lithuania", "org_email": "cases@freedom-watch.example",
        "org_phone": "+370 600 00000", "representative": "Ruta Exampleviciene", "title": "lawyer, Vilnius Bar",
        "annex_1": "Form of appeal", "annex_2": "Power of attorney", "annex_3": "Court decision (2)",
    },
    "ru": {
        "nationality": "гражданка Казахстана", "age": "33", "activity": "Наблюдает за мирными собраниями.",
        "situation": "Освобождена под залог; еженедельно вызывается на допросы.",
        "city_1": "Алматы", "city_2": "Астана",
        "agency_1": "Полиция", "agency_2": "Комитет национальной безопасности", "agency_3": "Прокуратура",
        "unit_1": "Полиция г. Алматы, 2-й батальон", "unit_2": "Департамент по г. Астане",
        "unit_3": "Прокуратура Алмалинского района",
        "position_1": "Майор", "position_2": "Следователь", "position_3": "Районный прокурор",
        "name_1": "Эрик Выдуманов", "name_2": "Дана Придумова", "name_3": "Болат Несуществующий",
        "actions_1": "Приказал задержать и порвал плакат.", "actions_2": "Допрашивала без адвоката.",
        "actions_3": "Отказал в возбуждении дела об избиении.",
        "arrest_place": "Угол проспекта Абая, Алматы", "forces": "Патрульная полиция в штатском",
        "warrant_by": "Ордер не предъявлен; протокол составлен позже",
        "reasons": "Участие в несанкционированном собрании",
        "provision": "Статья 488 Кодекса об административных правонарушениях", "duration": "15 суток",
        "lawyer": "Не допускали первые 48 часов", "family": "Один звонок на третий день",
        "release": "Освобождена по окончании срока без условий",
        "custody_1": "Отдел полиции № 3, Алматы", "custody_authority_1": "Полиция города",
        "custody_2": "Изолятор временного содержания, Алматы", "custody_authority_2": "МВД",
        "custody_3": "Спецприёмник, Астана", "custody_authority_3": "МВД",
        "methods": "Избиение дубинками, стрессовые позы", "ill_duration": "Около трёх часов, дважды",
        "effects": "Ушиб рёбер, бессонница", "medical": "Заключение судмедэксперта от 8 января 2022 г.",
        "complaints": "Жалоба в прокуратуру города 10 января 2022 г.", "outcome": "Отказано 1 февраля 2022 г.",
        "authority_1": "Алмалинский районный суд", "authority_2": "Алматинский городской суд",
        "remedy_outcome_1": "Штраф оставлен в силе", "remedy_outcome_2": "Жалоба отклонена",
        "org_address": "ул. Примерная, 1, Вильнюс, Литва", "org_email": "cases@freedom-watch.example",
        "org_phone": "+370 600 00000", "representative": "Рута Примерене", "title": "адвокат",
        "annex_1": "Заявление", "annex_2": "Доверенность", "annex_3": "Решение суда (2)",
    },
}
ARRESTED_ON = RALLY_DAY
RELEASED_ON = date(2022, 1, 20)
STEP_1 = (date(2022, 2, 1), date(2022, 2, 15))
STEP_2 = (date(2022, 3, 1), date(2022, 4, 12))


def full_case(body: str = "un_sp", language: str = "en", **overrides: Any) -> CaseSnapshot:
    """Every fact recorded: two incidents in two cities, three perpetrators, an arrest with two transfers,
    ill-treatment, two remedy steps, the organisation profile and three annexes."""
    words, full = WORDS[language], FULL[language]
    base = case(body, language)
    who = person(language=language)
    incidents = (
        IncidentSnapshot(types=(words["rally"],), occurred_on=RALLY_DAY, city=full["city_1"], place=words["place_1"],
                         description=words["description_1"], perpetrators=(full["agency_1"],),
                         perpetrator_numbers=(1,), episodes=("rally_jan",), type_keys=("detention_at_rally",),
                         deprivation_of_liberty=True),
        IncidentSnapshot(types=(words["torture"],), occurred_on=QUESTIONED_DAY, city=full["city_2"],
                         place=words["place_2"], description=words["description_2"],
                         perpetrators=(full["agency_2"], full["agency_3"]), perpetrator_numbers=(2, 3),
                         type_keys=("torture_ill_treatment",), ill_treatment=True),
    )
    values: dict[str, Any] = dict(
        person=PersonSnapshot(
            display_name=who.display_name, named=True, native_name=NATIVE_NAME,
            birth_date=BIRTH_DATE if body in ("un_sp", "un_wgad", "un_hrc") else None,
            gender=who.gender, city=who.city, occupation=who.occupation, organisation="Civic Future",
            detained_now=False, nationality=full["nationality"], activity=full["activity"],
            situation=full["situation"]),
        incidents=incidents,
        perpetrators=tuple(PerpetratorSnapshot(number=n, agency=full[f"agency_{n}"], unit=full[f"unit_{n}"],
                                               position=full[f"position_{n}"], name=full[f"name_{n}"],
                                               actions=full[f"actions_{n}"]) for n in (1, 2, 3)),
        arrests=(ArrestSnapshot(
            arrested_on=ARRESTED_ON, place=full["arrest_place"], forces=full["forces"], warrant_shown=False,
            warrant_issued_by=full["warrant_by"], reasons_given=full["reasons"], legal_provision=full["provision"],
            duration=full["duration"], lawyer_access=full["lawyer"], family_access=full["family"],
            released_on=RELEASED_ON, release=full["release"],
            custody=tuple(CustodySnapshot(full[f"custody_{n}"], full[f"custody_authority_{n}"]) for n in (1, 2, 3))),),
        ill_treatments=(IllTreatmentSnapshot(methods=full["methods"], duration=full["ill_duration"],
                                             effects=full["effects"], medical_evidence=full["medical"],
                                             complaints=full["complaints"], outcome=full["outcome"],
                                             occurred_on=QUESTIONED_DAY),),
        remedy_steps=(RemedyStepSnapshot(full["authority_1"], STEP_1[0], full["remedy_outcome_1"], STEP_1[1]),
                      RemedyStepSnapshot(full["authority_2"], STEP_2[0], full["remedy_outcome_2"], STEP_2[1],
                                         final=True)),
        profile=OrganisationSnapshot("Freedom Watch", full["org_address"], full["org_email"], full["org_phone"],
                                     full["representative"], full["title"]),
        annexes=(full["annex_1"], full["annex_2"], full["annex_3"]),
        eu_status="resident",
    )
    values.update(overrides)
    return dataclasses.replace(base, **values)
