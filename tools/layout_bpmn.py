"""Lay out BPMN files: write a ``bpmndi:BPMNDiagram``, and a pool per process so that lanes are drawn.

    .venv/bin/python tools/layout_bpmn.py bpmn/*.bpmn

This is how ``bpmn/*.bpmn`` got their diagrams (run once on the semantic-only files). It only writes before
``</bpmn:definitions>`` (a ``bpmn:collaboration``, one participant per process, when lanes need a pool; then the
diagram), so ids, names, ``spiffworkflow:`` extensions and scripts stay byte for byte. The diagram may be edited
afterwards in Camunda Modeler or spiff-arena's editor (running this again throws such edits away).
bpmn-auto-layout (npm) draws sub-processes collapsed and ignores lanes, hence this layout:
- columns: longest path from the start events, loops broken by a depth-first search; an expanded sub-process
  spans the columns of its children; the targets of a boundary event come after its host;
- rows: lanes are bands one above the other; a node in no lane joins the lane of the next node that has one
  (a splitting gateway: of the node before); the longest branch keeps its row, the others take a row below;
- edges: among candidate orthogonal routes through the gaps between columns and rows, the one that crosses
  the fewest shapes, labels and earlier edges, with the fewest bends.
SpiffWorkflow orders a gateway's outgoing flows by the y of their targets: harmless while the conditions of
each gateway exclude one another, as they do in ``bpmn/``.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from lxml import etree

from workflow.runtime.diagram import BPMN, BPMNDI, CONTAINERS, is_flow_node

DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NSMAP = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
GAP_X, ROW, LANE_PAD, SUB_PAD, HEADER, LABEL_W, LABEL_H = 50, 120, 60, 40, 30, 90, 27
Point = tuple[float, float]


def kind(tag: str) -> str:
    return "event" if tag.endswith("Event") else "gateway" if tag.endswith("Gateway") else "task"


@dataclass
class Box:
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    cx = property(lambda self: self.x + self.w / 2)
    cy = property(lambda self: self.y + self.h / 2)

    def hit(self, a: Point, b: Point, margin: float = 4) -> bool:
        """Does the orthogonal segment (or point) a-b pass through this box grown by ``margin``?"""
        return (max(a[0], b[0]) > self.x - margin and min(a[0], b[0]) < self.x + self.w + margin
                and max(a[1], b[1]) > self.y - margin and min(a[1], b[1]) < self.y + self.h + margin)


@dataclass
class Node:
    id: str
    tag: str
    el: etree._Element
    parent: str | None  # the sub-process it is drawn in
    children: list[str] = field(default_factory=list)
    host: str | None = None  # boundary events
    lane: int | None = None
    col: int = 0
    row: int = 0
    box: Box = field(default_factory=Box)
    label: Box | None = None

    def size(self) -> tuple[int, int]:
        width, height = SIZES[kind(self.tag)]
        return (width + 20 if len(self.el.get("name") or "") > 30 else width), height  # long names need room


class Layout:
    def __init__(self, process: etree._Element, lanes: list[etree._Element]) -> None:
        self.nodes: dict[str, Node] = {}
        self.flows: list[etree._Element] = []
        self._collect(process, None)
        self.lanes = lanes
        refs = {str(r.text).strip(): i for i, lane in enumerate(lanes) for r in lane.iterfind(f"{{{BPMN}}}flowNodeRef")}
        for node in self.nodes.values():
            node.lane = refs.get(node.id)
        self.out: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.inc: dict[str, list[str]] = {n: [] for n in self.nodes}
        for flow in self.flows:
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in self.nodes and target in self.nodes:
                self.out[source].append(target)
                self.inc[target].append(source)

    def _collect(self, container: etree._Element, parent: str | None) -> None:
        for el in container:
            name = etree.QName(el).localname if isinstance(el.tag, str) else ""
            if name == "sequenceFlow":
                self.flows.append(el)
            elif el.get("id") and is_flow_node(name):
                self.nodes[el.get("id")] = Node(el.get("id"), name, el, parent, host=el.get("attachedToRef"))
                if parent:
                    self.nodes[parent].children.append(el.get("id"))
                if name in CONTAINERS:
                    self._collect(el, el.get("id"))

    def leaves(self, node_id: str, starts: bool) -> list[str]:
        """A node, or for a sub-process its start (or end) nodes, recursively."""
        if not self.nodes[node_id].children:
            return [node_id]
        inner = [c for c in self.nodes[node_id].children if not self.nodes[c].host]
        ends = [c for c in inner if not (self.inc if starts else self.out)[c]] or inner[:1]
        return [leaf for c in ends for leaf in self.leaves(c, starts)]

    def leaves_in(self, sub: str) -> list[str]:
        return [x for c in self.nodes[sub].children for x in (self.leaves_in(c) if self.nodes[c].children else
                                                                [] if self.nodes[c].host else [c])]

    def columns(self) -> dict[str, list[str]]:
        """Set each node's column; return its successors without loops, the longest way on first."""
        succ: dict[str, list[str]] = {n: [] for n, node in self.nodes.items() if not node.children and not node.host}
        for source, targets in self.out.items():  # into a sub-process: its starts; out of it: from its ends
            for a in self.leaves(self.nodes[source].host or source, starts=False):
                succ[a] += [t for target in targets for t in self.leaves(target, starts=True) if t not in succ[a]]
        seen, stack, back = set(), set(), set()

        def dfs(n: str) -> None:
            seen.add(n)
            stack.add(n)
            for t in succ[n]:
                if t in stack:
                    back.add((n, t))
                elif t not in seen:
                    dfs(t)
            stack.discard(n)

        for root in [n for n in succ if not any(n in ts for ts in succ.values())] + list(succ):
            if root not in seen:
                dfs(root)
        dag = {n: [t for t in ts if (n, t) not in back] for n, ts in succ.items()}
        memo: dict[str, int] = {}

        def col(n: str) -> int:
            if n not in memo:
                memo[n] = max((col(p) + 1 for p in dag if n in dag[p]), default=0)
            return memo[n]

        height: dict[str, int] = {}

        def tall(n: str) -> int:
            if n not in height:
                height[n] = 1 + max((tall(t) for t in dag[n]), default=0)
            return height[n]

        for n in dag:
            self.nodes[n].col = col(n)
        return {n: sorted(ts, key=lambda t: -tall(t)) for n, ts in dag.items()}

    def inherit_lanes(self) -> None:
        """A node in no lane joins the lane of the next node with one (a split gateway: of the one before)."""
        def near(start: str, edges: dict[str, list[str]]) -> int | None:
            frontier, seen = [start], {start}
            while frontier:
                hits = [self.nodes[n].lane for n in frontier if n != start and self.nodes[n].lane is not None]
                if hits:
                    return hits[0]
                frontier = [m for n in frontier for m in [*edges[n], *filter(None, [self.nodes[n].host])]
                            if not (m in seen or seen.add(m)) and not self.nodes[m].children]
            return None

        found = {n: near(n, self.out) if near(n, self.out) is not None else near(n, self.inc)
                 for n, node in self.nodes.items() if node.lane is None and len(self.out[n]) <= 1}
        for n, lane in found.items():
            self.nodes[n].lane = lane
        for n, node in self.nodes.items():
            if node.lane is None:
                node.lane = near(n, self.inc) if near(n, self.inc) is not None else near(n, self.out)
        for node in self.nodes.values():
            node.lane = node.lane or 0

    def rows(self, main: dict[str, list[str]]) -> None:
        taken: set[tuple[int, int, int]] = set()
        hosts = {t: self.nodes[b].host for b in self.nodes if self.nodes[b].host for t in self.out[b]}

        def visit(n: str, row: int) -> None:
            node = self.nodes[n]
            while (node.lane, row, node.col) in taken:
                row += 1
            node.row = row
            taken.add((node.lane, row, node.col))
            for i, t in enumerate(main[n]):
                if self.nodes[t].row < 0:
                    below = i > 0 or (t in hosts and hosts[t] in (n, node.parent))
                    visit(t, (row + below) if self.nodes[t].lane == node.lane else 0)

        for n in main:
            self.nodes[n].row = -1
        for n in [n for n in main if not any(n in ts for ts in main.values())] + list(main):
            if self.nodes[n].row < 0:
                visit(n, 0)

    def place(self, origin_x: float, origin_y: float) -> tuple[list[Box], float, float]:
        """Boxes from columns, lanes and rows; returns the lane bands, the right and the bottom."""
        leaves = [n for n in self.nodes.values() if not n.children and not n.host]
        width = [0.0] * (max(n.col for n in leaves) + 1)
        for n in leaves:
            width[n.col] = max(width[n.col], n.size()[0])
        subs = [n for n, node in self.nodes.items() if node.children]
        first = [min(self.nodes[c].col for c in self.leaves_in(s)) for s in subs]
        last = [max(self.nodes[c].col for c in self.leaves_in(s)) for s in subs]
        centers, x = [], origin_x
        for c in range(len(width)):  # a sub-process border (and its padding) before its first column, after its last
            x += SUB_PAD * first.count(c) + width[c] / 2
            centers.append(x)
            x += width[c] / 2 + GAP_X + SUB_PAD * last.count(c)
        bands, y = [], origin_y
        for lane in range(max(1, len(self.lanes))):
            rows = 1 + max((n.row for n in leaves if n.lane == lane), default=0)
            bands.append(Box(0, y, 0, 2 * LANE_PAD + rows * ROW))
            y += bands[-1].h
        for n in leaves:
            w, h = n.size()
            cy = bands[n.lane].y + LANE_PAD + ROW * n.row + ROW / 2 - 10
            n.box = Box(centers[n.col] - w / 2, cy - h / 2, w, h)
        for s in reversed(subs):  # innermost first
            inner = [self.nodes[c].box for c in self.nodes[s].children if not self.nodes[c].host]
            x0, y0 = min(b.x for b in inner) - SUB_PAD, min(b.y for b in inner) - SUB_PAD - 20  # its title
            x1, y1 = max(b.x + b.w for b in inner) + SUB_PAD, max(b.y + b.h for b in inner) + SUB_PAD
            self.nodes[s].box = Box(x0, y0, x1 - x0, y1 - y0)
        for n in self.nodes.values():
            if n.host:
                self._attach(n)
            if (n.children or kind(n.tag) != "task") and n.el.get("name"):
                n.label = self._label(n)
        return bands, x, y

    def _label(self, n: Node) -> Box:
        """Above a gateway (its branches leave downwards), left of a boundary event on a task (its flow goes down
        and right), at the top of a sub-process (drawn there by bpmn-js, no DI of its own), below other events."""
        if (n.host and not self.nodes[n.host].children) or n.children:
            return Box(n.box.cx - 80, n.box.y, 160, 24) if n.children else \
                Box(n.box.x - LABEL_W + 10, n.box.y + n.box.h - 4, LABEL_W, LABEL_H)
        y = n.box.y - 5 - LABEL_H if kind(n.tag) == "gateway" else n.box.y + n.box.h + 5
        return Box(n.box.cx - LABEL_W / 2, y, LABEL_W, LABEL_H)

    def _attach(self, n: Node) -> None:
        host = self.nodes[n.host].box
        k = [b for b in self.nodes if self.nodes[b].host == n.host].index(n.id)
        if self.nodes[n.host].children:  # right border, level with its first target when it can
            ys = [y for y in (self.nodes[t].box.cy for t in self.out[n.id]) if host.y + 20 < y < host.y + host.h - 20]
            n.box = Box(host.x + host.w - 18, (ys[0] if ys else host.y + host.h - 40 - 50 * k) - 18, 36, 36)
        else:
            n.box = Box(host.x + host.w - 48 - 40 * k, host.y + host.h - 18, 36, 36)

    def route(self, source: Node, target: Node, routed: list[list[Point]]) -> list[Point]:
        """The cheapest of the candidate orthogonal routes (see ``_cost``)."""
        s, t = source.box, target.box
        boxes = [n.box for n in self.nodes.values() if not n.children]
        xs = {b.x + b.w + GAP_X / 2 for b in boxes} | {b.x - GAP_X / 2 for b in boxes}
        ys = {b.y - 14 for b in boxes} | {b.y - LABEL_H - 16 for b in boxes} | {b.y + b.h + 34 for b in boxes}
        outs = [("r", (s.x + s.w, s.cy)), ("b", (s.cx, s.y + s.h)), ("t", (s.cx, s.y))]
        ins = [("l", (t.x, t.cy)), ("t", (t.cx, t.y)), ("b", (t.cx, t.y + t.h))]
        outs = [outs[0 if self.nodes[source.host].children else 1]] if source.host else outs
        if source.children and s.y < t.cy < s.y + s.h:
            outs = [("r", (s.x + s.w, t.cy))]
        if target.children and t.y < s.cy < t.y + t.h:
            ins = [("l", (t.x, s.cy))]
        candidates = []
        for o, a in outs:
            for i, b in ins:
                if o == "r" and i == "l":
                    candidates += [[a, b]] if a[1] == b[1] else []
                    candidates += [[a, (mx, a[1]), (mx, b[1]), b] for mx in xs if a[0] < mx < b[0]]
                if o in "bt" and i == "l" and b[0] > a[0]:
                    candidates.append([a, (a[0], b[1]), b])
                if o == "r" and i in "tb" and b[0] > a[0]:
                    candidates.append([a, (b[0], a[1]), b])
                for yc in ys:  # out, along a gap between rows, in
                    if (o == "b" and yc <= a[1]) or (o == "t" and yc >= a[1]) or (
                            i == "b" and yc <= b[1]) or (i == "t" and yc >= b[1]):
                        continue
                    ox, ix = a[0] + GAP_X / 2 - 5, b[0] - GAP_X / 2 + 5
                    head = [a, (ox, a[1]), (ox, yc)] if o == "r" else [a, (a[0], yc)]
                    candidates.append(head + ([(ix, yc), (ix, b[1]), b] if i == "l" else [(b[0], yc), b]))
        best = min(candidates, key=lambda p: self._cost(p, source, target, routed))
        return [(round(x), round(y)) for x, y in best]

    def _cost(self, path: list[Point], source: Node, target: Node, routed: list[list[Point]]) -> float:
        """Shapes crossed weigh most, then labels crossed, lengths run along or across earlier edges, bends."""
        skip = {source.id, target.id, source.host}
        inside = self.nodes[source.parent].box if source.parent else None
        cost = 15.0 * (len(path) - 2)
        for a, b in pairwise(path):
            cost += 0.05 * (abs(a[0] - b[0]) + abs(a[1] - b[1]))
            cost += 1000 * (inside is not None and not (inside.hit(a, a, 1) and inside.hit(b, b, 1)))
            for n in self.nodes.values():
                cost += 100 * (n.label is not None and n.label.hit(a, b, 0))
                if n.id in skip or n.id in (source.parent, target.parent):
                    continue
                if n.children:  # only its border counts
                    inner = Box(n.box.x + 6, n.box.y + 6, n.box.w - 12, n.box.h - 12)
                    cost += 1000 * (n.box.hit(a, b, 0) and not (inner.hit(a, a, 1) and inner.hit(b, b, 1)))
                else:
                    cost += 1000 * n.box.hit(a, b)
            cost += sum(_overlap(a, b, c, d) for other in routed for c, d in pairwise(other))
        return cost


def _overlap(a: Point, b: Point, c: Point, d: Point) -> float:
    """Three times the length two collinear segments share, or 25 where two segments cross."""
    if a[0] == b[0] == c[0] == d[0] or a[1] == b[1] == c[1] == d[1]:
        axis = 1 if a[0] == b[0] else 0
        shared = min(max(a[axis], b[axis]), max(c[axis], d[axis])) - max(min(a[axis], b[axis]), min(c[axis], d[axis]))
        return 3 * max(0.0, shared)
    (h0, h1), (v0, v1) = ((a, b), (c, d)) if a[1] == b[1] else ((c, d), (a, b))
    if h0[1] != h1[1] or v0[0] != v1[0]:
        return 0.0
    crosses = min(h0[0], h1[0]) < v0[0] < max(h0[0], h1[0]) and min(v0[1], v1[1]) < h0[1] < max(v0[1], v1[1])
    return 25.0 if crosses else 0.0


def _el(parent: etree._Element, ns: str, tag: str, **attrs: object) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: str(round(v)) if isinstance(v, float | int) else str(v)
                                                       for k, v in attrs.items()})


def _shape(plane: etree._Element, element_id: str, box: Box, label: Box | None = None, **attrs: str) -> None:
    shape = _el(plane, BPMNDI, "BPMNShape", id=f"{element_id}_di", bpmnElement=element_id, **attrs)
    for bounds, parent in [(box, shape)] + ([(label, _el(shape, BPMNDI, "BPMNLabel"))] if label else []):
        _el(parent, DC, "Bounds", x=bounds.x, y=bounds.y, width=bounds.w, height=bounds.h)
    shape.append(shape[0])  # BPMNDI.xsd: the shape's bounds first, then its label


def diagram_xml(text: str) -> list[etree._Element]:
    """The collaboration (when the processes need pools) and the BPMNDiagram for a BPMN text."""
    root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    processes = root.findall(f"{{{BPMN}}}process")
    pooled = len(processes) > 1 or any(p.find(f"{{{BPMN}}}laneSet") is not None for p in processes)
    name = root.get("id", "definitions")
    collab = etree.Element(f"{{{BPMN}}}collaboration", id=f"{name}_pools", nsmap={"bpmn": BPMN})
    diagram = etree.Element(f"{{{BPMNDI}}}BPMNDiagram", id=f"{name}_diagram", nsmap=NSMAP)
    drawn = collab.get("id") if pooled else processes[0].get("id")
    plane = _el(diagram, BPMNDI, "BPMNPlane", id=f"{drawn}_plane", bpmnElement=drawn)
    top = 80.0
    for process in processes:
        lanes = list(process.iter(f"{{{BPMN}}}lane"))
        layout = Layout(process, lanes)
        if not layout.nodes:
            continue
        layout.inherit_lanes()
        layout.rows(layout.columns())
        left = 160.0 + (2 * HEADER if pooled else 0)
        bands, right, bottom = layout.place(left, top)
        if pooled:
            pid = f"{process.get('id')}_pool"
            _el(collab, BPMN, "participant", id=pid, name=process.get("name") or process.get("id"),
                processRef=process.get("id"))
            pool = Box(left - 2 * HEADER - 40, top, right - left + 2 * HEADER + 40, bottom - top)
            _shape(plane, pid, pool, isHorizontal="true")
            for lane, band in zip(lanes, bands, strict=False):
                _shape(plane, lane.get("id"), Box(pool.x + HEADER, band.y, pool.w - HEADER, band.h),
                       isHorizontal="true")
        for n in sorted(layout.nodes.values(), key=lambda n: (n.host is not None, n.parent is not None)):
            _shape(plane, n.id, n.box, None if n.children else n.label, **({"isExpanded": "true"} if n.children
                   else {"isMarkerVisible": "true"} if n.tag == "exclusiveGateway" else {}))
        routed: list[list[Point]] = []
        ends = [(f, layout.nodes.get(f.get("sourceRef")), layout.nodes.get(f.get("targetRef"))) for f in layout.flows]
        for flow, source, target in sorted((e for e in ends if e[1] and e[2]), key=lambda e: e[2].col <= e[1].col):
            routed.append(layout.route(source, target, routed))  # the loops last: they go round the rest
            edge = _el(plane, BPMNDI, "BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id"))
            for x, y in routed[-1]:
                _el(edge, DI, "waypoint", x=x, y=y)
        top = bottom + 60
    return [collab, diagram] if pooled else [diagram]


_GENERATED = re.compile(r"[ \t]*<(bpmn:collaboration|bpmndi:BPMNDiagram)\b.*?</\1>[ \t]*\n?", re.S)
# After the root elements: before any other diagram or relationship (BPMN20.xsd's order), else the closing tag.
_AFTER_ROOTS = re.compile(r"^[ \t]*<(?:\w+:)?(?:BPMNDiagram|relationship)\b|</(?:\w+:)?definitions>\s*$", re.M)


def with_diagram(text: str) -> str:
    """The BPMN text with a freshly laid-out diagram; all but the generated part is kept as it is."""
    text = _GENERATED.sub("", text)
    close = _AFTER_ROOTS.search(text)
    if close is None:
        raise ValueError("no closing definitions tag")
    blocks = []
    for block in diagram_xml(text):
        etree.indent(block, space="  ", level=1)
        blocks.append("  " + etree.tostring(block, encoding="unicode").rstrip())
    return text[:close.start()] + "\n".join(blocks) + "\n" + text[close.start():]


if __name__ == "__main__":
    for path in map(Path, sys.argv[1:]):
        path.write_text(with_diagram(path.read_text(encoding="utf-8")), encoding="utf-8")
