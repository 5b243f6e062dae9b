"""The facts for the filings (services/facts.py): the person's facts, rows of each kind, "not known" markers,
who may edit, ended cases, stale forms, audit by field name. SQLite and PostgreSQL (the ``env`` fixture)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import open_sample_case
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import AuditEvent, Case, CustodyPlace
from workflow.services import fact_access, facts
from workflow.services.cases import get_case, read_case
from workflow.states import Stage

REF = "FCT-001"


def case_of(session: Any, ref: str = REF) -> Case:
    return session.scalar(select(Case).where(Case.ref == ref))


@pytest.fixture
def case_env(env, staff):  # type: ignore[no-untyped-def]
    open_sample_case(env, REF)
    return env


def events(session: Any, action: str) -> list[dict[str, Any]]:
    return [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                            .order_by(AuditEvent.id))]


def test_person_facts_are_recorded_audited_by_name_and_marked_not_known(case_env) -> None:
    with case_env.uow() as session:
        lena, case = case_env.user(session, "lena"), case_of(session)
        changed = facts.update_person_facts(session, lena, case, {
            "nationality": "Kazakhstan", "age": "34", "activity": "Monitors trials for a rights group",
            "unknown": ["situation"]})
        assert sorted(changed) == ["activity", "age", "nationality", "unknown"]
    with case_env.uow() as session:
        case = case_of(session)
        assert (case.person.nationality, case.person.age) == ("Kazakhstan", "34")
        assert case.unknown_facts == ["person.situation"]
        [data] = events(session, "person_facts_edited")
        assert sorted(data["fields"]) == ["activity", "age", "nationality", "unknown"]
        assert "Kazakhstan" not in str(data)
        # the same values again change nothing and record nothing
        ina = case_env.user(session, "ina")
        assert facts.update_person_facts(session, ina, case, {"nationality": "Kazakhstan"}) == []


@pytest.mark.parametrize(("data", "field", "code"), [
    ({"situation": "Held", "unknown": ["situation"]}, "situation", "known_and_unknown"),
    ({"unknown": ["full_name"]}, "unknown", "not_markable"),
    ({"age": 400}, "age", "out_of_range"),
    ({"gender": "robot"}, "gender", "not_one_of"),
    ({"nationality": "x" * 201}, "nationality", "too_long"),
    ({"birth_date": "2999-01-01"}, "birth_date", "future_date"),
    ({"shoe_size": 9}, "shoe_size", "unknown_field"),
])
def test_bad_person_facts_are_refused_and_change_nothing(case_env, data, field, code) -> None:
    with case_env.uow() as session:
        with pytest.raises(ValidationFailed) as err:
            facts.update_person_facts(session, case_env.user(session, "ina"), case_of(session), data)
        assert err.value.errors[field].code == code


def test_rows_of_every_kind_are_added_updated_and_removed(case_env) -> None:
    with case_env.uow() as session:
        ina, case = case_env.user(session, "ina"), case_of(session)
        police = facts.add_perpetrator(session, ina, case, {
            "agency": "police", "unit": "District 3 patrol", "name": "Officer Fictional Petrov",
            "unknown": ["position"]})
        court = facts.add_perpetrator(session, ina, case, {"agency": "court", "position": "Judge"})
        second = facts.add_incident(session, ina, case, {
            "occurred_on": "2022-02-10", "city": "Astana", "place": "Court building", "types": ["detention_at_rally"],
            "description": "Sentenced to 15 days.", "perpetrators": [police.id, court.id], "episode": "rally_2022"})
        arrest = facts.add_arrest(session, ina, case, {
            "incident_id": second.id, "arrested_on": "10.02.2022", "warrant_shown": "no", "legal_provision":
            "Art. 488 Administrative Code", "released_on": "2022-02-25", "custody": [
                {"place": "Temporary detention centre", "authority": "police", "from_on": "2022-02-10",
                 "to_on": "2022-02-12"},
                {"place": "Special detention centre", "from_on": "2022-02-12", "to_on": "2022-02-25"}]})
        facts.add_ill_treatment(session, ina, case, {"methods": "Beaten on arrest", "unknown": ["medical_evidence"]})
        facts.add_remedy_step(session, ina, case, {"taken_on": "2022-03-01", "authority": "City court",
                                                   "outcome": "Appeal dismissed", "decided_on": "2022-03-20"})
        facts.add_remedy_step(session, ina, case, {"taken_on": "2022-04-01", "authority": "Supreme Court",
                                                   "final": True})
        ids = police.id, second.id, arrest.id
    with case_env.uow() as session:
        lena, case = case_env.user(session, "lena"), case_of(session)
        assert [p.agency for p in case.perpetrators] == ["police", "court"]
        assert [i.city for i in case.incidents] == ["Almaty", "Astana"]  # the intake incident takes the person's city
        assert [p.id for p in case.incidents[1].perpetrators] == [ids[0], case.perpetrators[1].id]
        [stored] = case.arrests
        assert stored.warrant_shown == "no" and stored.incident_id == ids[1]
        assert [c.place for c in stored.custody] == ["Temporary detention centre", "Special detention centre"]
        assert [s.final for s in case.remedy_steps] == [False, True]
        # custody replaced as a list; fields left out keep their value
        changed = facts.update_arrest(session, lena, case, ids[2], {
            "custody": [{"place": "Pre-trial detention centre No. 1"}], "warrant_shown": True})
        assert sorted(changed) == ["custody", "warrant_shown"]
        assert stored.legal_provision == "Art. 488 Administrative Code"
        # a perpetrator removed leaves the incidents naming it
        facts.remove_perpetrator(session, lena, case, ids[0])
    with case_env.uow() as session:
        case = case_of(session)
        assert [p.agency for p in case.perpetrators] == ["court"]
        assert [p.agency for p in case.incidents[1].perpetrators] == ["court"]
        assert [c.place for c in case.arrests[0].custody] == ["Pre-trial detention centre No. 1"]
        assert len(session.scalars(select(CustodyPlace)).all()) == 1  # the replaced places are gone
        facts.remove_incident(session, case_env.user(session, "ina"), case, ids[1])
    with case_env.uow() as session:
        case = case_of(session)
        assert len(case.incidents) == 1 and case.arrests[0].incident_id is None
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
        for action in ("perpetrator_added", "incident_added", "arrest_added", "ill_treatment_added",
                       "remedy_step_added", "arrest_updated", "perpetrator_removed", "incident_removed"):
            assert action in actions, action
        logged = str([e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))])
        for value in ("Petrov", "District 3", "Temporary detention", "Art. 488", "Beaten", "Supreme Court"):
            assert value not in logged, value


def test_the_intake_incident_stays_and_rows_of_another_case_are_not_found(case_env) -> None:
    open_sample_case(case_env, "FCT-002")
    with case_env.uow() as session:
        ina, case, other = case_env.user(session, "ina"), case_of(session), case_of(session, "FCT-002")
        with pytest.raises(ValidationFailed) as err:
            facts.remove_incident(session, ina, case, case.incidents[0].id)
        assert err.value.errors["_row"].code == "intake_incident"
        theirs = facts.add_perpetrator(session, ina, other, {"agency": "police"})
        with pytest.raises(NotFound):
            facts.update_perpetrator(session, ina, case, theirs.id, {"unit": "x"})
        with pytest.raises(NotFound):
            facts.remove_perpetrator(session, ina, case, theirs.id)
        with pytest.raises(ValidationFailed) as err:  # an incident may only name this case's perpetrators
            facts.add_incident(session, ina, case, {"types": ["detention_at_rally"], "description": "x",
                                                    "perpetrators": [theirs.id]})
        assert err.value.errors["perpetrators"].code == "not_on_case"


@pytest.mark.parametrize(("kind", "data", "field", "code"), [
    ("perpetrators", {"agency": "aliens"}, "agency", "inactive_agency"),
    ("perpetrators", {"unit": "x"}, "agency", "required"),
    ("perpetrators", {"agency": "police", "name": "N", "unknown": ["name"]}, "name", "known_and_unknown"),
    ("perpetrators", {"agency": "police", "unknown": ["agency"]}, "unknown", "not_markable"),
    ("incidents", {"types": [], "description": "x"}, "types", "no_incident_type"),
    ("incidents", {"types": ["nope"], "description": "x"}, "types", "unknown_incident_types"),
    ("incidents", {"types": ["detention_at_rally"], "description": "x", "episode": "nope"}, "episode",
     "unknown_episodes"),
    ("arrests", {"arrested_on": "2022-02-10", "released_on": "2022-02-01"}, "released_on", "before_start"),
    ("arrests", {"custody": [{"authority": "police"}]}, "custody.0.place", "required"),
    ("arrests", {"custody": [{"place": "A", "from_on": "2022-02-10", "to_on": "2022-02-01"}]}, "custody.0.to_on",
     "before_start"),
    ("arrests", {"warrant_shown": "perhaps"}, "warrant_shown", "not_yes_no"),
    ("arrests", {"incident_id": 999999}, "incident_id", "not_on_case"),
    ("ill_treatments", {"methods": "x" * 10001}, "methods", "too_long"),
    ("remedy_steps", {"outcome": "x"}, "authority", "required"),
    ("remedy_steps", {"authority": "Court", "taken_on": "2022-03-01", "decided_on": "2022-01-01"}, "decided_on",
     "before_start"),
])
def test_bad_rows_are_refused_with_a_problem_per_field(case_env, kind, data, field, code) -> None:
    with case_env.uow() as session:
        case = case_of(session)
        with pytest.raises(ValidationFailed) as err:
            facts.add_row(session, case_env.user(session, "ina"), case, kind, data)
        assert err.value.errors[field].code == code, err.value.errors
        assert getattr(case, kind) == ([] if kind != "incidents" else case.incidents)


def test_case_level_markers_and_a_row_that_makes_one_untrue(case_env) -> None:
    with case_env.uow() as session:
        ina, case = case_env.user(session, "ina"), case_of(session)
        assert facts.mark_unknown(session, ina, case, ["arrests", "perpetrators", "person.nationality"]) == [
            "person.nationality", "perpetrators", "arrests"]
        facts.add_perpetrator(session, ina, case, {"agency": "unknown"})
        assert "perpetrators" not in case.unknown_facts  # someone is known now
        with pytest.raises(ValidationFailed) as err:
            facts.mark_unknown(session, ina, case, ["perpetrators"])
        assert err.value.errors["perpetrators"].code == "known_and_unknown"
        with pytest.raises(ValidationFailed) as err:
            facts.mark_unknown(session, ina, case, ["gossip"])
        assert err.value.errors["mark"].code == "not_markable"
        assert facts.unmark_unknown(session, ina, case, ["arrests"]) == ["person.nationality"]
        assert events(session, "unknown_facts_changed")[0]["marked"] == [
            "arrests", "perpetrators", "person.nationality"]


def test_who_may_edit_ended_cases_and_stale_forms(case_env) -> None:
    with case_env.uow() as session:
        case = case_of(session)
        for username in ("mara", "ada"):
            with pytest.raises(Forbidden):
                facts.add_perpetrator(session, case_env.user(session, username), case, {"agency": "police"})
            with pytest.raises(Forbidden):
                facts.update_person_facts(session, case_env.user(session, username), case, {"nationality": "X"})
        ina = case_env.user(session, "ina")
        row = facts.add_perpetrator(session, ina, case, {"agency": "police"})
        opened = fact_access.version(session, case, "perpetrators", row.id)
        facts.update_perpetrator(session, ina, case, row.id, {"unit": "A"}, version=opened)
        with pytest.raises(Conflict) as err:  # a second form opened before the first save
            facts.update_perpetrator(session, ina, case, row.id, {"unit": "B"}, version=opened)
        assert "version" in err.value.errors
        person = fact_access.version(session, case, "person")
        facts.update_person_facts(session, ina, case, {"age": 30}, version=person)
        with pytest.raises(Conflict):
            facts.update_person_facts(session, ina, case, {"age": 31}, version=person)
        case.stage = Stage.CLOSED
        session.flush()
        with pytest.raises(Conflict) as err:
            facts.update_perpetrator(session, ina, case, row.id, {"unit": "C"})
        assert err.value.errors["_case"].code == "case_ended"
        assert fact_access.may_edit(ina, case) is False


def test_the_case_read_carries_the_rows_and_audits_their_read(case_env) -> None:
    with case_env.uow() as session:
        case = case_of(session)
        facts.add_perpetrator(session, case_env.user(session, "ina"), case, {"agency": "police", "name": "P"})
        facts.update_person_facts(session, case_env.user(session, "ina"), case, {"nationality": "Kazakhstan"})
    with case_env.uow() as session:
        mara = case_env.user(session, "mara")
        read = read_case(session, REF, actor=mara, role=mara.role, channel="api")
        # Managers read the rows' kinds, codes and dates, never their texts (workflow/visibility.py).
        assert read.facts is not None and [(p.agency, p.name) for p in read.facts.perpetrators] == [("police", None)]
        assert "nationality" not in read.person  # managers see the person by city only
        [data] = events(session, "facts_read")
        assert data == {"kinds": ["perpetrators"], "channel": "api"}
        lena = case_env.user(session, "lena")
        assert read_case(session, REF, actor=lena, role=lena.role, channel="web").person["nationality"] == \
            "Kazakhstan"


def test_a_whole_case_is_read_with_what_it_has_and_no_query_for_what_it_lacks(case_env, statements) -> None:
    lacking = ("filings", "perpetrators", "arrests", "ill_treatments", "remedy_steps")
    with case_env.uow() as session:
        statements.clear()
        case = get_case(session, REF)
        assert [len(getattr(case, name)) for name in lacking] == [0] * 5 and case.incidents[0].perpetrators == []
        assert len(case.episodes) == 1 and len(case.documents) == 2 and len(case.incidents) == 1
        # The case's own statement asks whether it has any of each; none is read on its own.
        [asking] = [s for s in statements if any(f"FROM {name} " in s for name in lacking)]
        assert asking.startswith("SELECT cases.id") and "WHERE cases.ref = " in asking
        ina = case_env.user(session, "ina")
        police = facts.add_perpetrator(session, ina, case, {"agency": "police"})
        facts.add_incident(session, ina, case, {"occurred_on": "2022-02-10", "types": ["detention_at_rally"],
                                                "description": "x", "perpetrators": [police.id]})
        facts.add_arrest(session, ina, case, {"arrested_on": "2022-02-10"})
        facts.add_ill_treatment(session, ina, case, {"methods": "Beaten"})
        facts.add_remedy_step(session, ina, case, {"taken_on": "2022-03-01", "authority": "City court"})
    with case_env.uow() as session:
        case = get_case(session, REF)
        assert [len(case.perpetrators), len(case.arrests), len(case.ill_treatments), len(case.remedy_steps)] == \
            [1, 1, 1, 1]
        assert [[p.agency for p in i.perpetrators] for i in case.incidents] == [[], ["police"]]


def test_dates_and_ages_as_typed(case_env) -> None:
    with case_env.uow() as session:
        ina, case = case_env.user(session, "ina"), case_of(session)
        step = facts.add_remedy_step(session, ina, case, {"authority": "Court", "taken_on": "01.03.2022"})
        assert step.taken_on == date(2022, 3, 1)
        facts.update_person_facts(session, ina, case, {"age": 41})
        assert facts.person_values(case)["age"] == 41
