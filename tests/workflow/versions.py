"""New versions of the shipped ``case.bpmn`` for the migration tests, made by editing the shipped file.

Version 2 renames ``legal_review``, adds the script task ``note_review`` after it (it sets
``reviewed_on_new_version``, so a moved case shows that it ran the new version), and removes the
request for missing documents (``set_documents_due``, ``request_documents`` with its timer and alert, ``gw_abandon``):
incomplete consent now closes the case at once. When the file has a diagram section, the shapes and edges of
removed elements go and the added ones get theirs, so the version passes a deploy check that wants a diagram.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from workflow.models import ProcessDefinition
from workflow.runtime.specs import deploy, parse_bundle, read_directory
from workflow.services.operations import OPERATIONS

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
REMOVED = {"set_documents_due", "request_documents", "documents_timer", "escalate_documents", "gw_abandon",
           "to_request_documents", "documents_answered", "documents_late", "documents_escalated", "documents_back",
           "abandoned"}


def _q(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def case_v2(text: str) -> str:
    root = etree.fromstring(text.encode())
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    for element in list(root.iter()):
        gone = element.get("id") in REMOVED or element.get("bpmnElement") in REMOVED
        if gone or (element.tag in (_q("incoming"), _q("outgoing"), _q("flowNodeRef")) and element.text in REMOVED):
            element.getparent().remove(element)
    by_id["consent_incomplete"].set("targetRef", "set_closed_no_consent")
    closing = by_id["set_closed_no_consent"]
    incoming = etree.Element(_q("incoming"))
    incoming.text = "consent_incomplete"
    closing.insert(closing.index(closing.find(_q("outgoing"))), incoming)  # the schema wants incoming first
    by_id["legal_review"].set("name", "Legal review of the case")
    by_id["reviewed"].set("targetRef", "note_review")
    work = by_id["case_work"]
    note = etree.SubElement(work, _q("scriptTask"), id="note_review", name="Note the review", scriptFormat="python")
    etree.SubElement(note, _q("incoming")).text = "reviewed"
    etree.SubElement(note, _q("outgoing")).text = "note_reviewed"
    etree.SubElement(note, _q("script")).text = "reviewed_on_new_version = True"
    etree.SubElement(work, _q("sequenceFlow"), id="note_reviewed", sourceRef="note_review",
                     targetRef="gw_review_decision")
    _draw(root, "note_review", "note_reviewed", after="legal_review")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def _draw(root: Any, node: str, flow: str, *, after: str) -> None:
    """A shape for ``node`` below the shape of ``after`` and an edge for ``flow``, if the file has a diagram."""
    plane = root.find(f".//{{{BPMNDI}}}BPMNPlane")
    if plane is None:
        return
    anchor = plane.find(f"{{{BPMNDI}}}BPMNShape[@bpmnElement='{after}']/{{{DC}}}Bounds")
    x, y = (float(anchor.get("x")), float(anchor.get("y")) + 120) if anchor is not None else (0.0, 0.0)
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{node}_di", bpmnElement=node)
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=str(x), y=str(y), width="100", height="80")
    edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow}_di", bpmnElement=flow)
    for wx, wy in ((x + 100, y + 40), (x + 160, y + 40)):
        etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(wx), y=str(wy))


def filing_renamed(text: str) -> str:
    """``filing.bpmn`` whose legal check has a new name: the called process changes under running filings."""
    return text.replace('name="Check the filing"', 'name="Check the filing text"', 1)


def deploy_version(session: Session, bpmn_dir: Path, *, edit_case=case_v2, edit_filing=None,
                   forms: dict[str, Any] | None = None) -> ProcessDefinition:
    """Deploy and activate the edited ``case.bpmn`` (``edit_filing``: and ``filing.bpmn``; ``forms``: form schemas
    replaced); the new version of ``case``."""
    sources, shipped_forms = read_directory(bpmn_dir)
    sources["case.bpmn"] = edit_case(sources["case.bpmn"])
    if edit_filing is not None:
        sources["filing.bpmn"] = edit_filing(sources["filing.bpmn"])
    shipped_forms.update({name: json.dumps(schema) for name, schema in (forms or {}).items()})
    bundles = parse_bundle(sources, shipped_forms, operations=OPERATIONS)
    [case] = [d for d in deploy(session, bundles, None) if d.process_id == "case"]
    return case
