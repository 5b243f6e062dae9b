"""The diagrams of the shipped BPMN: complete, tidy, drawable as pools with lanes; deploy refuses an incomplete one."""

from __future__ import annotations

import re
import shutil
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from tools.layout_bpmn import with_diagram
from workflow.errors import BpmnRefused
from workflow.models import ProcessDefinition
from workflow.runtime.specs import deploy_directory, parse_bundle, read_directory
from workflow.services.operations import OPERATIONS

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SOURCES, FORMS = read_directory(BPMN_DIR)
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def tree(name: str) -> etree._Element:
    return etree.fromstring(SOURCES[name].encode())


def shapes(root: etree._Element) -> dict[str, Box]:
    found = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        found[shape.get("bpmnElement")] = (x, y, x + w, y + h)
    return found


def edges(root: etree._Element) -> dict[str, list[tuple[float, float]]]:
    return {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in e.iterfind("di:waypoint", NS)]
            for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}


def inside(inner: Box, outer: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def bundles():
    return parse_bundle(SOURCES, FORMS, operations=OPERATIONS)


def nodes_of(bundles, name: str) -> set[str]:
    """Every BPMN element SpiffWorkflow made a task spec of, for the processes of one file."""
    found = set()
    for bundle in bundles.values():
        for spec in [bundle.spec, *bundle.subprocess_specs.values()]:
            if spec.file == name:
                found |= {ts.bpmn_id for ts in spec.task_specs.values() if ts.bpmn_id}
    return found


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_flow_node_has_a_shape_and_every_flow_an_edge(bundles, name: str) -> None:
    root = tree(name)
    nodes = nodes_of(bundles, name)
    assert nodes, name
    assert nodes <= set(shapes(root)), nodes - set(shapes(root))
    flows = {f.get("id") for f in root.iterfind(".//bpmn:sequenceFlow", NS)}
    assert flows and flows <= set(edges(root)), flows - set(edges(root))


def test_the_collaboration_adds_no_process(bundles) -> None:
    """One pool per process with lanes; SpiffWorkflow still parses the same executable processes."""
    assert set(bundles) == {"case", "filing", "collective_complaint"}
    for name in SOURCES:
        root = tree(name)
        laned = {p.get("id") for p in root.iterfind("bpmn:process", NS) if p.find("bpmn:laneSet", NS) is not None}
        pools = {p.get("processRef"): p.get("id") for p in root.iterfind("bpmn:collaboration/bpmn:participant", NS)}
        assert set(pools) == laned, name
        plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
        assert plane.get("bpmnElement") in {c.get("id") for c in root.iterfind("bpmn:collaboration", NS)} | (
            set() if laned else {p.get("id") for p in root.iterfind("bpmn:process", NS)})
        assert all(pool in shapes(root) for pool in pools.values())


@pytest.mark.parametrize("name", ["case.bpmn", "filing.bpmn"])
def test_lane_members_lie_in_their_lane_and_lanes_in_their_pool(name: str) -> None:
    root = tree(name)
    boxes = shapes(root)
    [pool] = root.iterfind("bpmn:collaboration/bpmn:participant", NS)
    for lane in root.iterfind(".//bpmn:lane", NS):
        assert inside(boxes[lane.get("id")], boxes[pool.get("id")]), lane.get("id")
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            assert inside(boxes[ref.text], boxes[lane.get("id")]), (ref.text, lane.get("id"))
    for a, b in combinations([lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)], 2):
        assert not overlap(boxes[a], boxes[b]), (a, b)


def test_case_work_is_drawn_expanded_around_its_children() -> None:
    root = tree("case.bpmn")
    boxes = shapes(root)
    shape = root.find(".//bpmndi:BPMNShape[@bpmnElement='case_work']", NS)
    assert shape.get("isExpanded") == "true"
    children = [el.get("id") for el in root.find(".//bpmn:subProcess[@id='case_work']", NS) if el.get("id")]
    assert "legal_review" in children
    for child in children:
        if child in boxes:
            assert inside(boxes[child], boxes["case_work"]), child


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_boundary_events_sit_on_their_host_border(name: str) -> None:
    root = tree(name)
    boxes = shapes(root)
    for event in root.iterfind(".//bpmn:boundaryEvent", NS):
        x0, y0, x1, y1 = boxes[event.get("attachedToRef")]
        ex0, ey0, ex1, ey1 = boxes[event.get("id")]
        cx, cy = (ex0 + ex1) / 2, (ey0 + ey1) / 2
        on_side = cx in (x0, x1) and y0 <= cy <= y1
        assert on_side or (cy in (y0, y1) and x0 <= cx <= x1), event.get("id")


def _drawn_nodes(root: etree._Element) -> dict[str, etree._Element]:
    return {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id") in shapes(root)
            and etree.QName(el).localname not in ("participant", "lane")}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_no_two_shapes_overlap(name: str) -> None:
    """Except a boundary event on its host and a sub-process around what it contains."""
    root = tree(name)
    boxes = shapes(root)
    nodes = _drawn_nodes(root)
    for a, b in combinations(nodes, 2):
        related = nodes[a].get("attachedToRef") == b or nodes[b].get("attachedToRef") == a or \
            nodes[b] in nodes[a].iterdescendants() or nodes[a] in nodes[b].iterdescendants()
        if not related:
            assert not overlap(boxes[a], boxes[b]), (a, b)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_edges_are_orthogonal_join_their_ends_and_cross_no_other_shape(name: str) -> None:
    root = tree(name)
    boxes, nodes = shapes(root), _drawn_nodes(root)
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        points = edges(root)[flow.get("id")]
        source, target = boxes[flow.get("sourceRef")], boxes[flow.get("targetRef")]
        assert inside((*points[0], *points[0]), source) and inside((*points[-1], *points[-1]), target), flow.get("id")
        for a, b in pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], (flow.get("id"), a, b)
            segment = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
            ends = (flow.get("sourceRef"), flow.get("targetRef"))
            for node_id, el in nodes.items():
                if any(e.get("id") in ends for e in el.iter()):
                    continue  # its ends, and the sub-process it runs in
                x0, y0, x1, y1 = boxes[node_id]
                assert not overlap(segment, (x0 + 1, y0 + 1, x1 - 1, y1 - 1)), (flow.get("id"), node_id)


# -- the deploy check ----------------------------------------------------------------------------------

def _without(text: str, pattern: str) -> str:
    changed, count = re.subn(pattern, "", text, flags=re.S)
    assert count == 1, pattern
    return changed


INCOMPLETE = {
    "shape": (r'\s*<bpmndi:BPMNShape id="legal_review_di".*?</bpmndi:BPMNShape>',
              "case.bpmn: bpmn:userTask id='legal_review' has no diagram shape"),
    "edge": (r'\s*<bpmndi:BPMNEdge id="reviewed_di".*?</bpmndi:BPMNEdge>',
             "case.bpmn: bpmn:sequenceFlow id='reviewed' has no diagram edge"),
    "section": (r"\s*<bpmndi:BPMNDiagram\b.*</bpmndi:BPMNDiagram>", "case.bpmn: no diagram (bpmndi:BPMNDiagram)"),
}


@pytest.mark.parametrize("case", sorted(INCOMPLETE))
def test_deploy_refuses_an_incomplete_diagram_and_stores_nothing(env, tmp_path: Path, case: str) -> None:
    pattern, message = INCOMPLETE[case]
    bpmn_dir = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, bpmn_dir)
    (bpmn_dir / "case.bpmn").write_text(_without(SOURCES["case.bpmn"], pattern), encoding="utf-8")
    with env.uow() as session:
        before = session.scalar(select(func.count()).select_from(ProcessDefinition))
    with pytest.raises(BpmnRefused) as refused, env.uow() as session:
        deploy_directory(session, bpmn_dir, operations=OPERATIONS)
    assert str(refused.value) == message
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before


def test_the_refusal_counts_what_else_is_missing() -> None:
    text = re.sub(r'\s*<bpmndi:BPMNShape id="(legal_review|approve_review)_di".*?</bpmndi:BPMNShape>', "",
                  SOURCES["case.bpmn"], flags=re.S)
    with pytest.raises(BpmnRefused, match=r"^case\.bpmn: bpmn:userTask id='legal_review' has no diagram shape "
                                          r"\(and 1 more\)$"):
        parse_bundle({**SOURCES, "case.bpmn": text}, FORMS, operations=OPERATIONS)


def test_deploy_refuses_a_shape_of_an_element_the_file_does_not_define() -> None:
    """A shape left behind by a deleted task: bpmn-js would warn on import, so the case page would not draw cleanly."""
    stale = '<bpmndi:BPMNShape id="archive_di" bpmnElement="archive"><dc:Bounds x="0" y="0" width="10" height="10"/>' \
            '</bpmndi:BPMNShape></bpmndi:BPMNPlane>'
    text = SOURCES["case.bpmn"].replace("</bpmndi:BPMNPlane>", stale, 1)
    with pytest.raises(BpmnRefused, match=r"^case\.bpmn: the diagram draws 'archive', which the file does not "
                                          r"define$"):
        parse_bundle({**SOURCES, "case.bpmn": text}, FORMS, operations=OPERATIONS)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_layout_tool_rewrites_only_the_diagram(name: str) -> None:
    """tools/layout_bpmn.py on the semantic part alone: that part byte for byte, then a complete diagram."""
    semantic = re.sub(r"\s*<(bpmn:collaboration|bpmndi:BPMNDiagram)\b.*?</\1>", "", SOURCES[name], flags=re.S)
    assert "bpmndi:" not in semantic and semantic != SOURCES[name]
    laid_out = with_diagram(semantic)
    end = semantic.index("</bpmn:definitions>")
    assert laid_out.startswith(semantic[:end].rstrip())
    assert laid_out.endswith(semantic[end:])
    assert set(parse_bundle({**SOURCES, name: laid_out}, FORMS, operations=OPERATIONS)) == set(
        parse_bundle(SOURCES, FORMS, operations=OPERATIONS))
