"""Legal review over the database: checks recorded with the decision, the urgent track, four eyes, the
catalogue and vocabularies as data (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import do, open_sample_case, ready_ids, stage, task
from workflow import bodies, vocab
from workflow.errors import ValidationFailed
from workflow.models import AuditEvent, Body, Case, Deadline, Review, VocabularyTerm
from workflow.problems import Problem
from workflow.services.review import update_legal_facts

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
HRC = {"decision": "approve", "bodies": ["un_hrc"], "grounds": ["iccpr_21"], "notes": "Dispersal of a rally."}
SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}


def facts(env, ref: str, **changes) -> None:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        update_legal_facts(session, env.user(session, "lena"), case, changes)


def alerts(env, ref: str) -> list[dict]:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        return [e.data for e in session.scalars(select(AuditEvent).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "escalated"))]


def reviews(env, ref: str) -> list[Review]:
    with env.uow() as session:
        return list(session.scalars(select(Review).join(Case, Review.case_id == Case.id)
                                    .where(Case.ref == ref).order_by(Review.id)))


def test_init_seeds_the_catalogue_and_vocabularies_without_overwriting_edits(env, staff):
    with env.uow() as session:
        assert [b.code for b in bodies.all_bodies(session)] == list(bodies.CODES)
        assert len(vocab.keys(session, "incident_type")) == 10 and vocab.keys(session, "perpetrator_agency")
        hrc = bodies.get_body(session, "un_hrc")
        assert hrc.rules["ratione_temporis"] == {"bound_from": {"KZ": "2009-09-30"}}
        bodies.update_body(session, env.user(session, "ada"), "un_hrc", {"response_days": 200})
        vocab.update_term(session, env.user(session, "ada"), "incident_type", "interrogation",
                          labels={"en": "Questioning", "ru": "Допрос"})
    with env.uow() as session:
        assert bodies.seed(session) == 0 and vocab.seed(session) == 0
        assert bodies.get_body(session, "un_hrc").response_days == 200
        assert vocab.labels(session, "incident_type", "en")["interrogation"] == "Questioning"


def test_hrc_review_is_refused_without_exhaustion_and_recorded_with_its_checks_once_shown(env, staff):
    open_sample_case(env, "REV-001")
    do(env, "REV-001", "verify_consent", "ina", VERIFIED)
    with pytest.raises(ValidationFailed) as err:
        do(env, "REV-001", "legal_review", "lena", HRC)
    assert err.value.errors["bodies"].code == "bodies_blocked" and err.value.errors["bodies"].params["bodies"] == [
        "un_hrc"]
    assert "un_hrc: Domestic remedies are not shown to be exhausted" in err.value.errors["bodies"].text
    assert ready_ids(env, "REV-001") == ["legal_review"] and reviews(env, "REV-001") == []
    exhausted = (datetime.now(UTC) - timedelta(days=400)).date()
    facts(env, "REV-001", remedies_exhausted_on=exhausted.isoformat(), remedies_summary="Appeal dismissed.")
    do(env, "REV-001", "legal_review", "lena", HRC)
    [review] = reviews(env, "REV-001")
    assert (review.decision, review.bodies, review.grounds, review.approval) == ("approve", ["un_hrc"],
                                                                                  ["iccpr_21"], None)
    assert review.checks == []  # recorded: nothing stood in the way
    assert stage(env, "REV-001") == "approval"


def test_a_return_or_reject_is_recorded_even_for_a_body_that_would_be_blocked(env, staff):
    open_sample_case(env, "REV-002")
    do(env, "REV-002", "verify_consent", "ina", VERIFIED)
    do(env, "REV-002", "legal_review", "lena", {**HRC, "decision": "reject", "notes": "Out of time."})
    [review] = reviews(env, "REV-002")
    assert review.decision == "reject" and review.bodies == []
    assert {c["rule"] for c in review.checks} == {"exhaustion"}  # what the reviewer saw stays on record
    assert stage(env, "REV-002") == "rejected"


def test_the_manager_approval_rechecks_facts_that_changed_since_the_review(env, staff):
    open_sample_case(env, "REV-003")
    do(env, "REV-003", "verify_consent", "ina", VERIFIED)
    facts(env, "REV-003", remedies_exhausted_on=(datetime.now(UTC) - timedelta(days=30)).date().isoformat())
    do(env, "REV-003", "legal_review", "lena", HRC)
    facts(env, "REV-003", other_procedure="pending", other_procedure_name="Regional ombudsman commission")
    with pytest.raises(ValidationFailed, match="changed since the review"):
        do(env, "REV-003", "approve_review", "mara", {"decision": "approve"})
    assert ready_ids(env, "REV-003") == ["approve_review"]
    with pytest.raises(ValidationFailed) as err:
        do(env, "REV-003", "approve_review", "mara", {"decision": "return"})
    assert err.value.errors == {"notes": Problem("approval_return_notes_missing")}
    do(env, "REV-003", "approve_review", "mara", {"decision": "return", "notes": "Same matter is pending."})
    row = task(env, "REV-003", "legal_review")
    with env.uow() as session:
        assert row.assignee_id == env.user(session, "lena").id  # back to the reviewer
    [review] = reviews(env, "REV-003")
    assert (review.approval, review.approval_notes) == ("return", "Same matter is pending.")


def test_an_urgent_case_gets_48_hours_and_one_manager_alert(env, staff):
    open_sample_case(env, "REV-004", detained_now=True)
    do(env, "REV-004", "verify_consent", "ina", VERIFIED)
    row = task(env, "REV-004", "legal_review")
    assert timedelta(hours=47) < row.due_at - datetime.now(UTC) <= timedelta(hours=48)
    assert alerts(env, "REV-004") == [{"task": "legal_review", "role": "manager", "reason": "urgent"}]
    do(env, "REV-004", "legal_review", "lena", {**SP, "wgad_categories": []})
    with env.uow() as session:
        assert session.scalar(select(Case.urgent).where(Case.ref == "REV-004")) is True
    [review] = reviews(env, "REV-004")
    assert (review.urgent, review.communication_type) == (True, "urgent_appeal")  # the urgent-appeal channel
    do(env, "REV-004", "approve_review", "mara", {"decision": "return", "notes": "Add the torture mandate."})
    assert len(alerts(env, "REV-004")) == 1  # a return is not a new alert


def test_a_torture_risk_entered_later_makes_the_case_urgent_at_triage(env, staff):
    open_sample_case(env, "REV-005")
    facts(env, "REV-005", torture_risk=True)
    do(env, "REV-005", "verify_consent", "ina", VERIFIED)
    row = task(env, "REV-005", "legal_review")
    assert row.due_at - datetime.now(UTC) <= timedelta(hours=48)
    assert [a["reason"] for a in alerts(env, "REV-005")] == ["urgent"]


def test_a_normal_case_gets_14_days_and_no_alert(env, staff):
    open_sample_case(env, "REV-006")
    do(env, "REV-006", "verify_consent", "ina", VERIFIED)
    row = task(env, "REV-006", "legal_review")
    assert timedelta(days=13, hours=23) < row.due_at - datetime.now(UTC) <= timedelta(days=14)
    assert alerts(env, "REV-006") == []
    do(env, "REV-006", "legal_review", "lena", SP)
    assert reviews(env, "REV-006")[0].communication_type == "letter_of_allegation"


def _submit(env, ref: str) -> None:
    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    do(env, ref, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email",
                                          "reference": f"SP/{ref}"})


def _response_due(env, ref: str) -> datetime:
    with env.uow() as session:
        return session.scalar(select(Deadline.due_at).join(Case, Deadline.case_id == Case.id).where(
            Case.ref == ref, Deadline.label == "Response window", Deadline.state == "open"))


def test_editing_a_response_window_changes_new_deadlines_not_running_ones(env, staff):
    for ref in ("REV-007", "REV-008"):
        open_sample_case(env, ref)
        do(env, ref, "verify_consent", "ina", VERIFIED)
        do(env, ref, "legal_review", "lena", SP)
        do(env, ref, "approve_review", "mara", {"decision": "approve"})
    _submit(env, "REV-007")
    running = _response_due(env, "REV-007")
    assert running.date() == date.today() + timedelta(days=60)
    with env.uow() as session:
        bodies.update_body(session, env.user(session, "ada"), "un_sp", {"response_days": 30})
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "body_changed")).one()
        assert event.data == {"fields": ["response_days"]}  # names, never values (workflow/audit.py)
    _submit(env, "REV-008")
    assert _response_due(env, "REV-008").date() == date.today() + timedelta(days=30)
    assert _response_due(env, "REV-007") == running


def test_invalid_catalogue_edits_change_nothing(env, staff):
    with env.uow() as session:
        admin = env.user(session, "ada")
        with pytest.raises(ValidationFailed) as err:
            bodies.update_body(session, admin, "un_hrc", {
                "response_days": -3, "languages": ["xx"], "names": {"ru": "Комитет"}, "colour": "red",
                "rules": {"time_bar": {"years_after_exhaustion": "five"}}})
        assert set(err.value.errors) == {"response_days", "languages", "names", "colour",
                                         "rules.time_bar.years_after_exhaustion"}
    with env.uow() as session:
        hrc = session.scalar(select(Body).where(Body.code == "un_hrc"))
        assert hrc.response_days == 183 and hrc.updated_by_id is None
        assert "body_changed" not in audit_actions_all(session)


def audit_actions_all(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action)))


def test_vocabulary_terms_are_added_relabelled_retired_and_audited(env, staff):
    with env.uow() as session:
        admin = env.user(session, "ada")
        vocab.add_term(session, admin, "perpetrator_agency", "traffic_police",
                       {"en": "Traffic police", "ru": "Дорожная полиция"})
        with pytest.raises(ValidationFailed) as err:
            vocab.add_term(session, admin, "perpetrator_agency", "traffic_police", {"en": "Again"})
        assert err.value.errors == {"key": Problem("term_key_taken")}
        with pytest.raises(ValidationFailed) as err:
            vocab.add_term(session, admin, "legal_ground", "Article 5!", {"ru": "Статья"}, {"colour": "red"})
        assert set(err.value.errors) == {"key", "labels.en", "extra.colour"}
        vocab.update_term(session, admin, "incident_type", "search_and_seizure", active=False)
    with env.uow() as session:
        assert "traffic_police" in vocab.keys(session, "perpetrator_agency")
        assert "search_and_seizure" not in vocab.keys(session, "incident_type")
        assert vocab.labels(session, "incident_type", "ru")["search_and_seizure"] == "Обыск и изъятие"
        changed = session.scalars(select(AuditEvent).where(AuditEvent.action == "term_changed")).one()
        assert changed.data == {"vocabulary": "incident_type", "key": "search_and_seizure", "fields": ["active"]}
        assert changed.actor_id == env.user(session, "ada").id
        assert session.scalar(select(VocabularyTerm.updated_by_id).where(
            VocabularyTerm.key == "search_and_seizure")) == changed.actor_id


def test_a_retired_incident_type_is_refused_in_new_appeals(env, staff):
    from workflow.schemas.appeal import AppealSchema
    from workflow.services.cases import KnownKeys

    with env.uow() as session:
        vocab.update_term(session, env.user(session, "ada"), "incident_type", "interrogation", active=False)
        known = KnownKeys(session)
        known.episodes = {"rally_2022"}
        schema = AppealSchema(known=lambda: known, documents="names")
        row = {"ref": "REV-009", "full_name": "Fictional Person", "city": "Aktobe", "episodes": "rally_2022",
               "incident_types": "interrogation", "incident_date": "2022-01-05", "description": "Questioned.",
               "form_of_appeal": "", "power_of_attorney": "", "consent_publish_name": "no",
               "received_on": "2022-02-01"}
        with pytest.raises(ValidationFailed) as err:
            schema.appeal(row)
    assert err.value.errors == {"incident_types": Problem("unknown_incident_types", {"keys": ["'interrogation'"]})}
    assert err.value.texts() == {"incident_types": "unknown incident type 'interrogation'"}


def test_a_retired_legal_ground_is_refused_in_a_review_and_a_new_one_accepted(env, staff):
    open_sample_case(env, "REV-010")
    do(env, "REV-010", "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        admin = env.user(session, "ada")
        vocab.update_term(session, admin, "legal_ground", "iccpr_17", active=False)
        vocab.add_term(session, admin, "legal_ground", "iccpr_18", {"en": "ICCPR art. 18 (conscience)"},
                       {"udhr": "18"})
    with pytest.raises(ValidationFailed) as err:
        do(env, "REV-010", "legal_review", "lena", {**SP, "grounds": ["iccpr_17"]})
    assert "grounds.0" in err.value.errors
    do(env, "REV-010", "legal_review", "lena", {**SP, "grounds": ["iccpr_18", "iccpr_21"]})
    assert reviews(env, "REV-010")[0].grounds == ["iccpr_18", "iccpr_21"]
