"""The reference collective complaint (DESIGN.md §1): 150 fictional appeals from 19 cities, 129 with both
consent documents; only those may be included, and the document names only those who allowed it."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta

import docx
import pytest
from sqlalchemy import select

from tests.workflow.fixtures import appeal_rows, ensure_test_episodes, write_appeals_csv
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import Case, CollectiveComplaint, Document, HumanTask
from workflow.runtime.context import document_store
from workflow.services.collective import create_collective
from workflow.services.importer import import_appeals
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts
from workflow.services.tasks import complete_task

NARRATIVE = {
    "summary": "Between January and December 2022 the fictional movement's supporters were detained and tried.",
    "legal_basis": "A court declared the fictional movement 'extremist' in 2021.",
    "methods": "Detention at rallies, phone searches, fingerprinting, forced declarations.",
    "requests": "Ask the government to release those detained and to stop the prosecutions.",
    # Every section written: one still "to be completed" would block the check and the approval.
    "context": "A fictional movement campaigning peacefully.", "patterns": "Interrogations about views.",
    "pressure_on_defenders": "Lawyers were warned.",
}
OFFICIALS = [{"position": "Head of the city police department", "agency": "Police", "name": "",
              "role": "ordered the dispersal"}]


def _ready(session, case_id: int, bpmn_id: str) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id,
                                                  HumanTask.state == "ready"))


@pytest.fixture
def reference(env, staff, tmp_path):
    """150 imported appeals; the 129 complete ones verified and reviewed (no body: collective only, which needs no
    approval of the review: the manager's approval of the complaint covers them)."""
    rows = appeal_rows()
    path = write_appeals_csv(tmp_path)  # the same rows as appeal_rows() (same seed)
    with env.uow() as session:
        ensure_test_episodes(session)
        import_appeals(session, env.settings, None, path, documents_dir=tmp_path / "docs")
    complete = [r["ref"] for r in rows if r["form_of_appeal"] and r["power_of_attorney"]]
    with env.uow() as session:
        ina, lena = (env.user(session, u) for u in ("ina", "lena"))
        for case in session.scalars(select(Case).where(Case.ref.in_(complete))):
            complete_task(session, env.settings, _ready(session, case.id, "verify_consent").id, ina,
                          {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
            update_legal_facts(session, lena, case, {"remedies_exhausted_on": "2023-05-01"})
            complete_task(session, env.settings, _ready(session, case.id, "legal_review").id, lena,
                          {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]})
    return rows, complete


def _text_of_every_part(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                         if name.endswith((".xml", ".rels")))


def test_only_consented_and_approved_cases_may_be_included(env, reference):
    rows, complete = reference
    everyone = [r["ref"] for r in rows]
    with env.uow() as session, pytest.raises(ValidationFailed) as err:
        create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                          title="Persecution of a fictional movement", cases=[*everyone, "APL-999"])
    message = err.value.errors["cases"].text
    assert "unknown: APL-999" in message
    lacking = sorted(set(everyone) - set(complete))
    assert len(lacking) == 21 and all(ref in message for ref in lacking)
    assert not any(re.search(rf"\b{ref}\b", message) for ref in complete)
    with env.uow() as session:
        assert session.scalar(select(CollectiveComplaint.id)) is None  # nothing was created
        with pytest.raises(Forbidden):
            create_collective(session, env.settings, env.user(session, "mara"), body="un_sp", language="en",
                              title="T", cases=complete)


def test_the_reference_complaint_states_its_figures_and_names_only_those_who_agreed(env, reference):
    rows, complete = reference
    with env.uow() as session:
        collective = create_collective(
            session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
            title="Persecution of a fictional movement", cases=complete, mandates=["assembly", "expression"],
            grounds=["iccpr_19", "iccpr_21"], narrative=NARRATIVE, officials=OFFICIALS)
        collective_id = collective.id
        assert collective.appeals_received == 150  # every appeal about the same episodes
        [document] = session.scalars(select(Document).where(Document.filing_id == collective.filing.id))
        content = document_store(env.settings).get(document.storage_key)
    included = [r for r in rows if r["ref"] in complete]
    assert len(included) == 129 and len({r["city"] for r in included}) == 19
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    tables = "\n".join(c.text for t in docx.Document(io.BytesIO(content)).tables for r in t.rows for c in r.cells)
    assert "129" in text + tables and "19" in text + tables and "150" in text + tables
    per_episode = Counter(e for r in included for e in r["episodes"].split(";"))
    for count in per_episode.values():
        assert str(count) in tables
    everything = _text_of_every_part(content)
    for row in included:
        named = row["consent_publish_name"] == "yes"
        assert (row["full_name"] in everything) is named, row["ref"]
        assert row["full_name_native"] not in everything
        assert row["phone"] not in everything and (not row["passport_number"]
                                                   or row["passport_number"] not in everything)
        assert row["email"] not in everything
    unnamed = sum(1 for r in included if r["consent_publish_name"] == "no")
    assert str(unnamed) in text
    assert "Head of the city police department" in tables

    # The process: legal check, manager approval (four eyes by role), submission, response.
    with env.uow() as session:
        check = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "check_filing",
                                                       HumanTask.state == "ready", HumanTask.case_id.is_(None)))
        assert check.filing_id == collective.filing.id
        complete_task(session, env.settings, check.id, env.user(session, "leo"), {"decision": "approve"})
    with env.uow() as session:
        approve = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "approve_filing",
                                                         HumanTask.state == "ready"))
        assert approve.lane == "manager"
        complete_task(session, env.settings, approve.id, env.user(session, "mara"), {"decision": "revise"})
    with env.uow() as session:  # revised: a second version, checked again
        versions = session.scalars(select(Document.version).where(Document.filing_id == check.filing_id)).all()
        assert sorted(versions) == [1, 2]
        check = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "check_filing",
                                                       HumanTask.state == "ready", HumanTask.case_id.is_(None)))
        complete_task(session, env.settings, check.id, env.user(session, "leo"), {"decision": "approve"})
    with env.uow() as session:
        approve = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "approve_filing",
                                                         HumanTask.state == "ready"))
        complete_task(session, env.settings, approve.id, env.user(session, "mara"), {"decision": "approve"})
        submit = session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "submit_filing",
                                                        HumanTask.state == "ready", HumanTask.case_id.is_(None)))
        complete_task(session, env.settings, submit.id, env.user(session, "ina"), {
            "submitted_on": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(), "channel": "email",
            "reference": "SP/COL/1"})
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        assert collective.filing.state == "submitted"
        record_response(session, env.settings, env.user(session, "lena"), collective.filing.id,
                        kind="acknowledgement", received_on=datetime.now(UTC).date(), reference="AL KAZ 1/2026")
    with env.uow() as session:
        assert session.get(CollectiveComplaint, collective_id).filing.state == "acknowledged"
