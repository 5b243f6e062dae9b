"""Babel extractors for the process as data: the texts of ``bpmn/*.bpmn`` and ``bpmn/forms/*.json``.

``babel.cfg`` names them in its ``[extractors]`` section, so ``make i18n`` puts every task name, deadline label
(a timer event's name: ``Deadline.label``) and form text into ``messages.pot`` next to the pages' own, and the
pages, the digest and the calendar feed translate them with the same catalog. Nothing in Python repeats them.

- ``extract_bpmn``: the name of every process and flow node (tasks, events, gateways, subprocesses and call
  activities, which the pages and the diagram's text show); not lanes (their names are role codes) nor messages
  (codes a service sends). Each carries a translator comment naming the element, its id and what it becomes.
- ``extract_form``: a JSON Schema's ``title`` and ``description``, its properties' and nested items' too; a UI
  schema's texts (``form_ui.TEXT_KEYS``: ``ui:title``, ``ui:help``, ``ui:placeholder``).

Both follow Babel's extractor interface: ``(fileobj, keywords, comment_tags, options)`` yielding
``(lineno, funcname, message, comments)``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from workflow.form_ui import TEXT_KEYS
from workflow.runtime.specs import parse_xml

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# Flow nodes whose name a person reads; what each becomes on the pages, for the translator.
NAMED = {
    "process": "process name",
    "userTask": "task name (inbox, case page, history)",
    "manualTask": "task name", "task": "step", "scriptTask": "automatic step", "serviceTask": "automatic step",
    "sendTask": "automatic step", "receiveTask": "step", "businessRuleTask": "automatic step",
    "callActivity": "step (a process of its own)", "subProcess": "part of the process", "transaction": "step",
    "startEvent": "event", "endEvent": "end of the process", "intermediateThrowEvent": "event",
    "intermediateCatchEvent": "event", "boundaryEvent": "event",
    "exclusiveGateway": "question on the diagram", "inclusiveGateway": "question on the diagram",
    "eventBasedGateway": "waiting point on the diagram", "parallelGateway": "branch on the diagram",
    "complexGateway": "branch on the diagram",
}
DEADLINE = "deadline label (deadline lists, digest mail, calendar)"
Extracted = tuple[int, str | None, str, list[str]]


def extract_bpmn(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
                 options: Mapping[str, Any]) -> Iterator[Extracted]:
    """The names of a BPMN file's processes and flow nodes, parsed with the deploy's hardened parser."""
    filename = str(getattr(fileobj, "name", "bpmn"))
    raw = fileobj.read()
    tree = parse_xml(raw, filename)
    lines = raw.decode("utf-8", errors="replace").splitlines()
    for element in tree.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(BPMN):
            continue
        tag = element.tag.removeprefix(BPMN)
        name = " ".join((element.get("name") or "").split())  # names wrap in modelling tools
        if tag not in NAMED or not name:
            continue
        timer = element.find(f"{BPMN}timerEventDefinition") is not None
        what = DEADLINE if timer else NAMED[tag]
        yield _start_line(lines, element), None, name, [f"BPMN {tag} id={element.get('id')}: {what}"]


def _start_line(lines: list[str], element: Any) -> int:
    """The line an element's tag starts on (lxml gives the line its start tag ends on)."""
    end, marker = element.sourceline or 1, f'id="{element.get("id")}"'
    return next((n for n in range(min(end, len(lines)), max(end - 20, 0), -1) if marker in lines[n - 1]), end)


def extract_form(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
                 options: Mapping[str, Any]) -> Iterator[Extracted]:
    """The texts of a task form's JSON Schema or UI schema."""
    text = fileobj.read().decode("utf-8")
    for path, message in _texts(json.loads(text), ""):
        yield _line_of(text, message), None, message, [f"task form: {path}"]


def _texts(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every title, description and UI text, depth first; a property named "title" (a dict) is
    a field, not a text."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if key in ("title", "description", *TEXT_KEYS) and isinstance(value, str):
                if value.strip():
                    yield where, value
            else:
                yield from _texts(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{path}[{index}]")


def _line_of(text: str, message: str) -> int:
    at = text.find(json.dumps(message, ensure_ascii=False))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
