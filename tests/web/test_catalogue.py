"""The admin pages of the catalogue of bodies and of the vocabularies, over HTTP on a real database (no mocks).

Forms are submitted the way a browser would: the test reads the controls of the page's form (names, values,
ticked boxes, selected options), changes what a person would change, and posts the lot.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.web.conftest import csrf_token
from workflow import bodies, vocab
from workflow.models import AuditEvent

CASEWORK_USERS = ("ina", "lena", "mara")


class FormReader(HTMLParser):
    """What a browser sends for the form posting to ``action``: each control's name and current value."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside = action, False
        self.pairs: list[tuple[str, str]] = []
        self.select: str | None = None
        self.first_option: str | None = None
        self.selected = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.first_option, self.selected = a["name"], None, False
        elif tag == "option" and self.select:
            self.first_option = a.get("value", "") if self.first_option is None else self.first_option
            if "selected" in a:
                self.pairs.append((self.select, a.get("value", "")))
                self.selected = True
        elif tag == "textarea":
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea:
            self.pairs.append((self.textarea, self.text))
            self.textarea = None
        elif tag == "select" and self.select:
            if not self.selected:  # a browser sends the first option when none is selected
                self.pairs.append((self.select, self.first_option or ""))
            self.select = None


def form_of(client: FlaskClient, page: str, action: str) -> MultiDict:
    response = client.get(page)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    reader = FormReader(action)
    reader.feed(response.get_data(as_text=True))
    assert reader.pairs, f"no form posting to {action} on {page}"
    return MultiDict(reader.pairs)


def changed(form: MultiDict, **values: str | list[str]) -> MultiDict:
    out = form.copy()
    for name, value in values.items():
        out.setlist(name, value if isinstance(value, list) else [value])
    return out


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def events(env, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        session.expunge_all()
        return found


def stored_body(env, code: str) -> dict:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        body = bodies.get_body(session, code)
        return {name: getattr(body, name) for name in bodies.EDITABLE}


# -- bodies ---------------------------------------------------------------------------------------------

def test_the_list_shows_every_body_with_its_clocks(env, login):
    response = login("ada").get("/admin/bodies")
    page = text_of(response)
    assert response.status_code == 200
    assert 'href="/admin/bodies">Bodies</a>' in page and 'href="/admin/vocabularies">Vocabularies</a>' in page
    for code in bodies.CODES:
        assert f'href="/admin/bodies/{code}"' in page
    assert "UN Human Rights Committee" in page and "183" in page


def test_saving_the_form_unchanged_changes_nothing(env, login):
    client = login("ada")
    before = stored_body(env, "un_hrc")
    form = form_of(client, "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    assert client.post("/admin/bodies/un_hrc", data=form).status_code == 303
    assert stored_body(env, "un_hrc") == before
    assert events(env, "body_changed") == []


def test_an_admin_edits_a_response_window_and_a_russian_name(env, login):
    client = login("ada")
    form = form_of(client, "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    response = client.post("/admin/bodies/un_hrc", data=changed(
        form, response_days="200", **{"names-ru": "Комитет по правам человека"}))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/bodies/un_hrc"

    entry = stored_body(env, "un_hrc")
    assert entry["response_days"] == 200 and entry["names"]["ru"] == "Комитет по правам человека"
    assert entry["rules"]["ratione_temporis"] == {"bound_from": {"KZ": "2009-09-30"}}  # the rest as it was
    [event] = events(env, "body_changed")
    assert event.object_type == "body" and event.object_id == "un_hrc"
    assert event.data["fields"] == ["names", "response_days"]
    assert set(event.data) == {"fields"}  # names, never values (workflow/audit.py)

    listing = text_of(client.get("/admin/bodies"))
    assert "200" in listing and "Ada" in listing  # the new window, and who changed it last
    page = text_of(client.get("/admin/bodies/un_hrc"))
    history = page[page.index("Change history"):]
    assert "Ada" in history and "Response window (days)" in history
    # The audit log names the fields, never their values (workflow/audit.py): the history says what changed.
    assert "<td>183</td><td>200</td>" not in history and "Комитет по правам человека" not in history

    with env.uow() as session:  # a Russian-speaking user sees the new name in the list
        env.user(session, "lena").locale = "ru"
        env.user(session, "ada").locale = "ru"
    assert "Комитет по правам человека" in text_of(login("ada").get("/admin/bodies"))


def test_rules_are_edited_as_fields(env, login):
    client = login("ada")
    form = form_of(client, "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    form.pop("rules-same_matter-applies")  # untick: the rule no longer applies
    response = client.post("/admin/bodies/un_hrc", data=changed(form, **{
        "rules-time_bar-level": "warning", "rules-time_bar-years_after_exhaustion": "4",
        "rules-ratione_temporis-bound_from": "KZ 2009-09-30\r\nkg 1995-01-07\r\n", "rules-eu_subject-applies": "y"}))
    assert response.status_code == 303, text_of(response)[:2000]
    assert stored_body(env, "un_hrc")["rules"] == {
        "exhaustion": {}, "eu_subject": {},
        "time_bar": {"level": "warning", "years_after_exhaustion": 4, "years_after_other_procedure": 3},
        "ratione_temporis": {"bound_from": {"KZ": "2009-09-30", "KG": "1995-01-07"}},
    }


def test_invalid_input_is_422_next_to_its_fields_keeps_what_was_typed_and_changes_nothing(env, login):
    client = login("ada")
    before = stored_body(env, "un_hrc")
    form = form_of(client, "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    response = client.post("/admin/bodies/un_hrc", data=changed(form, **{
        "response_days": "-5", "follow_up_days": "soon", "names-en": "  ", "names-ru": "Комитет",
        "languages": ["en", "xx"], "rules-time_bar-years_after_exhaustion": "abc",
        "rules-ratione_temporis-bound_from": "KZ 2009-02-30", "rules-exhaustion-level": "fatal"}))
    page = text_of(response)
    assert response.status_code == 422
    assert "Nothing was saved" in page
    assert 'id="response_days-error">Must be a whole number of days from 1 to 3660.' in page
    assert 'id="follow_up_days-error">Must be a whole number.' in page
    assert 'id="names-en-error">An English name is required.' in page
    assert 'id="languages-error">Unknown: xx.' in page
    assert 'id="rules-time_bar-years_after_exhaustion-error">Must be from 1 to 50.' in page
    assert 'id="rules-ratione_temporis-bound_from-error">Give each state\'s two-letter code and a date' in page
    assert 'id="rules-exhaustion-level-error">Must be error or warning.' in page
    assert 'value="-5"' in page and 'value="soon"' in page and 'value="Комитет"' in page  # as typed
    assert "KZ 2009-02-30</textarea>" in page
    assert stored_body(env, "un_hrc") == before and events(env, "body_changed") == []


def test_a_retired_mandate_stays_on_the_form_until_it_is_unticked(env, login, staff):
    with env.uow() as session:
        vocab.update_term(session, env.user(session, "ada"), "mandate", "torture", active=False)
    client = login("ada")
    form = form_of(client, "/admin/bodies/un_sp", "/admin/bodies/un_sp")
    assert "torture" in form.getlist("mandates")
    response = client.post("/admin/bodies/un_sp", data=changed(form, response_days="45"))
    assert response.status_code == 422
    assert "Only active mandates can be chosen" in text_of(response)
    assert stored_body(env, "un_sp")["response_days"] == 60
    response = client.post("/admin/bodies/un_sp", data=changed(
        form, response_days="45", mandates=[m for m in form.getlist("mandates") if m != "torture"]))
    assert response.status_code == 303
    assert stored_body(env, "un_sp")["mandates"] == ["assembly", "expression", "defenders"]


def test_an_unknown_body_is_404(env, login):
    client = login("ada")
    assert client.get("/admin/bodies/nope").status_code == 404
    token = csrf_token(client.get("/admin/bodies/un_hrc").get_data(as_text=True))
    assert client.post("/admin/bodies/nope", data={"csrf_token": token}).status_code == 404


def test_a_post_without_its_csrf_token_is_refused(env, login):
    client = login("ada")
    form = form_of(client, "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    form.pop("csrf_token")
    assert client.post("/admin/bodies/un_hrc", data=changed(form, response_days="10")).status_code == 400
    assert stored_body(env, "un_hrc")["response_days"] == 183


def test_caseworkers_reach_no_catalogue_page_and_change_nothing(env, login):
    admin_form = form_of(login("ada"), "/admin/bodies/un_hrc", "/admin/bodies/un_hrc")
    for username in CASEWORK_USERS:
        client = login(username)
        tasks = client.get("/tasks").get_data(as_text=True)
        assert "/admin/bodies" not in tasks and "/admin/vocabularies" not in tasks  # no links in the menu
        token = csrf_token(tasks)
        for path in ("/admin/bodies", "/admin/bodies/un_hrc", "/admin/vocabularies",
                     "/admin/vocabularies/incident_type"):
            assert client.get(path).status_code == 403, (username, path)
        posts = {
            "/admin/bodies/un_hrc": changed(admin_form, csrf_token=token, response_days="1"),
            "/admin/vocabularies/incident_type": {"csrf_token": token, "key": "kettling", "label_en": "Kettling"},
            "/admin/vocabularies/incident_type/interrogation": {"csrf_token": token, "label_en": "Questioning"},
            "/admin/vocabularies/incident_type/interrogation/active": {"csrf_token": token, "active": "false"},
        }
        for path, data in posts.items():
            assert client.post(path, data=data).status_code == 403, (username, path)
    assert stored_body(env, "un_hrc")["response_days"] == 183
    with env.uow() as session:
        assert "interrogation" in vocab.keys(session, "incident_type")
        assert "kettling" not in vocab.keys(session, "incident_type")
        assert vocab.get_term(session, "incident_type", "interrogation").labels["en"] == "Interrogation"
    assert events(env, "body_changed") == events(env, "term_added") == events(env, "term_changed") == []


# -- vocabularies ---------------------------------------------------------------------------------------

VOCAB = "/admin/vocabularies/incident_type"


def test_the_vocabularies_page_lists_terms_with_labels_and_extra_fields(env, login):
    client = login("ada")
    assert client.get("/admin/vocabularies").headers["Location"] == VOCAB
    page = text_of(client.get(VOCAB))
    assert 'id="term-punitive_psychiatry"' in page and 'value="Карательная психиатрия"' in page
    assert '<input checked id="term-punitive_psychiatry-extra-deprivation_of_liberty" ' \
           'name="term-punitive_psychiatry-extra-deprivation_of_liberty" type="checkbox" value="y">' in page
    grounds = text_of(client.get("/admin/vocabularies/legal_ground"))
    assert re.search(r'name="term-iccpr_21-extra-udhr" type="text" value="20\(1\)"', grounds)
    assert client.get("/admin/vocabularies/nope").status_code == 404


def test_add_relabel_retire_and_restore_a_term_with_its_history(env, login):
    client = login("ada")
    add = changed(form_of(client, VOCAB, VOCAB), **{"new-key": "kettling", "new-labels-en": "Kettling",
                                                    "new-labels-ru": "Оцепление",
                                                    "new-extra-deprivation_of_liberty": "y"})
    response = client.post(VOCAB, data=add)
    assert response.status_code == 303 and response.headers["Location"] == f"{VOCAB}#term-kettling"
    with env.uow() as session:
        term = vocab.get_term(session, "incident_type", "kettling")
        assert term.labels == {"en": "Kettling", "ru": "Оцепление"}
        assert term.extra == {"deprivation_of_liberty": True}
        assert "kettling" in vocab.keys(session, "incident_type")

    edit = f"{VOCAB}/kettling"
    response = client.post(edit, data=changed(form_of(client, VOCAB, edit),
                                              **{"term-kettling-labels-en": "Kettling of protesters"}))
    assert response.status_code == 303
    with env.uow() as session:
        assert vocab.get_term(session, "incident_type", "kettling").labels["en"] == "Kettling of protesters"

    active = f"{VOCAB}/kettling/active"
    assert client.post(active, data=form_of(client, VOCAB, active)).status_code == 303  # the Retire button
    with env.uow() as session:
        assert "kettling" not in vocab.keys(session, "incident_type")  # no longer offered
        assert vocab.labels(session, "incident_type", "ru")["kettling"] == "Оцепление"  # old records still read
    assert "Restore" in text_of(client.get(VOCAB))
    assert client.post(active, data=form_of(client, VOCAB, active)).status_code == 303  # the Restore button
    with env.uow() as session:
        assert "kettling" in vocab.keys(session, "incident_type")

    assert [e.action for e in events(env, "term_added")] == ["term_added"]
    changes = events(env, "term_changed")
    assert [e.data["fields"] for e in changes] == [["labels"], ["active"], ["active"]]
    assert all(e.object_type == "vocabulary_term" and e.object_id == "incident_type:kettling" for e in changes)
    page = text_of(client.get(VOCAB))
    history = page[page.index('id="term-kettling"'):page.index('id="h-new-term"')]
    assert history.count("Ada") == 4
    assert "Term added" in history and "Term changed" in history
    assert '"en": "Kettling"' not in history  # field names only (workflow/audit.py)


def test_a_duplicate_or_badly_formed_key_is_refused(env, login):
    client = login("ada")
    form = form_of(client, VOCAB, VOCAB)
    response = client.post(VOCAB, data=changed(form, **{"new-key": "interrogation", "new-labels-en": "Questioning"}))
    page = text_of(response)
    assert response.status_code == 422
    assert 'id="new-key-error">This vocabulary already has that key.' in page
    assert 'value="Questioning"' in page  # kept as typed
    response = client.post(VOCAB, data=changed(form, **{"new-key": "Bad Key!", "new-labels-en": "Bad"}))
    assert response.status_code == 422 and "Use 1 to 80 lower-case letters" in text_of(response)
    response = client.post(VOCAB, data=changed(form, **{"new-key": "no_label", "new-labels-en": " ",
                                                        "new-labels-ru": "Только по-русски"}))
    assert response.status_code == 422 and 'id="new-labels-en-error">An English label is required.' in text_of(
        response)
    with env.uow() as session:
        assert vocab.get_term(session, "incident_type", "interrogation").labels["en"] == "Interrogation"
        assert {t.key for t in vocab.terms(session, "incident_type", include_retired=True)} == set(vocab.INCIDENT_TYPES)
    assert events(env, "term_added") == []


def test_a_refused_relabel_keeps_the_typed_text_and_the_stored_label(env, login):
    client = login("ada")
    edit = f"{VOCAB}/interrogation"
    response = client.post(edit, data=changed(form_of(client, VOCAB, edit), **{
        "term-interrogation-labels-en": "", "term-interrogation-labels-ru": "Опрос"}))
    page = text_of(response)
    assert response.status_code == 422
    assert 'id="term-interrogation-labels-en-error">An English label is required.' in page
    assert 'value="Опрос"' in page
    with env.uow() as session:
        assert vocab.get_term(session, "incident_type", "interrogation").labels == {"en": "Interrogation",
                                                                                      "ru": "Допрос"}
    assert events(env, "term_changed") == []
    assert client.post(f"{VOCAB}/nope", data=changed(form_of(client, VOCAB, edit))).status_code == 404
