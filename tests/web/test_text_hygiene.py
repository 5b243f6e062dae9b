"""Text hygiene at every entry (issue 13 item 7): a pasted Shift+Enter (vertical tab) and the other line breaks become
"\\n", other control characters and lone surrogates are refused with a code, 20,000-character texts, emoji and Kazakh
letters pass untouched, through the API, the pages and a task's form data: no 5xx anywhere, the stored value clean,
and the generated documents reopen with python-docx."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest
from sqlalchemy import func, select

from tests.helpers import PDF, case_instance, ensure_episode, task
from tests.web.test_api import appeal_json, complete, error, ok, upload
from tests.web.test_intake_pages import error_next_to, fields, post_appeal, text_of
from workflow.models import Case
from workflow.schemas.appeal import MAX_TEXT
from workflow.services import processes

RICH = "Задержан 😀 на площади; әғқңөұүһі ӘҒҚҢӨҰҮҺІ"  # emoji (outside the BMP) and the Kazakh letters
# What Word and other programs paste: Shift+Enter (U+000B), a page break, Unicode's separators, CR LF, CR, a tab.
MESSY = "First line\x0bsecond\x0cthird\u2028fourth\u2029fifth\r\nsixth\rseventh\tand a tab"
CLEAN = "First line\nsecond\nthird\nfourth\nfifth\nsixth\nseventh\tand a tab"
APPROVE = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def long_text(length: int) -> str:
    """``length`` characters of Kazakh, Russian and emoji (each emoji one character, as the schema counts)."""
    return ((RICH + " ") * (length // len(RICH) + 1))[:length]


def reopened(content: bytes) -> str:
    """The text of a .docx, read back with python-docx (paragraphs and table cells)."""
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def case_count(env) -> int:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return session.scalar(select(func.count()).select_from(Case))


def task_data(env, ref: str, bpmn_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The data the case's process holds after ``bpmn_id`` was completed (from its latest completed task)."""
    from SpiffWorkflow.util.task import TaskState

    with env.uow() as session:
        loaded = processes.load(session, env.settings, case_instance(session, ref), None)
        done = [t for t in loaded.workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == bpmn_id]
        assert done, f"{bpmn_id} was not completed"
        return dict(done[-1].data)


@pytest.fixture
def episode(env):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        ensure_episode(session)


def test_pasted_line_breaks_go_all_the_way_to_the_filing_and_the_form_to_sign(api, env, staff, episode) -> None:
    """The bug of the issue: a Shift+Enter at intake made the manager's approval fail (400) and the form of appeal
    download fail (500). Now it is a line break, everywhere."""
    created = ok(api("POST", "/api/v1/cases", "ina", json=appeal_json(
        "HYG-001", full_name=f"Әсел\x0bҚасымова\r\n{RICH[:8]}", city="Алматы\u2028", description=MESSY,
        occupation=RICH)), 201)
    assert created["ref"] == "HYG-001"
    shown = ok(api("GET", "/api/v1/cases/HYG-001", "ina"))
    assert shown["person"]["full_name"] == f"Әсел Қасымова {RICH[:8]}"  # a name is one line
    assert shown["incidents"][0]["description"] == CLEAN
    assert shown["person"]["occupation"] == RICH

    for form in ("form_of_appeal", "power_of_attorney"):
        for lang in ("en", "ru"):
            answer = api("GET", f"/api/v1/cases/HYG-001/forms/{form}?lang={lang}", "ina")
            assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
            assert "Қасымова" in reopened(answer.data)

    ok(complete(api, env, "HYG-001", "complete_intake", "ivan", {"notes": MESSY}))
    assert task_data(env, "HYG-001", "complete_intake")["notes"] == CLEAN
    for kind in ("form_of_appeal", "power_of_attorney"):
        ok(upload(api, "HYG-001", "ina", kind, PDF, f"{kind}.pdf"), 201)
    ok(complete(api, env, "HYG-001", "verify_consent", "ina", VERIFIED))
    ok(complete(api, env, "HYG-001", "legal_review", "lena", {**APPROVE, "notes": MESSY}))
    approved = ok(complete(api, env, "HYG-001", "approve_review", "mara", {"decision": "approve", "notes": MESSY}))
    assert approved["stage"] == "filing"
    filing = ok(api("GET", "/api/v1/cases/HYG-001", "lena"))["filings"][0]
    document = api("GET", f"/api/v1/filings/{filing['id']}/document", "lena")
    assert document.status_code == 200, document.get_data(as_text=True)[:500]
    assert "Қасымова" in reopened(document.data)


def test_control_characters_and_lone_surrogates_are_refused_by_the_api(api, env, staff, episode) -> None:
    before = case_count(env)
    refused = error(api("POST", "/api/v1/cases", "ina", json=appeal_json("HYG-002", description="Bell\x07 here")),
                    422, "invalid")
    assert refused["errors"] == {"description": "must not contain control characters (an invisible one is at "
                                                "character 5)"}
    refused = error(api("POST", "/api/v1/cases", "ina", json=appeal_json("HYG-002", full_name="A\x00B")), 422)
    assert "control characters" in refused["errors"]["full_name"]
    # A lone surrogate is valid JSON ("\ud800") but no text: refused at the door, whichever field holds it.
    for where, body in (
        ("full_name", '"full_name": "Saule \\ud800"'),
        ("description", '"description": "\\udc00 alone"'),
        ("episodes.0", '"episodes": ["\\ud83d"]'),
        ("_body", '"\\ud800": "a broken key"'),
    ):
        payload = appeal_json("HYG-003")
        raw = "{" + ", ".join(f'"{k}": {_json(v)}' for k, v in payload.items() if k != where.split(".")[0])
        raw += ", " + body + "}"
        answer = api("POST", "/api/v1/cases", "ina", data=raw.encode(), content_type="application/json")
        assert error(answer, 422, "invalid")["errors"] == {where: "is not valid text: it holds a broken character "
                                                                  "(a lone surrogate)"}
    # A valid surrogate pair is one emoji: accepted.
    raw = '{"ref": "HYG-004", ' + ", ".join(f'"{k}": {_json(v)}' for k, v in appeal_json("x").items()
                                           if k not in ("ref", "description"))
    raw += ', "description": "\\ud83d\\ude00 ok"}'
    assert ok(api("POST", "/api/v1/cases", "ina", data=raw.encode(), content_type="application/json"), 201)
    assert case_count(env) == before + 1


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def test_task_form_data_follows_the_same_rule(api, env, staff, episode) -> None:
    ok(api("POST", "/api/v1/cases", "ina", json=appeal_json("HYG-010")), 201)
    bad = error(complete(api, env, "HYG-010", "complete_intake", "ivan", {"notes": "a\x1bb"}), 422, "invalid")
    assert bad["errors"] == {"notes": "must not contain control characters (an invisible one is at character 2)"}
    path = f"/api/v1/tasks/{task(env, 'HYG-010', 'complete_intake').id}/complete"
    raw = b'{"data": {"notes": "broken \\udfff"}}'
    bad = error(api("POST", path, "ivan", data=raw, content_type="application/json"), 422, "invalid")
    assert bad["errors"] == {"data.notes": "is not valid text: it holds a broken character (a lone surrogate)"}
    # The length counts the text as stored: 10,000 characters (the form's maxLength) of Kazakh and emoji pass.
    ok(complete(api, env, "HYG-010", "complete_intake", "ivan", {"notes": long_text(10000)}))
    assert task_data(env, "HYG-010", "complete_intake")["notes"] == long_text(10000).strip()


def test_a_task_page_form_cleans_and_refuses_like_the_api(login, env, staff, episode, api) -> None:
    from tests.web.conftest import csrf_token

    ok(api("POST", "/api/v1/cases", "ina", json=appeal_json("HYG-011")), 201)
    ivan = login("ivan")
    row = task(env, "HYG-011", "complete_intake")
    page = ivan.get("/cases/HYG-011")
    assert page.status_code == 200
    html = text_of(page)
    assert 'maxlength="10000"' in html and "Up to 10000 characters." in html
    refused = ivan.post(f"/tasks/{row.id}", data={"csrf_token": csrf_token(html), "notes": "x\x07y"})
    assert refused.status_code == 422 and "control characters" in text_of(refused)
    done = ivan.post(f"/tasks/{row.id}", data={"csrf_token": csrf_token(html), "notes": MESSY})
    assert done.status_code in (200, 303), text_of(done)[:500]
    assert task_data(env, "HYG-011", "complete_intake")["notes"] == CLEAN


def test_the_intake_page_states_limits_cleans_line_breaks_and_takes_20000_characters(login, env, staff,
                                                                                         episode) -> None:
    intake = login("ina")
    page = text_of(intake.get("/appeals/new"))
    assert f'maxlength="{MAX_TEXT}"' in page and f"Up to {MAX_TEXT} characters." in page
    before = case_count(env)
    refused = post_appeal(intake, {**fields(), "description": long_text(MAX_TEXT + 1)})
    assert refused.status_code == 422
    assert f"at most {MAX_TEXT}" in error_next_to(text_of(refused), "description")
    refused = post_appeal(intake, {**fields(), "description": "ok\x01"})
    assert refused.status_code == 422 and "control characters" in error_next_to(text_of(refused), "description")
    assert case_count(env) == before
    done = post_appeal(intake, {**fields(), "full_name": f"Айгерім\x0bТестова {RICH[:8]}",
                                "description": MESSY + " " + long_text(MAX_TEXT - len(MESSY) - 1)})
    assert done.status_code in (302, 303), text_of(done)[:1000]
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == fields()["ref"]))
        assert case.person.full_name == f"Айгерім Тестова {RICH[:8]}"
        assert case.incidents[0].description == CLEAN + " " + long_text(MAX_TEXT - len(MESSY) - 1)


def _multipart(fields_: dict[str, bytes], files: dict[str, tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand, so that a field or a file name can hold bytes no browser should send."""
    boundary = "----hygiene-boundary"
    parts = []
    for name, value in fields_.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value)
    for name, (content, filename) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
                     + filename + b'"\r\nContent-Type: application/pdf\r\n\r\n' + content)
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# What a lone surrogate becomes on the wire: its "UTF-8" bytes (as Python's surrogatepass writes them), which are
# not UTF-8. Whatever werkzeug makes of them, the answer is never a 5xx and nothing broken is stored.
SURROGATE_BYTES = "\ud800".encode("utf-8", "surrogatepass")


def test_lone_surrogates_in_forms_query_strings_and_file_names_never_give_a_5xx(app, login, api, env, staff,
                                                                                 episode) -> None:
    from tests.web.conftest import csrf_token

    intake = login("ina")
    token = csrf_token(text_of(intake.get("/appeals/new")))
    values = {k: v.encode() for k, v in fields().items() if isinstance(v, str) and v}
    values.update({"csrf_token": token.encode(), "episodes": b"rally_2022", "incident_types": b"detention_at_rally",
                   "full_name": b"Saule " + SURROGATE_BYTES + b"%ED%A0%80"})
    body, content_type = _multipart(values, {"form_of_appeal": (PDF, b"foa" + SURROGATE_BYTES + b".pdf"),
                                             "power_of_attorney": (PDF, b"poa.pdf")})
    answer = intake.post("/appeals/new", data=body, content_type=content_type)
    assert answer.status_code < 500, text_of(answer)[:1000]
    with env.uow() as session:
        for case in session.scalars(select(Case)):
            assert "\ud800" not in (case.person.full_name or "")
            assert all("\ud800" not in d.filename for d in case.documents)

    # Query strings: percent-encoded surrogate bytes, a NUL (which PostgreSQL refuses in a query) and a bell, in
    # the pages and the API.
    # (werkzeug reads the surrogate's bytes, which are not UTF-8, as U+FFFD: text, and harmless.)
    for bad, status in (("%ED%A0%80", 200), ("%00", 422), ("a%07b", 422), ("%EF%BF%BE", 422)):
        for path in (f"/cases?city={bad}", f"/cases?q={bad}&page=1", f"/tasks?city={bad}",
                     f"/tasks?episode={bad}&body={bad}", f"/search?q={bad}", f"/consent/queue?city={bad}"):
            assert intake.get(path).status_code in (status, 400 if status == 200 else 422), path
        for path in (f"/api/v1/cases?city={bad}", f"/api/v1/tasks?city={bad}", f"/api/v1/tasks?episode={bad}"):
            answer = api("GET", path, "ina")
            if status == 422:
                assert error(answer, 422, "invalid")["errors"], path
            else:
                assert answer.status_code < 500, path
    assert intake.get("/cases?city=Алматы 😀").status_code == 200  # text, not a control character

    # A NUL in a form: no schema sees it first where a search box or a sign-in form posts it, and PostgreSQL
    # refuses it in any query; refused at the door, with nothing saved.
    token = csrf_token(text_of(intake.get("/appeals/new")))
    before = case_count(env)
    for path, data in (("/search", {"q": "Saule\x00"}), ("/appeals/new", {**fields(), "full_name": "A\x00"})):
        answer = intake.post(path, data={**data, "csrf_token": token})
        assert answer.status_code == 422 and "control characters" in text_of(answer), path
    assert case_count(env) == before
    signing_in = app.test_client()
    token = csrf_token(text_of(signing_in.get("/login")))
    answer = signing_in.post("/login", data={"username": "ina\x00", "password": "x" * 12, "csrf_token": token})
    assert answer.status_code == 422

    # An uploaded file's name through the API, as bytes and as an escaped surrogate.
    ok(api("POST", "/api/v1/cases", "ina", json=appeal_json("HYG-020")), 201)
    body, content_type = _multipart({"kind": b"form_of_appeal"}, {"file": (PDF, b"x" + SURROGATE_BYTES + b".pdf")})
    answer = api("POST", "/api/v1/cases/HYG-020/documents", "ina", data=body, content_type=content_type)
    assert answer.status_code < 500, answer.get_data(as_text=True)[:500]
    answer = upload(api, "HYG-020", "ina", "power_of_attorney", PDF, "poa\x0b.pdf")
    assert error(answer, 422)["errors"]["file"].startswith("must not contain control characters")
