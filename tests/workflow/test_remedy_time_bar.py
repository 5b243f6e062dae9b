"""The HRC time bar read from the domestic remedies as a dated list of steps: the legal officer's explicit date
when given, else the latest step marked final; the findings say which (pure rules, then a case on every
configured database). Fictional facts only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.helpers import open_sample_case
from tests.workflow.test_admissibility import GOOD, findings
from workflow.admissibility import Choices, check, exhaustion, final_remedy_on
from workflow.bodies import get_body
from workflow.models import Case, Deadline, LegalFacts, RemedyStep
from workflow.services.deadlines import END_OF_DAY, sync_time_bar
from workflow.services.review import case_facts, check_case

OLD_FINAL = date(2015, 3, 1)  # more than five years before the check
LATER = date(2020, 3, 2)


def steps() -> list[RemedyStep]:
    return [
        RemedyStep(authority="Fictional district court", taken_on=date(2014, 6, 1), decided_on=date(2014, 9, 1),
                   final=False),
        RemedyStep(authority="Fictional appeal court", taken_on=date(2014, 10, 1), decided_on=OLD_FINAL,
                   final=True),
        RemedyStep(authority="Fictional cassation (no decision date)", taken_on=date(2014, 12, 1), final=True),
        RemedyStep(authority="Fictional supervisory review, pending", taken_on=date(2016, 1, 1), final=False),
    ]


def test_the_latest_final_step_counts_by_its_decision_else_the_day_it_was_taken():
    assert final_remedy_on(steps()) == OLD_FINAL  # 2015-03-01 decided beats 2014-12-01 taken; non-final ignored
    assert final_remedy_on(steps()[:1]) is None  # no final step
    assert final_remedy_on([RemedyStep(authority="x", final=True)]) is None  # final but undated
    assert final_remedy_on([]) is None
    assert exhaustion(None, OLD_FINAL).basis == "remedy_steps"
    assert exhaustion(date(2023, 2, 1), OLD_FINAL).basis == "legal_facts"
    assert exhaustion(None, None) is None


def test_the_time_bar_counts_from_the_final_step_and_says_so():
    facts = replace(GOOD, remedies_exhausted_on=None, final_remedy_on=OLD_FINAL, incident_dates=(date(2014, 5, 1),))
    found = findings("un_hrc", facts, today=LATER)
    assert "time_bar:error" in found and "exhaustion:error" not in found
    assert "2015-03-01" in found["time_bar:error"] and "2020-03-01" in found["time_bar:error"]
    assert "the latest remedy step marked final" in found["time_bar:error"]
    finding = next(f for f in check("un_hrc", {"time_bar": {}}, (), facts, Choices(), LATER) if f.rule == "time_bar")
    assert finding.params["basis"] == "remedy_steps"
    # The last day itself is still in time.
    assert "time_bar:error" not in findings("un_hrc", facts, today=date(2020, 3, 1))


def test_the_explicit_date_wins_over_the_steps_and_is_named():
    recent = replace(GOOD, remedies_exhausted_on=date(2023, 2, 1), final_remedy_on=OLD_FINAL)
    assert "time_bar:error" not in findings("un_hrc", recent)  # the legal officer's date: not barred
    old = replace(GOOD, remedies_exhausted_on=OLD_FINAL, final_remedy_on=date(2023, 2, 1),
                  incident_dates=(date(2014, 5, 1),))
    text = findings("un_hrc", old, today=LATER)["time_bar:error"]
    assert "the date in the legal facts" in text and "remedy step" not in text


def test_no_steps_and_no_date_is_still_not_exhausted():
    facts = replace(GOOD, remedies_exhausted_on=None, final_remedy_on=None)
    found = findings("un_hrc", facts)
    assert "exhaustion:error" in found and "time_bar:error" not in found
    # A future final step is refused like a future explicit date, naming where it came from.
    future = findings("un_hrc", replace(facts, final_remedy_on=date(2030, 1, 1)))
    assert "exhaustion:error" in future and "remedy step" in future["exhaustion:error"]


def test_a_case_reads_its_steps_for_the_check_and_the_time_bar_deadline(env):
    open_sample_case(env, "TB-001")
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "TB-001"))
        assert case_facts(session, case).final_remedy_on is None
        assert "exhaustion" in {f.rule for f in check_case(session, case, ["un_hrc"], today=LATER)["un_hrc"]}
        case.remedy_steps.extend(steps())
        session.flush()
        assert case_facts(session, case).final_remedy_on == OLD_FINAL
        found = {f.rule: f for f in check_case(session, case, ["un_hrc"], today=LATER)["un_hrc"]}
        assert "exhaustion" not in found and found["time_bar"].params["basis"] == "remedy_steps"
        row = sync_time_bar(session, case)
        years = get_body(session, "un_hrc").rules["time_bar"].get("years_after_exhaustion", 5)
        assert row is not None
        assert row.due_at == datetime.combine(OLD_FINAL.replace(year=OLD_FINAL.year + years), END_OF_DAY, tzinfo=UTC)
        # The legal officer's explicit date then moves the clock.
        session.add(LegalFacts(case=case, remedies_exhausted_on=date(2023, 2, 1)))
        session.flush()
        session.refresh(case)
        sync_time_bar(session, case)
        due = session.scalars(select(Deadline.due_at).where(Deadline.case_id == case.id,
                                                            Deadline.kind == "time_bar")).all()
        assert [d.date() for d in due] == [date(2023 + years, 2, 1)]
