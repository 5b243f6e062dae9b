"""The process as data for translators: `make i18n` extracts every task name, deadline label and form text from
bpmn/*.bpmn and bpmn/forms/*.json (workflow/babel_extract.py), and the catalogs translate each of them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch

from workflow.babel_extract import extract_bpmn, extract_form
from workflow.errors import BpmnRefused
from workflow.runtime.specs import parse_bundle, read_directory
from workflow.services.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
CATALOGS = ROOT / "workflow" / "translations"
SOURCES, FORMS = read_directory(BPMN_DIR)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def extracted(function, path: Path) -> list[tuple[int, str, list[str]]]:  # type: ignore[no-untyped-def]
    with path.open("rb") as source:
        return [(line, message, comments) for line, _func, message, comments in function(source, (), (), {})]


def all_extracted() -> dict[str, list[str]]:
    """msgid -> translator comments, from every shipped file, as `make i18n` extracts them."""
    found: dict[str, list[str]] = {}
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        for _line, message, comments in extracted(extract_bpmn, path):
            found.setdefault(message, []).extend(comments)
    for path in sorted((BPMN_DIR / "forms").glob("*.json")):
        for _line, message, comments in extracted(extract_form, path):
            found.setdefault(message, []).extend(comments)
    return found


def process_texts() -> dict[str, str]:
    """What the pages, mails and feeds show of the process, read independently of the extractor (from the parsed
    specs and the form files): text -> where it comes from."""
    texts: dict[str, str] = {}
    for bundle in parse_bundle(SOURCES, FORMS, operations=OPERATIONS).values():
        for spec in (bundle.spec, *bundle.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                kind = type(task_spec).__name__
                if task_spec.bpmn_name and (getattr(task_spec, "manual", False) or "Timer" in type(
                        getattr(task_spec, "event_definition", None)).__name__ or kind in ("CallActivity",
                                                                                         "SubWorkflowTask")):
                    texts[task_spec.bpmn_name] = f"{spec.name}: {task_spec.bpmn_id}"
    for name, text in FORMS.items():
        schema = json.loads(text)
        if name.endswith("-uischema.json"):
            texts.update({entry[key]: name for entry in schema.values() if isinstance(entry, dict)
                          for key in ("ui:title", "ui:help", "ui:placeholder") if key in entry})
            continue
        texts.update({schema["title"]: name, schema["description"]: name})
        for prop in schema["properties"].values():
            texts.update({prop[key]: name for key in ("title", "description") if key in prop})
    return texts


def test_babel_cfg_sends_the_process_files_to_the_extractors():
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, _options = parse_mapping_cfg(cfg, "babel.cfg")
    def method_of(path: str) -> str:  # babel's first matching pattern wins
        return next(method for pattern, method in method_map if pathmatch(pattern, path))
    assert method_of("bpmn/case.bpmn") == "workflow.babel_extract:extract_bpmn"
    assert method_of("bpmn/forms/legal_review.json") == "workflow.babel_extract:extract_form"
    assert method_of("bpmn/forms/legal_review-uischema.json") == "workflow.babel_extract:extract_form"


def test_every_task_name_deadline_label_and_form_text_is_extracted():
    found, texts = all_extracted(), process_texts()
    missing = sorted(f"{text!r} ({where})" for text, where in texts.items() if text not in found)
    assert not missing, "not extracted:\n" + "\n".join(missing)
    assert {"Verify consent", "Record the submission", "Follow up: no response", "Consent verification due",
            "Response window", "File with each body", "Decision?", "Filing languages"} <= set(found)
    # Lanes are role codes and messages are codes a service sends: not words to translate.
    assert not {"intake", "legal", "manager", "consent_withdrawn", "response_received"} & set(found)


def test_each_text_carries_a_comment_naming_its_element_and_its_line():
    lines = dict((message, (line, comments)) for line, message, comments in extracted(
        extract_bpmn, BPMN_DIR / "case.bpmn"))
    line, comments = lines["Consent verification due"]
    assert comments == ["BPMN boundaryEvent id=consent_sla: deadline label (deadline lists, digest mail, calendar)"]
    assert 'id="consent_sla"' in SOURCES["case.bpmn"].splitlines()[line - 1]
    assert lines["Verify consent"][1] == ["BPMN userTask id=verify_consent: task name (inbox, case page, history)"]
    form = {message: (line, comments) for line, message, comments in extracted(
        extract_form, BPMN_DIR / "forms" / "legal_review.json")}
    line, comments = form["Filing languages"]
    assert comments == ["task form: properties.languages.title"]
    assert '"Filing languages"' in FORMS["legal_review.json"].splitlines()[line - 1]


def test_nested_items_and_ui_texts_are_extracted_and_a_field_named_title_is_not_a_text():
    schema = {"title": "Form", "properties": {
        "title": {"type": "string", "title": "Heading"},
        "rows": {"type": "array", "items": {"type": "object", "description": "One row", "properties": {
            "when": {"type": "string", "title": "When it happened"}}}}}}
    ui = {"title": {"ui:help": "A short heading", "ui:placeholder": "e.g. Arrest", "ui:widget": "text"}}
    texts = {message for source in (schema, ui)
             for _line, _func, message, _comments in extract_form(io.BytesIO(json.dumps(source).encode()), (), (), {})}
    assert texts == {"Form", "Heading", "One row", "When it happened", "A short heading", "e.g. Arrest"}


def test_the_extractor_parses_bpmn_with_the_deploys_hardened_parser():
    hostile = ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
               '<bpmn:process id="p" name="&e;"/></bpmn:definitions>')
    with pytest.raises(BpmnRefused, match="DOCTYPE"):
        list(extract_bpmn(io.BytesIO(hostile.encode()), (), (), {}))


# After `make i18n` and the translations of /work/i18n/i18n.json are merged: every process text is in the template
# and translated into Russian and Kazakh.
@pytest.mark.parametrize("catalog", ["messages.pot", "ru/LC_MESSAGES/messages.po", "kk/LC_MESSAGES/messages.po"])
def test_every_process_text_is_in_the_catalogs_and_translated(catalog: str):
    with (CATALOGS / catalog).open("rb") as source:
        entries = read_po(source)
    missing = sorted(m for m in all_extracted() if entries.get(m) is None)
    assert not missing, f"not in {catalog} (run `make i18n`):\n" + "\n".join(missing)
    if catalog != "messages.pot":
        untranslated = sorted(m for m in all_extracted() if not entries.get(m).string)
        assert not untranslated, f"untranslated in {catalog}:\n" + "\n".join(untranslated)
