"""Years-long cases (issue 16): a filing's follow-up loop keeps a bounded state and keeps advancing; an instance
that nothing can move on any more is put in error for the admins, never left silent. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from tests.helpers import case_instance, do, open_sample_case, ready_ids, stage, task
from tools.layout_bpmn import with_diagram
from workflow.models import AuditEvent, Deadline, ProcessInstance
from workflow.runtime import instances
from workflow.runtime.specs import deploy, parse_bundle, read_directory
from workflow.services import processes, repair
from workflow.services.operations import OPERATIONS
from workflow.services.process_position import instance_position
from workflow.services.worker import sweep

ROUNDS = 500
REVIEW = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}


def awaiting_response(env, ref: str) -> None:
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    do(env, ref, "legal_review", "lena", REVIEW)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    do(env, ref, "submit_filing", "ina", {"submitted_on": datetime.now(UTC).date().isoformat(), "channel": "email",
                                          "reference": "G/SO 214"})


def one_round(env, ref: str) -> None:
    """The response window passes (its timer moved into the past, fired by the worker); the legal officer follows up."""
    with env.uow() as session:
        loaded = processes.load(session, env.settings, case_instance(session, ref), None)
        assert instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1)) == 1
        instances.save(loaded, action="timers_rescheduled")
    assert sweep(env.engine, env.settings).fired == 1
    do(env, ref, "follow_up", "lena", {"action": "reminder_sent"})


def state_size(env, ref: str) -> int:
    with env.uow() as session:
        return len(case_instance(session, ref).state_json.encode())


def test_a_filing_followed_up_500_times_keeps_its_state_size_and_keeps_advancing(env, staff):
    awaiting_response(env, "APL-L01")
    sizes = {}
    for n in range(1, ROUNDS + 1):
        one_round(env, "APL-L01")
        if n in (5, ROUNDS):
            sizes[n] = state_size(env, "APL-L01")
    # Without pruning the state grew ~2.5 KB a round (29 KiB -> 275 KiB at round 100) and stopped at round 161.
    assert abs(sizes[ROUNDS] - sizes[5]) <= sizes[5] * 0.10, sizes
    assert stage(env, "APL-L01") == "awaiting_response"
    with env.uow() as session:
        instance = case_instance(session, "APL-L01")
        assert instance.status == "running" and instance.next_timer_at is not None
        [window] = session.scalars(select(Deadline).where(Deadline.instance_id == instance.id,
                                                          Deadline.state == "open")).all()
        assert window.due_at == instance.next_timer_at
        missed = session.scalars(select(Deadline.state).where(Deadline.instance_id == instance.id,
                                                              Deadline.source == "bpmn_timer",
                                                              Deadline.label == window.label)).all()
        assert missed.count("missed") == ROUNDS  # every window passed unanswered was recorded
    # The rounds are gone from the tree, the steps are not: the latest run of each is still there to reset to,
    # and the filing's diagram still shows every step done.
    with env.uow() as session:
        instance = case_instance(session, "APL-L01")
        loaded = processes.load(session, env.settings, instance, None)
        assert {"verify_consent", "legal_review", "approve_review"} <= {c.bpmn_id for c in repair.candidates(loaded)}
        [filing] = [sub for sub in loaded.workflow.subprocesses.values() if sub.spec.name == "filing"]
        ran = [t.task_spec.name for t in filing.tasks.values() if t.state == TaskState.COMPLETED]
        assert ran.count("follow_up") == 1 and ran.count("check_filing") == 1
        [called] = instance_position(session, env.settings, instance, None).called
        assert {"check_filing", "submit_filing", "response_window", "follow_up", "set_follow_up_window"} <= set(
            called.position.done)
        assert called.position.waiting == ("await_response",)
    # It still answers: the body replies with a final decision and the filing closes.
    one_round(env, "APL-L01")
    expire_and_close(env, "APL-L01")


def expire_and_close(env, ref: str) -> None:
    with env.uow() as session:
        loaded = processes.load(session, env.settings, case_instance(session, ref), None)
        instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1))
        instances.save(loaded, action="timers_rescheduled")
    sweep(env.engine, env.settings)
    do(env, ref, "follow_up", "leo", {"action": "close", "notes": "No answer after many reminders."})
    do(env, ref, "record_outcome", "lena", {"outcome": "no_reply"})
    assert stage(env, ref) == "closed"
    with env.uow() as session:
        assert case_instance(session, ref).status == "complete"


def test_an_admin_resets_a_long_followed_up_filing_to_before_its_check(env, staff):
    awaiting_response(env, "APL-L02")
    for _ in range(30):
        one_round(env, "APL-L02")
    with env.uow() as session:
        instance = case_instance(session, "APL-L02")
        loaded = processes.load(session, env.settings, instance, None)
        # Kept above the pruned rounds: the latest (only) run of the step before the filing's check, in the
        # filing's sub-workflow (a call activity's tasks are not listed as candidates while it runs: by id).
        [due] = [t for sub in loaded.workflow.subprocesses.values() for t in sub.tasks.values()
                 if t.task_spec.name == "set_check_due"]
        outcome = repair.reset(session, env.settings, env.user(session, "ada"), instance.id, str(due.id))
    assert outcome.status == "running"
    assert ready_ids(env, "APL-L02") == ["check_filing"]
    do(env, "APL-L02", "check_filing", "leo", {"decision": "approve"})
    assert ready_ids(env, "APL-L02") == ["submit_filing"]
    assert task(env, "APL-L02", "submit_filing").filing_id is not None


# A join that waits for a branch the gateway before it never takes: nothing is ready, no timer or message is
# awaited, and the process is not complete.
STALLING = with_diagram("""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_stall"
                  targetNamespace="https://petitio.org/bpmn">
  <bpmn:process id="stalling" name="Stalling" isExecutable="true">
    <bpmn:startEvent id="s_start"><bpmn:outgoing>s_f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="s_f0" sourceRef="s_start" targetRef="s_fork" />
    <bpmn:parallelGateway id="s_fork">
      <bpmn:incoming>s_f0</bpmn:incoming><bpmn:outgoing>s_f1</bpmn:outgoing><bpmn:outgoing>s_f2</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="s_f1" sourceRef="s_fork" targetRef="s_note" />
    <bpmn:scriptTask id="s_note" name="Note" scriptFormat="python">
      <bpmn:incoming>s_f1</bpmn:incoming><bpmn:outgoing>s_f3</bpmn:outgoing><bpmn:script>noted = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="s_f3" sourceRef="s_note" targetRef="s_join" />
    <bpmn:sequenceFlow id="s_f2" sourceRef="s_fork" targetRef="s_choose" />
    <bpmn:exclusiveGateway id="s_choose" name="Never to the join" default="s_f5">
      <bpmn:incoming>s_f2</bpmn:incoming><bpmn:outgoing>s_f4</bpmn:outgoing><bpmn:outgoing>s_f5</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="s_f4" sourceRef="s_choose" targetRef="s_join">
      <bpmn:conditionExpression>False</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="s_f5" sourceRef="s_choose" targetRef="s_side_end" />
    <bpmn:endEvent id="s_side_end"><bpmn:incoming>s_f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:parallelGateway id="s_join">
      <bpmn:incoming>s_f3</bpmn:incoming><bpmn:incoming>s_f4</bpmn:incoming><bpmn:outgoing>s_f6</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="s_f6" sourceRef="s_join" targetRef="s_end" />
    <bpmn:endEvent id="s_end"><bpmn:incoming>s_f6</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""")


def test_an_instance_that_nothing_can_move_on_is_put_in_error_for_the_admins(env, staff):
    sources, forms = read_directory(env.settings.bpmn_dir)
    sources["stalling.bpmn"] = STALLING
    with env.uow() as session:
        deploy(session, parse_bundle(sources, forms, operations=OPERATIONS), None)
    with env.uow() as session:
        instance_id = processes.start(session, env.settings, "stalling", case=None, actor=None, data={}).instance.id
    with env.uow() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "error" and instance.last_error.startswith("stalled")
        [failed] = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_failed",
                                                            AuditEvent.object_id == str(instance_id))).all()
        assert failed.data["code"] == "stalled"
        listed = repair.instances_in_error(session, env.user(session, "ada"))
        assert [i.instance_id for i in listed] == [instance_id]
        assert repair.stuck(session, instance_id=instance_id) is not None
    # A retry cannot move it either: it stays in error, recorded again.
    with env.uow() as session:
        assert repair.retry(session, env.settings, env.user(session, "ada"), instance_id).status == "error"
