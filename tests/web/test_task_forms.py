"""Task forms rendered from bpmn/forms/*.json, posted fields turned into JSON, and the loop through the pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from tests.helpers import open_sample_case, ready, stage, task
from tests.web.conftest import csrf_token
from web import create_app
from web.labels import LABELS
from web.tasks.forms import convert, fields_of, typed_values
from workflow import vocab
from workflow.babel_extract import extract_form
from workflow.bodies import CODES as BODY_CODES
from workflow.config import load_settings
from workflow.form_ui import widgets_for
from workflow.models import HumanTask
from workflow.services.users import change_role, get_user
from workflow.task_forms import FILING_LANGUAGES

FORMS_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "forms"
UI_SUFFIX = "-uischema"  # spiff-arena's naming: each form's UI schema next to it (test_specs checks the tasks name it)
SCHEMAS = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(FORMS_DIR.glob("*.json"))
           if not path.stem.endswith(UI_SUFFIX)}
UIS = {name: json.loads((FORMS_DIR / f"{name}{UI_SUFFIX}.json").read_text(encoding="utf-8")) for name in SCHEMAS}
# What vocab.fill_enums gives a fresh installation for each ``x-vocabulary`` (these tests touch no database).
SEEDED = {"body": list(BODY_CODES), **{name: [key for key, _, _ in terms] for name, terms in vocab.DEFAULTS.items()}}


def filled(schema: dict) -> dict:
    """The schema with each vocabulary's seeded keys as its enum, as the pages draw it."""
    properties = {}
    for name, prop in schema["properties"].items():
        if "x-vocabulary" in prop.get("items", {}):
            prop = {**prop, "items": {**prop["items"], "enum": SEEDED[prop["items"]["x-vocabulary"]]}}
        if FILING_LANGUAGES in prop:  # two bodies with a choice, as fill_enums gives them
            prop = {**prop, "properties": {"un_hrc": {"type": "string", "enum": ["en", "ru"]},
                                           "osce_odihr": {"type": "string", "enum": ["en", "ru"]}}}
        properties[name] = prop
    return {**schema, "properties": properties}


# Written out by hand: a schema or UI schema change that alters a control shows up here.
EXPECTED_WIDGETS = {
    "approve_filing": {"decision": "radio", "notes": "textarea"},
    "approve_review": {"decision": "radio", "notes": "textarea"},
    "check_filing": {"decision": "radio", "notes": "textarea"},
    "complete_intake": {"notes": "textarea"},
    "follow_up": {"action": "select", "notes": "textarea"},
    "inform_body": {"informed_on": "date", "channel": "select", "notes": "textarea"},
    "legal_review": {"decision": "radio", "bodies": "checkboxes", "languages": "selects", "mandates": "checkboxes",
                     "grounds": "checkboxes",
                     "communication_type": "radio", "wgad_categories": "checkboxes", "urgent": "checkbox",
                     "notes": "textarea"},
    "record_outcome": {"outcome": "textarea", "notes": "textarea"},
    "request_documents": {"received": "checkbox", "abandon": "checkbox", "notes": "textarea"},
    "submit_filing": {"submitted_on": "date", "channel": "select", "reference": "text"},
    "verify_consent": {"form_of_appeal_verified": "checkbox", "power_of_attorney_verified": "checkbox",
                       "notes": "textarea"},
}
# What each widget must produce in HTML, for a field named NAME.
HTML_OF = {
    "checkbox": r'<input type="checkbox" id="t-NAME" name="NAME" value="true"',
    "radio": r'<input type="radio" name="NAME" value="[^"]+"',
    "select": r'<select id="t-NAME" name="NAME"',
    "checkboxes": r'<input type="checkbox" name="NAME" value="[^"]+"',
    "date": r'<input type="date" id="t-NAME" name="NAME"',
    "textarea": r'<textarea id="t-NAME" name="NAME"',
    "text": r'<input type="text" id="t-NAME" name="NAME"',
    "selects": r'<fieldset id="t-NAME">',
}
MACRO = '{% import "macros/forms.html" as forms %}{% for f in fields %}{{ forms.field(f) }}{% endfor %}'


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app for rendering only (no database is touched)."""
    home = tmp_path_factory.mktemp("forms-home")
    return create_app(load_settings({"PETITIO_HOME": str(home)}), TESTING=True)


def render_fields(app: Flask, fields) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        return render_template_string(MACRO, fields=fields)


def test_every_form_of_the_process_is_covered():
    assert set(SCHEMAS) == set(EXPECTED_WIDGETS)
    for name, schema in SCHEMAS.items():
        assert set(schema["properties"]) == set(EXPECTED_WIDGETS[name]), name


@pytest.mark.parametrize("form_name", sorted(EXPECTED_WIDGETS))
def test_each_field_type_renders_its_control(bare_app, form_name):
    schema = filled(SCHEMAS[form_name])
    fields = fields_of(schema, prefix="t", ui=UIS[form_name])
    assert {f.name: f.widget for f in fields} == EXPECTED_WIDGETS[form_name]
    assert [f.name for f in fields] == UIS[form_name]["ui:order"]
    html = render_fields(bare_app, fields)
    required = set(schema.get("required", []))
    for f in fields:
        prop = schema["properties"][f.name]
        assert re.search(HTML_OF[f.widget].replace("NAME", f.name), html), (form_name, f.name, f.widget)
        assert prop["title"] in html  # the title is the label (through gettext)
        if f.widget in ("radio", "select"):
            assert [o.value for o in f.options] == prop["enum"]
        if f.widget == "checkboxes":
            assert [o.value for o in f.options] == prop["items"]["enum"]
            assert html.count(f'name="{f.name}"') == len(prop["items"]["enum"])
        # Required is marked on everything but a checkbox, where unchecked is a valid "no".
        assert f.required == (f.name in required and f.widget != "checkbox")
    assert html.count('class="req"') == sum(f.required for f in fields)


def test_a_field_the_ui_schema_does_not_mention_gets_its_types_widget():
    """No rule by field name or length: the type decides, the UI schema chooses among what fits."""
    schema = {"type": "object", "properties": {
        "notes": {"type": "string", "maxLength": 10000}, "on": {"type": "string", "format": "date"},
        "choice": {"type": "string", "enum": ["a", "b"]}, "n": {"type": "integer"}, "x": {"type": "number"},
        "flag": {"type": "boolean"}, "bodies": {"type": "array", "items": {"type": "string", "x-vocabulary": "body"}},
        "lines": {"type": "array", "items": {"type": "string"}}, "mandate": {"type": "string", "x-vocabulary": "m"}}}
    assert {f.name: f.widget for f in fields_of(schema, prefix="t")} == {
        "notes": "text", "on": "date", "choice": "select", "n": "number", "x": "number", "flag": "checkbox",
        "bodies": "checkboxes", "lines": "textarea", "mandate": "select"}
    assert widgets_for(schema["properties"]["choice"]) == ("select", "radio")
    assert widgets_for(schema["properties"]["notes"]) == ("text", "textarea")


def test_the_ui_schema_orders_the_fields_and_adds_help_placeholder_rows_and_title(bare_app):
    schema = {"type": "object", "properties": {"a": {"type": "string", "title": "Notes"},
                                               "b": {"type": "boolean", "title": "B"},
                                               "c": {"type": "string", "enum": ["approve", "revise"]}}}
    ui = {"ui:order": ["c", "*", "a"], "a": {"ui:widget": "textarea", "ui:rows": 7, "ui:placeholder": "Reference",
                                            "ui:help": "Decision", "ui:title": "Outcome"},
          "c": {"ui:widget": "radio"}}
    fields = fields_of(schema, prefix="t", ui=ui)
    assert [(f.name, f.widget) for f in fields] == [("c", "radio"), ("b", "checkbox"), ("a", "textarea")]
    html = render_fields(bare_app, fields)
    assert re.search(r'<textarea id="t-a" name="a" rows="7" placeholder="Reference"', html)
    assert '<p class="hint">Decision</p>' in html and "<label for=\"t-a\">Outcome" in html
    with bare_app.test_request_context("/"), force_locale("ru"):  # the UI schema's texts are catalog msgids
        russian = render_template_string(MACRO, fields=fields_of(schema, prefix="t", ui=ui))
    assert 'placeholder="Номер"' in russian and "Решение" in russian and "Результат" in russian


def test_vocabulary_options_take_their_labels_from_the_data_and_others_from_the_code():
    schema = filled(SCHEMAS["legal_review"])
    fields = {f.name: f for f in fields_of(schema, prefix="t", ui=UIS["legal_review"], labels={
        "body": {"un_hrc": "Comité des droits de l'homme"}, "legal_ground": {"iccpr_21": "Art. 21 — UDHR 20(1)"}})}
    bodies = {o.value: o.label for o in fields["bodies"].options}
    assert bodies["un_hrc"] == "Comité des droits de l'homme"
    assert bodies["un_sp"] == "un sp"  # a key without a label shows as itself, never an error
    assert {o.value: o.label for o in fields["grounds"].options}["iccpr_21"] == "Art. 21 — UDHR 20(1)"
    assert [o.label for o in fields["communication_type"].options] == ["Urgent appeal", "Letter of allegation"]
    assert [o.label.split(":")[0] for o in fields["wgad_categories"].options] == ["I", "II", "III", "IV", "V"]


def test_errors_sit_right_after_their_field_which_is_marked_invalid(bare_app):
    schema = filled(SCHEMAS["legal_review"])
    fields = fields_of(schema, prefix="t", ui=UIS["legal_review"],
                       values={"decision": "reject", "notes": "typed <b>", "bodies": ["un_hrc"]},
                       errors={"notes": "give the reason for rejecting the case", "decision": "is required"})
    html = render_fields(bare_app, fields)
    assert re.search(r'<textarea id="t-notes" name="notes"[^>]*aria-invalid="true"[^>]*>typed &lt;b&gt;</textarea>'
                     r'<p class="field-error" id="t-notes-error">give the reason for rejecting the case</p>', html)
    assert re.search(r'</fieldset><p class="field-error" id="t-decision-error">is required</p>', html)
    assert re.search(r'value="reject" checked', html) and not re.search(r'value="approve" checked', html)
    assert re.search(r'name="bodies" value="un_hrc" checked', html)
    assert 'value="un_sp" checked' not in html


def test_every_form_text_is_extracted_and_every_option_can_be_translated():
    """`make i18n` extracts the forms' texts from the files (workflow/babel_extract.py): no copy in Python."""
    for name, schema in SCHEMAS.items():
        with (FORMS_DIR / f"{name}.json").open("rb") as source:
            extracted = {message for _line, _func, message, _comments in extract_form(source, (), (), {})}
        assert schema["title"] in extracted and schema["description"] in extracted, name
        for prop in schema["properties"].values():
            assert prop["title"] in extracted, (name, prop["title"])
            assert prop.get("description", prop["title"]) in extracted, (name, prop["description"])
            # A vocabulary's words are data (labelled from the database), so only its name is checked here.
            assert prop.get("items", prop).get("x-vocabulary", "body") in SEEDED, (name, prop)
            for value in prop.get("enum", prop.get("items", {}).get("enum", [])):
                assert value in LABELS["option"], (name, value)


def test_posted_fields_become_json_of_the_declared_types():
    schema = SCHEMAS["legal_review"]
    posted = MultiDict([("decision", "approve"), ("bodies", "un_sp"), ("bodies", "un_hrc"), ("mandates", "assembly"),
                        ("grounds", ""), ("notes", "  Peaceful.  "), ("urgent", "true"), ("smuggled", "x")])
    assert convert(schema, posted) == {"decision": "approve", "bodies": ["un_sp", "un_hrc"], "mandates": ["assembly"],
                                       "grounds": [], "wgad_categories": [], "urgent": True, "notes": "Peaceful."}
    # Unchecked checkboxes are false, empty optional strings are left out, an empty required one too.
    assert convert(SCHEMAS["verify_consent"], MultiDict([("notes", "  ")])) == {
        "form_of_appeal_verified": False, "power_of_attorney_verified": False}
    assert convert(SCHEMAS["submit_filing"], MultiDict([("submitted_on", "2026-01-02"), ("channel", ""),
                                                        ("reference", "")])) == {"submitted_on": "2026-01-02"}
    # A language per body: one select each, posted as languages.<body>; one left at the default is left out.
    languages = MultiDict([("decision", "approve"), ("bodies", "un_hrc"), ("languages.un_hrc", "ru"),
                           ("languages.osce_odihr", ""), ("languages.smuggled", "fr")])
    assert convert(filled(schema), languages)["languages"] == {"un_hrc": "ru"}
    assert typed_values(filled(schema), languages)["languages"] == {"un_hrc": "ru", "osce_odihr": ""}
    number = {"type": "object", "properties": {"n": {"type": "integer"}, "x": {"type": "number"}}}
    assert convert(number, MultiDict([("n", "12"), ("x", "1.5")])) == {"n": 12, "x": 1.5}
    assert convert(number, MultiDict([("n", "twelve")])) == {"n": "twelve"}  # the schema refuses it by name
    assert typed_values(SCHEMAS["verify_consent"], MultiDict([("form_of_appeal_verified", "true")])) == {
        "form_of_appeal_verified": True, "power_of_attorney_verified": False, "notes": ""}


# -- the loop through the pages --------------------------------------------------------------------------

def post_task(client, ref: str, task_id: str, fields: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    page = client.get(f"/cases/{ref}").get_data(as_text=True)
    return client.post(f"/tasks/{task_id}", data=MultiDict([*fields, ("csrf_token", csrf_token(page))]))


def form_action(task_id: str) -> str:
    return f'action="/tasks/{task_id}"'


def test_consent_review_and_approval_through_the_pages(env, login):
    ref = "APL-200"
    open_sample_case(env, ref)
    ina, lena = login("ina"), login("lena")

    verify = task(env, ref, "verify_consent")
    page = ina.get(f"/cases/{ref}").get_data(as_text=True)
    assert form_action(verify.id) in page
    assert form_action(verify.id) not in lena.get(f"/cases/{ref}").get_data(as_text=True)  # not legal's lane
    response = post_task(ina, ref, verify.id, [("form_of_appeal_verified", "true"),
                                               ("power_of_attorney_verified", "true")])
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{ref}"
    assert "Done: Verify consent." in ina.get(f"/cases/{ref}").get_data(as_text=True)
    assert stage(env, ref) == "legal_review"

    review = task(env, ref, "legal_review")
    intake_view = ina.get(f"/cases/{ref}").get_data(as_text=True)
    assert form_action(review.id) not in intake_view and "This task is for the Legal team" in intake_view
    assert post_task(ina, ref, review.id, [("decision", "approve")]).status_code == 403

    # A rejection without its reason: 422, the error next to "notes", everything typed still there.
    response = post_task(lena, ref, review.id, [("decision", "reject"), ("grounds", "iccpr_9"), ("notes", "")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<textarea id="[^"]+-notes" name="notes"[^>]*aria-invalid="true"[^>]*></textarea>'
                     r'<p class="field-error" id="[^"]+-notes-error">Give the reason for rejecting the case\.</p>',
                     html)
    assert re.search(r'name="decision" value="reject" checked', html)
    assert re.search(r'name="grounds" value="iccpr_9" checked', html)
    assert stage(env, ref) == "legal_review" and task(env, ref, "legal_review").id == review.id

    # With a body of its own (a review for collective complaints only needs no separate approval).
    response = post_task(lena, ref, review.id, [("decision", "approve"), ("bodies", "un_sp"), ("mandates", "assembly"),
                                                ("grounds", "iccpr_21"), ("notes", "Peaceful assembly.")])
    assert response.status_code == 303
    assert stage(env, ref) == "approval"
    with env.uow() as session:
        row = session.get(HumanTask, review.id)
        assert row.state == "completed" and row.completed_by_id == env.user(session, "lena").id

    # Submitting the same task again: someone (here, the same person) was faster.
    again = post_task(lena, ref, review.id, [("decision", "approve")])
    assert again.status_code == 409 and "Someone else completed this task first" in again.get_data(as_text=True)

    # The reviewer, promoted to manager, is offered no approval form: four eyes.
    approve = task(env, ref, "approve_review")
    with env.uow() as session:
        change_role(session, get_user(session, "ada"), get_user(session, "lena"), "manager")
    promoted = login("lena")
    page = promoted.get(f"/cases/{ref}").get_data(as_text=True)
    assert form_action(approve.id) not in page and "Four eyes" in page
    assert post_task(promoted, ref, approve.id, [("decision", "approve")]).status_code == 403  # the service agrees

    mara = login("mara")
    assert form_action(approve.id) in mara.get(f"/cases/{ref}").get_data(as_text=True)
    response = post_task(mara, ref, approve.id, [("decision", "approve"), ("notes", "Agreed.")])
    assert response.status_code == 303
    assert stage(env, ref) == "filing"
    assert [t.bpmn_id for t in ready(env, ref)] == ["check_filing"]


def test_a_refused_verification_keeps_what_was_ticked(env, login):
    ref = "APL-201"
    open_sample_case(env, ref, documents=("form_of_appeal",))  # no power of attorney on file
    ina = login("ina")
    verify = task(env, ref, "verify_consent")
    response = post_task(ina, ref, verify.id, [("form_of_appeal_verified", "true"),
                                               ("power_of_attorney_verified", "true"), ("notes", "Both seen?")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'name="power_of_attorney_verified" value="true" checked aria-invalid="true"[^>]*>\s*'
                     r'<label[^>]*>Power of attorney verified</label></div><p class="field-error"', html)
    assert re.search(r'name="form_of_appeal_verified" value="true" checked>', html)
    assert ">Both seen?</textarea>" in html
    assert stage(env, ref) == "consent"
    assert task(env, ref, "verify_consent").id == verify.id


def test_unknown_task_is_404_and_a_task_link_opens_the_case(env, login):
    ref = "APL-202"
    open_sample_case(env, ref)
    ina = login("ina")
    verify = task(env, ref, "verify_consent")
    response = ina.get(f"/tasks/{verify.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{ref}#task-{verify.id}"
    page = ina.get(f"/cases/{ref}").get_data(as_text=True)
    missing = ina.post("/tasks/00000000-0000-0000-0000-000000000000", data={"csrf_token": csrf_token(page)})
    assert missing.status_code == 404
