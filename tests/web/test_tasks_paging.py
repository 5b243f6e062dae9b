"""My tasks at its default page size (``paging.DEFAULT_PER_PAGE``), SQLite and PostgreSQL: a legal officer with
more ready tasks than one page sees exactly one page, the total and a link to the next; the next page holds the
rest, none twice, even when the tasks tie on every field the queue sorts by; the API pages the same way."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import inspect, select

from tests.helpers import do, open_sample_case, task
from tests.web.test_queue_pages import text_of
from workflow.models import HumanTask
from workflow.paging import DEFAULT_PER_PAGE

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
MORE = 7  # tasks beyond the first page


def task_ids_on(html: str) -> list[str]:
    return re.findall(r'name="task_id" value="([^"]+)"', html)


def ready_legal_tasks(env, count: int) -> set[str]:
    """One case's real legal review, and copies of its inbox row up to ``count``, all due and created at the
    same moment (as tasks created by one batch can be): only the task id tells them apart."""
    open_sample_case(env, "P-1")
    do(env, "P-1", "verify_consent", "ina", VERIFIED)
    real = task(env, "P-1", "legal_review")
    with env.uow() as session:
        row = session.get(HumanTask, real.id)
        row.due_at = row.due_at or row.created_at + timedelta(days=30)
        columns = {attr.key: getattr(row, attr.key) for attr in inspect(HumanTask).column_attrs}
        session.add_all(HumanTask(**{**columns, "id": f"00000000-0000-4000-8000-{n:012d}"}) for n in range(count - 1))
    with env.uow() as session:
        return set(session.scalars(select(HumanTask.id).where(HumanTask.state == "ready", HumanTask.lane == "legal")))


def test_a_long_queue_shows_one_page_at_a_time(env, login):
    expected = ready_legal_tasks(env, DEFAULT_PER_PAGE + MORE)
    assert len(expected) == DEFAULT_PER_PAGE + MORE
    lena = login("lena")
    first = text_of(lena.get("/tasks"))
    on_first = task_ids_on(first)
    assert len(on_first) == DEFAULT_PER_PAGE
    assert f"{DEFAULT_PER_PAGE + MORE} tasks" in first and "page 1 of 2" in first
    assert 'href="/tasks?page=2"' in first
    second = text_of(lena.get("/tasks?page=2"))
    on_second = task_ids_on(second)
    assert len(on_second) == MORE and "page 2 of 2" in second
    assert set(on_first) | set(on_second) == expected  # none twice, none left out
    assert task_ids_on(text_of(lena.get("/tasks?page=3"))) == []  # past the end: an empty page, not an error

    # The filters stay in the page links.
    filtered = text_of(lena.get("/tasks?task=legal_review"))
    assert len(task_ids_on(filtered)) == DEFAULT_PER_PAGE
    assert re.search(r'href="/tasks\?(task=legal_review&amp;page=2|page=2&amp;task=legal_review)"', filtered)


def test_the_api_pages_the_queue_the_same_way(env, token, app):
    expected = ready_legal_tasks(env, DEFAULT_PER_PAGE + MORE)
    client, headers = app.test_client(), token("lena")
    first = client.get("/api/v1/tasks", headers=headers).get_json()
    second = client.get("/api/v1/tasks?page=2", headers=headers).get_json()
    assert first["total"] == second["total"] == DEFAULT_PER_PAGE + MORE
    assert first["counts"] == {"legal_review": DEFAULT_PER_PAGE + MORE}
    assert len(first["items"]) == DEFAULT_PER_PAGE and len(second["items"]) == MORE
    assert {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]} == expected
