"""The filing facts reach the snapshot from the database (SQLite and PostgreSQL): two incidents, three
perpetrators, an arrest with custody transfers, ill-treatment, two remedy steps, the organisation profile,
"not known" markers; and the filing rendered from them states each (read back with python-docx)."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import docx
from sqlalchemy import select

import filings
from tests.helpers import do, open_sample_case
from workflow.models import (
    Arrest,
    Case,
    CustodyPlace,
    IllTreatment,
    Incident,
    OrganisationProfile,
    Perpetrator,
    RemedyStep,
    Review,
)
from workflow.snapshots import case_snapshot

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
NAME = "Gulnara Fictiveva"


def _case(session, ref: str) -> Case:
    return session.scalar(select(Case).where(Case.ref == ref))


def _record_facts(env, ref: str) -> None:
    """Everything a legal officer would enter on the case page (engineer 6 builds those pages)."""
    with env.uow() as session:
        case = _case(session, ref)
        # Nothing may be flushed half-built while the rows are put together.
        with session.no_autoflush:
            person = case.person
            person.nationality, person.age = "Kazakhstani", "41"
            person.activity = f"{NAME} coordinates the Civic Future monitors in Almaty."
            person.situation = "Summoned to the police every week."
            case.unknown_facts = ["person.organisation"]
            first = case.incidents[0]
            first.city, first.place = "Almaty", "Republic Square"
            perpetrators = []
            for values in ({"agency": "police", "unit": "Patrol battalion 2", "position": "Major",
                            "name": "Erik Fictionov", "actions": "Ordered the arrest."},
                           {"agency": "national_security", "unit": "Astana department", "position": "Investigator",
                            "unknown": ["name"], "actions": "Questioned her."},
                           {"agency": "prosecutor", "position": "District prosecutor", "name": "Bolat Madeupov",
                            "actions": "Refused to investigate."}):
                perpetrators.append(Perpetrator(case=case, **values))
                session.add(perpetrators[-1])
                session.flush()  # numbered in the order they were entered
            police, security, prosecutor = perpetrators
            second = Incident(case=case, types=["torture_ill_treatment"], occurred_on=date(2022, 1, 6), city="Astana",
                              place="Police station No. 3", description="Beaten during questioning.",
                              unknown=["perpetrators"])
            session.add(second)
            first.perpetrators = [police, prosecutor]
            second.perpetrators = [security]
            arrest = Arrest(case=case, arrested_on=date(2022, 1, 5), place="Abay Avenue", forces="Patrol police",
                            warrant_shown="no", warrant_issued_by="Nobody", reasons_given="Unauthorised assembly",
                            legal_provision="Article 488 of the Code of Administrative Offences", duration="15 days",
                            lawyer_access="Denied for 48 hours", family_access="One call",
                            released_on=date(2022, 1, 20), release="At the end of the term", unknown=[])
            arrest.custody = [CustodyPlace(position=2, place="Special detention centre, Astana", authority="MVD"),
                              CustodyPlace(position=0, place="Police station No. 3, Almaty", authority="City police"),
                              CustodyPlace(position=1, place="Temporary detention facility, Almaty",
                                           from_on=date(2022, 1, 6), to_on=date(2022, 1, 9))]
            session.add_all([arrest,
                             IllTreatment(case=case, methods="Beating with batons", duration="Three hours",
                                          effects="Bruised ribs", medical_evidence="Forensic report",
                                          complaints="Complaint to the city prosecutor", unknown=["outcome"]),
                             RemedyStep(case=case, taken_on=date(2022, 3, 1), authority="Almaty City Court",
                                        outcome="Appeal dismissed", decided_on=date(2022, 4, 12), final=True),
                             RemedyStep(case=case, taken_on=date(2022, 2, 1), authority="Almalinsky District Court",
                                        outcome="Fine upheld", decided_on=date(2022, 2, 15)),
                             OrganisationProfile(name="Freedom Watch", address="1 Example Street, Vilnius",
                                                 email="cases@freedom-watch.example", phone="+370 600 00000",
                                                 representative="Ruta Exampleviciene", representative_title="lawyer")])


def _text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join("\n".join([p.text for p in document.paragraphs] + cells).split())


def test_the_facts_of_a_case_reach_the_snapshot_and_the_filing(env, staff):
    open_sample_case(env, "FCT-001", full_name=NAME,
                     documents=("form_of_appeal", "power_of_attorney", "court_decision", "medical"))
    do(env, "FCT-001", "verify_consent", "ina", VERIFIED)
    _record_facts(env, "FCT-001")
    with env.uow() as session:
        snapshot = case_snapshot(session, _case(session, "FCT-001"), "un_wgad", "en", "Settings NGO")
    person = snapshot.person
    assert (person.nationality, person.age, person.organisation) == ("Kazakhstani", "41", filings.NOT_KNOWN)
    assert [(i.occurred_on, i.city, i.place) for i in snapshot.incidents] == [
        (date(2022, 1, 5), "Almaty", "Republic Square"), (date(2022, 1, 6), "Astana", "Police station No. 3")]
    assert [(p.number, p.agency, p.name) for p in snapshot.perpetrators] == [
        (1, "Police", "Erik Fictionov"), (2, "National security service", filings.NOT_KNOWN),
        (3, "Prosecutor's office", "Bolat Madeupov")]
    assert snapshot.incidents[0].perpetrator_numbers == (1, 3) and snapshot.incidents[1].perpetrator_numbers == (2,)
    assert snapshot.incidents[1].ill_treatment
    (arrest,) = snapshot.arrests
    assert arrest.warrant_shown is False and arrest.legal_provision.startswith("Article 488")
    assert [c.place for c in arrest.custody] == ["Police station No. 3, Almaty",
                                                 "Temporary detention facility, Almaty",
                                                 "Special detention centre, Astana"]
    assert snapshot.ill_treatments[0].outcome is filings.NOT_KNOWN
    assert [(s.authority, s.final) for s in snapshot.remedy_steps] == [("Almalinsky District Court", False),
                                                                       ("Almaty City Court", True)]
    assert snapshot.profile.representative == "Ruta Exampleviciene" and snapshot.organisation == "Freedom Watch"
    # What goes with the filing, as the bundle sends it: the evidence; the power of attorney only to the HRC.
    assert snapshot.annexes == ("Court decision", "Medical report")

    text = _text(filings.render(snapshot))
    for expected in ("Date of arrest: 5 January 2022", "Place of arrest: Abay Avenue",
                     "Warrant or other decision shown: No", "Police station No. 3, Almaty (City police)",
                     "Temporary detention facility, Almaty, 6 January 2022 – 9 January 2022",
                     "Special detention centre, Astana (MVD)", "Police. Unit: Patrol battalion 2. Position: Major. "
                     "Name: Erik Fictionov. What they did: Ordered the arrest.", "Name: not known",
                     "Almalinsky District Court. Lodged on: 1 February 2022",
                     "Almaty City Court. Lodged on: 1 March 2022",
                     "5 January 2022, Almaty, Republic Square", "6 January 2022, Astana, Police station No. 3",
                     "Incidents: 5 January 2022, Almaty, Republic Square", "cases@freedom-watch.example",
                     "Ruta Exampleviciene, lawyer", "Nationality Kazakhstani", "Age 41"):
        assert expected in text, expected
    assert "Court decision" in text and "court_decision.pdf" not in text
    # What the intake left out is listed, what a person marked not known is not.
    assert filings.missing(snapshot) == ("person.occupation", "person.gender", "perpetrators[3].unit")
    with env.uow() as session:
        hrc = case_snapshot(session, _case(session, "FCT-001"), "un_hrc", "ru", "Settings NGO")
    assert hrc.annexes == ("Доверенность", "Решение суда", "Медицинское заключение")


def test_an_unnamed_complainant_loses_the_identifying_facts_but_officials_stay_named(env, staff):
    open_sample_case(env, "FCT-002", full_name=NAME, consent_publish_name=False)
    _record_facts(env, "FCT-002")  # consent not verified: nobody is named
    with env.uow() as session:
        snapshot = case_snapshot(session, _case(session, "FCT-002"), "un_sp", "en", "Settings NGO")
    person = snapshot.person
    assert not person.named
    assert person.age is None and person.activity is None and person.birth_date is None
    assert person.nationality == "Kazakhstani"
    flat = repr(dataclasses.asdict(snapshot))
    assert "Gulnara" not in flat and "Fictiveva" not in flat
    assert snapshot.perpetrators[0].name == "Erik Fictionov"
    text = _text(filings.render(snapshot))
    assert "Erik Fictionov" in text and "Fictiveva" not in text
    assert "person.activity" not in filings.missing(snapshot)  # withheld, not missing


def test_without_a_profile_the_settings_name_is_used_and_the_contact_is_missing(env, staff):
    open_sample_case(env, "FCT-003", full_name=NAME)
    with env.uow() as session:
        snapshot = case_snapshot(session, _case(session, "FCT-003"), "un_hrc", "ru", "Settings NGO")
    assert snapshot.profile is None and snapshot.organisation == "Settings NGO"
    lacking = filings.missing(snapshot)
    assert {"organisation.address", "organisation.email", "perpetrators", "remedy_steps"} <= set(lacking)
    assert "[Заполнить: Адрес]" in _text(filings.render(snapshot))


def test_the_special_procedures_communication_type_follows_urgency(env, staff):
    open_sample_case(env, "FCT-004", full_name=NAME)
    with env.uow() as session:
        case = _case(session, "FCT-004")
        urgent = Review(urgent=True, communication_type="letter_of_allegation", grounds=[], mandates=[],
                        wgad_categories=[])
        calm = Review(urgent=False, communication_type="urgent_appeal", grounds=[], mandates=[], wgad_categories=[])
        assert case_snapshot(session, case, "un_sp", "en", "NGO", review=urgent).communication_type == "urgent_appeal"
        assert case_snapshot(session, case, "un_sp", "en", "NGO", review=calm).communication_type == \
            "letter_of_allegation"
        session.expunge_all()


def test_a_russian_filing_gives_cities_and_episode_titles_in_russian(env, staff):
    # The city vocabulary and an episode's own titles translate; a city in no term prints as typed.
    from workflow import vocab

    open_sample_case(env, "FCT-005", full_name=NAME)  # in the episode rally_2022
    _record_facts(env, "FCT-005")
    with env.uow() as session:
        vocab.add_term(session, env.user(session, "ada"), "city", "almaty", {"en": "Almaty", "ru": "Алматы"})
        (episode,) = _case(session, "FCT-005").episodes
        episode.title, episode.titles = "January 2022 rallies", {"ru": "Январские митинги 2022"}
    with env.uow() as session:
        ru = case_snapshot(session, _case(session, "FCT-005"), "un_hrc", "ru", "NGO")
        en = case_snapshot(session, _case(session, "FCT-005"), "un_hrc", "en", "NGO")
    assert [i.city for i in ru.incidents] == ["Алматы", "Astana"] and ru.person.city == "Алматы"
    assert [e.title for e in ru.episodes] == ["Январские митинги 2022"]
    assert [i.city for i in en.incidents] == ["Almaty", "Astana"] and [e.title for e in en.episodes] == [
        "January 2022 rallies"]
    text = _text(filings.render(ru))
    assert "Январские митинги 2022" in text and "Алматы" in text and "January 2022 rallies" not in text
