"""Process versions for admins (services/process_versions.py): upload, change summary, activation, listing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.helpers import case_instance, do, open_sample_case, ready_ids
from tests.workflow.process_files import CASE, REFUSED, VERIFY_FORM, changed_case
from workflow.errors import BpmnRefused, Conflict, Forbidden
from workflow.models import AuditEvent, ProcessDefinition
from workflow.runtime.changes import summarise
from workflow.runtime.specs import current_definition
from workflow.services import process_versions as service

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def _ids(nodes) -> list[str]:
    return [f"{n.process_id}:{n.node_id}" for n in nodes]


def _upload(env, files: dict[str, bytes], username: str = "ada") -> list[service.Uploaded]:
    with env.uow() as session:
        return service.upload(session, env.user(session, username), list(files.items()))


def _stored(env) -> tuple[int, int]:
    with env.uow() as session:
        return (session.scalar(select(func.count()).select_from(ProcessDefinition)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def test_a_changed_case_is_stored_inactive_with_its_change_summary(env, staff) -> None:
    [result] = _upload(env, {"case.bpmn": changed_case().encode()})
    assert result.new and result.info.process_id == "case" and result.info.version == 2
    assert not result.info.active and result.info.activated_at is None and result.info.deployed_by == "ada"
    changes = result.changes
    assert [(r.old.node_id, r.old.name, r.new.name) for r in changes.renamed] == [
        ("verify_consent", "Verify consent", "Check the consent")]
    assert [(r.old.node_id, r.new.node_id, r.new.name) for r in changes.reidentified] == [
        ("set_review_due", "set_review_due_at", "Set review due date")]
    assert _ids(changes.added) == ["case:merge_before_triage"] and _ids(changes.removed) == ["case:merge_triage"]
    assert not changes.forms_changed and not changes.task_forms and result.changes_from_active is None
    with env.uow() as session:
        assert current_definition(session, "case").version == 1  # new cases still start on version 1
        [event] = session.scalars(select(AuditEvent).filter_by(action="process_deployed")).all()
        assert event.data == {"process": "case", "version": 2, "sha256": result.info.short_sha,
                              "files": ["case.bpmn"]}
    # The same files again: said so, nothing stored.
    before = _stored(env)
    [again] = _upload(env, {"case.bpmn": changed_case().encode()})
    assert not again.new and again.info.version == 2 and _stored(env) == before
    # The shipped file: the active version.
    [same] = _upload(env, {"case.bpmn": CASE.encode()})
    assert not same.new and same.info.version == 1 and same.info.active


def test_a_form_uploaded_alone_makes_a_version_of_each_process_using_it(env, staff) -> None:
    form = json.loads(VERIFY_FORM)
    form["title"] = "Verify the consent (v2)"
    results = _upload(env, {"verify_consent.json": json.dumps(form).encode()})
    assert [(r.info.process_id, r.info.version, r.new) for r in results] == [("case", 2, True)]
    assert results[0].changes.forms_changed == ("verify_consent.json",)
    assert not results[0].changes.added and not results[0].changes.renamed


def test_a_changed_called_process_makes_a_version_of_each_caller(env, staff) -> None:
    from tests.workflow.process_files import BPMN_DIR

    filing = (BPMN_DIR / "filing.bpmn").read_text(encoding="utf-8").replace('name="Check the filing"',
                                                                          'name="Check the filing again"')
    results = _upload(env, {"filing.bpmn": filing.encode()})
    assert [(r.info.process_id, r.info.version, r.new) for r in results] == [
        ("case", 2, True), ("collective_complaint", 2, True), ("filing", 2, True)]
    for result in results:
        assert [f"{r.new.process_id}:{r.new.node_id}" for r in result.changes.renamed] == ["filing:check_filing"]
        assert result.info.definition.sources["filing.bpmn"] == filing


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_refused_uploads_are_one_line_and_store_nothing(env, staff, kind: str) -> None:
    files, expected = REFUSED[kind]
    before = _stored(env)
    with pytest.raises(BpmnRefused) as refused:
        _upload(env, files)
    assert expected in refused.value.message
    assert "\n" not in refused.value.message and len(refused.value.message) < 400
    assert _stored(env) == before


def test_two_files_of_the_same_name_are_refused(env, staff) -> None:
    with env.uow() as session, pytest.raises(BpmnRefused, match="two uploaded files have the same name"):
        service.upload(session, None, [("case.bpmn", CASE.encode()), ("case.bpmn", changed_case().encode())])


def test_only_admins_manage_processes(env, staff) -> None:
    for username in ("ina", "lena", "mara"):
        with env.uow() as session, pytest.raises(Forbidden):
            service.upload(session, env.user(session, username), [("case.bpmn", changed_case().encode())])
        with env.uow() as session, pytest.raises(Forbidden):
            service.list_processes(session, env.user(session, username))
        with env.uow() as session, pytest.raises(Forbidden):
            service.activate_version(session, env.user(session, username), "case", 1)


def test_activation_is_audited_and_new_cases_start_on_the_active_version(env, staff) -> None:
    open_sample_case(env, "APL-901")  # before: version 1
    _upload(env, {"case.bpmn": changed_case().encode()})
    with env.uow() as session:
        before = service.activate_version(session, env.user(session, "ada"), "case", 2)
        assert before is not None and before.version == 1
        [event] = session.scalars(select(AuditEvent).filter_by(action="process_activated")).all()
        assert event.data == {"process": "case", "version": 2, "previous_version": 1}
        assert event.actor_id == env.user(session, "ada").id and event.object_id == "case"
        with pytest.raises(Conflict):
            service.activate_version(session, env.user(session, "ada"), "case", 2)
    open_sample_case(env, "APL-902")  # after: version 2
    with env.uow() as session:
        assert case_instance(session, "APL-901").definition.version == 1
        assert case_instance(session, "APL-902").definition.version == 2
    # Both keep working on their own version.
    for ref in ("APL-901", "APL-902"):
        do(env, ref, "verify_consent", "ina", VERIFIED)
        assert ready_ids(env, ref) == ["legal_review"]
    with env.uow() as session:
        [case] = [p for p in service.list_processes(session, env.user(session, "ada")) if p.process_id == "case"]
        assert case.active_version == 2
        assert [(v.version, v.active, v.instances["running"], v.activated_by) for v in case.versions] == [
            (2, True, 1, "ada"), (1, False, 1, None)]
        # Rolling back is activating the earlier version.
        service.activate_version(session, None, "case", 1)
    open_sample_case(env, "APL-903")
    with env.uow() as session:
        assert case_instance(session, "APL-903").definition.version == 1
        events = session.scalars(select(AuditEvent).filter_by(action="process_activated").order_by(AuditEvent.id))
        assert [e.data["previous_version"] for e in events] == [1, 2]


def test_the_version_page_facts_source_files_and_changes_against_the_active_one(env, staff) -> None:
    _upload(env, {"case.bpmn": changed_case().encode()})
    third = changed_case().replace('name="Check the consent"', 'name="Consent check"')
    _upload(env, {"case.bpmn": third.encode()})
    with env.uow() as session:
        info = service.get_version(session, None, "case", 3)
        source = service.source_file(info)
        assert (source.name, source.text, source.media_type) == ("case.bpmn", third, "application/xml")
        assert source.download_name == "case-v3-case.bpmn"
        form = service.source_file(info, "forms/verify_consent.json")
        assert (form.text, form.media_type) == (VERIFY_FORM, "application/json")
        since_previous, since_active = service.changes_of(session, info.definition)
        assert [r.new.name for r in since_previous.renamed] == ["Consent check"] and not since_previous.added
        assert since_active is not None and _ids(since_active.added) == ["case:merge_before_triage"]


def test_summary_covers_called_processes_and_switched_forms() -> None:
    from tests.workflow.process_files import BPMN_DIR

    filing = (BPMN_DIR / "filing.bpmn").read_text(encoding="utf-8")
    old = {"case.bpmn": CASE, "filing.bpmn": filing, "forms/verify_consent.json": VERIFY_FORM}
    new = {"case.bpmn": CASE.replace('value="verify_consent.json"', 'value="verify_consent2.json"'),
           "filing.bpmn": filing.replace('name="Check the filing"', 'name="Check it"'),
           "forms/verify_consent2.json": VERIFY_FORM}
    summary = summarise(old, new, "case")
    assert [(r.new.node_id, r.old.form, r.new.form) for r in summary.task_forms] == [
        ("verify_consent", "verify_consent.json", "verify_consent2.json")]
    assert summary.forms_added == ("verify_consent2.json",) and summary.forms_removed == ("verify_consent.json",)
    assert [f"{r.new.process_id}:{r.new.node_id}" for r in summary.renamed] == ["filing:check_filing"]
    assert summarise(old, old, "case").empty
    assert summarise(old, new, "filing").renamed and not summarise(old, new, "filing").task_forms
