"""Legal review on the pages: legal facts, the admissibility table, a return's reasons, four eyes, reasons in
the history, alerts for managers, and the vocabularies read from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.helpers import audit_actions, do, open_sample_case, stage, task
from tests.web.conftest import csrf_token
from workflow import bodies, vocab
from workflow.models import Case, HumanTask, LegalFacts
from workflow.services.users import change_role, get_user

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
FACTS = {"state_code": "KZ", "remedies_exhausted_on": "", "remedies_summary": "", "other_procedure": "none",
         "other_procedure_name": "", "other_procedure_concluded_on": "", "eu_status": "unknown"}


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def days_ago(days: int) -> str:
    """The time bar is counted from today, so the dates these tests enter are too."""
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def at_review(env, ref: str, **overrides) -> None:  # type: ignore[no-untyped-def]
    open_sample_case(env, ref, **overrides)
    do(env, ref, "verify_consent", "ina", VERIFIED)


def post_facts(client, ref: str, **fields: str | bool):  # type: ignore[no-untyped-def]
    page = text_of(client.get(f"/cases/{ref}"))
    data = {f"facts-{name}": value for name, value in {**FACTS, **fields}.items() if value is not False}
    return client.post(f"/cases/{ref}/legal-facts", data={**data, "csrf_token": csrf_token(page)})


def post_task(client, ref: str, task_id: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    page = text_of(client.get(f"/cases/{ref}"))
    return client.post(f"/tasks/{task_id}", data=MultiDict([*fields, ("csrf_token", csrf_token(page))]))


def stored_facts(env, ref: str) -> LegalFacts | None:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return session.scalar(select(LegalFacts).join(Case).where(Case.ref == ref))


def table_row(html: str, body_name: str) -> str:
    """The admissibility table's row of one body (the first table on the page that has it)."""
    match = re.search(rf"<tr><td>{re.escape(body_name)}.*?</tr>", html, flags=re.S)
    assert match, f"no row for {body_name}"
    return match.group(0)


# -- legal facts -----------------------------------------------------------------------------------------

def test_a_legal_officer_records_the_legal_facts_and_the_change_is_audited(env, login):
    open_sample_case(env, "REVP-001")
    lena = login("lena")
    page = text_of(lena.get("/cases/REVP-001"))
    assert 'action="/cases/REVP-001/legal-facts"' in page
    assert "Nobody has recorded the legal facts yet" in page
    exhausted = days_ago(40)
    response = post_facts(lena, "REVP-001", state_code="kz", deprived_of_liberty="y", remedies_exhausted_on=exhausted,
                          remedies_summary="Appeal dismissed by the city court.", eu_status="none")
    assert response.status_code == 303 and response.headers["Location"] == "/cases/REVP-001#legal-facts"
    facts = stored_facts(env, "REVP-001")
    assert (facts.state_code, facts.deprived_of_liberty, facts.remedies_exhausted_on.isoformat(), facts.eu_status) == (
        "KZ", True, exhausted, "none")
    with env.uow() as session:
        assert audit_actions(session, "REVP-001").count("legal_facts_changed") == 1
    page = text_of(lena.get("/cases/REVP-001"))
    assert "Legal facts saved." in page and "Last changed" in page
    assert re.search(rf'<input id="facts-remedies_exhausted_on"[^>]* type="date" value="{exhausted}">', page)
    assert "Legal facts changed" in text_of(lena.get("/cases/REVP-001/history"))

    # A manager reads them (dates as the locale writes them); intake staff are not shown them.
    manager = text_of(login("mara").get("/cases/REVP-001"))
    assert 'action="/cases/REVP-001/legal-facts"' not in manager and "Appeal dismissed by the city court." in manager
    assert f'<time datetime="{exhausted}">' in manager
    assert 'id="h-legal-facts"' not in text_of(login("ina").get("/cases/REVP-001"))


def test_invalid_legal_facts_are_refused_next_to_their_fields_and_nothing_is_stored(env, login):
    open_sample_case(env, "REVP-002")
    lena = login("lena")
    response = post_facts(lena, "REVP-002", remedies_exhausted_on="2015-02-30", remedies_summary="Typed text kept.")
    html = text_of(response)
    assert response.status_code == 422
    assert re.search(r'id="facts-remedies_exhausted_on"[^>]*>\s*<p class="field-error" id="facts-remedies_exhausted_on'
                     r'-error">Must be a date \(YYYY-MM-DD or DD\.MM\.YYYY\)\.</p>', html)
    assert 'value="2015-02-30"' in html and "Typed text kept.</textarea>" in html
    assert stored_facts(env, "REVP-002") is None

    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    html = text_of(post_facts(lena, "REVP-002", remedies_exhausted_on=future))
    assert "Cannot be in the future." in html
    html = text_of(post_facts(lena, "REVP-002", state_code="Kazakhstan"))
    assert "Must be a two-letter country code (ISO 3166-1)." in html
    response = post_facts(lena, "REVP-002", other_procedure="concluded")  # needs its date (and its name)
    assert response.status_code == 422 and "Give the date the other procedure concluded." in text_of(response)
    assert post_facts(lena, "REVP-002", eu_status="martian").status_code == 422
    assert stored_facts(env, "REVP-002") is None
    with env.uow() as session:
        assert "legal_facts_changed" not in audit_actions(session, "REVP-002")


def test_only_legal_officers_may_change_the_legal_facts_and_only_with_a_csrf_token(env, login):
    open_sample_case(env, "REVP-003")
    for username in ("ina", "mara"):
        client = login(username)
        token = csrf_token(text_of(client.get("/cases/REVP-003")))
        response = client.post("/cases/REVP-003/legal-facts", data={"csrf_token": token, "facts-torture_risk": "y"})
        assert response.status_code == 403, username
    lena = login("lena")
    assert lena.post("/cases/REVP-003/legal-facts", data={"facts-torture_risk": "y"}).status_code == 400
    assert post_facts(lena, "NO-SUCH-CASE").status_code == 404
    assert stored_facts(env, "REVP-003") is None


# -- the review panel ------------------------------------------------------------------------------------

def test_the_review_panel_shows_each_bodys_findings_and_they_follow_the_legal_facts(env, login):
    at_review(env, "REVP-010")
    lena = login("lena")
    html = text_of(lena.get("/cases/REVP-010"))
    assert "Admissibility today, body by body" in html
    hrc = table_row(html, "UN Human Rights Committee")
    assert 'class="finding-error"' in hrc and "blocks filing" in hrc
    assert "Domestic remedies are not shown to be exhausted" in hrc
    assert "no problems found" in table_row(html, "OSCE/ODIHR")
    peti = table_row(html, "European Parliament, Committee on Petitions")
    assert 'class="finding-warning"' in peti and "Petitions become public documents" in peti
    # The manager follows the review from the other side and sees the same table.
    assert "Domestic remedies are not shown to be exhausted" in text_of(login("mara").get("/cases/REVP-010"))

    assert post_facts(lena, "REVP-010", remedies_exhausted_on=days_ago(30)).status_code == 303
    html = text_of(lena.get("/cases/REVP-010"))
    assert "no problems found" in table_row(html, "UN Human Rights Committee")


def test_approving_a_body_that_cannot_take_the_case_is_refused_next_to_bodies(env, login):
    at_review(env, "REVP-011")
    lena = login("lena")
    review = task(env, "REVP-011", "legal_review")
    response = post_task(lena, "REVP-011", review.id, [("decision", "approve"), ("bodies", "un_hrc"),
                                                       ("grounds", "iccpr_21"), ("notes", "Dispersal of a rally.")])
    html = text_of(response)
    assert response.status_code == 422
    assert re.search(r'</fieldset><p class="field-error" id="[^"]+-bodies-error">UN Human Rights Committee cannot '
                     r"take this case: see the admissibility checks above\.</p>", html)
    assert re.search(r'name="bodies" value="un_hrc" checked', html) and ">Dispersal of a rally.</textarea>" in html
    assert stage(env, "REVP-011") == "legal_review" and task(env, "REVP-011", "legal_review").id == review.id


def test_the_review_form_offers_the_catalogue_and_vocabularies_in_the_users_language(env, login):
    at_review(env, "REVP-012")
    with env.uow() as session:
        ada = env.user(session, "ada")
        bodies.update_body(session, ada, "ep_droi", {"active": False})
        vocab.update_term(session, ada, "mandate", "defenders", active=False)
        vocab.add_term(session, ada, "mandate", "religion",
                       {"en": "Freedom of religion", "ru": "Свобода вероисповедания"})
    html = text_of(login("lena").get("/cases/REVP-012"))
    assert re.search(r'name="bodies" value="un_hrc"> UN Human Rights Committee</label>', html)
    assert 'value="ep_droi"' not in html  # an inactive body is not offered
    assert 'name="mandates" value="defenders"' not in html
    assert re.search(r'name="mandates" value="religion"> Freedom of religion</label>', html)
    assert re.search(r'name="grounds" value="iccpr_21"> ICCPR art. 21 \(assembly\) — UDHR 20\(1\)</label>', html)
    assert re.search(r'name="communication_type" value="urgent_appeal"> Urgent appeal</label>', html)
    assert re.search(r'name="wgad_categories" value="II"> II: detained for exercising rights and freedoms<', html)
    with env.uow() as session:
        get_user(session, "lena").locale = "ru"
    html = text_of(login("lena").get("/cases/REVP-012"))
    assert re.search(r'name="bodies" value="un_hrc"> Комитет ООН по правам человека</label>', html)
    assert re.search(r'name="mandates" value="religion"> Свобода вероисповедания</label>', html)
    assert "МПГПП, ст. 21 (свобода мирных собраний)" in html


def test_a_returned_review_shows_the_managers_reasons_and_goes_back_to_its_reviewer(env, login):
    at_review(env, "REVP-013")
    lena, mara = login("lena"), login("mara")
    assert post_facts(lena, "REVP-013", remedies_exhausted_on=days_ago(30)).status_code == 303
    review = task(env, "REVP-013", "legal_review")
    response = post_task(lena, "REVP-013", review.id, [("decision", "approve"), ("bodies", "un_hrc"),
                                                       ("grounds", "iccpr_21"), ("notes", "Dispersal of a rally.")])
    assert response.status_code == 303

    # The manager sees the review being approved, with the checks recorded with it.
    html = text_of(mara.get("/cases/REVP-013"))
    approve = task(env, "REVP-013", "approve_review")
    assert f'action="/tasks/{approve.id}"' in html and "The review to approve" in html
    review_list = re.search(r'<dl class="facts review">.*?</dl>', html, flags=re.S).group(0)
    for shown in ("Approve", "UN Human Rights Committee", "ICCPR art. 21 (assembly) — UDHR 20(1)",
                  "Dispersal of a rally.", "Lena"):
        assert shown in review_list, shown
    assert "Checks recorded with the review" in html

    response = post_task(mara, "REVP-013", approve.id, [("decision", "return"),
                                                        ("notes", "Attach the appeal court's decision.")])
    assert response.status_code == 303
    returned = task(env, "REVP-013", "legal_review")
    with env.uow() as session:
        assert session.get(HumanTask, returned.id).assignee_id == env.user(session, "lena").id
    html = text_of(lena.get("/cases/REVP-013"))
    panel = re.search(rf'<article[^>]*id="task-{returned.id}".*?</article>', html, flags=re.S).group(0)
    assert re.search(r"Returned by Mara on [^<]+:</p>\s*<p class=\"prose\">Attach the appeal court&#39;s decision.</p>",
                     panel)
    assert "Assigned to Lena" in panel
    assert "Approve the review — Return — reason: Attach the appeal court&#39;s decision." in text_of(
        lena.get("/cases/REVP-013/history"))


def test_the_reviewer_is_not_offered_the_approval_and_another_manager_is(env, login):
    at_review(env, "REVP-014")
    do(env, "REVP-014", "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"],
                                                 "grounds": ["iccpr_21"]})
    approve = task(env, "REVP-014", "approve_review")
    with env.uow() as session:
        change_role(session, get_user(session, "ada"), get_user(session, "lena"), "manager")
    promoted = text_of(login("lena").get("/cases/REVP-014"))
    assert f'action="/tasks/{approve.id}"' not in promoted and "Four eyes" in promoted
    assert f'action="/tasks/{approve.id}"' in text_of(login("mara").get("/cases/REVP-014"))


def test_reasons_of_a_rejection_and_a_return_are_in_the_history(env, login):
    at_review(env, "REVP-015")
    do(env, "REVP-015", "legal_review", "lena", {"decision": "reject", "notes": "Outside every mandate."})
    html = text_of(login("mara").get("/cases/REVP-015/history"))
    assert "Legal review — Reject — reason: Outside every mandate." in html
    at_review(env, "REVP-016")
    do(env, "REVP-016", "legal_review", "lena", {"decision": "return", "notes": "The incident date is missing."})
    html = text_of(login("ina").get("/cases/REVP-016/history"))
    assert "Legal review — Return — reason: The incident date is missing." in html
    assert "Legal review — Approve — reason" not in html


# -- alerts for managers ---------------------------------------------------------------------------------

def test_managers_see_an_alert_for_an_urgent_case_and_none_for_a_normal_one(env, login):
    at_review(env, "REVP-020", detained_now=True)
    at_review(env, "REVP-021")
    html = text_of(login("mara").get("/tasks"))
    alerts = re.search(r'<section class="card alerts".*?</section>', html, flags=re.S).group(0)
    assert 'href="/cases/REVP-020"' in alerts and "Urgent case: a manager is alerted" in alerts
    assert "REVP-021" not in alerts
    assert "Urgent case: a manager is alerted" in text_of(login("mara").get("/cases/REVP-020/history"))
    assert "Alerts" not in text_of(login("lena").get("/tasks"))  # addressed to managers


def test_the_case_list_filters_by_the_incident_types_of_the_database(env, login):
    open_sample_case(env, "REVP-030")
    with env.uow() as session:
        ada = env.user(session, "ada")
        vocab.update_term(session, ada, "incident_type", "interrogation", active=False)
        vocab.add_term(session, ada, "incident_type", "travel_ban", {"en": "Travel ban", "ru": "Запрет на выезд"})
    html = text_of(login("lena").get("/cases"))
    select_html = re.search(r'<select[^>]*id="f-incident_type".*?</select>', html, flags=re.S).group(0)
    assert '<option value="travel_ban">Travel ban</option>' in select_html
    assert 'value="interrogation"' not in select_html
    assert '<option value="detention_at_rally">Detention at a rally</option>' in select_html
    assert "REVP-030" in text_of(login("lena").get("/cases?incident_type=detention_at_rally"))
