"""Imports written in batches (``services/import_batches.py``) and cases opened many at once (``open_cases``), on
every configured database, no mocks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Env
from tests.workflow.fixtures import ensure_test_episodes, write_appeals_csv
from workflow.errors import ValidationFailed
from workflow.models import AuditEvent, Case, Deadline, Document, HumanTask, Person, ProcessInstance
from workflow.schemas.appeal import Appeal
from workflow.services import importer
from workflow.services.cases import open_case, open_cases
from workflow.services.import_batches import write_plan
from workflow.storage import PENDING_SUFFIX

ROWS, BATCH = 120, 50  # three batches: 50, 50, 20


def _plan(env: Env, path: Path) -> importer.ImportPlan:
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        plan = importer.plan_appeals_file(session, env.settings, path, path.parent / "docs")
        session.rollback()
    assert plan.report.ok and len(plan.rows) == ROWS
    return plan


def _counts(env: Env) -> dict[str, int]:
    with env.uow() as session:
        counted = {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                   for model in (Case, Person, ProcessInstance, Document)}
        counted["ready"] = session.scalar(select(func.count()).select_from(HumanTask)
                                          .where(HumanTask.state == "ready")) or 0
        counted["refs"] = session.scalar(select(func.count(func.distinct(Case.ref)))) or 0
    return counted


def _files(env: Env) -> tuple[int, int]:
    root = env.settings.documents_dir
    found = [p for p in root.glob("??/??/*") if p.is_file()] if root.exists() else []
    return sum(not p.name.endswith(PENDING_SUFFIX) for p in found), sum(p.name.endswith(PENDING_SUFFIX) for p in found)


def test_each_batch_is_committed_and_a_second_run_finishes_the_rest(env: Env, tmp_path: Path) -> None:
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    seen: list[tuple[int, int]] = []

    first = write_plan(env.engine, env.settings, None, plan, batch=BATCH, batches=1,
                       progress=lambda done, total: seen.append((done, total)))

    assert first == {"created": BATCH, "updated": 0, "unchanged": 0}
    assert seen == [(BATCH, ROWS)]
    assert _counts(env) == {"Case": BATCH, "Person": BATCH, "ProcessInstance": BATCH, "Document": 2 * BATCH,
                            "ready": BATCH, "refs": BATCH}
    assert _files(env) == (2 * BATCH, 0)

    seen.clear()
    again = write_plan(env.engine, env.settings, None, _plan(env, path), batch=BATCH,
                       progress=lambda done, total: seen.append((done, total)))

    assert again == {"created": ROWS - BATCH, "updated": 0, "unchanged": BATCH}
    assert seen == [(50, ROWS), (100, ROWS), (120, ROWS)]  # after each committed batch, rising to the total
    assert _counts(env) == {"Case": ROWS, "Person": ROWS, "ProcessInstance": ROWS, "Document": 2 * ROWS,
                            "ready": ROWS, "refs": ROWS}
    assert _files(env) == (2 * ROWS, 0)


def test_a_batch_that_fails_is_rolled_back_whole_and_the_batches_before_it_stay(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "DOCUMENT_CACHE_BYTES", 0)  # documents are read again when written
    path = write_appeals_csv(tmp_path, n=ROWS, missing=0)
    plan = _plan(env, path)
    # A scan of the second batch is deleted between the check and the import: its row cannot be written.
    lost = path.parent / "docs" / plan.rows[BATCH + 7].documents["power_of_attorney"][0]
    kept = lost.read_bytes()
    lost.unlink()
    seen: list[int] = []

    with pytest.raises(ValidationFailed, match="can no longer be read"):
        write_plan(env.engine, env.settings, None, plan, batch=BATCH, progress=lambda done, _total: seen.append(done))

    assert seen == [BATCH]
    assert _counts(env) == {"Case": BATCH, "Person": BATCH, "ProcessInstance": BATCH, "Document": 2 * BATCH,
                            "ready": BATCH, "refs": BATCH}
    assert _files(env) == (2 * BATCH, 0)  # the failed batch's files were written pending, then deleted

    lost.write_bytes(kept)
    again = write_plan(env.engine, env.settings, None, _plan(env, path), batch=BATCH)

    assert again == {"created": ROWS - BATCH, "updated": 0, "unchanged": BATCH}
    assert _counts(env)["Case"] == _counts(env)["refs"] == ROWS and _files(env) == (2 * ROWS, 0)


def _appeal(ref: str, *, detained: bool) -> Appeal:
    return Appeal(ref=ref, full_name="Test-Person Batchova", city="Almaty", episodes=("online_posts_2022",),
                  incident_types=("interrogation",), incident_date=date(2022, 3, 1), description="Fictional.",
                  form_of_appeal="a.pdf", power_of_attorney=None, consent_publish_name=False,
                  received_on=date(2022, 4, 1), detained_now=detained, perpetrator_agencies=("police",),
                  arrest_date=date(2022, 3, 1), arrest_place="Fictional Square", incident_place="Fictional Square")


def _as_opened(env: Env, ref: str) -> dict[str, Any]:
    """What opening the case left, without what differs between any two cases (ids, refs, times)."""
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        assert case is not None
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
        assert instance is not None
        state = json.loads(instance.state_json)
        data = {k: v for k, v in state["data"].items() if k != "case_ref"}
        tasks = sorted((t["task_spec"], t["state"], json.dumps({k: v for k, v in t["data"].items() if k != "case_ref"},
                                                               sort_keys=True, default=str))
                       for t in state["tasks"].values())
        return {
            "stage": case.stage, "urgent": case.urgent, "status": instance.status, "data": data, "tasks": tasks,
            "timer": instance.next_timer_at is not None,
            "inbox": sorted((t.bpmn_id, t.lane, t.form, t.state, t.due_at is not None) for t in session.scalars(
                select(HumanTask).where(HumanTask.case_id == case.id))),
            "deadlines": sorted((d.label, d.owner_role, d.state, d.source) for d in session.scalars(
                select(Deadline).where(Deadline.case_id == case.id))),
            "documents": [(d.kind, d.version) for d in session.scalars(select(Document)
                                                                        .where(Document.case_id == case.id))],
            "facts": ([p.agency for p in case.perpetrators], [a.place for a in case.arrests],
                      sorted(case.import_marks or {}), case.incidents[0].place, case.incidents[0].city),
            "audit": [(e.action, e.object_type) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))],
        }


@pytest.mark.parametrize("detained", [False, True], ids=["routine", "urgent"])
def test_a_case_opened_in_a_batch_is_the_case_opened_alone(env: Env, detained: bool) -> None:
    document = {"form_of_appeal": (b"%PDF-1.4\n% Fictional test document\n%%EOF\n", "a.pdf")}
    with env.uow() as session:
        ensure_test_episodes(session)
    with env.uow() as session:
        open_case(session, env.settings, None, _appeal("ALONE-1", detained=detained), document, imported=True)
    with env.uow() as session:
        open_cases(session, env.settings, None, [(_appeal(f"BATCH-{i}", detained=detained), document)
                                                 for i in range(3)], imported=True)

    alone = _as_opened(env, "ALONE-1")
    assert alone["inbox"] and alone["audit"][-1] == ("process_started", "process_instance")
    assert alone["urgent"] is detained and alone["documents"] == [("form_of_appeal", 1)] and alone["deadlines"]
    for i in range(3):
        assert _as_opened(env, f"BATCH-{i}") == alone
