"""Where an instance stands (workflow/services/process_position.py): the task tree read for the diagrams, the
projections read for the steps in words, and the BPMN file of a version's process (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import case_instance, do, expire_timers, filing_in_check, open_sample_case
from workflow.errors import NotFound
from workflow.models import Case
from workflow.services import process_position
from workflow.services.cases import read_case
from workflow.services.processes import CASE_PROCESS, FILING_PROCESS
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def position_of(env, ref: str) -> process_position.InstancePosition:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return process_position.instance_position(session, env.settings, case_instance(session, ref), None)


def steps_of(env, ref: str) -> tuple[list[str], list[str], list[str]]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        case_id = session.scalar(select(Case.id).where(Case.ref == ref))
        steps = process_position.case_steps(session, case_id)
        # The case page's way: from the ready tasks and deadlines its read of the case holds already.
        read = read_case(session, ref, actor=None, role="manager", channel="cli")
        from_read = process_position.case_steps(session, case_id, read=(read.tasks, read.deadlines))
        assert (from_read.done, from_read.ready, from_read.waiting) == (steps.done, steps.ready, steps.waiting)
        return [t.bpmn_id for t in steps.done], [t.bpmn_id for t in steps.ready], [d.label for d in steps.waiting]


def test_a_case_at_legal_review(env, staff):
    open_sample_case(env, "PP-1")
    do(env, "PP-1", "verify_consent", "ina", VERIFIED)
    read = position_of(env, "PP-1")
    assert (read.status, read.version, read.called) == ("running", 1, ())
    position = read.position
    assert position.process_id == CASE_PROCESS and position.ready == ("legal_review",)
    # In the order they were done, each once; the engine's own Start and joins are not flow nodes.
    assert position.done[:3] == ("start", "work_start", "gw_imported")
    assert position.done.index("verify_consent") < position.done.index("triage") < position.done.index(
        "set_review_due")
    assert len(set(position.done)) == len(position.done) and None not in position.done
    assert set(position.waiting) == {"review_sla", "consent_withdrawn"}  # the timer and the withdrawal message
    assert position.active == ("case_work",) and position.error == ()
    assert steps_of(env, "PP-1") == (["verify_consent"], ["legal_review"], ["Legal review due"])


def test_a_returned_review_is_done_once_and_ready_again(env, staff):
    open_sample_case(env, "PP-2")
    do(env, "PP-2", "verify_consent", "ina", VERIFIED)
    do(env, "PP-2", "legal_review", "lena", {"decision": "return", "notes": "Ask for the court's decision."})
    position = position_of(env, "PP-2").position
    assert position.ready == ("complete_intake",) and position.done.count("legal_review") == 1
    do(env, "PP-2", "complete_intake", "ina", {"notes": "Court decision attached."})
    position = position_of(env, "PP-2").position
    assert position.ready == ("legal_review",) and "legal_review" in position.done
    done, ready, _ = steps_of(env, "PP-2")
    assert done == ["verify_consent", "legal_review", "complete_intake"] and ready == ["legal_review"]


def test_each_filing_has_a_position_of_its_own(env, staff):
    filing_id = filing_in_check(env, "PP-3")
    read = position_of(env, "PP-3")
    assert "filings" in read.position.active and "check_filing" not in read.position.ready
    assert [c.filing_id for c in read.called] == [filing_id]
    filing = read.of_filing(filing_id)
    assert filing.process_id == FILING_PROCESS and filing.ready == ("check_filing",)
    assert "prepare_filing" in filing.done and "check_sla" in filing.waiting
    with pytest.raises(NotFound):
        read.of_filing(filing_id + 1)
    done, ready, waiting = steps_of(env, "PP-3")
    assert done == ["verify_consent", "legal_review", "approve_review"] and ready == ["check_filing"]
    assert waiting == ["Filing check due"]


def test_a_timer_that_fired_is_done_and_its_escalation_too(env, staff):
    open_sample_case(env, "PP-4")
    assert expire_timers(env, "PP-4", only="verification") >= 1
    sweep(env.engine, env.settings)
    position = position_of(env, "PP-4").position
    assert {"consent_sla", "escalate_consent"} <= set(position.done)
    assert position.ready == ("verify_consent",)


def test_the_bpmn_file_of_a_versions_process(env, staff):
    open_sample_case(env, "PP-5")
    with env.uow() as session:
        definition = case_instance(session, "PP-5").definition
        assert '<bpmn:process id="case"' in process_position.diagram_source(definition, CASE_PROCESS)
        assert '<bpmn:process id="filing"' in process_position.diagram_source(definition, FILING_PROCESS)
        with pytest.raises(NotFound):
            process_position.diagram_source(definition, "no_such_process")
        with pytest.raises(NotFound):
            process_position.case_instance(session, 10**9)
