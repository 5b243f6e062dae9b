"""Changed and hostile versions of the shipped BPMN files, for the tests of uploads (services, pages, API, CLI)."""

from __future__ import annotations

from pathlib import Path

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
CASE = (BPMN_DIR / "case.bpmn").read_text(encoding="utf-8")
VERIFY_FORM = (BPMN_DIR / "forms" / "verify_consent.json").read_text(encoding="utf-8")


def changed_case() -> str:
    """case.bpmn with ``verify_consent`` renamed, ``set_review_due`` under a new id (same name) and the unnamed
    gateway ``merge_triage`` replaced by ``merge_before_triage``: the flow itself does the same as before."""
    text = CASE.replace('name="Verify consent"', 'name="Check the consent"', 1)
    assert text != CASE
    for old, new in (('"set_review_due"', '"set_review_due_at"'), ('"merge_triage"', '"merge_before_triage"')):
        assert old in text
        text = text.replace(old, new)
    return text


def _replaced(old: str, new: str) -> bytes:
    assert old in CASE, old
    return CASE.replace(old, new).encode()


# name -> the uploaded files and a piece of the one line that refuses them.
REFUSED: dict[str, tuple[dict[str, bytes], str]] = {
    "doctype_entity": ({"case.bpmn": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                     b"<x>&e;</x>"}, "DOCTYPE and ENTITY declarations are not allowed"),
    "malformed": ({"case.bpmn": CASE[: len(CASE) // 2].encode()}, "not well-formed XML"),
    "unknown_operation": ({"case.bpmn": _replaced('serviceTaskOperator id="escalate"',
                                                  'serviceTaskOperator id="wipe_database"')},
                          "unknown service operation 'wipe_database'"),
    "lane_not_a_role": ({"case.bpmn": _replaced('<bpmn:lane id="lane_intake" name="intake">',
                                                '<bpmn:lane id="lane_intake" name="clerk">')}, "is not a role"),
    "missing_form": ({"case.bpmn": _replaced('value="verify_consent.json"', 'value="no_such_form.json"')},
                     "form schema 'no_such_form.json' not found"),
    "unsafe_script": ({"case.bpmn": _replaced("case_outcome = 'closed'", "__import__('os').system('id')")},
                      "set_closed_no_consent ('Close: no consent'): Line 1: \"__import__\" is an invalid "
                      "variable name"),
    "file_name": ({"../case.bpmn": CASE.encode()}, "a file name of up to 74 letters"),
    "extension": ({"case.xml": CASE.encode()}, "a file name of up to 74 letters"),
    "long_name": ({"c" * 75 + ".bpmn": CASE.encode()}, "a file name of up to 74 letters"),
    "process_id": ({"case.bpmn": _replaced('"case"', '"Дело"')}, "process id 'Дело': up to 80 letters"),
    "too_large": ({"case.bpmn": b" " * (2 * 1024 * 1024 + 1)}, "larger than"),
    "not_utf8": ({"case.bpmn": CASE.encode("utf-16")}, "not UTF-8 text"),
    "form_not_json": ({"verify_consent.json": b"{not json"}, "not valid JSON"),
    "form_not_object": ({"verify_consent.json": b"[1, 2]"}, "a JSON object is expected"),
    "unused_form": ({"nobody_uses_me.json": b"{}"}, "no process uses the uploaded files"),
    "nothing": ({}, "no file uploaded"),
    "too_many": ({f"f{i}.json": b"{}" for i in range(41)}, "at most 40"),
}
