"""Moving running cases to a new version of case.bpmn (services/process_migration.py), SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.helpers import COLLECTIVE_TEXT, audit_actions, case_instance, do, open_sample_case, ready_ids, stage, task
from tests.workflow.test_process import APPROVE_UN_SP, VERIFIED, filings_of, submit_all, to_filings
from tests.workflow.versions import deploy_version, filing_renamed
from workflow.cli import main
from workflow.errors import Conflict, Forbidden
from workflow.models import AuditEvent, Case, HumanTask, ProcessInstance
from workflow.problems import Problem
from workflow.runtime.specs import current_definition
from workflow.services import process_migration
from workflow.services.collective import create_collective
from workflow.services.process_migration import MigrationRefused
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts
from workflow.services.tasks import complete_task


def _cases(env) -> None:
    """APL-101 at verify_consent, APL-102 at legal_review, APL-103 at request_documents (removed in v2),
    APL-104 in its filing (the called process `filing`, waiting for the legal check)."""
    for ref in ("APL-101", "APL-102", "APL-103", "APL-104"):
        open_sample_case(env, ref)
    do(env, "APL-102", "verify_consent", "ina", VERIFIED)
    do(env, "APL-103", "verify_consent", "ina", {"form_of_appeal_verified": True,
                                                 "power_of_attorney_verified": False})
    to_filings(env, "APL-104")


def _state(env) -> dict[int, tuple[str, int, int]]:
    """Each instance's stored bytes (the encrypted column as written), version column and definition."""
    with env.engine.connect() as conn:
        rows = conn.execute(select(ProcessInstance.__table__.c.id, ProcessInstance.__table__.c.state_json,
                                   ProcessInstance.version, ProcessInstance.definition_id)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _instance_id(env, ref: str) -> int:
    with env.uow() as session:
        return case_instance(session, ref).id


def _version_of(env, ref: str) -> int:
    with env.uow() as session:
        return case_instance(session, ref).definition.version


def test_dry_run_says_who_can_move_and_changes_nothing(env, staff):
    _cases(env)
    with env.uow() as session:
        deploy_version(session, env.settings.bpmn_dir)
    before = _state(env)
    with env.uow() as session:
        checks = process_migration.plan(session, env.settings, env.user(session, "ada"), "case")
    assert _state(env) == before
    by_ref = {c.case_ref: c for c in checks}
    assert sorted(by_ref) == ["APL-101", "APL-102", "APL-103", "APL-104"]
    assert {(c.from_version, c.to_version) for c in checks} == {(1, 2)}
    assert by_ref["APL-101"].movable and by_ref["APL-102"].movable and by_ref["APL-104"].movable
    # Where it stands, and the step that led there.
    assert {(b.code, b.params["task"]) for b in by_ref["APL-103"].blockers} == {
        ("task_removed", "request_documents"), ("task_removed", "documents_timer"),
        ("history_removed", "set_documents_due")}


def _migrate_all(env, actor: str | None = "ada") -> dict[str, str]:
    """What the command line does: the dry run, then one transaction per instance; ref -> outcome code."""
    with env.uow() as session:
        target = current_definition(session, "case")
        checks = process_migration.plan(session, env.settings, None, "case", target)
    outcomes = {}
    for check in checks:
        try:
            with env.uow() as session:
                user = env.user(session, actor) if actor else None
                process_migration.migrate(session, env.settings, user, check.instance_id, session.merge(target))
            outcomes[check.case_ref] = "moved"
        except MigrationRefused as err:
            outcomes[check.case_ref] = err.code
    return outcomes


def test_moved_cases_complete_on_the_new_version_and_a_blocked_one_on_its_own(env, staff):
    _cases(env)
    with env.uow() as session:
        due_before = dict(session.execute(select(HumanTask.id, HumanTask.due_at)
                                          .where(HumanTask.state == "ready")).all())
        deploy_version(session, env.settings.bpmn_dir)
    blocked_before = _state(env)[_instance_id(env, "APL-103")]
    assert _migrate_all(env) == {"APL-101": "moved", "APL-102": "moved", "APL-103": "migration_refused",
                                 "APL-104": "moved"}
    assert _state(env)[_instance_id(env, "APL-103")] == blocked_before  # untouched
    assert [_version_of(env, ref) for ref in ("APL-101", "APL-102", "APL-103", "APL-104")] == [2, 2, 1, 2]
    with env.uow() as session:  # same tasks, same rows, same clocks; the new name shows in the inbox
        ready_now = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.state == "ready"))}
        assert {k: v.due_at for k, v in ready_now.items()} == due_before
        assert {r.name for r in ready_now.values() if r.bpmn_id == "legal_review"} == {"Legal review of the case"}
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "process_migrated")
                               .join(Case, Case.id == AuditEvent.case_id).where(Case.ref == "APL-102"))
        assert event.actor_id == env.user(session, "ada").id
        assert event.data == {"process": "case", "from_version": 1, "to_version": 2, "stage": "legal_review"}
        assert "process_migrated" not in audit_actions(session, "APL-103")

    # Each moved case completes; those that pass legal review run the step only the new version has.
    do(env, "APL-101", "verify_consent", "ina", VERIFIED)
    for ref in ("APL-101", "APL-102"):
        do(env, ref, "legal_review", "lena", APPROVE_UN_SP)
        do(env, ref, "approve_review", "mara", {"decision": "approve"})
        submit_all(env, ref)
    for ref in ("APL-101", "APL-102", "APL-104"):
        if ref == "APL-104":
            submit_all(env, ref)
        _answer_and_close(env, ref)
        assert stage(env, ref) == "closed", ref
    with env.uow() as session:
        for ref, new_step in (("APL-101", True), ("APL-102", True), ("APL-104", False)):
            instance = case_instance(session, ref)
            assert instance.status == "complete"
            assert ('"reviewed_on_new_version":true' in instance.state_json) is new_step, ref

    # The blocked case keeps working on version 1: its documents arrive and it goes on to legal review.
    do(env, "APL-103", "request_documents", "ina", {"received": True})
    do(env, "APL-103", "verify_consent", "ina", VERIFIED)
    do(env, "APL-103", "legal_review", "lena", {"decision": "reject", "notes": "Outside our mandate."})
    assert stage(env, "APL-103") == "rejected" and _version_of(env, "APL-103") == 1


def _answer_and_close(env, ref: str) -> None:
    for filing in filings_of(env, ref):
        with env.uow() as session:
            record_response(session, env.settings, env.user(session, "lena"), filing.id, kind="decision",
                            received_on=date.today())
    do(env, ref, "record_outcome", "lena", {"outcome": "communication_sent"})


def test_a_case_being_worked_on_is_not_moved_half_way(env, staff):
    """The staff member's transaction holds the case while the migration runs: PostgreSQL refuses the migration at
    once (the row is locked NOWAIT) and the case stays on its version; SQLite's single writer makes the migration
    wait for that transaction and move the state it committed. Either way nothing is lost."""
    open_sample_case(env, "APL-105")
    with env.uow() as session:
        deploy_version(session, env.settings.bpmn_dir)
    instance_id, row = _instance_id(env, "APL-105"), task(env, "APL-105", "verify_consent")

    def move() -> None:
        with env.uow() as session:
            target = current_definition(session, "case")
            process_migration.migrate(session, env.settings, env.user(session, "ada"), instance_id, target)

    outcome: list[BaseException | None] = []
    with env.uow() as session:  # the staff member's request, not yet committed
        complete_task(session, env.settings, row.id, env.user(session, "ina"), VERIFIED)
        if env.backend == "postgresql":
            with pytest.raises(Conflict, match="being changed by someone else"):
                move()
        else:
            mover = threading.Thread(target=lambda: outcome.append(_run(move)))
            mover.start()
    if env.backend == "sqlite":
        mover.join(timeout=60)
        assert outcome == [None]
    assert ready_ids(env, "APL-105") == ["legal_review"]  # the completion was kept
    assert _version_of(env, "APL-105") == (1 if env.backend == "postgresql" else 2)


def _run(fn) -> BaseException | None:
    try:
        fn()
    except BaseException as err:  # handed to the test's thread to fail there
        return err
    return None


def test_a_changed_form_blocks_the_cases_at_that_task(env, staff):
    open_sample_case(env, "APL-106")
    open_sample_case(env, "APL-107")
    do(env, "APL-107", "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        form = json.loads(current_definition(session, "case").sources["forms/verify_consent.json"])
        form["properties"]["witness"] = {"type": "string"}
        form["required"].append("witness")
        deploy_version(session, env.settings.bpmn_dir, forms={"verify_consent.json": form})
        checks = process_migration.plan(session, env.settings, None, "case")
    assert {c.case_ref: c.blockers for c in checks} == {
        "APL-106": (Problem("form_incompatible", {"task": "verify_consent", "field": "witness"}),),
        "APL-107": ()}
    instance_id = _instance_id(env, "APL-106")
    with env.uow() as session, pytest.raises(MigrationRefused) as err:
        process_migration.migrate(session, env.settings, None, instance_id,
                                  current_definition(session, "case"))
    assert err.value.errors == {"verify_consent": Problem("form_incompatible",
                                                          {"task": "verify_consent", "field": "witness"})}
    assert _version_of(env, "APL-106") == 1


def test_only_admins_move_cases(env, staff):
    open_sample_case(env, "APL-108")
    with env.uow() as session:
        target = deploy_version(session, env.settings.bpmn_dir)
    instance_id = _instance_id(env, "APL-108")
    for username in ("ina", "lena", "mara"):
        with env.uow() as session, pytest.raises(Forbidden):
            process_migration.plan(session, env.settings, env.user(session, username), "case")
        with env.uow() as session, pytest.raises(Forbidden):
            process_migration.migrate(session, env.settings, env.user(session, username),
                                      instance_id, session.merge(target))
    assert _version_of(env, "APL-108") == 1


def test_the_command_line_dry_run_then_the_migration(env, staff):
    _cases(env)
    with env.uow() as session:
        deploy_version(session, env.settings.bpmn_dir)
    before = _state(env)
    environ = {"PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url}
    dry = CliRunner().invoke(main, ["processes", "migrate", "case", "--dry-run"], env=environ)
    assert dry.exit_code == 0, dry.output
    assert _state(env) == before
    lines = dry.output.splitlines()
    ids = {ref: _instance_id(env, ref) for ref in ("APL-101", "APL-102", "APL-103", "APL-104")}
    assert f"instance {ids['APL-101']} (APL-101) v1 -> v2: can move" in lines
    [blocked] = [line for line in lines if "(APL-103)" in line]
    assert "cannot move" in blocked and "request_documents" in blocked
    assert lines[-1] == "4 instance(s) of case on other versions: 3 can move, 1 cannot move"

    one = CliRunner().invoke(main, ["processes", "migrate", "case", "--to", "2", "--instance", str(ids["APL-102"])],
                             env=environ)
    assert one.exit_code == 0, one.output
    assert one.output.splitlines() == [f"instance {ids['APL-102']} (APL-102) v1 -> v2: moved",
                                       "1 instance(s) of case on other versions: 1 moved, 0 cannot move, 0 failed"]
    rest = CliRunner().invoke(main, ["processes", "migrate", "case"], env=environ)
    assert rest.exit_code == 0, rest.output
    assert rest.output.splitlines()[-1] == "3 instance(s) of case on other versions: 2 moved, 1 cannot move, 0 failed"
    assert [_version_of(env, ref) for ref in ids] == [2, 2, 1, 2]
    with env.uow() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "process_migrated")).all()) == 3
    unknown = CliRunner().invoke(main, ["processes", "migrate", "case", "--to", "9"], env=environ)
    assert unknown.exit_code == 1 and "has no version 9" in unknown.output


def test_running_filings_of_a_case_and_of_a_collective_complaint_follow_a_changed_filing_process(env, staff):
    """The called process ``filing`` changes: the sub-workflows of both callers move with their callers."""
    open_sample_case(env, "APL-109")
    to_filings(env, "APL-109")
    open_sample_case(env, "APL-110")
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-110"))
        update_legal_facts(session, env.user(session, "lena"), case, {"remedies_exhausted_on": "2023-05-01"})
    do(env, "APL-110", "verify_consent", "ina", VERIFIED)
    do(env, "APL-110", "legal_review", "lena", {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    with env.uow() as session:
        collective = create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                                       title="Persecution of a fictional movement", cases=["APL-110"],
                                       narrative=COLLECTIVE_TEXT)
        collective_instance = collective.instance_id
    with env.uow() as session:
        deploy_version(session, env.settings.bpmn_dir, edit_case=lambda text: text, edit_filing=filing_renamed)
        checks = [*process_migration.plan(session, env.settings, None, "case"),
                  *process_migration.plan(session, env.settings, None, "collective_complaint")]
    assert [(c.case_ref, c.movable) for c in checks] == [("APL-109", True), (None, True)]
    for check in checks:
        with env.uow() as session:
            process_migration.migrate(session, env.settings, None, check.instance_id,
                                      current_definition(session, check.process_id))
    with env.uow() as session:
        names = session.scalars(select(HumanTask.name).where(HumanTask.state == "ready",
                                                             HumanTask.bpmn_id == "check_filing")).all()
        assert names == ["Check the filing text", "Check the filing text"]
        assert session.get(ProcessInstance, collective_instance).definition.version == 2
    submit_all(env, "APL-109")
    _answer_and_close(env, "APL-109")
    assert stage(env, "APL-109") == "closed"
