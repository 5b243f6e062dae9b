"""Legal review through the JSON API: legal facts, admissibility, the review in the case view, four eyes, and
the incident-type filter checked against the vocabulary in the database (SQLite and PostgreSQL, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import do, open_sample_case, ready_ids, task
from tests.web.test_api import Api, complete, error, ok
from workflow import bodies, vocab
from workflow.models import AuditEvent, Case, LegalFacts

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
DEFAULTS = {"state_code": "KZ", "torture_risk": False, "deprived_of_liberty": False, "remedies_exhausted_on": None,
            "remedies_summary": "", "remedies_ineffective": False, "other_procedure": "none",
            "other_procedure_name": "", "other_procedure_concluded_on": None, "eu_status": "unknown",
            "eu_subject": False, "updated_at": None, "updated_by": None}


def facts_path(ref: str) -> str:
    return f"/api/v1/cases/{ref}/legal-facts"


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def stored(env, ref: str) -> LegalFacts | None:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return session.scalar(select(LegalFacts).join(Case).where(Case.ref == ref))


def fact_changes(env) -> list[dict]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "legal_facts_changed"))]


# -- legal facts -----------------------------------------------------------------------------------------

def test_legal_facts_are_read_by_legal_and_managers_and_changed_by_legal_only(api: Api, env, staff):
    open_sample_case(env, "APIR-001")
    assert ok(api("GET", facts_path("APIR-001"), "lena")) == DEFAULTS  # nobody has recorded them yet
    assert ok(api("GET", facts_path("APIR-001"), "mara")) == DEFAULTS
    error(api("GET", facts_path("APIR-001"), "ina"), 403, "forbidden")
    error(api("GET", facts_path("NO-SUCH"), "lena"), 404, "not_found")

    exhausted = days_ago(60)
    body = ok(api("PATCH", facts_path("APIR-001"), "lena", json={
        "state_code": "kz", "torture_risk": True, "remedies_exhausted_on": exhausted,
        "remedies_summary": "Appeal dismissed.", "other_procedure": "pending",
        "other_procedure_name": "UN Committee against Torture", "eu_status": "none"}))
    assert {k: body[k] for k in ("state_code", "torture_risk", "remedies_exhausted_on", "other_procedure",
                                 "other_procedure_name", "eu_status", "updated_by")} == {
        "state_code": "KZ", "torture_risk": True, "remedies_exhausted_on": exhausted, "other_procedure": "pending",
        "other_procedure_name": "UN Committee against Torture", "eu_status": "none", "updated_by": "lena"}
    assert datetime.fromisoformat(body["updated_at"]).utcoffset() is not None
    assert ok(api("GET", facts_path("APIR-001"), "mara")) == body
    [change] = fact_changes(env)
    assert "torture_risk" in change["fields"] and set(change) == {"fields"}  # names only

    for user in ("ina", "mara"):
        error(api("PATCH", facts_path("APIR-001"), user, json={"torture_risk": False}), 403, "forbidden")
    error(api("PATCH", facts_path("NO-SUCH"), "lena", json={"torture_risk": False}), 404, "not_found")
    assert stored(env, "APIR-001").torture_risk is True


@pytest.mark.parametrize(("changes", "fields"), [
    ({"torture_risk": "yes"}, {"torture_risk"}),
    ({"eu_subject": 1}, {"eu_subject"}),
    ({"remedies_exhausted_on": "2015-02-30"}, {"remedies_exhausted_on"}),
    ({"remedies_exhausted_on": "1 March 2015"}, {"remedies_exhausted_on"}),
    ({"other_procedure_concluded_on": (datetime.now(UTC) + timedelta(days=2)).date().isoformat(),
      "other_procedure": "concluded", "other_procedure_name": "ECtHR"}, {"other_procedure_concluded_on"}),
    ({"other_procedure": "concluded", "other_procedure_name": "ECtHR"}, {"other_procedure_concluded_on"}),
    ({"other_procedure": "pending"}, {"other_procedure_name"}),
    ({"other_procedure": "maybe"}, {"other_procedure"}),
    ({"eu_status": "martian"}, {"eu_status"}),
    ({"state_code": "Kazakhstan"}, {"state_code"}),
    ({"remedies_summary": "x" * 10001}, {"remedies_summary"}),
    ({"favourite_colour": "red"}, {"favourite_colour"}),
])
def test_invalid_legal_facts_are_422_per_field_and_change_nothing(api: Api, env, staff, changes, fields):
    open_sample_case(env, "APIR-002")
    body = error(api("PATCH", facts_path("APIR-002"), "lena", json=changes), 422, "invalid")
    assert set(body["errors"]) == fields, body
    assert stored(env, "APIR-002") is None and fact_changes(env) == []


def test_a_future_date_is_refused_with_its_reason(api: Api, env, staff):
    open_sample_case(env, "APIR-003")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    body = error(api("PATCH", facts_path("APIR-003"), "lena", json={"remedies_exhausted_on": tomorrow}), 422)
    assert body["errors"] == {"remedies_exhausted_on": "cannot be in the future"}
    assert ok(api("GET", facts_path("APIR-003"), "lena")) == DEFAULTS


# -- admissibility ---------------------------------------------------------------------------------------

def test_admissibility_lists_every_active_body_with_its_findings(api: Api, env, staff):
    open_sample_case(env, "APIR-010")
    do(env, "APIR-010", "verify_consent", "ina", VERIFIED)
    error(api("GET", "/api/v1/cases/APIR-010/admissibility", "ina"), 403, "forbidden")
    error(api("GET", "/api/v1/cases/NO-SUCH/admissibility", "lena"), 404, "not_found")
    found = ok(api("GET", "/api/v1/cases/APIR-010/admissibility", "mara"))["bodies"]
    assert set(found) == {"un_sp", "un_wgad", "un_hrc", "osce_odihr", "ep_droi", "ep_peti"}
    assert found["osce_odihr"] == []
    [hrc] = found["un_hrc"]
    assert (hrc["rule"], hrc["level"], hrc["params"]) == ("exhaustion", "error", {})
    assert hrc["message"].startswith("Domestic remedies are not shown to be exhausted")
    assert {f["level"] for f in found["ep_peti"]} == {"error", "warning"}

    # Exhausted more than five years ago: the time bar, with its figures filled in.
    ok(api("PATCH", facts_path("APIR-010"), "lena", json={"remedies_exhausted_on": "2015-03-01"}))
    [bar] = ok(api("GET", "/api/v1/cases/APIR-010/admissibility", "lena"))["bodies"]["un_hrc"]
    assert (bar["rule"], bar["level"]) == ("time_bar", "error")
    assert bar["params"] == {"years": "5", "date": "2015-03-01", "limit": "2020-03-01", "basis": "legal_facts"}
    assert "exhausted on 2015-03-01 (the date in the legal facts; last day 2020-03-01)" in bar["message"]
    assert "%(" not in bar["message"]

    with env.uow() as session:  # a body an admin switched off is not checked
        bodies.update_body(session, env.user(session, "ada"), "ep_peti", {"active": False})
    assert "ep_peti" not in ok(api("GET", "/api/v1/cases/APIR-010/admissibility", "lena"))["bodies"]


# -- the review in the case view, four eyes --------------------------------------------------------------

def test_the_case_view_carries_the_latest_review_and_legal_facts_for_legal_and_managers(api: Api, env, staff):
    open_sample_case(env, "APIR-020")
    do(env, "APIR-020", "verify_consent", "ina", VERIFIED)
    legal = ok(api("GET", "/api/v1/cases/APIR-020", "lena"))
    assert legal["review"] is None and legal["legal_facts"] == DEFAULTS
    assert "legal_facts" not in ok(api("GET", "/api/v1/cases/APIR-020", "ina"))

    ok(api("PATCH", facts_path("APIR-020"), "lena", json={"remedies_exhausted_on": days_ago(30)}))
    ok(complete(api, env, "APIR-020", "legal_review", "lena", {
        "decision": "approve", "bodies": ["un_hrc"], "grounds": ["iccpr_21"], "notes": "Dispersal of a rally."}))
    review = ok(api("GET", "/api/v1/cases/APIR-020", "ina"))["review"]  # intake sees what was decided
    assert {k: review[k] for k in ("decision", "bodies", "mandates", "grounds", "communication_type",
                                   "wgad_categories", "urgent", "notes", "checks", "reviewer", "approval",
                                   "approval_notes", "approver", "approved_at")} == {
        "decision": "approve", "bodies": ["un_hrc"], "mandates": [], "grounds": ["iccpr_21"],
        "communication_type": None, "wgad_categories": [], "urgent": False, "notes": "Dispersal of a rally.",
        "checks": [], "reviewer": "lena", "approval": None, "approval_notes": "", "approver": None,
        "approved_at": None}

    # The reviewer may not approve their own review: as a legal officer (not their lane) nor as a manager.
    error(complete(api, env, "APIR-020", "approve_review", "lena", {"decision": "approve"}), 403, "forbidden")
    with env.uow() as session:
        env.user(session, "lena").role = "manager"
    refused = error(complete(api, env, "APIR-020", "approve_review", "lena", {"decision": "approve"}), 403)
    assert "four eyes" in refused["message"] and ready_ids(env, "APIR-020") == ["approve_review"]

    done = ok(complete(api, env, "APIR-020", "approve_review", "mara",
                       {"decision": "return", "notes": "Name the appeal court."}))
    assert done["task"]["outcome"] == "return" and done["stage"] == "legal_review"
    returned = ok(api("GET", "/api/v1/cases/APIR-020", "mara"))
    assert returned["review"]["approval"] == "return" and returned["review"]["approver"] == "mara"
    assert returned["review"]["approval_notes"] == "Name the appeal court."
    assert ready_ids(env, "APIR-020") == ["legal_review"]


def test_checks_recorded_with_a_rejection_are_in_the_review(api: Api, env, staff):
    open_sample_case(env, "APIR-021")
    do(env, "APIR-021", "verify_consent", "ina", VERIFIED)
    ok(complete(api, env, "APIR-021", "legal_review", "leo",
                {"decision": "reject", "bodies": ["un_hrc"], "notes": "Remedies not exhausted."}))
    review = ok(api("GET", "/api/v1/cases/APIR-021", "mara"))["review"]
    assert review["decision"] == "reject" and review["bodies"] == [] and review["reviewer"] == "leo"
    [check] = review["checks"]
    assert (check["body"], check["rule"], check["level"]) == ("un_hrc", "exhaustion", "error")
    assert check["message"].startswith("Domestic remedies are not shown to be exhausted")


# -- the incident-type filter reads the vocabulary -------------------------------------------------------

def test_the_incident_type_filter_accepts_active_types_only(api: Api, env, staff):
    open_sample_case(env, "APIR-030")
    with env.uow() as session:
        ada = env.user(session, "ada")
        vocab.update_term(session, ada, "incident_type", "interrogation", active=False)
        vocab.add_term(session, ada, "incident_type", "travel_ban", {"en": "Travel ban"})
    assert ok(api("GET", "/api/v1/cases?incident_type=travel_ban", "lena"))["total"] == 0
    assert ok(api("GET", "/api/v1/cases?incident_type=detention_at_rally", "lena"))["total"] == 1
    for retired_or_unknown in ("interrogation", "alien_abduction"):
        body = error(api("GET", f"/api/v1/cases?incident_type={retired_or_unknown}", "lena"), 422, "invalid")
        assert set(body["errors"]) == {"incident_type"}
        assert "not an active incident type" in body["errors"]["incident_type"]
        assert "travel_ban" in body["errors"]["incident_type"]
    assert task(env, "APIR-030", "verify_consent")  # a read changed nothing
