"""Bulk pages, the API's complete-many and the command line's (SQLite and PostgreSQL): a legal review applied to
many cases from a filter, a bulk approval from the table of reviews, a job over the inline limit left to the worker
with its progress page, results per case with their reasons, and "collective complaint from these cases"."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.helpers import open_sample_case, ready_ids, stage
from tests.web.conftest import csrf_token
from tests.workflow.test_bulk import COLLECTIVE_ONLY, SP_REVIEW, deny_un_sp, open_verified, ready_tasks
from workflow.cli import main
from workflow.models import Job, Review
from workflow.services import bulk, jobs, worker
from workflow.services.queues import TaskFilter


def post_bulk(client, path: str, query: dict, form: list[tuple[str, str]]):
    page = client.get(f"{path}?{urlencode(query, doseq=True)}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    hidden = [(k, str(v)) for k, v in query.items() if k != "task_id"]
    return client.post(path, data=MultiDict([("csrf_token", csrf_token(page.get_data(as_text=True))), *hidden,
                                             *form]))


def test_a_bulk_review_from_a_filter_and_a_bulk_approval_from_the_table(env, login):
    open_verified(env, 6)
    deny_un_sp(env, "BLK-004")
    lena = login("lena")
    page = lena.get("/bulk/review?episode=rally_2022").get_data(as_text=True)
    assert "All 6 tasks matching this filter" in page and page.count('name="task_id"') == 6
    form = [("scope", "all"), ("decision", "approve"), ("bodies", "un_sp"), ("mandates", "assembly"),
            ("grounds", "iccpr_21"), ("notes", "Dispersal.")]
    response = post_bulk(lena, "/bulk/review", {"episode": "rally_2022"}, form)
    assert response.status_code == 303
    result = lena.get(response.headers["Location"]).get_data(as_text=True)
    assert "Refused" in result and "BLK-004" in result and "The complainant excluded this body" in result
    assert "Done" in result and "(5)" in result
    assert ready_ids(env, "BLK-004") == ["legal_review"] and stage(env, "BLK-001") == "approval"

    # The manager's table shows each review with its reviewer; a subset is ticked and approved.
    approvals = ready_tasks(env, "approve_review")
    mara = login("mara")
    table = mara.get(f"/bulk/approve?{urlencode({'task_id': approvals}, doseq=True)}").get_data(as_text=True)
    assert table.count("Lena") >= 5 and "Special Procedures" in table
    response = post_bulk(mara, "/bulk/approve", {"task_id": approvals},
                         [("scope", "selected"), *[("task_id", t) for t in approvals[:3]], ("decision", "approve")])
    assert response.status_code == 303
    assert [stage(env, r) for r in ("BLK-001", "BLK-002", "BLK-003", "BLK-005")] == ["filing"] * 3 + ["approval"]
    # Only its creator or a manager sees a job's page.
    job_path = response.headers["Location"]
    assert login("leo").get(job_path).status_code == 403


def test_a_refused_form_comes_back_with_its_problems_and_nothing_is_created(env, login):
    open_verified(env, 2)
    lena = login("lena")
    response = post_bulk(lena, "/bulk/review", {}, [("scope", "all"), ("decision", "approve"),
                                                    ("bodies", "un_sp")])  # un_sp needs a mandate: per case
    assert response.status_code == 303  # a domain rule is per case: both are refused, each with its reason
    result = lena.get(response.headers["Location"]).get_data(as_text=True)
    assert result.count("Choose at least one Special Procedures mandate") == 2
    response = post_bulk(lena, "/bulk/review", {}, [("scope", "selected")])  # nothing ticked, no decision
    assert response.status_code == 422
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert login("ina").get("/bulk/review").status_code == 403
    assert login("mara").get("/bulk/review").status_code == 403
    assert lena.get("/bulk/approve").status_code == 403


def test_over_the_inline_limit_the_worker_does_the_job_and_the_page_shows_progress(env, login):
    open_verified(env, jobs.INLINE_LIMIT + 2)
    lena = login("lena")
    response = post_bulk(lena, "/bulk/review", {}, [("scope", "all"), *COLLECTIVE_ONLY_FORM])
    assert response.status_code == 303
    job_path = response.headers["Location"]
    page = lena.get(job_path).get_data(as_text=True)
    assert "bulk-progress.js" in page and "0 of 52 done" in page and "Refresh" in page
    progress = lena.get(f"{job_path}/progress").get_json()
    assert (progress["state"], progress["total"], progress["processed"], progress["finished"]) == ("queued", 52, 0,
                                                                                                  False)
    # During the job, on SQLite as on PostgreSQL, the lists still answer.
    assert lena.get("/cases").status_code == 200
    assert worker.tick(env.engine, env.settings).jobs == 1
    assert lena.get(f"{job_path}/progress").get_json()["counts"] == {"done": 52}
    page = lena.get(job_path).get_data(as_text=True)
    assert "Collective complaint from these cases" in page
    # From the result page to the collective complaint form, the 52 cases ticked.
    job_id = int(job_path.rstrip("/").rsplit("/", 1)[-1])
    form = lena.get(f"/collective/new?job={job_id}").get_data(as_text=True)
    assert "52 cases of your selection are ticked below" in form and form.count(" checked>") >= 52


COLLECTIVE_ONLY_FORM = [("decision", "approve"), ("grounds", "iccpr_21")]


def test_the_collective_form_from_case_references_names_those_it_cannot_include(env, login):
    refs = open_verified(env, 3)
    lena = login("lena")
    from tests.helpers import do

    do(env, "BLK-001", "legal_review", "lena", COLLECTIVE_ONLY)
    page = lena.get("/collective/new?" + urlencode({"case": refs}, doseq=True)).get_data(as_text=True)
    assert "1 case of your selection is ticked below" in page
    assert "BLK-002, BLK-003" in page


def test_the_api_completes_many_tasks_with_a_result_per_item(env, api, staff):
    open_verified(env, 3)
    deny_un_sp(env, "BLK-002")
    reviews = ready_tasks(env, "legal_review")
    answer = api("POST", "/api/v1/tasks/complete-many", "lena",
                 json={"task": "legal_review", "task_ids": reviews, "data": SP_REVIEW})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["state"] == "done" and body["counts"] == {"done": 2, "refused": 1}
    refused = [i for i in body["items"] if i["state"] == "refused"]
    assert refused[0]["case"] == "BLK-002" and refused[0]["problems"][0]["code"] == "bodies_blocked"
    assert api("GET", f"/api/v1/jobs/{body['id']}", "lena").get_json()["counts"] == {"done": 2, "refused": 1}
    assert api("GET", f"/api/v1/jobs/{body['id']}", "leo").status_code == 403
    assert api("GET", f"/api/v1/jobs/{body['id']}", "mara").status_code == 200
    # Bad input: a clear 4xx and nothing created.
    for bad in ({"task": "legal_review", "data": {"decision": "maybe"}, "filter": {}},
                {"task": "legal_review", "data": SP_REVIEW, "filter": {"urgent": "perhaps"}},
                {"task": "legal_review", "data": SP_REVIEW, "task_ids": []},
                {"task": "legal_review", "data": SP_REVIEW, "surprise": 1}):
        assert api("POST", "/api/v1/tasks/complete-many", "lena", json=bad).status_code == 422
    assert api("POST", "/api/v1/tasks/complete-many", "ada",
               json={"task": "legal_review", "data": SP_REVIEW, "filter": {}}).status_code == 403
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_the_api_leaves_a_large_job_to_the_worker(env, api, staff):
    open_verified(env, jobs.INLINE_LIMIT + 1)
    answer = api("POST", "/api/v1/tasks/complete-many", "lena",
                 json={"task": "legal_review", "filter": {"episode": "rally_2022"}, "data": COLLECTIVE_ONLY})
    assert answer.status_code == 202 and answer.headers["Location"].endswith(f"/api/v1/jobs/{answer.get_json()['id']}")
    assert answer.get_json()["total"] == 51 and answer.get_json()["items"] == []
    assert api("GET", "/api/v1/cases", "lena").status_code == 200
    worker.tick(env.engine, env.settings)
    done = api("GET", answer.headers["Location"], "lena").get_json()
    assert done["finished"] and done["counts"] == {"done": 51} and len(done["items"]) == 51


def test_the_command_line_completes_many_with_a_dry_run_first(env, staff, tmp_path):
    open_verified(env, 3)
    deny_un_sp(env, "BLK-003")
    data = tmp_path / "review.json"
    data.write_text(json.dumps(SP_REVIEW), encoding="utf-8")
    environ = {"PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url}
    runner = CliRunner()
    args = ["tasks", "complete-many", "--as", "lena", "--task", "legal_review", "--episode", "rally_2022",
            "--data", str(data)]
    dry = runner.invoke(main, [*args, "--dry-run"], env=environ)
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("would complete") == 2 and "BLK-003\twould refuse" in dry.output
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0
    done = runner.invoke(main, args, env=environ)
    assert done.exit_code == 0, done.output
    assert "BLK-001\tdone\tapprove" in done.output and "BLK-003\trefused\tbodies:" in done.output
    assert done.output.strip().endswith("1 refused, 2 done") or "2 done" in done.output
    assert stage(env, "BLK-001") == "approval" and ready_ids(env, "BLK-003") == ["legal_review"]


def test_while_a_bulk_job_writes_the_lists_answer(env, login, api):
    """The runner commits each case on its own, so readers (pages and API) never wait for the whole job."""
    open_verified(env, 60)
    with env.uow() as session:
        job_id = bulk.start(session, env.user(session, "lena"), "legal_review", COLLECTIVE_ONLY,
                            bulk.Selection(filter=TaskFilter())).id
    runner = threading.Thread(target=jobs.run, args=(env.engine, env.settings, job_id))
    lena = login("lena")
    statuses: list[int] = []
    runner.start()
    while runner.is_alive():
        statuses += [lena.get("/cases").status_code, api("GET", "/api/v1/cases", "lena").status_code]
    runner.join()
    assert len(statuses) >= 2 and set(statuses) == {200}
    with env.uow() as session:
        assert session.get(Job, job_id).state == "done"


def test_any_other_kind_of_task_is_completed_many_at_once_from_one_form(env, login):
    open_verified(env, 3)
    lena, mara = login("lena"), login("mara")
    form = [("scope", "all"), ("decision", "approve"), ("bodies", "un_sp"), ("mandates", "assembly"),
            ("grounds", "iccpr_21")]
    assert post_bulk(lena, "/bulk/review", {}, form).status_code == 303
    assert post_bulk(mara, "/bulk/approve", {}, [("scope", "all"), ("decision", "approve")]).status_code == 303
    checks = ready_tasks(env, "check_filing")
    assert len(checks) == 3
    # Every task in her queue is a check: My tasks offers to complete them all without choosing the kind first.
    queue = lena.get("/tasks").get_data(as_text=True)
    assert 'href="/bulk/complete?task=check_filing"' in queue and "Choose a kind of task" not in queue
    assert 'name="task" value="check_filing"' in queue  # the selected ones, too
    page = lena.get("/bulk/complete?task=check_filing").get_data(as_text=True)
    assert page.count('name="task_id"') == 3 and "Special Procedures" in page
    response = post_bulk(lena, "/bulk/complete", {"task": "check_filing"},
                         [("scope", "all"), ("decision", "approve")])
    assert response.status_code == 303
    assert "(3)" in lena.get(response.headers["Location"]).get_data(as_text=True)
    assert ready_tasks(env, "check_filing") == [] and len(ready_tasks(env, "submit_filing")) == 3
    # Recording the submissions is intake's work: a legal officer's queue has none of them, so nothing is done.
    response = post_bulk(lena, "/bulk/complete", {"task": "submit_filing"},
                         [("scope", "all"), ("submitted_on", "2026-12-01"), ("channel", "email")])
    assert response.status_code == 422
    assert len(ready_tasks(env, "submit_filing")) == 3
    ina = login("ina")
    # Two kinds wait for intake (the submissions and a new case's consent): the kind is chosen first.
    open_sample_case(env, "TWO-001")
    queue = ina.get("/tasks").get_data(as_text=True)
    assert "/bulk/complete?task=" not in queue and "Choose a kind of task" in queue
    assert 'href="/bulk/complete?task=submit_filing"' in ina.get("/tasks?task=submit_filing").get_data(as_text=True)
    response = post_bulk(ina, "/bulk/complete", {"task": "submit_filing"},
                         [("scope", "all"), ("submitted_on", "2026-12-01"), ("channel", "email")])
    assert response.status_code == 303 and ready_tasks(env, "submit_filing") == []
    # Only consent checks wait: their queue, not "complete all", is offered (each case's documents in view).
    queue = ina.get("/tasks").get_data(as_text=True)
    assert "/bulk/complete?task=" not in queue and "/consent/queue" in queue
    assert lena.get("/bulk/complete").status_code == 400
    assert lena.get("/bulk/complete?task=legal_review").status_code == 303
    assert login("ada").get("/bulk/complete?task=check_filing").status_code == 403
