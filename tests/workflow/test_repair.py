"""Instances in error (services/repair.py): a real BPMN version whose timer path fails, marked by the worker,
listed for admins, reset or retried, audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.helpers import audit_actions, case_instance, do, expire_timers, open_sample_case, ready_ids, stage
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import AuditEvent, HumanTask, ProcessInstance
from workflow.runtime.specs import deploy, parse_bundle, read_directory
from workflow.services import repair
from workflow.services.consent import withdraw_consent
from workflow.services.operations import OPERATIONS
from workflow.services.worker import sweep

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
# The consent alert names its role from a data variable the process never sets: when the consent timer fires,
# the service task's parameter fails to evaluate (NameError) inside the worker.
GOOD_ROLE = """<spiffworkflow:parameter id="task" type="str" value="'verify_consent'" />
              <spiffworkflow:parameter id="role" type="str" value="'manager'" />"""
BAD_ROLE = GOOD_ROLE.replace("value=\"'manager'\"", 'value="escalation_role"')


# The withdrawal's service task is handed a data variable that does not exist.
GOOD_REF = """<spiffworkflow:serviceTaskOperator id="cancel_pending_filings" resultVariable="submitted_filings">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="case_ref" type="str" value="case_ref" />"""
BAD_REF = GOOD_REF.replace('value="case_ref"', 'value="case_reference"')


def deploy_failing_case_version(env, good: str = GOOD_ROLE, bad: str = BAD_ROLE) -> None:
    """Deploy (and activate) a version of case.bpmn with one fault; new cases start on it."""
    sources, forms = read_directory(env.settings.bpmn_dir)
    assert sources["case.bpmn"].count(good) == 1
    sources["case.bpmn"] = sources["case.bpmn"].replace(good, bad)
    with env.uow() as session:
        deploy(session, parse_bundle(sources, forms, operations=OPERATIONS), None)


def failed_case(env, ref: str) -> int:
    """A case on the failing version whose consent timer fired in the worker: its instance is in error."""
    deploy_failing_case_version(env)
    open_sample_case(env, ref)
    expire_timers(env, ref, only="Consent")
    report = sweep(env.engine, env.settings)
    assert report.failed == 1 and report.fired == 0
    with env.uow() as session:
        instance = case_instance(session, ref)
        assert instance.status == "error"
        return instance.id


def test_a_failing_timer_puts_the_instance_in_error_with_its_step_listed_for_admins(env, staff):
    instance_id = failed_case(env, "APL-R01")
    with env.uow() as session:
        listed = repair.instances_in_error(session, env.user(session, "ada"))
        assert [i.instance_id for i in listed] == [instance_id]
        item = listed[0]
        assert (item.case_ref, item.process_id, item.failure.step) == ("APL-R01", "case", "escalate_consent")
        assert item.failure.step_name == "Alert a manager: consent verification late"
        assert item.version >= 2 and item.failure.since is not None
        assert "escalation_role" in item.error
        with pytest.raises(Forbidden):
            repair.instances_in_error(session, env.user(session, "mara"))
    with env.uow() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["instance_failed", "instance_errors_read"])).order_by(AuditEvent.id)))
        assert [e.action for e in events] == ["instance_failed", "instance_errors_read"]
        assert events[0].data["task"] == "escalate_consent" and events[1].data == {"instances": [instance_id]}
        assert "escalation_role" not in json.dumps([e.data for e in events])  # codes only, never the error
        stuck = repair.stuck(session, case_instance(session, "APL-R01").case_id)
        assert stuck.step_name == "Alert a manager: consent verification late"
        assert (stuck.alerted, stuck.alerted_at) == ([], None)  # no mail server: nobody was mailed
    # The worker does not fire it again while it is in error.
    assert sweep(env.engine, env.settings).failed == 0


def test_an_admin_resets_the_instance_to_an_earlier_task_and_the_case_completes(env, staff):
    instance_id = failed_case(env, "APL-R02")
    with env.uow() as session:
        detail = repair.instance_in_error(session, env.settings, env.user(session, "ada"), instance_id)
        assert "set_consent_due" in {c.bpmn_id for c in detail.candidates}
        assert "verify_consent" not in {c.bpmn_id for c in detail.candidates}  # still ready: nothing to reset
        with pytest.raises(ValidationFailed):
            repair.reset(session, env.settings, env.user(session, "ada"), instance_id, "no_such_task")
    with env.uow() as session:
        outcome = repair.reset(session, env.settings, env.user(session, "ada"), instance_id, "set_consent_due")
        assert (outcome.status, outcome.error) == ("running", None)
    with env.uow() as session:
        instance = case_instance(session, "APL-R02")
        assert instance.status == "running" and instance.last_error is None
        assert repair.stuck(session, instance.case_id) is None
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_reset")).one()
        assert event.data == {"ok": True, "from_status": "error", "task": "set_consent_due", "stage": "consent"}
    assert ready_ids(env, "APL-R02") == ["verify_consent"]  # its consent clock started again, in the future
    assert sweep(env.engine, env.settings).fired == 0
    do(env, "APL-R02", "verify_consent", "ina", VERIFIED)
    do(env, "APL-R02", "legal_review", "lena", {"decision": "reject", "notes": "Not a human-rights matter."})
    assert stage(env, "APL-R02") == "rejected"
    with env.uow() as session:
        assert case_instance(session, "APL-R02").status == "complete"


def test_a_retry_that_fails_again_keeps_the_instance_in_error_with_the_new_error(env, staff):
    instance_id = failed_case(env, "APL-R03")
    with env.uow() as session:
        outcome = repair.retry(session, env.settings, env.user(session, "ada"), instance_id)
        assert outcome.status == "error" and "escalation_role" in outcome.error
    with env.uow() as session:
        assert case_instance(session, "APL-R03").status == "error"
        actions = [e.action for e in session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "process_instance").order_by(AuditEvent.id))]
        assert actions[-2:] == ["instance_failed", "instance_retried"]
        retried = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_retried")).one()
        assert retried.data == {"ok": False, "task": "escalate_consent"}
        with pytest.raises(Forbidden):
            repair.retry(session, env.settings, env.user(session, "lena"), instance_id)


def test_a_retry_after_the_cause_is_fixed_runs_the_failed_step_and_the_case_goes_on(env, staff):
    # The shipped version: an instance detached from its case cannot run the consent alert (the escalation
    # names the case). The fix is to the data, then the admin retries.
    open_sample_case(env, "APL-R04")
    expire_timers(env, "APL-R04", only="Consent")
    with env.uow() as session:
        instance = case_instance(session, "APL-R04")
        instance_id, case_id = instance.id, instance.case_id
        instance.case_id = None
    assert sweep(env.engine, env.settings).failed == 1
    with env.uow() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "error" and "belongs to no case" in instance.last_error
        instance.case_id = case_id  # the cause, fixed
    with env.uow() as session:
        outcome = repair.retry(session, env.settings, env.user(session, "ada"), instance_id)
        assert (outcome.status, outcome.error) == ("running", None)
    with env.uow() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "running" and instance.last_error is None
        assert audit_actions(session, "APL-R04")[-2:] == ["escalated", "instance_retried"]
    assert ready_ids(env, "APL-R04") == ["verify_consent"]  # the alert went out; the work stays with intake
    assert sweep(env.engine, env.settings).fired == 0


def test_a_withdrawal_the_process_cannot_follow_is_kept_and_delivered_again_when_repaired(env, staff):
    deploy_failing_case_version(env, GOOD_REF, BAD_REF)
    open_sample_case(env, "APL-R05")
    with env.uow() as session:
        case = case_instance(session, "APL-R05").case
        assert withdraw_consent(session, env.settings, env.user(session, "ina"), case, "Fears reprisals.") is False
    with env.uow() as session:
        instance = case_instance(session, "APL-R05")
        assert instance.case.consent.status == "withdrawn"  # the fact stands
        assert instance.status == "error" and "case_reference" in instance.last_error
        assert repair.failures(session, [instance.id])[instance.id].step == "withdraw_filings"
        assert audit_actions(session, "APL-R05")[-2:] == ["consent_withdrawn", "instance_failed"]
        assert repair.retry(session, env.settings, env.user(session, "ada"), instance.id).status == "error"
    with env.uow() as session:  # the retry told the process again: it failed at the same step
        retried = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_retried")).one()
        assert retried.data == {"ok": False, "task": "withdraw_filings"}


def test_a_withdrawal_on_the_shipped_process_stops_it_as_before(env, staff):
    open_sample_case(env, "APL-R06")
    with env.uow() as session:
        case = case_instance(session, "APL-R06").case
        assert withdraw_consent(session, env.settings, env.user(session, "ina"), case, "Fears reprisals.") is True
    assert stage(env, "APL-R06") == "withdrawn"


def test_the_command_line_lists_retries_and_resets_as_a_named_admin(env, staff):
    from click.testing import CliRunner

    from workflow.cli import main

    instance_id = failed_case(env, "APL-R07")
    environ = {"PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url}
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(main, list(args), env=environ, catch_exceptions=False)

    listed = run("instances", "errors", "--as", "ada")
    assert listed.exit_code == 0 and f"{instance_id}\tAPL-R07\tcase:" in listed.output
    assert "escalate_consent" in listed.output
    refused = run("instances", "errors", "--as", "mara")
    assert refused.exit_code == 1 and "only administrators" in refused.output
    again = run("instances", "retry", str(instance_id), "--as", "ada")
    assert again.exit_code == 1 and "failed again and stays in error" in again.output
    reset = run("instances", "reset", str(instance_id), "set_consent_due", "--as", "ada")
    assert reset.exit_code == 0 and reset.output.strip() == f"instance {instance_id}: running"
    assert run("instances", "errors", "--as", "ada").output.strip() == "no instance is in error"
    assert ready_ids(env, "APL-R07") == ["verify_consent"]


def test_the_administrators_are_mailed_once_per_failure_with_the_case_and_step_only(env, staff):
    from tests.workflow.mailbox import mailbox
    from tests.workflow.test_digest import body_of, give_addresses, with_smtp
    from workflow.services.repair_alerts import send_error_alerts
    from workflow.services.worker import tick

    instance_id = failed_case(env, "APL-R08")
    give_addresses(env)
    with mailbox() as box:
        settings = with_smtp(env, box.port)
        assert tick(env.engine, settings).alerts == 1
        assert send_error_alerts(env.engine, settings) == 0  # announced once
        [mail] = box.to("ada@example.org")
        assert all("in error" not in m["Subject"] for m in box.to("mara@example.org"))  # their digest only
    assert mail["Subject"] == "Petitio: 1 process instance(s) in error"
    body = body_of(mail)
    assert "APL-R08: the step Alert a manager: consent verification late failed on" in body
    assert "escalation_role" not in body and "Test-Person" not in body
    with env.uow() as session:
        stuck = repair.stuck(session, case_instance(session, "APL-R08").case_id)
        assert stuck.alerted == ["Ada"] and stuck.alerted_at is not None
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_error_alerted")).one()
        assert event.data["users"] == [env.user(session, "ada").id] and event.object_id == str(instance_id)
    # It fails again on a retry: a new failure, a new mail.
    with env.uow() as session:
        assert repair.retry(session, env.settings, env.user(session, "ada"), instance_id).status == "error"
    with mailbox() as box:
        assert send_error_alerts(env.engine, with_smtp(env, box.port)) == 1


def test_a_reset_to_a_completed_user_task_makes_it_ready_again(env, staff):
    """Its inbox row comes back (the same task id SpiffWorkflow re-readies), never a duplicate row."""
    open_sample_case(env, "APL-R09")
    do(env, "APL-R09", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    assert ready_ids(env, "APL-R09") == ["legal_review"]
    with env.uow() as session:
        instance_id = case_instance(session, "APL-R09").id
        outcome = repair.reset(session, env.settings, env.user(session, "ada"), instance_id, "verify_consent")
        assert (outcome.status, outcome.error) == ("running", None)
    assert ready_ids(env, "APL-R09") == ["verify_consent"]
    with env.uow() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.bpmn_id.in_(("verify_consent", "legal_review")))
                               .order_by(HumanTask.bpmn_id)).all()
        assert [(row.bpmn_id, row.state) for row in rows] == [("legal_review", "cancelled"),
                                                              ("verify_consent", "ready")]
        assert rows[1].completed_at is None and rows[1].completed_by_id is None
    do(env, "APL-R09", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    assert ready_ids(env, "APL-R09") == ["legal_review"]
