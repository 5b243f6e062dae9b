"""Each admissibility rule with fictional facts on both sides of its line (pure: no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from workflow.admissibility import CaseFacts, Choices, add_years, check, validate_rules
from workflow.bodies import _DEFAULTS

CATALOGUE = {entry["code"]: entry for entry in _DEFAULTS}
# A complainant who allowed everything, verified, with one incident in 2022 and remedies exhausted in 2023.
GOOD = CaseFacts(consent_verified=True, share_name_with_government=True, publish_name=True,
                 deprived_of_liberty=True, incident_dates=(date(2022, 1, 5),), state_code="KZ",
                 remedies_exhausted_on=date(2023, 2, 1), eu_status="resident", eu_subject=True)
TODAY = date(2024, 6, 1)


def findings(code: str, facts: CaseFacts = GOOD, choices: Choices | None = None, today: date = TODAY,
             rules: dict | None = None) -> dict[str, str]:
    entry = CATALOGUE[code]
    found = check(code, entry["rules"] if rules is None else rules, tuple(entry["required_consent"]), facts,
                  choices or Choices(wgad_categories=("II",)), today)
    return {f.rule + ":" + f.level: f.text for f in found}


def rules_of(found: dict[str, str]) -> set[str]:
    return set(found)


def test_a_good_case_passes_every_body_but_the_petition_warning():
    for code in CATALOGUE:
        expected = {"public_petition:warning"} if code == "ep_peti" else set()
        assert rules_of(findings(code)) == expected, code


# -- UN Human Rights Committee ------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "flagged"), [
    (date(2020, 2, 28), False),
    (date(2020, 3, 1), False),  # the fifth anniversary is the last day
    (date(2020, 3, 2), True),
])
def test_hrc_five_years_after_exhaustion(today, flagged):
    facts = replace(GOOD, remedies_exhausted_on=date(2015, 3, 1), incident_dates=(date(2014, 5, 1),))
    found = findings("un_hrc", facts, today=today)
    assert ("time_bar:error" in found) is flagged
    if flagged:
        assert "2015-03-01" in found["time_bar:error"] and "2020-03-01" in found["time_bar:error"]


@pytest.mark.parametrize(("today", "flagged"), [(date(2019, 5, 10), False), (date(2019, 5, 11), True)])
def test_hrc_three_years_after_another_procedure(today, flagged):
    facts = replace(GOOD, remedies_exhausted_on=date(2018, 1, 1), other_procedure="concluded",
                    other_procedure_name="A regional commission", other_procedure_concluded_on=date(2016, 5, 10))
    assert ("time_bar:error" in findings("un_hrc", facts, today=today)) is flagged


def test_hrc_same_matter_before_another_procedure():
    pending = replace(GOOD, other_procedure="pending", other_procedure_name="A regional commission")
    assert "A regional commission" in findings("un_hrc", pending)["same_matter:error"]
    assert "same_matter:error" not in findings("un_hrc", replace(GOOD, other_procedure="none"))


def test_hrc_domestic_remedies():
    assert "exhaustion:error" in findings("un_hrc", replace(GOOD, remedies_exhausted_on=None))
    ineffective = replace(GOOD, remedies_exhausted_on=None, remedies_ineffective=True)
    assert rules_of(findings("un_hrc", ineffective)) == {"exhaustion:warning"}
    future = replace(GOOD, remedies_exhausted_on=date(2030, 1, 1))
    assert "exhaustion:error" in findings("un_hrc", future)


@pytest.mark.parametrize(("dates", "expected"), [
    ((date(2008, 6, 1),), {"ratione_temporis:error"}),  # events of 2008: before Kazakhstan was bound
    ((date(2009, 9, 29),), {"ratione_temporis:error"}),
    ((date(2009, 9, 30),), set()),
    ((date(2010, 1, 1),), set()),
    ((date(2008, 6, 1), date(2012, 3, 3)), {"ratione_temporis:warning"}),  # continuing effects
    ((), {"ratione_temporis:warning"}),
])
def test_hrc_events_after_the_protocol_bound_kazakhstan(dates, expected):
    facts = replace(GOOD, incident_dates=dates, remedies_exhausted_on=date(2023, 1, 1))
    assert rules_of(findings("un_hrc", facts)) == expected


def test_hrc_a_state_without_a_known_date_is_a_warning_and_the_catalogue_can_add_it():
    facts = replace(GOOD, state_code="UZ")
    assert "UZ" in findings("un_hrc", facts)["ratione_temporis:warning"]
    rules = {**CATALOGUE["un_hrc"]["rules"], "ratione_temporis": {"bound_from": {"KZ": "2009-09-30",
                                                                              "UZ": "2023-01-01"}}}
    assert "ratione_temporis:error" in findings("un_hrc", facts, rules=rules)


def test_hrc_needs_written_authorisation_and_a_named_author():
    assert "consent:error" in findings("un_hrc", replace(GOOD, consent_verified=False))
    assert "consent:error" in findings("un_hrc", replace(GOOD, anonymous=True))


# -- WGAD, Special Procedures ------------------------------------------------------------------------

def test_wgad_needs_a_deprivation_of_liberty_and_its_category():
    free = replace(GOOD, deprived_of_liberty=False, detained_now=False)
    assert "No deprivation of liberty" in findings("un_wgad", free)["deprivation_of_liberty:error"]
    assert rules_of(findings("un_wgad", replace(free, detained_now=True))) == set()
    no_category = findings("un_wgad", choices=Choices(wgad_categories=()))
    assert "category" in no_category["deprivation_of_liberty:error"]


def test_special_procedures_need_consent_to_share_the_name_with_the_government():
    refused = replace(GOOD, share_name_with_government=False)
    assert "government" in findings("un_sp", refused)["consent:error"]
    allowed_for_this_body = replace(refused, body_overrides={"un_sp": "allow"})
    assert rules_of(findings("un_sp", allowed_for_this_body)) == set()
    excluded = replace(GOOD, body_overrides={"un_sp": "deny"})
    assert "excluded" in findings("un_sp", excluded)["consent:error"]


def test_the_urgent_appeal_channel_matches_urgency():
    urgent_letter = Choices(urgent=True, communication_type="letter_of_allegation")
    assert rules_of(findings("un_sp", choices=urgent_letter)) == {"communication_type:warning"}
    assert rules_of(findings("un_sp", choices=Choices(urgent=True, communication_type="urgent_appeal"))) == set()
    calm_appeal = Choices(urgent=False, communication_type="urgent_appeal")
    assert rules_of(findings("un_sp", choices=calm_appeal)) == {"communication_type:warning"}


# -- European Parliament --------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "flagged"), [("citizen", False), ("resident", False), ("none", True),
                                                 ("unknown", True)])
def test_a_petitioner_must_be_an_eu_citizen_or_resident(status, flagged):
    found = findings("ep_peti", replace(GOOD, eu_status=status))
    assert ("eu_petitioner:error" in found) is flagged
    assert "public_petition:warning" in found  # always: petitions become public


def test_a_petition_must_be_within_eu_activity_and_publishable():
    assert "eu_subject:error" in findings("ep_peti", replace(GOOD, eu_subject=False))
    assert "consent:error" in findings("ep_peti", replace(GOOD, publish_name=False))


# -- consent always blocks; levels and parameters come from the catalogue ---------------------------------

def test_consent_blocks_every_body_even_with_no_rules_and_cannot_be_made_a_warning():
    for facts in (replace(GOOD, consent_verified=False), replace(GOOD, consent_withdrawn=True)):
        for code in CATALOGUE:
            assert "consent:error" in findings(code, facts, rules={}), code
    assert {k: p.text for k, p in validate_rules({"consent": {"level": "warning"}}).items()} == {
        "consent": "unknown rule; known: communication_type, deprivation_of_liberty, exhaustion, same_matter, "
                   "time_bar, ratione_temporis, eu_petitioner, eu_subject, public_petition"}


def test_the_catalogue_can_lower_a_rule_to_a_warning_and_change_its_parameters():
    facts = replace(GOOD, remedies_exhausted_on=date(2015, 3, 1), incident_dates=(date(2014, 5, 1),))
    softer = {**CATALOGUE["un_hrc"]["rules"], "time_bar": {"level": "warning", "years_after_exhaustion": 5}}
    assert "time_bar:warning" in findings("un_hrc", facts, today=date(2020, 3, 2), rules=softer)
    longer = {**CATALOGUE["un_hrc"]["rules"], "time_bar": {"years_after_exhaustion": 6}}
    assert "time_bar:error" not in findings("un_hrc", facts, today=date(2020, 3, 2), rules=longer)


@pytest.mark.parametrize(("rules", "field"), [
    ({"no_such_rule": {}}, "no_such_rule"),
    ({"time_bar": {"years_after_exhaustion": "five"}}, "time_bar.years_after_exhaustion"),
    ({"time_bar": {"years_after_exhaustion": True}}, "time_bar.years_after_exhaustion"),
    ({"time_bar": {"years_after_exhaustion": 0}}, "time_bar.years_after_exhaustion"),
    ({"time_bar": {"colour": 1}}, "time_bar.colour"),
    ({"ratione_temporis": {"bound_from": {"KZ": "30.09.2009"}}}, "ratione_temporis.bound_from"),
    ({"ratione_temporis": {"bound_from": {"kazakhstan": "2009-09-30"}}}, "ratione_temporis.bound_from"),
    ({"exhaustion": {"level": "fatal"}}, "exhaustion.level"),
    ({"exhaustion": []}, "exhaustion"),
])
def test_invalid_rule_parameters_are_named(rules, field):
    assert field in validate_rules(rules)


def test_add_years_handles_29_february():
    assert add_years(date(2016, 2, 29), 5) == date(2021, 2, 28)
    assert add_years(date(2016, 2, 29), 4) == date(2020, 2, 29)
