"""The deploy check that every BPMN file can be drawn: a shape for each flow node, an edge for each flow.

bpmn-js (the case page, the admin pages, Camunda Modeler, spiff-arena's editor) draws only what the
``bpmndi:BPMNDiagram`` section places; an element without a shape is silently missing from the picture, and a
file without the section shows nothing at all. ``tools/layout_bpmn.py`` writes a complete section.
"""

from __future__ import annotations

from lxml import etree

from workflow.errors import BpmnRefused

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
CONTAINERS = ("subProcess", "transaction", "adHocSubProcess")  # flow nodes with flow nodes inside


def is_flow_node(localname: str) -> bool:
    """BPMN 2.0 tFlowNode: activities, events (boundary events too) and gateways."""
    return localname.endswith(("Task", "Event", "Gateway")) or localname in ("task", "callActivity", *CONTAINERS)


def _flow_elements(tree: etree._ElementTree) -> list[etree._Element]:
    """The flow nodes and sequence flows of every process and sub-process, in document order."""
    found = []
    for container in tree.iter(f"{{{BPMN}}}process", *(f"{{{BPMN}}}{name}" for name in CONTAINERS)):
        for el in container:
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
                continue
            name = etree.QName(el).localname
            if name == "sequenceFlow" or is_flow_node(name):
                found.append(el)
    return found


def check_diagram(tree: etree._ElementTree, filename: str) -> None:
    """Refuse a file whose diagram is missing, lacks a shape or an edge, or draws an element the file does not
    define, in one line naming the first."""
    root = tree.getroot()
    if root.find(f"{{{BPMNDI}}}BPMNDiagram") is None:
        raise BpmnRefused(f"{filename}: no diagram (bpmndi:BPMNDiagram)")
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}
    missing = []
    for el in _flow_elements(tree):
        is_flow = etree.QName(el).localname == "sequenceFlow"
        if el.get("id") not in (edges if is_flow else shapes):
            missing.append((el, "edge" if is_flow else "shape"))
    if missing:
        el, what = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise BpmnRefused(f"{filename}: bpmn:{etree.QName(el).localname} id={el.get('id')!r} "
                          f"has no diagram {what}{more}")
    # A shape left behind by an element since deleted: bpmn-js warns on import ("unresolved reference") and
    # draws nothing for it, so the file would not render cleanly on the case page.
    defined = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN}
    for drawn in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge", f"{{{BPMNDI}}}BPMNPlane"):
        if drawn.get("bpmnElement") not in defined:
            raise BpmnRefused(f"{filename}: the diagram draws {drawn.get('bpmnElement')!r}, "
                              "which the file does not define")
