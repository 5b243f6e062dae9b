"""Intake in the browser over HTTP (CSRF on): a new appeal with its two consent documents, every kind of bad input
refused next to its field with nothing written, and corrections of the complainant and the facts audited by field
name only, refused when stale, for an ended case and for the wrong role."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from tests.helpers import PDF, ensure_episode, open_sample_case, ready_ids
from tests.web.conftest import PASSWORD, csrf_token
from web import create_app
from workflow import crypto
from workflow.models import AuditEvent, Case, Document, Person, utcnow
from workflow.services.cases import find_by_name

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
NAME = "Saule Zhaksylykova"
PASSPORT = "N77412093"


def text_of(response: Any) -> str:
    return response.get_data(as_text=True)


def fields() -> dict[str, Any]:
    """A complete, valid appeal as the page posts it (fictional person)."""
    return {
        "ref": "KZ-WEB-001", "full_name": NAME, "full_name_native": "Сауле Жаксылыкова", "city": "Almaty",
        "episodes": ["rally_2022"], "incident_types": ["detention_at_rally"], "incident_date": "2022-01-05",
        "description": "Detained at the square during a peaceful rally.", "consent_publish_name": "yes",
        "received_on": "2022-03-01", "gender": "female", "birth_date": "1990-04-12", "phone": "+7 700 000 0000",
        "email": "saule@example.org", "passport_number": PASSPORT, "occupation": "Teacher",
        "organisation": "", "detained_now": "y",
    }


def post_appeal(client: FlaskClient, values: dict[str, Any], files: dict[str, tuple[bytes, str]] | None = None):
    token = csrf_token(text_of(client.get("/appeals/new")))
    files = {"form_of_appeal": (PDF, "foa.pdf"), "power_of_attorney": (PNG, "poa.png")} if files is None else files
    data: dict[str, Any] = {**values, "csrf_token": token}
    data.update({kind: (io.BytesIO(content), name) for kind, (content, name) in files.items()})
    return client.post("/appeals/new", data=data, content_type="multipart/form-data")


def counts(env) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """(cases, persons, documents, files in the store): all stay put when an appeal is refused."""
    with env.uow() as session:
        numbers = [session.scalar(select(func.count()).select_from(m)) for m in (Case, Person, Document)]
    root = env.settings.documents_dir
    files = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    return numbers[0], numbers[1], numbers[2], files


def error_next_to(html: str, field: str) -> str:
    """The error shown right after the control named ``field`` (its id is the field's name)."""
    match = re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"'
                      rf'|<fieldset id="{field}" class="invalid-group"', html)
    assert match, f"no error marked on {field}"
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert error, f"no error text after {field}"
    return error.group(1).lower()


@pytest.fixture
def intake(login, env):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        ensure_episode(session)
    return login("ina")


def test_new_appeal_with_both_documents_opens_the_case(intake, env) -> None:
    page = text_of(intake.get("/appeals/new"))
    for name in ("ref", "full_name", "episodes", "incident_types", "incident_date", "form_of_appeal",
                 "power_of_attorney", "consent_publish_name", "detained_now", "passport_number"):
        assert f'name="{name}"' in page
    assert 'enctype="multipart/form-data"' in page

    response = post_appeal(intake, fields())
    assert response.status_code == 303, text_of(response)[:2000]
    assert response.headers["Location"].endswith("/cases/KZ-WEB-001")
    assert "KZ-WEB-001" in text_of(intake.get("/cases/KZ-WEB-001"))

    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-WEB-001"))
        assert case.person.full_name == NAME and case.person.passport_number == PASSPORT
        assert case.person.birth_date == date(1990, 4, 12) and case.person.gender == "female"
        assert case.detained_now and case.urgent  # the urgent track, as on every intake
        assert [e.key for e in case.episodes] == ["rally_2022"]
        assert case.incidents[0].types == ["detention_at_rally"]
        assert case.consent.publish_name is True
        assert sorted((d.kind, d.media_type) for d in case.documents) == [
            ("form_of_appeal", "application/pdf"), ("power_of_attorney", "image/png")]
        assert [p.id for p in find_by_name(session, "saule  ZHAKSYLYKOVA")] == [case.person_id]
        raw = session.execute(text("SELECT full_name, passport_number FROM persons")).one()
        assert NAME not in str(raw) and PASSPORT not in str(raw)  # encrypted at rest
        opened = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                          AuditEvent.action == "case_opened")).one()
        assert opened.actor.username == "ina" and opened.data == {"imported": False}
        uploads = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id,
                                                                  AuditEvent.action == "document_uploaded")).all()
        assert len(uploads) == 2
    assert ready_ids(env, "KZ-WEB-001") == ["complete_intake"]


def test_documents_are_optional_and_the_rest_follows_the_schema(intake, env) -> None:
    values = {**fields(), "ref": "KZ-WEB-002", "detained_now": None}
    values = {k: v for k, v in values.items() if v is not None}
    response = post_appeal(intake, values, files={})
    assert response.status_code == 303
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-WEB-002"))
        assert case.documents == [] and not case.urgent


BAD_INPUT = [
    ("missing full name", {"full_name": ""}, "full_name", "is required"),
    ("missing incident types", {"incident_types": []}, "incident_types", "incident type"),
    ("bad date", {"incident_date": "05/01/2022x"}, "incident_date", "must be a date"),
    ("future date", {"received_on": (date.today() + timedelta(days=30)).isoformat()}, "received_on",
     "cannot be in the future"),
    ("unknown episode", {"episodes": ["no_such_rally"]}, "episodes", "unknown episode"),
    ("bad email", {"email": "saule at example"}, "email", "e-mail address"),
    ("control characters", {"full_name": "Saule\x01\x07 Z"}, "full_name", "control characters"),
    ("control characters in the facts", {"description": "Detained\x1b[31m"}, "description", "control characters"),
    ("bad reference", {"ref": "KZ 001/../x"}, "ref", "letters, digits"),
    ("publication not chosen", {"consent_publish_name": None}, "consent_publish_name", "is required"),
    ("unknown gender", {"gender": "robot"}, "gender", "must be one of"),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_refused_next_to_the_field_and_writes_nothing(intake, env, case, change, field,
                                                                   message) -> None:
    before = counts(env)
    values = {k: v for k, v in {**fields(), **change}.items() if v is not None}
    response = post_appeal(intake, values)
    html = text_of(response)
    assert response.status_code == 422, html[:1000]
    assert message in error_next_to(html, field)
    assert "Nothing was saved" in html
    assert counts(env) == before


HOSTILE_FILES = [
    ("script named as a PDF", lambda limit: (b"#!/bin/sh\nrm -rf /\n", "foa.pdf"), "content is not"),
    ("PDF named as an executable", lambda limit: (PDF, "foa.exe"), "are not accepted"),
    ("PNG named as a PDF", lambda limit: (PNG, "foa.pdf"), "but the name says"),
    ("empty file", lambda limit: (b"", "foa.pdf"), "file is empty"),
    ("control characters in the name", lambda limit: (PDF, "foa\x00\x1b.pdf"), "control characters"),
]


@pytest.mark.parametrize(("case", "make", "message"), HOSTILE_FILES, ids=[h[0] for h in HOSTILE_FILES])
def test_hostile_or_oversized_documents_are_refused_and_nothing_is_stored(intake, env, case, make,
                                                                          message) -> None:
    before = counts(env)
    bad = make(0)
    response = post_appeal(intake, fields(), files={"form_of_appeal": bad, "power_of_attorney": (PDF, "poa.pdf")})
    html = text_of(response)
    assert response.status_code == 422, html[:1000]
    assert message in error_next_to(html, "form_of_appeal")
    assert counts(env) == before


def test_over_the_document_limit_is_a_field_error_and_over_the_request_limit_a_clear_413(env, staff) -> None:
    app = create_app(dataclasses.replace(env.settings, max_document_bytes=2048), TESTING=True)
    with env.uow() as session:
        ensure_episode(session)
    client = app.test_client()
    token = csrf_token(text_of(client.get("/login")))
    assert client.post("/login", data={"username": "ina", "password": PASSWORD, "csrf_token": token}).status_code \
        == 302
    before = counts(env)
    response = post_appeal(client, fields(), files={"form_of_appeal": (PDF + b"0" * 4096, "big.pdf")})
    assert response.status_code == 422
    assert "over the 2.0 kb limit" in error_next_to(text_of(response), "form_of_appeal")
    whole = client.post("/appeals/new", data=b"0" * (2 * 1024 * 1024),
                        content_type="multipart/form-data; boundary=xyz")
    assert whole.status_code == 413 and "Nothing was stored" in text_of(whole)
    assert counts(env) == before


def test_a_taken_reference_is_a_field_error(intake, env) -> None:
    open_sample_case(env, "KZ-WEB-003")
    before = counts(env)
    response = post_appeal(intake, {**fields(), "ref": "KZ-WEB-003"})
    assert response.status_code == 422
    assert "already exists" in error_next_to(text_of(response), "ref")
    assert counts(env) == before


def test_without_csrf_token_nothing_is_written(intake, env) -> None:
    before = counts(env)
    response = intake.post("/appeals/new", data=fields(), content_type="multipart/form-data")
    assert response.status_code == 400
    assert counts(env) == before


@pytest.mark.parametrize("user", ["lena", "mara", "ada"])
def test_only_intake_registers_appeals(login, env, user) -> None:
    client = login(user)
    assert client.get("/appeals/new").status_code == 403
    token = csrf_token(text_of(client.get("/login")))
    assert client.post("/appeals/new", data={**fields(), "csrf_token": token}).status_code == 403


def test_intake_finds_new_appeal_in_navigation_and_empty_inbox(intake) -> None:
    page = text_of(intake.get("/tasks"))
    assert page.count('href="/appeals/new"') == 2  # the navigation and the empty state


# -- corrections -----------------------------------------------------------------------------------------------

def edit(client: FlaskClient, path: str, changes: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Open the edit form, keep what it shows, change ``changes``, and send it."""
    html = text_of(client.get(path))
    values = shown_values(html)
    values.update(changes)
    return client.post(path, data={k: v for k, v in values.items() if v is not None})


def shown_values(html: str) -> dict[str, Any]:
    """What a form shows, as the browser would send it back."""
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="file"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if "checked" in tag:
                values.setdefault(name.group(1), []).append(value.group(1) if value else "y")
            continue
        values[name.group(1)] = _unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        # A browser drops the first line break of a text area and sends every line break as CR LF.
        values[name] = _unescape(body.removeprefix("\r\n").removeprefix("\n")).replace("\r\n", "\n") \
            .replace("\n", "\r\n")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    return values


def _unescape(value: str) -> str:
    return value.replace("&#39;", "'").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&")


def raw_audit(env) -> str:  # type: ignore[no-untyped-def]
    """Every audit event's data as stored text."""
    with env.uow() as session:
        return " ".join(str(row) for row in session.execute(text("SELECT action, data FROM audit_events")).all())


def test_edit_person_is_audited_by_field_name_only(intake, env) -> None:
    open_sample_case(env, "KZ-EDIT-1", imported=False)
    with env.uow() as session:
        old_index = session.scalar(select(Person.full_name_index).join(Case).where(Case.ref == "KZ-EDIT-1"))
    new_name, new_passport = "Gulnara Bekova-Testova", "P55501234"
    response = edit(intake, "/cases/KZ-EDIT-1/complainant",
                    {"full_name": new_name, "passport_number": new_passport, "phone": "+7 701 111 2233"})
    assert response.status_code == 303, text_of(response)[:2000]

    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-EDIT-1"))
        assert case.person.full_name == new_name and case.person.passport_number == new_passport
        assert case.person.full_name_index != old_index
        assert [p.id for p in find_by_name(session, new_name)] == [case.person_id]
        assert find_by_name(session, "Aigerim Testova KZ-EDIT-1") == []
        raw = session.execute(text("SELECT full_name, passport_number, phone FROM persons")).one()
        assert new_name not in str(raw) and new_passport not in str(raw)
        event = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.action == "person_edited")).one()
        assert event.data == {"fields": ["full_name", "phone", "passport_number"], "channel": "web"}
        assert event.actor.username == "ina"
    stored = raw_audit(env)
    for value in (new_name, new_passport, "+7 701 111 2233", "Gulnara"):
        assert value not in stored
    assert crypto.blind_index(new_name) not in stored
    page = text_of(intake.get("/cases/KZ-EDIT-1/history"))  # the case's history has a page of its own
    assert "Complainant&#39;s details corrected" in page or "Complainant's details corrected" in page


def test_edit_facts_moves_the_case_and_is_audited(login, env) -> None:
    open_sample_case(env, "KZ-EDIT-2", imported=False)
    legal = login("lena")
    response = edit(legal, "/cases/KZ-EDIT-2/facts", {"city": "Shymkent", "description": "Detained after the rally.",
                                                      "detained_now": "y", "incident_date": "2022-01-06"})
    assert response.status_code == 303, text_of(response)[:2000]
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KZ-EDIT-2"))
        assert case.person.city == "Shymkent" and case.incidents[0].city == "Shymkent"  # the incident follows
        assert case.incidents[0].occurred_on == date(2022, 1, 6) and case.detained_now and case.urgent
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "facts_edited")).one()
        assert event.data == {"fields": ["city", "incident_date", "description", "detained_now"], "channel": "web"}
    assert "Shymkent" not in raw_audit(env) and "after the rally" not in raw_audit(env)


def test_bad_edits_are_refused_next_to_the_field(intake, env) -> None:
    open_sample_case(env, "KZ-EDIT-3", imported=False)
    response = edit(intake, "/cases/KZ-EDIT-3/complainant", {"email": "not-an-email", "full_name": ""})
    html = text_of(response)
    assert response.status_code == 422
    assert "e-mail address" in error_next_to(html, "email") and "is required" in error_next_to(html, "full_name")
    response = edit(intake, "/cases/KZ-EDIT-3/facts", {"episodes": ["no_such_rally"], "received_on": "2099-01-01"})
    html = text_of(response)
    assert response.status_code == 422
    assert "unknown episode" in error_next_to(html, "episodes")
    assert "future" in error_next_to(html, "received_on")
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action.in_(["person_edited", "facts_edited"]))) == 0


def test_a_stale_form_is_refused_with_409(intake, env) -> None:
    open_sample_case(env, "KZ-EDIT-4", imported=False)
    opened = shown_values(text_of(intake.get("/cases/KZ-EDIT-4/complainant")))
    assert edit(intake, "/cases/KZ-EDIT-4/complainant", {"occupation": "Engineer"}).status_code == 303
    response = intake.post("/cases/KZ-EDIT-4/complainant", data={**opened, "occupation": "Doctor"})
    assert response.status_code == 409
    assert "changed since this form was opened" in text_of(response)
    with env.uow() as session:
        assert session.scalar(select(Person.occupation).join(Case).where(Case.ref == "KZ-EDIT-4")) == "Engineer"


def test_an_unchanged_form_changes_nothing(intake, env) -> None:
    open_sample_case(env, "KZ-EDIT-5", imported=False, description="Detained at the rally.\nReleased next day.")
    assert edit(intake, "/cases/KZ-EDIT-5/facts", {}).status_code == 303
    assert edit(intake, "/cases/KZ-EDIT-5/complainant", {}).status_code == 303
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action.in_(["person_edited", "facts_edited"]))) == 0


def test_edits_are_linked_from_the_case_page_and_the_intake_task(intake, login, env) -> None:
    open_sample_case(env, "KZ-EDIT-6", imported=False)
    page = text_of(intake.get("/cases/KZ-EDIT-6"))
    assert page.count('href="/cases/KZ-EDIT-6/complainant"') == 2  # the complainant card and the intake task
    assert page.count('href="/cases/KZ-EDIT-6/facts"') == 2
    legal = text_of(login("lena").get("/cases/KZ-EDIT-6"))
    assert 'href="/cases/KZ-EDIT-6/complainant"' not in legal and 'href="/cases/KZ-EDIT-6/facts"' in legal
    assert 'href="/cases/KZ-EDIT-6/facts"' not in text_of(login("mara").get("/cases/KZ-EDIT-6"))


def test_roles_and_ended_cases(login, env) -> None:
    open_sample_case(env, "KZ-EDIT-7", imported=False)
    for user, path in (("lena", "complainant"), ("mara", "complainant"), ("mara", "facts"), ("ada", "facts")):
        client = login(user)
        assert client.get(f"/cases/KZ-EDIT-7/{path}").status_code == 403
        token = csrf_token(text_of(client.get("/calendar")))
        assert client.post(f"/cases/KZ-EDIT-7/{path}", data={"full_name": "X", "csrf_token": token}).status_code \
            == 403
    assert login("ina").get("/cases/NO-SUCH/complainant").status_code == 404
    with env.uow() as session:
        session.scalar(select(Case).where(Case.ref == "KZ-EDIT-7")).stage = "withdrawn"
    intake = login("ina")
    response = intake.get("/cases/KZ-EDIT-7/complainant")
    assert response.status_code == 409 and "has ended" in text_of(response)
    assert 'href="/cases/KZ-EDIT-7/complainant"' not in text_of(intake.get("/cases/KZ-EDIT-7"))


def test_identity_read_of_the_edit_form_is_audited(intake, env) -> None:
    open_sample_case(env, "KZ-EDIT-8", imported=False)
    before = utcnow()
    assert intake.get("/cases/KZ-EDIT-8/complainant").status_code == 200
    with env.uow() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "identity_read",
                                                         AuditEvent.at >= before - timedelta(seconds=5))).all()
        assert any("passport_number" in (e.data or {}).get("fields", []) for e in reads)
