"""Bulk actions over the database (SQLite and PostgreSQL): 129 cases reviewed and approved as jobs, each item a
single completion with its own review record, audit event and transaction; refusals alone; four eyes per item;
a killed job resumed without doing any case twice; the collective-only path without a review approval."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import COLLECTIVE_TEXT, PDF, appeal, do, ensure_episode, ready_ids, stage
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import AuditEvent, Case, CollectiveComplaint, HumanTask, Job, JobItem, Review
from workflow.runtime.specs import activate, deploy_directory
from workflow.services import bulk, jobs, worker
from workflow.services.cases import open_case
from workflow.services.collective import create_collective, eligible_cases
from workflow.services.consent import update_consent_permissions
from workflow.services.operations import OPERATIONS
from workflow.services.queues import TaskFilter
from workflow.services.tasks import complete_task, four_eyes_blocks
from workflow.services.users import change_role

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
SP_REVIEW = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"],
             "notes": "Peaceful assembly dispersed."}
COLLECTIVE_ONLY = {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]}


def open_verified(env, count: int, prefix: str = "BLK") -> list[str]:
    """``count`` imported cases with both documents, consent verified: each waits at legal_review."""
    refs = [f"{prefix}-{n:03d}" for n in range(1, count + 1)]
    files = {kind: (PDF, f"{kind}.pdf") for kind in ("form_of_appeal", "power_of_attorney")}
    with env.uow() as session:
        ensure_episode(session)
        for ref in refs:
            open_case(session, env.settings, None, appeal(ref), files, imported=True)
    with env.uow() as session:
        ina = env.user(session, "ina")
        for row in session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "verify_consent",
                                                           HumanTask.state == "ready")).all():
            complete_task(session, env.settings, row.id, ina, VERIFIED)
    return refs


def ready_tasks(env, bpmn_id: str) -> list[str]:
    with env.uow() as session:
        return list(session.scalars(select(HumanTask.id).join(Case, HumanTask.case_id == Case.id)
                                    .where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready")
                                    .order_by(Case.ref)))


def start(env, username: str, task: str, data: dict, selection: bulk.Selection) -> int:
    with env.uow() as session:
        return bulk.start(session, env.user(session, username), task, data, selection).id


def results(env, job_id: int) -> dict[str, list[bulk.ItemRow]]:
    with env.uow() as session:
        rows = bulk.item_rows(session, session.get(Job, job_id))
    grouped: dict[str, list[bulk.ItemRow]] = {}
    for row in rows:
        grouped.setdefault(row.state, []).append(row)
    return grouped


def deny_un_sp(env, ref: str) -> None:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        update_consent_permissions(session, env.user(session, "lena"), case, body_overrides={"un_sp": "deny"})


def test_bulk_review_and_approval_of_129_cases(env, staff):
    refs = open_verified(env, 129)
    deny_un_sp(env, "BLK-007")  # its complainant excluded the Special Procedures: a blocking finding

    job_id = start(env, "lena", "legal_review", SP_REVIEW, bulk.Selection(filter=TaskFilter(episode="rally_2022")))
    with env.uow() as session:
        job = session.get(Job, job_id)
        assert (job.kind, job.total, job.state) == ("bulk_review", 129, "queued")
    assert jobs.run(env.engine, env.settings, job_id)
    found = results(env, job_id)
    assert len(found["done"]) == 128 and "skipped" not in found
    [refused] = found["refused"]
    assert refused.case_ref == "BLK-007"
    [problem] = refused.problems
    assert (problem.field, problem.code) == ("bodies", "bodies_blocked")
    assert "un_sp: The complainant excluded this body" in problem.message
    assert ready_ids(env, "BLK-007") == ["legal_review"]  # left untouched

    with env.uow() as session:
        lena = env.user(session, "lena")
        per_case = Counter(session.scalars(select(Review.case_id).where(Review.reviewer_id == lena.id)))
        assert len(per_case) == 128 and set(per_case.values()) == {1}  # one review record per case
        events = Counter(e.case_id for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "task_completed", AuditEvent.actor_id == lena.id)))
        assert len(events) == 128 and set(events.values()) == {1}  # one audit event per case
        assert session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.bpmn_id == "approve_review", HumanTask.state == "ready")) == 128

    # The bulk approval, from the table of reviews: every one shown with its reviewer.
    approvals = ready_tasks(env, "approve_review")
    with env.uow() as session:
        mara = env.user(session, "mara")
        rows = bulk.approval_rows(session, mara, [session.get(HumanTask, i) for i in approvals])
        assert all(r.review.bodies == ["un_sp"] and r.reviewer == "Lena" and not r.own for r in rows)
    job_id = start(env, "mara", "approve_review", {"decision": "approve", "notes": "Agreed."},
                   bulk.Selection(task_ids=tuple(approvals)))
    assert jobs.run(env.engine, env.settings, job_id)
    found = results(env, job_id)
    assert len(found["done"]) == 128 and set(found) == {"done"}
    with env.uow() as session:
        approved = session.scalars(select(Review).where(Review.approval == "approve")).all()
        assert len(approved) == 128 and {r.approver_id for r in approved} == {env.user(session, "mara").id}
        assert session.scalar(select(func.count()).select_from(Case).where(Case.stage == "filing")) == 128
    assert stage(env, "BLK-007") == "legal_review" and len(refs) == 129


def test_a_manager_cannot_approve_their_own_review_inside_a_bulk_approval(env, staff):
    open_verified(env, 4)
    do(env, "BLK-001", "legal_review", "leo", SP_REVIEW)
    for ref in ("BLK-002", "BLK-003", "BLK-004"):
        do(env, ref, "legal_review", "lena", SP_REVIEW)
    with env.uow() as session:  # the reviewer of three of them is promoted to manager
        change_role(session, env.user(session, "ada"), env.user(session, "lena"), "manager")
    approvals = ready_tasks(env, "approve_review")
    with env.uow() as session:
        lena = env.user(session, "lena")
        rows = bulk.approval_rows(session, lena, [session.get(HumanTask, i) for i in approvals])
        assert [(r.ref, r.own) for r in rows] == [("BLK-001", False), ("BLK-002", True), ("BLK-003", True),
                                                  ("BLK-004", True)]
    job_id = start(env, "lena", "approve_review", {"decision": "approve"}, bulk.Selection(task_ids=tuple(approvals)))
    assert jobs.run(env.engine, env.settings, job_id)
    found = results(env, job_id)
    assert [r.case_ref for r in found["done"]] == ["BLK-001"]
    assert [r.case_ref for r in found["refused"]] == ["BLK-002", "BLK-003", "BLK-004"]
    assert {p.code for r in found["refused"] for p in r.problems} == {"four_eyes"}
    assert stage(env, "BLK-001") == "filing"
    assert all(stage(env, ref) == "approval" for ref in ("BLK-002", "BLK-003", "BLK-004"))


def test_a_killed_job_is_resumed_by_the_worker_and_no_case_is_completed_twice(env, staff):
    open_verified(env, 60)
    job_id = start(env, "lena", "legal_review", COLLECTIVE_ONLY, bulk.Selection(filter=TaskFilter()))
    assert not jobs.run(env.engine, env.settings, job_id, limit=23)  # the runner dies after 23 items
    with env.uow() as session:
        job = session.get(Job, job_id)
        assert (job.state, job.processed) == ("running", 23)
        heartbeat = job.heartbeat_at
    # A second runner while the first one's heart still beats: it leaves the job alone.
    assert not jobs.run(env.engine, env.settings, job_id)
    assert worker.tick(env.engine, env.settings, now=heartbeat + timedelta(seconds=30)).jobs == 0
    # Later than STALE_AFTER: the worker takes it over and does the rest.
    report = worker.tick(env.engine, env.settings, now=heartbeat + jobs.STALE_AFTER + timedelta(seconds=1))
    assert report.jobs == 1
    found = results(env, job_id)
    assert len(found["done"]) == 60 and set(found) == {"done"}
    with env.uow() as session:
        assert session.get(Job, job_id).state == "done"
        per_case = Counter(session.scalars(select(Review.case_id)))
        assert len(per_case) == 60 and set(per_case.values()) == {1}
        completions = Counter(session.scalars(select(HumanTask.case_id).where(
            HumanTask.bpmn_id == "legal_review", HumanTask.state == "completed")))
        assert set(completions.values()) == {1}
        assert session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id,
                                                                              JobItem.state == "done")) == 60


def test_the_selection_is_checked_before_anything_is_written(env, staff):
    open_verified(env, 2)
    with env.uow() as session:
        lena = env.user(session, "lena")
        with pytest.raises(ValidationFailed) as err:
            bulk.start(session, lena, "legal_review", {"decision": "maybe"}, bulk.Selection(filter=TaskFilter()))
        assert err.value.errors["decision"].code == "not_one_of"
        with pytest.raises(ValidationFailed) as err:
            bulk.start(session, lena, "legal_review", SP_REVIEW, bulk.Selection(filter=TaskFilter(city="Nowhere")))
        assert err.value.errors["task_ids"].code == "nothing_selected"
        with pytest.raises(Forbidden):
            bulk.start(session, env.user(session, "ada"), "legal_review", SP_REVIEW,
                       bulk.Selection(filter=TaskFilter()))
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_tasks_of_another_lane_kind_or_no_longer_ready_are_refused_or_skipped_alone(env, staff):
    open_verified(env, 3)
    reviews = ready_tasks(env, "legal_review")
    do(env, "BLK-003", "legal_review", "leo", COLLECTIVE_ONLY)  # done by someone else meanwhile
    job_id = start(env, "lena", "legal_review", COLLECTIVE_ONLY,
                   bulk.Selection(task_ids=(*reviews, "no-such-task")))
    assert jobs.run(env.engine, env.settings, job_id)
    found = results(env, job_id)
    assert [r.case_ref for r in found["done"]] == ["BLK-001", "BLK-002"]
    assert [(r.case_ref, r.problems[0].code) for r in found["skipped"]] == [("BLK-003", "task_not_ready")]
    assert [(r.task_id, r.problems[0].code) for r in found["refused"]] == [("no-such-task", "task_not_found")]
    # An intake clerk cannot complete legal reviews in bulk any more than one by one.
    open_verified(env, 1, prefix="LANE")
    job_id = start(env, "ina", "legal_review", COLLECTIVE_ONLY,
                   bulk.Selection(task_ids=tuple(ready_tasks(env, "legal_review"))))
    assert jobs.run(env.engine, env.settings, job_id)
    [refused] = results(env, job_id)["refused"]
    assert refused.problems[0].code == "not_your_lane" and ready_ids(env, "LANE-001") == ["legal_review"]


def test_a_dry_run_says_what_would_happen_and_keeps_nothing(env, staff):
    open_verified(env, 3)
    deny_un_sp(env, "BLK-002")
    with env.uow() as session:
        outcome = bulk.dry_run(session, env.settings, env.user(session, "lena"), "legal_review", SP_REVIEW,
                               bulk.Selection(filter=TaskFilter()))
        assert [r.state for _row, r in outcome] == ["done", "refused", "done"]
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0
    assert ready_ids(env, "BLK-001") == ["legal_review"]


def test_a_collective_only_review_needs_no_approval_and_its_reviewer_may_not_approve_the_complaint(env, staff):
    open_verified(env, 3)
    job_id = start(env, "lena", "legal_review", COLLECTIVE_ONLY,
                   bulk.Selection(task_ids=tuple(ready_tasks(env, "legal_review"))))
    assert jobs.run(env.engine, env.settings, job_id)
    for ref in ("BLK-001", "BLK-002", "BLK-003"):
        assert stage(env, ref) == "approved" and ready_ids(env, ref) == []  # no approve_review
    with env.uow() as session:
        assert [c.ref for c in eligible_cases(session)] == ["BLK-001", "BLK-002", "BLK-003"]
        collective = create_collective(session, env.settings, env.user(session, "leo"), body="un_sp",
                                       language="en", title="Rally dispersal", cases=["BLK-001", "BLK-002", "BLK-003"],
                                       grounds=["iccpr_21"], narrative=COLLECTIVE_TEXT)
        collective_id, filing_id = collective.id, collective.filing.id

    def ready_of_filing(bpmn_id: str) -> str:
        with env.uow() as session:
            return session.scalar(select(HumanTask.id).where(HumanTask.filing_id == filing_id,
                                                             HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))

    check = ready_of_filing("check_filing")
    with env.uow() as session:
        complete_task(session, env.settings, check, env.user(session, "leo"), {"decision": "approve"})
    with env.uow() as session:  # the reviewer, promoted to manager, may not approve the complaint
        change_role(session, env.user(session, "ada"), env.user(session, "lena"), "manager")
    approve = ready_of_filing("approve_filing")
    with env.uow() as session:  # the page offers her no form (four_eyes_blocks), and Mara one
        row = session.get(HumanTask, approve)
        assert four_eyes_blocks(session, row, env.user(session, "lena")) == "legal_review"
        assert four_eyes_blocks(session, row, env.user(session, "mara")) is None
    with env.uow() as session, pytest.raises(Forbidden) as err:
        complete_task(session, env.settings, approve, env.user(session, "lena"), {"decision": "approve"})
    assert err.value.errors["decision"].code == "approver_reviewed_cases"
    assert err.value.errors["decision"].params["refs"] == ["BLK-001", "BLK-002", "BLK-003"]
    with env.uow() as session:
        assert session.scalars(select(Review.approval)).all() == [None, None, None]
        complete_task(session, env.settings, approve, env.user(session, "mara"),
                      {"decision": "approve", "notes": "Covers the three cases."})
    with env.uow() as session:
        mara = env.user(session, "mara")
        reviews = session.scalars(select(Review)).all()
        assert {(r.approval, r.approver_id) for r in reviews} == {("approve", mara.id)}
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "review_approved_with_collective")) == 3
        assert session.get(CollectiveComplaint, collective_id).filing.state == "checked"
    assert ready_of_filing("submit_filing") is not None


def test_the_deployed_case_process_routes_past_approve_review_only_without_bodies(env, staff):
    open_verified(env, 2)
    do(env, "BLK-001", "legal_review", "lena", SP_REVIEW)
    do(env, "BLK-002", "legal_review", "lena", COLLECTIVE_ONLY)
    assert ready_ids(env, "BLK-001") == ["approve_review"] and stage(env, "BLK-001") == "approval"
    assert ready_ids(env, "BLK-002") == [] and stage(env, "BLK-002") == "approved"
    now = datetime.now(UTC)
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Review).where(Review.reviewed_at <= now)) == 2


def test_a_case_started_before_the_change_keeps_its_approval_step(env, staff, tmp_path):
    """Running instances stay on the definition version they started with (petitio init deploys a new one)."""
    earlier = tmp_path / "bpmn"
    shutil.copytree(env.settings.bpmn_dir, earlier)
    case_bpmn = (earlier / "case.bpmn").read_text(encoding="utf-8")
    flow = re.search(r'\s*<!-- Reviewed for collective.*?</bpmn:sequenceFlow>', case_bpmn, flags=re.S)
    assert flow is not None
    case_bpmn = (case_bpmn.replace(flow.group(0), "")
                 .replace("<bpmn:outgoing>reviewed_collective_only</bpmn:outgoing>", "")
                 .replace("<bpmn:incoming>reviewed_collective_only</bpmn:incoming>", "")
                 .replace("decision == 'approve' and len(bodies) &gt; 0", "decision == 'approve'"))
    case_bpmn = re.sub(r'\s*<bpmndi:BPMNEdge id="reviewed_collective_only_di".*?</bpmndi:BPMNEdge>', "", case_bpmn,
                       flags=re.S)  # the removed flow's edge too: a diagram may draw only what the file defines
    (earlier / "case.bpmn").write_text(case_bpmn, encoding="utf-8")
    with env.uow() as session:
        [old] = [d for d in deploy_directory(session, earlier, operations=OPERATIONS) if d.process_id == "case"]
        old_version = old.version
    open_verified(env, 1, prefix="OLD")
    with env.uow() as session:  # the shipped files are a version stored before: roll back to it
        [current] = [d for d in deploy_directory(session, env.settings.bpmn_dir, operations=OPERATIONS)
                     if d.process_id == "case"]
        assert current.version != old_version
        activate(current, None)
    open_verified(env, 1, prefix="NEW")
    do(env, "OLD-001", "legal_review", "lena", COLLECTIVE_ONLY)
    do(env, "NEW-001", "legal_review", "lena", COLLECTIVE_ONLY)
    assert ready_ids(env, "OLD-001") == ["approve_review"] and ready_ids(env, "NEW-001") == []
    do(env, "OLD-001", "approve_review", "mara", {"decision": "approve"})
    assert stage(env, "OLD-001") == stage(env, "NEW-001") == "approved"
    with env.uow() as session:
        assert [c.ref for c in eligible_cases(session)] == ["NEW-001", "OLD-001"]
