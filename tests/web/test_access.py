"""Route by role: every route declares who may reach it, and the declarations are the ones intended.

The walk over ``app.url_map`` fails for a route without a rule; the table below is written out by hand,
so widening a page to another role (or adding a page) is a deliberate change to this file too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.helpers import open_sample_case, task
from tests.second_factor import pass_second_factor
from tests.web.conftest import PASSWORD, csrf_token
from web import PUBLIC_ENDPOINTS, create_app
from web.access import PUBLIC, rule_of

INTAKE, LEGAL, MANAGER, ADMIN = "intake", "legal", "manager", "admin"
ROLES = (INTAKE, LEGAL, MANAGER, ADMIN)
EVERYONE = frozenset(ROLES)
CASEWORK = frozenset({INTAKE, LEGAL, MANAGER})
ADMINS = frozenset({ADMIN})
SIGNED_IN_AS = {INTAKE: "ina", LEGAL: "lena", MANAGER: "mara", ADMIN: "ada"}

# Who may reach each page (every route outside /api/). Admins manage accounts and do no casework.
PAGE_ACCESS: dict[str, frozenset[str]] = {
    "auth.login": PUBLIC,
    "auth.logout": EVERYONE,
    "auth.set_language": EVERYONE,
    "inbox.index": EVERYONE,
    "inbox.my_tasks": EVERYONE,
    "inbox.claim": CASEWORK,
    "inbox.release": CASEWORK,
    "inbox.assign": frozenset({MANAGER}),
    "inbox.find": CASEWORK,
    "cases.cases": CASEWORK,
    "cases.case": CASEWORK,
    "cases.history": CASEWORK,
    "intake.new_appeal": frozenset({INTAKE}),
    "intake.edit_person": frozenset({INTAKE}),
    "intake.edit_facts": frozenset({INTAKE, LEGAL}),
    "tasks.complete": CASEWORK,
    "consent.withdraw": CASEWORK,
    "consent.update": frozenset({INTAKE, LEGAL}),
    "consent.form_to_sign": frozenset({INTAKE}),
    "consent.inline_document": frozenset({INTAKE, LEGAL}),
    "consent.queue": frozenset({INTAKE}),
    "consent.verify": frozenset({INTAKE}),
    "consent.request_missing": frozenset({INTAKE}),
    "consent.job": frozenset({INTAKE}),
    "documents.upload": frozenset({INTAKE, LEGAL}),
    "documents.download": frozenset({INTAKE, LEGAL}),
    "episodes.index": frozenset({INTAKE, LEGAL, MANAGER}),
    "episodes.upload": frozenset({INTAKE, MANAGER}),
    "episodes.edit": frozenset({INTAKE, MANAGER}),
    "review.update_facts": frozenset({LEGAL}),
    "facts.person": frozenset({INTAKE, LEGAL}),
    "facts.not_known": frozenset({INTAKE, LEGAL}),
    "facts.add": frozenset({INTAKE, LEGAL}),
    "facts.update": frozenset({INTAKE, LEGAL}),
    "facts.remove": frozenset({INTAKE, LEGAL}),
    "submissions.filing_version": CASEWORK,  # managers: collective complaints only (checked by the service)
    "submissions.filing_bundle": frozenset({INTAKE, LEGAL}),
    "submissions.add_response": frozenset({INTAKE, LEGAL}),
    "submissions.upload_version": frozenset({LEGAL}),  # the lawyer's final word
    "submissions.change_language": frozenset({LEGAL}),
    "deadlines.close": frozenset({LEGAL, MANAGER}),
    "collective.index": CASEWORK,
    "collective.new": frozenset({LEGAL}),
    "collective.show": CASEWORK,
    "collective.narrative": frozenset({LEGAL}),
    # The process diagram of a case or a complaint and where it stands: reached like the page that shows it.
    "position.case_diagram": CASEWORK,
    "position.case_position": CASEWORK,
    "position.case_filing_position": CASEWORK,
    "position.collective_diagram": CASEWORK,
    "position.collective_position": CASEWORK,
    "position.collective_filing_position": CASEWORK,
    "admin.users": ADMINS,
    "admin.create_user": ADMINS,
    "admin.change_role": ADMINS,
    "admin.set_active": ADMINS,
    "tokens.own_tokens": EVERYONE,
    "tokens.create": EVERYONE,
    "tokens.revoke": EVERYONE,
    "tokens.user_tokens": ADMINS,
    "tokens.admin_revoke": ADMINS,
    "admin.change_email": ADMINS,
    "admin.reset_user_password": ADMINS,
    "admin.end_user_sessions": ADMINS,
    "catalogue.bodies": ADMINS,
    "catalogue.body": ADMINS,
    "catalogue.save_body": ADMINS,
    "catalogue.vocabularies": ADMINS,
    "catalogue.vocabulary": ADMINS,
    "catalogue.add_term": ADMINS,
    "catalogue.update_term": ADMINS,
    "catalogue.set_term_active": ADMINS,
    "organisation.show": ADMINS,  # the organisation's profile (filings' submitter)
    "organisation.save": ADMINS,
    "repair.errors": ADMINS,  # process instances in error: their errors may quote case data
    "repair.instance": ADMINS,
    "repair.retry": ADMINS,
    "repair.reset": ADMINS,
    "processes.index": ADMINS,  # process versions: upload, diagram, activation
    "processes.upload": ADMINS,
    "processes.version": ADMINS,
    "processes.bpmn": ADMINS,
    "processes.activate": ADMINS,
    "deadlines.board": frozenset({LEGAL, MANAGER}),
    "deadlines.listing": frozenset({LEGAL, MANAGER}),
    "deadlines.statistics": frozenset({MANAGER}),
    "deadlines.statistics_csv": frozenset({MANAGER}),
    "deadlines.calendar": EVERYONE,
    "deadlines.issue_link": EVERYONE,
    "deadlines.revoke_link": EVERYONE,
    "deadlines.feed": PUBLIC,  # calendar applications cannot sign in: the secret in the URL is the credential
    "account.account": EVERYONE,  # each user's own language and time zone
    "account.save": EVERYONE,
    "account.password": EVERYONE,  # each user's own password
    "account.change_password": EVERYONE,
    "account.end_sessions": EVERYONE,  # "sign out everywhere" for oneself
    # The second factor: the code and the enrolment at sign-in come before the session (a pending state that
    # holds no privilege); each user sets up their own; admins reset a lost one.
    "second_factor.code": PUBLIC,
    "second_factor.enrol_at_sign_in": PUBLIC,
    "second_factor.begin": EVERYONE,
    "second_factor.enrol": EVERYONE,
    "second_factor.regenerate": EVERYONE,
    "second_factor.disable": EVERYONE,
    "second_factor.reset": ADMINS,
    "security_keys.registration_options": EVERYONE,
    "security_keys.add": EVERYONE,
    "security_keys.remove": EVERYONE,
    "security_keys.authentication_options": PUBLIC,
    "security_keys.authenticate": PUBLIC,
    "bulk.review": frozenset({LEGAL}),
    "bulk.approve": frozenset({MANAGER}),
    "bulk.complete": CASEWORK,  # the lane of each task is checked per item, as for one completion
    "bulk.job": CASEWORK,  # its creator, or a manager (checked by the service)
    "bulk.job_progress": CASEWORK,
    "imports.upload": frozenset({INTAKE, MANAGER}),
    "imports.preview": frozenset({INTAKE, MANAGER}),
    "imports.confirm": frozenset({INTAKE, MANAGER}),
    "imports.cancel": frozenset({INTAKE, MANAGER}),
    "imports.job": frozenset({INTAKE, MANAGER}),
    "imports.job_progress": frozenset({INTAKE, MANAGER}),
    "imports.job_report": frozenset({INTAKE, MANAGER}),
    "imports.template_csv": frozenset({INTAKE, MANAGER}),
    "imports.template_xlsx": frozenset({INTAKE, MANAGER}),
    "process_migration.plan": ADMINS,  # the dry run of moving running cases to the active version
    "process_migration.migrate": ADMINS,
}
# The answer to an allowed GET (a redirect where the page is only a way to another one).
ALLOWED_STATUS = {"inbox.index": 302, "tasks.complete": 302, "catalogue.vocabularies": 302,
                  # The sample case has no filing yet and there is no collective complaint: past the access
                  # check, an allowed role finds nothing.
                  "submissions.filing_version": 404, "submissions.filing_bundle": 404, "collective.show": 404,
                  "bulk.job": 404, "bulk.job_progress": 404, "episodes.edit": 404,
                  "bulk.complete": 400,  # it asks which kind of task
                  "consent.job": 404,
                  # Nothing uploaded yet: the preview sends back to the upload; there is no import job 1.
                  "second_factor.enrol": 302,  # no enrolment begun: back to /account
                  "imports.preview": 303, "imports.job": 404, "imports.job_progress": 404, "imports.job_report": 404,
                  "position.case_filing_position": 404, "position.collective_diagram": 404,
                  "position.collective_position": 404, "position.collective_filing_position": 404}


def rules_of(app: Flask) -> Iterator[Rule]:
    yield from (r for r in app.url_map.iter_rules() if r.endpoint != "static")


def undeclared(app: Flask) -> list[str]:
    """Routes nobody declared a rule for: each is refused to everyone, and each fails this suite."""
    return sorted(r.rule for r in rules_of(app)
                  if r.endpoint not in PUBLIC_ENDPOINTS and rule_of(app.view_functions[r.endpoint]) is None)


def is_api(rule: Rule) -> bool:
    return rule.rule.startswith("/api/")


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def url(app: Flask, rule: Rule, values: dict[str, str] | None = None) -> str:
    """The rule's path with its parameters filled from ``values`` by name, else with "1" (fits any converter)."""
    filled = {name: (values or {}).get(name, "1") for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, filled, method=methods(rule)[0])


# -- every route declares its rule -----------------------------------------------------------------------

def test_every_route_declares_who_may_reach_it(app):
    assert undeclared(app) == []


def test_a_route_without_a_declaration_is_reported_and_refused(env, login, clock):
    app = create_app(env.settings, TESTING=True, PETITIO_CLOCK=clock)
    app.add_url_rule("/forgotten", "forgotten", lambda: "case data")
    assert undeclared(app) == ["/forgotten"]
    client = app.test_client()
    assert client.get("/forgotten").status_code == 403  # fail closed, even before asking who you are
    page = client.get("/login")
    pass_second_factor(client, client.post("/login", data={"username": "ada", "password": PASSWORD,
                                                           "csrf_token": csrf_token(page.get_data(as_text=True))}),
                       clock)
    assert client.get("/tasks").status_code == 200  # signed in...
    assert client.get("/forgotten").status_code == 403  # ...and still refused


def test_the_declared_page_rules_are_the_intended_ones(app):
    declared = {r.endpoint: rule_of(app.view_functions[r.endpoint]) for r in rules_of(app) if not is_api(r)}
    assert declared == PAGE_ACCESS


# -- anonymous visitors ----------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in_and_api_callers_get_401(app, staff):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    checked_pages = checked_api = 0
    for rule in rules_of(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule_of(app.view_functions[rule.endpoint]) == PUBLIC:
            continue
        path = url(app, rule)
        for method in methods(rule):
            if is_api(rule):
                response = client.open(path, method=method)
                assert response.status_code == 401, (method, path)
                assert response.is_json and response.get_json()["error"] == "unauthorized", (method, path)
                checked_api += 1
            else:
                data = {"csrf_token": token} if method != "GET" else None
                response = client.open(path, method=method, data=data)
                assert response.status_code == 302, (method, path)
                assert response.headers["Location"].startswith("/login?next="), (method, path)
                checked_pages += 1
    assert checked_pages >= len(PAGE_ACCESS) - 1 and checked_api >= 1


# -- each role, each page --------------------------------------------------------------------------------

@pytest.fixture
def sample(env, staff) -> dict[str, str]:  # type: ignore[no-untyped-def]
    open_sample_case(env, "APL-900")
    return {"ref": "APL-900", "task_id": task(env, "APL-900", "verify_consent").id, "username": "ivan",
            "form": "form_of_appeal", "code": "un_hrc", "vocabulary": "incident_type",
            "segment": "perpetrators", "process_id": "case"}


def test_each_role_reaches_exactly_the_pages_declared_for_it(app, env, login, sample):
    gets = [r for r in rules_of(app) if not is_api(r) and "GET" in methods(r)
            and rule_of(app.view_functions[r.endpoint]) != PUBLIC]
    # Public posts (the security key's sign-in steps) answer anyone, by what they hold: not a role's matter.
    posts = [r for r in rules_of(app) if not is_api(r) and "GET" not in methods(r)
             and rule_of(app.view_functions[r.endpoint]) != PUBLIC]
    assert {r.endpoint for r in gets} >= {"inbox.my_tasks", "cases.cases", "cases.case", "admin.users"}
    for role in ROLES:
        client = login(SIGNED_IN_AS[role])
        token = csrf_token(client.get("/tasks").get_data(as_text=True))
        for rule in gets:
            allowed = role in PAGE_ACCESS[rule.endpoint]
            expected = ALLOWED_STATUS.get(rule.endpoint, 200) if allowed else 403
            response = client.get(url(app, rule, sample))
            assert response.status_code == expected, (role, rule.rule)
        for rule in posts:  # what a role may not do is refused before anything runs
            if role not in PAGE_ACCESS[rule.endpoint]:
                response = client.post(url(app, rule, sample), data={"csrf_token": token, "role": "admin"})
                assert response.status_code == 403, (role, rule.rule)
    assert task(env, "APL-900", "verify_consent").id == sample["task_id"]  # nothing moved
    with env.uow() as session:
        assert env.user(session, "ada").role == ADMIN and env.user(session, "ivan").active

