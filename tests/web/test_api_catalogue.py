"""The catalogue and vocabulary routes of the JSON API, over HTTP on a real database (no mocks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from workflow import bodies, vocab
from workflow.models import AuditEvent

Api = Callable[..., TestResponse]
READERS = ("ina", "lena", "mara", "ada")
CASEWORK_USERS = ("ina", "lena", "mara")
BODY_KEYS = {"code", "names", "languages", "channels", "mandates", "communication_types", "required_consent", "rules",
             "response_days", "follow_up_days", "notes", "active", "updated_at"}
TERM_KEYS = {"key", "labels", "extra", "active", "updated_at"}


@pytest.fixture
def api(app, token) -> Api:
    """api("PATCH", path, "ada", json=...) -> the response to a call with that user's bearer token."""
    tokens: dict[str, dict[str, str]] = {}

    def call(method: str, path: str, user: str | None = None, **kwargs) -> TestResponse:
        if user is not None and user not in tokens:
            tokens[user] = token(user)
        return app.test_client().open(path, method=method, headers=tokens.get(user or "", {}), **kwargs)

    return call


def ok(response: TestResponse, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_json()


def error(response: TestResponse, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    body = response.get_json()
    assert set(body) == {"error", "message", "errors"}, body
    assert code is None or body["error"] == code, body
    return body


def stored_body(env, code: str) -> dict:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        body = bodies.get_body(session, code)
        return {name: getattr(body, name) for name in bodies.EDITABLE}


def audit_events(env, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        session.expunge_all()
        return found


# -- access ---------------------------------------------------------------------------------------------

WRITES = [
    ("PATCH", "/api/v1/bodies/un_hrc", {"response_days": 1}),
    ("POST", "/api/v1/vocabularies/incident_type", {"key": "kettling", "labels": {"en": "Kettling"}}),
    ("PATCH", "/api/v1/vocabularies/incident_type/interrogation", {"active": False}),
]
READS = ["/api/v1/bodies", "/api/v1/bodies/un_hrc", "/api/v1/vocabularies/incident_type"]


def test_every_role_reads_only_admins_write_and_strangers_get_401(api, env, staff):
    for path in READS:
        error(api("GET", path), 401, "unauthorized")
        for user in READERS:
            ok(api("GET", path, user))
    for method, path, body in WRITES:
        error(api(method, path, json=body), 401, "unauthorized")
        for user in CASEWORK_USERS:
            error(api(method, path, user, json=body), 403, "forbidden")
    assert stored_body(env, "un_hrc")["response_days"] == 183
    with env.uow() as session:
        assert "interrogation" in vocab.keys(session, "incident_type")
        assert "kettling" not in vocab.keys(session, "incident_type")
    assert audit_events(env, "body_changed") == audit_events(env, "term_added") == []


# -- bodies ---------------------------------------------------------------------------------------------

def test_the_catalogue_as_json(api, env, staff):
    items = ok(api("GET", "/api/v1/bodies", "lena"))["items"]
    assert [b["code"] for b in items] == list(bodies.CODES)
    hrc = next(b for b in items if b["code"] == "un_hrc")
    assert set(hrc) == BODY_KEYS
    assert hrc["names"]["ru"] == "Комитет ООН по правам человека" and hrc["response_days"] == 183
    assert hrc["rules"]["ratione_temporis"] == {"bound_from": {"KZ": "2009-09-30"}}
    assert ok(api("GET", "/api/v1/bodies/un_sp", "ina"))["mandates"] == ["assembly", "expression", "torture",
                                                                          "defenders"]
    error(api("GET", "/api/v1/bodies/nope", "ina"), 404, "not_found")
    error(api("GET", "/api/v1/bodies?active=1", "ina"), 422, "invalid")


def test_an_admin_edits_a_response_window_and_a_russian_name(api, env, staff):
    names = {"en": "UN Human Rights Committee", "ru": "Комитет по правам человека"}
    body = ok(api("PATCH", "/api/v1/bodies/un_hrc", "ada", json={"response_days": 200, "names": names}))
    assert body["response_days"] == 200 and body["names"] == names
    assert ok(api("GET", "/api/v1/bodies/un_hrc", "mara"))["response_days"] == 200
    [event] = audit_events(env, "body_changed")
    assert (event.object_type, event.object_id, event.data["fields"]) == ("body", "un_hrc", ["names", "response_days"])
    assert set(event.data) == {"fields"}  # names, never values (workflow/audit.py)
    with env.uow() as session:
        assert event.actor_id == env.user(session, "ada").id


def test_an_inactive_body_is_listed_only_on_request(api, env, staff):
    ok(api("PATCH", "/api/v1/bodies/ep_peti", "ada", json={"active": False}))
    assert "ep_peti" not in [b["code"] for b in ok(api("GET", "/api/v1/bodies", "ina"))["items"]]
    listed = ok(api("GET", "/api/v1/bodies?include_inactive=true", "ina"))["items"]
    assert next(b for b in listed if b["code"] == "ep_peti")["active"] is False


INVALID_PATCHES = [
    ({"response_days": -5}, "response_days"),
    ({"follow_up_days": 0}, "follow_up_days"),
    ({"languages": ["en", "xx"]}, "languages"),
    ({"languages": []}, "languages"),
    ({"channels": ["fax"]}, "channels"),
    ({"mandates": ["not_a_mandate"]}, "mandates"),
    ({"rules": {"no_such_rule": {}}}, "rules.no_such_rule"),
    ({"rules": {"ratione_temporis": {"bound_from": {"KZ": "2009-02-30"}}}}, "rules.ratione_temporis.bound_from"),
    ({"rules": {"time_bar": {"level": "fatal"}}}, "rules.time_bar.level"),
    ({"rules": {"time_bar": {"years_after_exhaustion": 0}}}, "rules.time_bar.years_after_exhaustion"),
    ({"names": {"ru": "Комитет"}}, "names"),
    ({"names": {"en": "  "}}, "names"),
    # wrong JSON types, refused before the service runs
    ({"response_days": "60"}, "response_days"),
    ({"response_days": 60.5}, "response_days"),
    ({"response_days": True}, "response_days"),
    ({"active": "yes"}, "active"),
    ({"active": 1}, "active"),
    ({"languages": "en"}, "languages"),
    ({"names": {"xx": "Name", "en": "Name"}}, "names"),
    ({"names": ["UN HRC"]}, "names"),
    ({"rules": {"time_bar": 5}}, "rules"),
    ({"notes": None}, "notes"),
    ({"code": "un_x"}, "code"),
]


@pytest.mark.parametrize(("patch", "field"), INVALID_PATCHES, ids=[field for _, field in INVALID_PATCHES])
def test_invalid_patches_are_422_naming_the_field_and_change_nothing(api, env, staff, patch, field):
    before = stored_body(env, "un_hrc")
    errors = error(api("PATCH", "/api/v1/bodies/un_hrc", "ada", json={"response_days": 90, **patch}), 422,
                   "invalid")["errors"]
    assert any(key == field or key.startswith(f"{field}.") for key in errors), errors
    assert stored_body(env, "un_hrc") == before and audit_events(env, "body_changed") == []


def test_patching_an_unknown_body_is_404_and_a_body_that_is_not_json_is_422(api, staff):
    error(api("PATCH", "/api/v1/bodies/nope", "ada", json={"response_days": 10}), 404, "not_found")
    error(api("PATCH", "/api/v1/bodies/un_hrc", "ada", data="response_days=10",
              content_type="application/x-www-form-urlencoded"), 422, "invalid")
    error(api("PATCH", "/api/v1/bodies/un_hrc", "ada", data="{", content_type="application/json"), 422, "invalid")


# -- vocabularies ---------------------------------------------------------------------------------------

TERMS = "/api/v1/vocabularies/incident_type"


def test_terms_as_json(api, env, staff):
    listing = ok(api("GET", TERMS, "ina"))
    assert listing["vocabulary"] == "incident_type"
    assert [t["key"] for t in listing["items"]] == list(vocab.INCIDENT_TYPES)
    psychiatry = next(t for t in listing["items"] if t["key"] == "punitive_psychiatry")
    assert set(psychiatry) == TERM_KEYS and psychiatry["extra"] == {"deprivation_of_liberty": True}
    assert psychiatry["labels"] == {"en": "Punitive psychiatry", "ru": "Карательная психиатрия"}
    grounds = ok(api("GET", "/api/v1/vocabularies/legal_ground", "lena"))["items"]
    assert next(t for t in grounds if t["key"] == "iccpr_21")["extra"] == {"udhr": "20(1)"}
    error(api("GET", "/api/v1/vocabularies/nope", "ina"), 404, "not_found")
    error(api("GET", f"{TERMS}?include_retired=maybe", "ina"), 422, "invalid")


def test_add_relabel_retire_and_restore_a_term(api, env, staff):
    term = ok(api("POST", TERMS, "ada", json={"key": "kettling", "labels": {"en": "Kettling", "ru": "Оцепление"},
                                              "extra": {"deprivation_of_liberty": True}}), 201)
    assert term == {**term, "key": "kettling", "active": True, "extra": {"deprivation_of_liberty": True}}
    relabelled = ok(api("PATCH", f"{TERMS}/kettling", "ada", json={"labels": {"en": "Kettling of protesters",
                                                                              "ru": "Оцепление"}}))
    assert relabelled["labels"]["en"] == "Kettling of protesters"

    assert ok(api("PATCH", f"{TERMS}/kettling", "ada", json={"active": False}))["active"] is False
    with env.uow() as session:
        assert "kettling" not in vocab.keys(session, "incident_type")
    assert "kettling" not in [t["key"] for t in ok(api("GET", TERMS, "ina"))["items"]]
    retired = ok(api("GET", f"{TERMS}?include_retired=true", "ina"))["items"]
    assert next(t for t in retired if t["key"] == "kettling")["active"] is False

    ok(api("PATCH", f"{TERMS}/kettling", "ada", json={"active": True}))
    with env.uow() as session:
        assert "kettling" in vocab.keys(session, "incident_type")

    [added] = audit_events(env, "term_added")
    assert (added.object_type, added.object_id) == ("vocabulary_term", "incident_type:kettling")
    changes = audit_events(env, "term_changed")
    assert [e.data["fields"] for e in changes] == [["labels"], ["active"], ["active"]]
    assert "Kettling" not in str([e.data for e in changes])  # labels are free text: names only
    with env.uow() as session:
        ada = env.user(session, "ada").id
    assert {e.actor_id for e in [added, *changes]} == {ada}


INVALID_TERMS = [
    ({"key": "interrogation", "labels": {"en": "Questioning"}}, "key"),  # taken
    ({"key": "Bad Key", "labels": {"en": "Bad"}}, "key"),
    ({"key": "-x", "labels": {"en": "Starts with a hyphen"}}, "key"),
    ({"key": "no_english", "labels": {"ru": "Только по-русски"}}, "labels.en"),
    ({"key": "extra_field", "labels": {"en": "Extra"}, "extra": {"udhr": "5"}}, "extra.udhr"),
    ({"key": "wrong_flag", "labels": {"en": "Flag"}, "extra": {"deprivation_of_liberty": "yes"}},
     "extra.deprivation_of_liberty"),
    ({"key": "other_language", "labels": {"en": "Other", "de": "Andere"}}, "labels"),
    ({"key": 5, "labels": {"en": "Five"}}, "key"),
    ({"key": "list_labels", "labels": ["Label"]}, "labels"),
    ({"labels": {"en": "No key"}}, "key"),
]


@pytest.mark.parametrize(("term", "field"), INVALID_TERMS, ids=[str(t.get("key")) for t, _ in INVALID_TERMS])
def test_invalid_terms_are_422_and_add_nothing(api, env, staff, term, field):
    errors = error(api("POST", TERMS, "ada", json=term), 422, "invalid")["errors"]
    assert any(key == field or key.startswith(f"{field}.") for key in errors), errors
    with env.uow() as session:
        assert [t.key for t in vocab.terms(session, "incident_type", include_retired=True)] == \
            list(vocab.INCIDENT_TYPES)
    assert audit_events(env, "term_added") == []


def test_invalid_term_changes_are_422_and_change_nothing(api, env, staff):
    path = f"{TERMS}/interrogation"
    for change, field in [({"active": "no"}, "active"), ({"labels": {"en": ""}}, "labels.en"),
                          ({"extra": {"udhr": "5"}}, "extra.udhr"), ({"key": "renamed"}, "key")]:
        errors = error(api("PATCH", path, "ada", json=change), 422, "invalid")["errors"]
        assert any(key == field or key.startswith(f"{field}.") for key in errors), (change, errors)
    with env.uow() as session:
        term = vocab.get_term(session, "incident_type", "interrogation")
        assert (term.labels, term.extra, term.active) == ({"en": "Interrogation", "ru": "Допрос"}, {}, True)
    assert audit_events(env, "term_changed") == []
    error(api("PATCH", f"{TERMS}/nope", "ada", json={"active": False}), 404, "not_found")
    error(api("PATCH", "/api/v1/vocabularies/nope/interrogation", "ada", json={"active": False}), 404, "not_found")
    error(api("POST", "/api/v1/vocabularies/nope", "ada", json={"key": "abc", "labels": {"en": "A"}}), 404,
          "not_found")
