"""Collective complaints through the pages (real app, real database, no mocks): the form a legal officer opens one
with, refusals named next to their fields, the complaint's page with its figures and versions, and its process
driven from that page by legal, manager and intake."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import docx
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from filings.pdf import office
from tests.helpers import do, is_a4, letters, open_sample_case, read_pdf, require_office
from tests.web.conftest import csrf_token
from workflow.errors import WorkflowFailed
from workflow.models import Case, CollectiveComplaint, HumanTask
from workflow.runtime.context import document_store
from workflow.services.repair import record_failure

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
COLLECTIVE_ONLY = {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]}
TITLE = "Persecution of a fictional movement"
# Every section written: a complaint with a section still "to be completed" cannot be checked or approved.
NARRATIVE = {"narrative_summary": "Supporters were detained at rallies.", "narrative_requests": "Release them.",
             "narrative_legal_basis": "A court banned the movement.", "narrative_context": "A peaceful movement.",
             "narrative_methods": "Detentions at rallies.", "narrative_patterns": "Interrogations.",
             "narrative_pressure_on_defenders": "Lawyers were warned."}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def cases(env, staff) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Three eligible cases (two cities) and one whose review no manager approved yet."""
    eligible = ["APL-301", "APL-302", "APL-303"]
    for ref, city in zip(eligible, ("Almaty", "Almaty", "Astana"), strict=True):
        open_sample_case(env, ref, city=city)
        do(env, ref, "verify_consent", "ina", VERIFIED)
        do(env, ref, "legal_review", "lena", COLLECTIVE_ONLY)  # collective only: no approval of its own
    open_sample_case(env, "APL-304")
    do(env, "APL-304", "verify_consent", "ina", VERIFIED)
    return {"eligible": eligible, "pending": ["APL-304"]}


def form_data(client: FlaskClient, **overrides) -> dict:  # type: ignore[no-untyped-def]
    token = csrf_token(text_of(client.get("/collective/new")))
    return {"csrf_token": token, "title": TITLE, "body": "un_sp", "language": "en",
            "cases": ["APL-301", "APL-303"], "mandates": ["assembly"], "grounds": ["iccpr_21", "iccpr_19"],
            **NARRATIVE, "officials": "Head of the city police | Police | | ordered the dispersal\n\nCity prosecutor",
            "appeals_received": "", **overrides}


def created(env) -> int:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return session.scalar(select(func.count()).select_from(CollectiveComplaint)) or 0


def ready_task(env, collective_id: int, bpmn_id: str) -> str:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == collective.instance_id,
                                                         HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))


def open_complaint(login, **overrides) -> tuple[FlaskClient, int]:  # type: ignore[no-untyped-def]
    lena = login("lena")
    response = lena.post("/collective/new", data=form_data(lena, **overrides))
    assert response.status_code == 303, text_of(response)[:2000]
    found = re.fullmatch(r"/collective/(\d+)", response.headers["Location"])
    assert found
    return lena, int(found.group(1))


# -- the form ------------------------------------------------------------------------------------------------

def test_the_form_lists_only_eligible_cases_and_localised_choices(env, login, cases):
    page = text_of(login("lena").get("/collective/new"))
    for ref in cases["eligible"]:
        assert f'value="{ref}"' in page
    assert "APL-304" not in page
    assert 'name="all_cases"' in page and "UN Special Procedures" in page
    assert 'name="narrative_pressure_on_defenders"' in page and "position | agency | name | role" in page
    russian = login("lena")
    token = csrf_token(text_of(russian.get("/tasks")))
    russian.post("/account/language", data={"csrf_token": token, "locale": "ru", "next": "/collective/new"})
    assert "Специальные процедуры ООН" in text_of(russian.get("/collective/new"))


def test_a_legal_officer_opens_a_complaint_and_its_page_shows_figures_and_version_1(env, login, cases):
    lena, collective_id = open_complaint(login)
    page = text_of(lena.get(f"/collective/{collective_id}"))
    assert TITLE in page and "version 1 is ready to check" in page
    assert re.search(r'class="figure-cases">2<', page) and re.search(r'class="figure-cities">2<', page)
    # Appeals received, left empty: every case about the same episode, whether or not it may be included.
    assert re.search(r'class="figure-appeals">4<', page)
    assert 'href="/cases/APL-301"' in page and 'href="/cases/APL-303"' in page and "APL-302" not in page
    assert "Head of the city police · Police · ordered the dispersal" in page and "City prosecutor" in page
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        filing_id = collective.filing.id
        assert (collective.mandates, sorted(collective.grounds)) == (["assembly"], ["iccpr_19", "iccpr_21"])
        assert collective.officials[1] == {"position": "City prosecutor", "agency": "", "name": "", "role": ""}
    link = f"/filings/{filing_id}/versions/1"
    assert f'href="{link}"' in page and ("format=pdf" in page) is (office() is not None)
    response = lena.get(link)
    assert response.status_code == 200 and response.mimetype == DOCX
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    assert TITLE in text
    history = text_of(lena.get(f"/collective/{collective_id}"))
    assert "Filing document generated" in history and "filing, version 1 (DOCX)" in history

    listing = text_of(login("mara").get("/collective"))
    assert TITLE in listing and f'href="/collective/{collective_id}"' in listing and "Draft" in listing


def test_the_complaint_downloads_as_a_pdf_that_reads_back(env, login, cases):
    require_office()
    lena, collective_id = open_complaint(login)
    with env.uow() as session:
        filing_id = session.get(CollectiveComplaint, collective_id).filing.id
    link = f"/filings/{filing_id}/versions/1?format=pdf"
    assert link in text_of(lena.get(f"/collective/{collective_id}")).replace("&amp;", "&")
    for user in ("lena", "mara"):  # the legal officer who checks it and the manager who approves it
        response = login(user).get(link)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        sizes, text = read_pdf(response.data)
        assert sizes and all(is_a4(size) for size in sizes) and letters(TITLE) in letters(text)


def test_include_every_listed_case(env, login, cases):
    _lena, collective_id = open_complaint(login, cases=[], all_cases="y")
    with env.uow() as session:
        assert [c.ref for c in session.get(CollectiveComplaint, collective_id).cases] == cases["eligible"]


def test_refused_cases_are_named_and_the_input_is_kept(env, login, cases):
    lena = login("lena")
    response = lena.post("/collective/new", data=form_data(lena, cases=["APL-301", "APL-304", "APL-999"]))
    assert response.status_code == 422
    page = text_of(response)
    errors = page[page.index("These cases cannot be included"):]
    errors = errors[:errors.index("</ul>")]
    assert "APL-304" in errors and "APL-999" in errors and "APL-301" not in errors
    assert "No approved review: APL-304" in errors and "Unknown: APL-999" in errors
    assert f'value="{TITLE}"' in page and "Supporters were detained at rallies." in page
    assert re.search(r'value="APL-301" checked', page)
    assert created(env) == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "Is required."),
    ({"body": "un_wgad"}, "Mandates apply only to the UN Special Procedures (un_sp)."),
    ({"officials": "a | b | c | d | e"}, "Line 1 has more than four parts"),
    ({"officials": "Head | Police\n | Police"}, "Line 2: give the official&#39;s position."),
    ({"appeals_received": "many"}, "Must be a whole number."),
    ({"cases": []}, "Give the references of the cases to include."),
    ({"language": "xx"}, "No collective complaint template in xx"),
])
def test_field_errors_are_shown_next_to_their_fields(env, login, cases, overrides, message):
    lena = login("lena")
    response = lena.post("/collective/new", data=form_data(lena, **overrides))
    assert response.status_code == 422
    assert message in text_of(response)
    assert created(env) == 0


@pytest.mark.parametrize("user", ["ina", "mara"])
def test_only_legal_officers_open_complaints(env, login, cases, user):
    client = login(user)
    assert client.get("/collective/new").status_code == 403
    token = csrf_token(text_of(client.get("/tasks")))
    assert client.post("/collective/new", data={"csrf_token": token, "title": TITLE, "body": "un_sp",
                                                "language": "en", "cases": ["APL-301"]}).status_code == 403
    assert "Open a collective complaint" not in text_of(client.get("/collective"))
    assert created(env) == 0


# -- its process, from its page --------------------------------------------------------------------------------

def complete(client: FlaskClient, collective_id: int, task_id: str, data: dict):  # type: ignore[no-untyped-def]
    page = text_of(client.get(f"/collective/{collective_id}"))
    assert f'action="/tasks/{task_id}"' in page  # the form is offered on the complaint's page
    return client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(page), **data})


def test_legal_checks_the_manager_approves_and_intake_records_the_submission(env, login, cases):
    lena, collective_id = open_complaint(login)
    home = f"/collective/{collective_id}"
    check = ready_task(env, collective_id, "check_filing")
    assert lena.get(f"/tasks/{check}").headers["Location"] == f"{home}#task-{check}"
    leo = login("leo")
    inbox = text_of(leo.get("/tasks"))
    assert f'href="{home}#task-{check}">{TITLE}</a>' in inbox  # the complaint's title, not a case
    response = complete(leo, collective_id, check, {"decision": "approve"})
    assert (response.status_code, response.headers["Location"]) == (303, home)

    mara = login("mara")
    approve = ready_task(env, collective_id, "approve_filing")
    assert f'href="{home}#task-{approve}">{TITLE}</a>' in text_of(mara.get("/tasks"))
    page = text_of(mara.get(home))
    assert "version 1" in page and "frozen" not in page  # frozen once the manager approved it
    link = re.findall(r'href="(/filings/[^"]+)"', page)[0]  # the manager reads what they approve
    download = mara.get(link)
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "This task is for the Manager team" in text_of(lena.get(home))
    assert complete(mara, collective_id, approve, {"decision": "approve"}).status_code == 303

    ina = login("ina")
    page = text_of(ina.get(home))
    assert re.search(r'class="filing-state">Checked<', page) and "frozen" in page
    submit = ready_task(env, collective_id, "submit_filing")
    refused = complete(ina, collective_id, submit, {"channel": "email"})  # no date: refused, shown again
    assert refused.status_code == 422
    assert TITLE in text_of(refused) and "Nothing was saved" in text_of(refused)
    sent = (date.today() - timedelta(days=1)).isoformat()
    response = complete(ina, collective_id, submit, {"submitted_on": sent, "channel": "email",
                                                     "reference": "SP/COL/1"})
    assert (response.status_code, response.headers["Location"]) == (303, home)
    page = text_of(ina.get(home))
    assert re.search(r'class="filing-state">Submitted<', page) and "SP/COL/1" in page
    assert "Filing submitted" in page
    assert "Approve the filing — Approve" in page  # the history names each step and its decision
    assert page.count("Task completed") == 3
    with env.uow() as session:
        assert session.get(CollectiveComplaint, collective_id).filing.state == "submitted"


def test_a_completed_collective_task_answers_409_with_a_way_back(env, login, cases):
    _lena, collective_id = open_complaint(login)
    check = ready_task(env, collective_id, "check_filing")
    leo = login("leo")
    token = csrf_token(text_of(leo.get(f"/collective/{collective_id}")))
    assert leo.post(f"/tasks/{check}", data={"csrf_token": token, "decision": "approve"}).status_code == 303
    again = leo.post(f"/tasks/{check}", data={"csrf_token": token, "decision": "approve"})
    assert again.status_code == 409
    assert f'href="/collective/{collective_id}">Back to the collective complaint' in text_of(again)


def test_an_unknown_complaint_is_404(env, login, cases):
    assert login("ina").get("/collective/999").status_code == 404


# -- sections still to be completed, names cut out ------------------------------------------------------------

def test_a_section_still_to_be_completed_blocks_the_check_until_the_text_is_written(env, login, cases):
    lena, collective_id = open_complaint(login, narrative_patterns="", narrative_context="")
    home = f"/collective/{collective_id}"
    page = text_of(lena.get(home))
    warning = page[page.index('class="flash error unfinished"'):]
    warning = warning[:warning.index("</div>")]
    assert "The movement and why it was banned" in warning and "Patterns" in warning and "Summary" not in warning
    check = ready_task(env, collective_id, "check_filing")
    leo = login("leo")
    refused = complete(leo, collective_id, check, {"decision": "approve"})
    assert refused.status_code == 409
    assert "The movement and why it was banned, Patterns" in text_of(refused)
    assert ready_task(env, collective_id, "check_filing") == check  # nothing moved

    # The legal officer writes the two sections: a new version, and then the check passes.
    token = csrf_token(page)
    written = {**NARRATIVE, "narrative_patterns": "Interrogations about political views."}
    assert lena.post(f"{home}/narrative", data={"csrf_token": token, **written}).status_code == 303
    page = text_of(lena.get(home))
    assert 'class="flash error unfinished"' not in page and "version 2" in page
    assert "Complaint&#39;s text rewritten" in page and "The movement and why it was banned, Patterns" in page
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        assert collective.narrative["patterns"] == "Interrogations about political views."
        assert len(collective.filing.documents) == 2
    response = complete(leo, collective_id, check, {"decision": "approve"})
    assert (response.status_code, response.headers["Location"]) == (303, home)
    # Checked: the text is no longer offered for rewriting, and a post is refused.
    assert f'action="{home}/narrative"' not in text_of(lena.get(home))
    again = lena.post(f"{home}/narrative", data={"csrf_token": token, **NARRATIVE})
    assert again.status_code == 409 and "only while its check is waiting" in text_of(again)


def test_the_text_form_refuses_bad_input_and_other_roles(env, login, cases):
    lena, collective_id = open_complaint(login)
    home = f"/collective/{collective_id}"
    token = csrf_token(text_of(lena.get(home)))
    too_long = lena.post(f"{home}/narrative", data={"csrf_token": token, **NARRATIVE,
                                                    "narrative_methods": "x" * 20001})
    assert too_long.status_code == 422 and "Nothing was saved" in text_of(too_long)
    with env.uow() as session:
        assert len(session.get(CollectiveComplaint, collective_id).filing.documents) == 1
    # A refused task form on the same page leaves the text form showing the text on record.
    check = ready_task(env, collective_id, "check_filing")
    refused = lena.post(f"/tasks/{check}", data={"csrf_token": token, "decision": "nonsense"})
    assert refused.status_code == 422 and "Lawyers were warned.</textarea>" in text_of(refused)
    for user in ("ina", "mara"):
        client = login(user)
        page = text_of(client.get(home))
        assert f'action="{home}/narrative"' not in page
        posted = client.post(f"{home}/narrative", data={"csrf_token": csrf_token(page), **NARRATIVE})
        assert posted.status_code == 403
    assert lena.post("/collective/999/narrative", data={"csrf_token": token, **NARRATIVE}).status_code == 404


def test_a_name_cut_from_the_text_is_told_to_the_legal_officer_without_the_name(env, login, cases):
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-303"))
        case.consent.publish_name = False  # this complainant did not agree to be named in public
        name = case.person.full_name
    lena, collective_id = open_complaint(login, narrative_methods=f"{name} was beaten at the station.")
    page = text_of(lena.get(f"/collective/{collective_id}"))
    warning = page[page.index('class="flash error names-cut"'):]
    warning = warning[:warning.index("</div>")]
    assert "Methods used by law enforcement" in warning and "Summary" not in warning and name not in warning
    with env.uow() as session:
        document = session.get(CollectiveComplaint, collective_id).filing.documents[0]
        content = document_store(env.settings).get(document.storage_key)
    paragraphs = [p.text for p in docx.Document(io.BytesIO(content)).paragraphs]
    assert "Complainant APL-303 was beaten at the station." in paragraphs
    assert not any(name in p for p in paragraphs)


def test_a_stuck_complaint_says_so_without_the_error_and_admins_list_it(env, login, cases):
    """A collective complaint's process marked in error the way the worker marks one (repair.record_failure after
    the failed unit of work was rolled back): its page tells staff which step failed, never the error's text."""
    lena, collective_id = open_complaint(login)
    with env.uow() as session:
        instance_id = session.get(CollectiveComplaint, collective_id).instance_id
        record_failure(session, instance_id, WorkflowFailed("process step failed: secret detail", step="check_filing"))
    html = text_of(lena.get(f"/collective/{collective_id}"))
    assert "This complaint is stuck: the step Check the filing failed on" in html
    assert "The administrators see it on their list of instances in error." in html
    assert "secret detail" not in html
    listing = text_of(login("ada").get("/admin/instances/errors"))
    assert f"Collective complaint {collective_id}" in listing and "Check the filing" in listing
    token = csrf_token(text_of(lena.get("/account")))
    assert lena.post("/account", data={"csrf_token": token, "locale": "ru", "timezone": "UTC"}).status_code == 303
    html = text_of(lena.get(f"/collective/{collective_id}"))
    assert "Жалоба застряла: шаг «Проверить подачу» завершился ошибкой" in html  # the step in the reader's language
