"""Integers from outside are bounded (issue 14 item 7): a number no row id can be answers 4xx, never a 500.

The routes are read from the app's URL map, so a route added later is checked too. Each runs on SQLite
(where the driver refuses a Python int over 64 bits) and PostgreSQL (where the INTEGER columns stop at 2**31 - 1).
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from tests.helpers import open_sample_case
from web.access import rule_of
from workflow.models import MAX_ID

REF = "APL-EDGE"
# Just past PostgreSQL's INTEGER, just past 64 bits, the reproduction's number, and one Python will not read.
HUGE = [str(MAX_ID + 1), str(2**63), "51354702764569198592", "9" * 5000]
# Every integer a query string carries somewhere in the app (pages and API).
QUERY_INTEGERS = ["page", "per_page", "job", "assignee", "version"]
ARGUMENT = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def _path(rule, values: dict[str, str]) -> str:
    return ARGUMENT.sub(lambda m: values.get(m.group(1), "x"), rule.rule)


def _fillers(app) -> dict[str, str]:
    """Values for the other arguments: a real case, so that a route gets as far as its integer."""
    return {"ref": REF, "segment": "incidents", "code": "x", "username": "ada"}


USER_OF_ROLE = {"admin": "ada", "manager": "mara", "legal": "lena", "intake": "ina"}


@pytest.fixture
def caller(app, login, api):
    """caller(rule) -> call(method, path): as the admin where the route lets admins in, else as a role it lets in
    (so that the request gets past the role check to the integer), by page or by API token."""
    clients = {}

    def for_rule(rule):
        allowed = rule_of(app.view_functions[rule.endpoint]) or frozenset()
        user = next((USER_OF_ROLE[r] for r in USER_OF_ROLE if r in allowed), "ada")
        if rule.rule.startswith("/api/"):
            return lambda method, path: api(method, path, user, json={} if method != "GET" else None)
        if user not in clients:
            clients[user] = login(user)
        return lambda method, path: clients[user].open(path, method=method)

    return for_rule


def test_every_int_in_a_path_is_bounded(app, env, staff, caller) -> None:
    open_sample_case(env, REF)
    fillers = _fillers(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not ints:
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            for huge in HUGE:
                path = _path(rule, {**fillers, **dict.fromkeys(ints, huge)})
                response = caller(rule)(method, path)
                # 404; or 405 where werkzeug's matcher, the converter having refused the number, finds the path
                # only among the rules of the other methods at that path (a DELETE and a PATCH of one row).
                assert response.status_code in (404, 405), f"{method} {path[:120]}: {response.status_code}"
                checked += 1
    assert checked >= 37 * len(HUGE), checked  # every <int:...> route there was when this test was written


def test_every_int_in_a_query_is_bounded(app, env, staff, caller) -> None:
    open_sample_case(env, REF)
    fillers = _fillers(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        base = _path(rule, {**fillers, **{n: "1" for n, c in rule._converters.items()
                                          if isinstance(c, IntegerConverter)}})
        for name in QUERY_INTEGERS:
            for huge in HUGE[:3]:
                path = f"{base}?{name}={huge}"
                response = caller(rule)("GET", path)
                assert response.status_code < 500, f"GET {path}: {response.status_code}"
                checked += 1
    assert checked > 100


def test_deadline_board_officer_key_and_collective_job_are_bounded(env, staff, login) -> None:
    manager, legal = login("mara"), login("lena")
    for huge in HUGE:
        listing = manager.get(f"/dashboard/deadlines?status=overdue&by=officer&key={huge}")
        assert listing.status_code == 200
        assert manager.get(f"/dashboard/deadlines?page={huge}").status_code == 200  # this list reads leniently
        assert legal.get(f"/collective/new?job={huge}").status_code == 404
    assert legal.get("/tasks?page=\u00b2").status_code == 400  # a digit to Python, not to int()


def test_integers_in_json_bodies_are_bounded(env, staff, api) -> None:
    open_sample_case(env, REF)
    for huge in HUGE[:3]:
        arrest = api("POST", f"/api/v1/cases/{REF}/arrests", "lena", json={"incident_id": int(huge)})
        assert arrest.status_code == 422, arrest.get_json()
        assert "incident_id" in arrest.get_json()["errors"]
        tasks = api("GET", f"/api/v1/tasks?assignee={huge}", "lena")
        assert tasks.status_code == 422, tasks.get_json()
        assert api("GET", f"/api/v1/cases?page={huge}", "lena").status_code == 422
