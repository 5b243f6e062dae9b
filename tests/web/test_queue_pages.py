"""My tasks as a work queue (web/inbox), the search box, "Complete and next", and the queue in the API."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from tests.helpers import do, expire_timers, open_sample_case, task
from tests.web.conftest import csrf_token
from workflow.models import AuditEvent, HumanTask

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def refs_on(html: str) -> list[str]:
    """The case references of the queue's rows, in order."""
    return re.findall(r'<a href="/cases/(Q-\d+)[?"#]', html.split("<tbody>", 1)[-1])


def row_of(html: str, ref: str) -> str:
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html.split("<tbody>", 1)[-1], flags=re.S)
    return next(r for r in rows if f"/cases/{ref}" in r)


@pytest.fixture
def queue(env, staff):
    """Q-1 detained (overdue), Q-2 in Astana, Q-3 in Almaty: three consent checks for intake; Q-4 at review."""
    open_sample_case(env, "Q-1", detained_now=True)
    open_sample_case(env, "Q-2", city="Astana")
    open_sample_case(env, "Q-3")
    open_sample_case(env, "Q-4")
    expire_timers(env, "Q-1")
    do(env, "Q-4", "verify_consent", "ina", VERIFIED)
    return env


def test_my_tasks_pages_filters_and_counts(queue, login):
    ina = login("ina")
    html = text_of(ina.get("/tasks"))
    assert refs_on(html) == ["Q-1", "Q-2", "Q-3"]
    assert re.search(r"Verify consent <span class=\"count\">3</span>", html)
    row = row_of(html, "Q-1")
    assert 'class="overdue"' in row and ">urgent<" in row and ">detained<" in row
    assert "Aigerim" not in html  # no names in the queue
    first = text_of(ina.get("/tasks?per_page=2"))
    assert refs_on(first) == ["Q-1", "Q-2"] and 'href="/tasks?per_page=2&amp;page=2"' in first.replace(
        "page=2&amp;per_page=2", "per_page=2&amp;page=2")
    assert refs_on(text_of(ina.get("/tasks?per_page=2&page=2"))) == ["Q-3"]
    assert refs_on(text_of(ina.get("/tasks?city=Astana"))) == ["Q-2"]
    assert refs_on(text_of(ina.get("/tasks?urgent=true"))) == ["Q-1"]
    assert refs_on(text_of(ina.get("/tasks?overdue=false&task=verify_consent"))) == ["Q-2", "Q-3"]
    assert refs_on(text_of(ina.get("/tasks?episode=rally_2022&urgent=false"))) == ["Q-2", "Q-3"]
    assert "No task matches these filters." in text_of(ina.get("/tasks?task=legal_review"))
    # The queue's links carry its filter to the case page, for "Complete and next".
    assert "/cases/Q-2?queue_city=Astana#task-" in text_of(ina.get("/tasks?city=Astana"))


@pytest.mark.parametrize("query", ["overdue=banana", "page=-1", "page=0", "page=x", "assignee=99999999999999",
                                   "assignee=-3", "urgent=maybe", "per_page=100000"])
def test_bad_filter_values_are_a_400(queue, login, query):
    response = login("ina").get(f"/tasks?{query}")
    assert response.status_code == 400


def test_bad_values_on_the_case_list_and_the_api(queue, login, api):
    assert login("ina").get("/cases?page=-1").status_code == 400
    for query in ("overdue=banana", "page=-1", "assignee=99999999999999", "colour=red"):
        response = api("GET", f"/api/v1/tasks?{query}", "ina")
        assert response.status_code == 422, query
        assert response.get_json()["error"] == "invalid"


def test_claim_and_release_from_the_page(queue, login):
    ina, ivan = login("ina"), login("ivan")
    q2 = task(queue, "Q-2", "verify_consent")
    token = csrf_token(text_of(ina.get("/tasks")))
    response = ina.post(f"/tasks/{q2.id}/claim", data={"csrf_token": token, "next": "/tasks?city=Astana"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/tasks?city=Astana")
    row = row_of(text_of(ivan.get("/tasks")), "Q-2")
    assert '<span class="assignee">Ina</span>' in row and "Claim" not in row
    # Someone else's task: the case page says who holds it and offers no form; completing it anyway is a 409.
    case_page = text_of(ivan.get("/cases/Q-2"))
    assert "Ina holds this task" in case_page
    refused = ivan.post(f"/tasks/{q2.id}", data={"csrf_token": csrf_token(case_page),
                                                "form_of_appeal_verified": "on", "power_of_attorney_verified": "on"})
    assert refused.status_code == 409 and "Ina holds this task" in refused.get_data(as_text=True)
    assert ivan.post(f"/tasks/{q2.id}/release", data={"csrf_token": csrf_token(case_page)}).status_code == 403
    mine = text_of(ina.get("/tasks?assignee=" + str(_user_id(queue, "ina"))))
    assert refs_on(mine) == ["Q-2"]
    assert ina.post(f"/tasks/{q2.id}/release", data={"csrf_token": token}).status_code == 303
    with queue.uow() as session:
        assert session.get(HumanTask, q2.id).assignee_id is None
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == q2.id)).all()
        assert actions == ["task_claimed", "task_released"]


def test_a_manager_assigns_from_the_page(queue, login):
    mara = login("mara")
    review = task(queue, "Q-4", "legal_review")
    token = csrf_token(text_of(mara.get("/tasks")))
    leo = _user_id(queue, "leo")
    response = mara.post(f"/tasks/{review.id}/assign", data={"csrf_token": token, f"assignee-{review.id}": leo})
    assert response.status_code == 303
    assert "Held by Leo" in text_of(login("lena").get("/cases/Q-4"))
    assert mara.post(f"/tasks/{review.id}/assign", data={"csrf_token": token, "assignee": "banana"}).status_code == 422
    ina = _user_id(queue, "ina")
    assert mara.post(f"/tasks/{review.id}/assign", data={"csrf_token": token, "assignee": ina}).status_code == 422
    lena = login("lena")
    lena_token = csrf_token(text_of(lena.get("/tasks")))
    assert lena.post(f"/tasks/{review.id}/assign", data={"csrf_token": lena_token, "assignee": leo}).status_code == 403


def test_complete_and_next_stays_in_the_filtered_queue(queue, login):
    ina = login("ina")
    q2, q3 = task(queue, "Q-2", "verify_consent"), task(queue, "Q-3", "verify_consent")
    page = text_of(ina.get("/cases/Q-2?queue_overdue=false"))
    assert 'name="queue_overdue" value="False"' in page or 'name="queue_overdue" value="false"' in page.lower()
    assert 'accesskey="n"' in page and "Alt+N" in page
    form = {"csrf_token": csrf_token(page), "form_of_appeal_verified": "on", "power_of_attorney_verified": "on",
            "queue_overdue": "false", "and_next": "1"}
    response = ina.post(f"/tasks/{q2.id}", data=form)
    # The next consent check that is not overdue: Q-3 (Q-1, overdue, is outside this queue).
    assert response.status_code == 303
    assert re.search(rf"/cases/Q-3\?(.*&)?queue_task=verify_consent.*#task-{q3.id}$", response.headers["Location"])
    assert "queue_overdue=False" in response.headers["Location"] or "queue_overdue=false" in response.headers[
        "Location"]
    response = ina.post(f"/tasks/{q3.id}", data=form)
    assert response.status_code == 303
    assert re.search(r"/tasks\?(.*)task=verify_consent", response.headers["Location"])  # none left: the queue
    assert "No more tasks of this kind in this queue." in text_of(ina.get(response.headers["Location"]))


def test_search_by_reference_and_by_exact_name(queue, login, caplog):
    ina = login("ina")
    token = csrf_token(text_of(ina.get("/tasks")))
    assert 'action="/search"' in text_of(ina.get("/cases"))  # the box is on every page
    response = ina.post("/search", data={"csrf_token": token, "q": "q-2"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/cases/Q-2")
    assert ina.get("/search?q=Q-3").headers["Location"].endswith("/cases/Q-3")
    # A name in an address is not searched: the page finds nothing and reads no identity.
    assert '<a href="/cases/Q-3">' not in text_of(ina.get("/search?q=aigerim+testova+q-3"))
    caplog.set_level(logging.DEBUG)
    html = text_of(ina.post("/search", data={"csrf_token": token, "q": "aigerim testova q-3"}))
    assert '<a href="/cases/Q-3">Q-3</a>' in html and "Q-2" not in html
    assert "Aigerim" not in caplog.text and "aigerim" not in caplog.text
    assert "nobody has exactly this name" in text_of(ina.post("/search", data={"csrf_token": token,
                                                                               "q": "Nobody Here"}))
    with queue.uow() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "identity_search")
                                 .order_by(AuditEvent.id)).all()
        assert [e.object_id for e in events] == ["Q-3", None]
        assert all("testova" not in str(e.data).lower() for e in events)
    # Managers see no names: a name finds nothing for them, and reads nothing.
    mara = login("mara")
    assert "No case has this reference." in text_of(mara.post("/search", data={
        "csrf_token": csrf_token(text_of(mara.get("/tasks"))), "q": "Aigerim Testova Q-3"}))
    assert login("ada").get("/search?q=Q-3").status_code == 403  # admins do no casework


def test_the_api_lists_the_queue_and_claims(queue, api):
    body = api("GET", "/api/v1/tasks?city=Astana", "ina").get_json()
    assert [t["case"] for t in body["items"]] == ["Q-2"] and body["total"] == 1
    assert body["counts"] == {"verify_consent": 1}
    page = api("GET", "/api/v1/tasks?per_page=1&page=2", "ina").get_json()
    assert [t["case"] for t in page["items"]] == ["Q-2"] and page["total"] == 3
    urgent = api("GET", "/api/v1/tasks?urgent=true", "ina").get_json()["items"]
    assert [(t["case"], t["urgent"], t["detained"], t["overdue"]) for t in urgent] == [("Q-1", True, True, True)]
    q2 = task(queue, "Q-2", "verify_consent").id
    claimed = api("POST", f"/api/v1/tasks/{q2}/claim", "ina")
    assert claimed.status_code == 200 and claimed.get_json()["held"] is True
    assert api("POST", f"/api/v1/tasks/{q2}/claim", "ivan").status_code == 409
    refused = api("POST", f"/api/v1/tasks/{q2}/complete", "ivan", json={"data": VERIFIED})
    assert refused.status_code == 409 and "holds this task" in refused.get_json()["errors"]["task"]
    assert api("POST", f"/api/v1/tasks/{q2}/release", "ivan").status_code == 403
    assert api("POST", f"/api/v1/tasks/{q2}/claim", "lena").status_code == 403
    assert api("GET", f"/api/v1/tasks?assignee={_user_id(queue, 'ina')}", "ina").get_json()["total"] == 1
    assert api("POST", f"/api/v1/tasks/{q2}/release", "ina").get_json()["held"] is False
    review = task(queue, "Q-4", "legal_review").id
    assert api("POST", f"/api/v1/tasks/{review}/assign", "mara", json={"assignee": _user_id(queue, "leo")}
               ).get_json()["assignee_id"] == _user_id(queue, "leo")
    assert api("POST", f"/api/v1/tasks/{review}/assign", "mara", json={"assignee": 10**12}).status_code == 422
    assert api("POST", f"/api/v1/tasks/{review}/assign", "lena", json={"assignee": 1}).status_code == 403
    assert api("POST", "/api/v1/tasks/no-such-task/claim", "ina").status_code == 404
    assert api("GET", "/api/v1/tasks", "ada").status_code == 403


def _user_id(env, username: str) -> int:
    with env.uow() as session:
        return env.user(session, username).id


def test_the_case_list_filters_by_body_and_urgency(queue, login, api):
    do(queue, "Q-4", "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"],
                                              "grounds": ["iccpr_21"]})
    ina = login("ina")

    def listed(query: str) -> list[str]:
        return re.findall(r'<a href="/cases/(Q-\d+)">', text_of(ina.get(f"/cases?{query}")))

    assert listed("urgent=true") == ["Q-1"]
    assert listed("urgent=false") == ["Q-2", "Q-3", "Q-4"]
    assert listed("body=un_sp") == ["Q-4"]
    assert listed("body=un_hrc") == []
    assert listed("page=2") == []
    assert [c["ref"] for c in api("GET", "/api/v1/cases?urgent=true", "ina").get_json()["items"]] == ["Q-1"]
    assert [c["ref"] for c in api("GET", "/api/v1/cases?body=un_sp", "ina").get_json()["items"]] == ["Q-4"]
    assert api("GET", "/api/v1/cases?urgent=banana", "ina").status_code == 422
