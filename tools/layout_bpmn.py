"""Lay out BPMN files: write the bpmndi diagram section (and a pool per process with lanes) after the processes.

    .venv/bin/python tools/layout_bpmn.py bpmn/*.bpmn

How ``bpmn/*.bpmn`` got their diagrams: this script was run once on the semantic-only files. It only replaces
the text between the last ``</bpmn:process>`` and ``</bpmn:definitions>`` (a ``bpmn:collaboration`` and the
``bpmndi:BPMNDiagram``), so ids, names, ``spiffworkflow:`` extensions and scripts stay byte for byte. The
diagram may be edited afterwards in Camunda Modeler or spiff-arena's editor; running this script again throws
such hand edits away. bpmn-auto-layout (npm) was tried first: it draws sub-processes collapsed and ignores
lanes, so this small layered layout is used instead:

- columns: longest path from the start events, loops broken by a depth-first search; an expanded sub-process
  takes the columns of its children, and the targets of a boundary event come after its host;
- rows: the lanes of the laneSet are bands, one on top of the other; a node in no lane joins the lane of the
  nearest node that has one; the longest branch keeps its row, the others take the next free row below;
- edges: the orthogonal route, among a few dozen candidates through the gaps between columns and rows, that
  crosses the fewest shapes, labels and earlier edges, with the fewest bends.

Boundary events sit on their host's bottom border (on the right border for an expanded sub-process). The
order of a gateway's outgoing flows that SpiffWorkflow keeps depends on the y of their targets: harmless
here, where the conditions of each gateway exclude one another.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
GAP_X, ROW, LANE_PAD, SUB_PAD, HEADER = 50, 120, 40, 40, 30
LABEL_W, LABEL_H = 90, 27


def local(node: etree._Element) -> str:
    return etree.QName(node).localname


def kind(tag: str) -> str:
    if tag.endswith("Event"):
        return "event"
    return "gateway" if tag.endswith("Gateway") else "task"


@dataclass
class Box:
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def hit(self, a: tuple[float, float], b: tuple[float, float], margin: float = 4) -> bool:
        """Does the orthogonal segment a-b pass through this box (grown by ``margin``)?"""
        x0, x1 = sorted((a[0], b[0]))
        y0, y1 = sorted((a[1], b[1]))
        return (x1 > self.x - margin and x0 < self.x + self.w + margin
                and y1 > self.y - margin and y0 < self.y + self.h + margin)


@dataclass
class Node:
    id: str
    tag: str
    el: etree._Element
    parent: str | None  # the expanded sub-process it sits in
    children: list[str] = field(default_factory=list)
    host: str | None = None  # boundary events
    lane: int | None = None
    col: int = 0
    row: int = 0
    box: Box = field(default_factory=Box)
    label: Box | None = None


class Layout:
    def __init__(self, process: etree._Element, lanes: list[etree._Element]) -> None:
        self.nodes: dict[str, Node] = {}
        self.flows: list[etree._Element] = []
        self._collect(process, None)
        self.lanes = lanes
        for index, lane in enumerate(lanes):
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                if (ref.text or "").strip() in self.nodes:
                    self.nodes[ref.text.strip()].lane = index
        self.out: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.inc: dict[str, list[str]] = {n: [] for n in self.nodes}
        for flow in self.flows:
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in self.nodes and target in self.nodes:
                self.out[source].append(target)
                self.inc[target].append(source)

    def _collect(self, container: etree._Element, parent: str | None) -> None:
        for el in container:
            if not isinstance(el.tag, str) or el.tag in (f"{{{BPMN}}}laneSet",):
                continue
            name = local(el)
            if name == "sequenceFlow":
                self.flows.append(el)
            elif el.get("id") and (name.endswith(("Task", "Event", "Gateway")) or name in (
                    "task", "subProcess", "callActivity", "transaction", "adHocSubProcess")):
                node = self.nodes[el.get("id")] = Node(el.get("id"), name, el, parent, host=el.get("attachedToRef"))
                if parent:
                    self.nodes[parent].children.append(node.id)
                if name in ("subProcess", "transaction", "adHocSubProcess"):
                    self._collect(el, node.id)

    # -- columns ------------------------------------------------------------------------------------------
    def leaves(self, node_id: str, starts: bool) -> list[str]:
        """A node, or for a sub-process its start (or end) leaves, recursively."""
        node = self.nodes[node_id]
        if not node.children:
            return [node_id]
        inner = [c for c in node.children if not self.nodes[c].host]
        ends = [c for c in inner if (not self.inc[c] if starts else not self.out[c])] or inner[:1]
        return [leaf for c in ends for leaf in self.leaves(c, starts)]

    def graph(self) -> dict[str, list[str]]:
        """Successors between leaves: flows into a sub-process reach its starts, boundary flows leave the host."""
        succ: dict[str, list[str]] = {n: [] for n, node in self.nodes.items() if not node.children and not node.host}
        for source, targets in self.out.items():
            origin = self.nodes[source].host or source
            for target in targets:
                for a in self.leaves(origin, starts=False):
                    succ[a].extend(t for t in self.leaves(target, starts=True) if t not in succ[a])
        return succ

    def columns(self) -> dict[str, list[str]]:
        succ = self.graph()
        order = list(succ)
        roots = [n for n in order if not any(n in s for s in succ.values())] + order
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

        for root in roots:
            if root not in seen:
                dfs(root)
        dag = {n: [t for t in ts if (n, t) not in back] for n, ts in succ.items()}
        preds: dict[str, list[str]] = {n: [] for n in dag}
        for n, ts in dag.items():
            for t in ts:
                preds[t].append(n)
        memo: dict[str, int] = {}

        def col(n: str) -> int:
            if n not in memo:
                memo[n] = max((col(p) + 1 for p in preds[n]), default=0)
            return memo[n]

        height: dict[str, int] = {}

        def tall(n: str) -> int:
            if n not in height:
                height[n] = 1 + max((tall(t) for t in dag[n]), default=0)
            return height[n]

        for n in dag:
            self.nodes[n].col = col(n)
        # main successor first (the longest way on keeps its row), then the others in document order
        return {n: sorted(ts, key=lambda t: -tall(t)) for n, ts in dag.items()}

    # -- lanes and rows -----------------------------------------------------------------------------------
    def inherit_lanes(self) -> None:
        """A node in no lane joins the lane of the next node with one (a split gateway: of the one before)."""
        def near(start: str, edges: dict[str, list[str]]) -> tuple[int, int | None]:
            frontier, seen, dist = [start], {start}, 0
            while frontier:
                hits = [self.nodes[n].lane for n in frontier if n != start and self.nodes[n].lane is not None]
                if hits:
                    return dist, hits[0]
                nxt = []
                for n in frontier:
                    for m in [*edges.get(n, []), *([self.nodes[n].host] if self.nodes[n].host else [])]:
                        if m not in seen and not self.nodes[m].children:
                            seen.add(m)
                            nxt.append(m)
                frontier, dist = nxt, dist + 1
            return 10**6, None

        found = {}
        for n, node in self.nodes.items():
            if node.lane is None and not node.children and len(self.out[n]) <= 1:
                fwd = near(n, self.out)
                found[n] = fwd[1] if fwd[1] is not None else near(n, self.inc)[1]
        for n, lane in found.items():
            self.nodes[n].lane = lane
        for n, node in self.nodes.items():  # a decision stays with the task that decided
            if node.lane is None and not node.children:
                back = near(n, self.inc)
                node.lane = back[1] if back[1] is not None else near(n, self.out)[1]
        for node in self.nodes.values():
            node.lane = node.lane or 0

    def rows(self, main: dict[str, list[str]]) -> None:
        taken: set[tuple[int, int, int]] = set()
        boundary_targets = {t: self.nodes[b].host for b in self.nodes if self.nodes[b].host for t in self.out[b]}

        def place(n: str, want: int) -> None:
            node = self.nodes[n]
            row = want
            while (node.lane, row, node.col) in taken:
                row += 1
            node.row = row
            taken.add((node.lane, row, node.col))

        placed: set[str] = set()

        def visit(n: str, want: int) -> None:
            placed.add(n)
            place(n, want)
            for i, t in enumerate(main[n]):
                if t not in placed:
                    same = self.nodes[t].lane == self.nodes[n].lane
                    below = i > 0 or (t in boundary_targets and boundary_targets[t] in (n, self.nodes[n].parent))
                    visit(t, (self.nodes[n].row + (1 if below else 0)) if same else 0)

        for n in main:
            if n not in placed and not any(n in ts for ts in main.values()):
                visit(n, 0)
        for n in main:
            if n not in placed:
                visit(n, 0)

    # -- coordinates --------------------------------------------------------------------------------------
    def place(self, origin_x: float, origin_y: float) -> tuple[list[Box], float, float]:
        leaves = [n for n in self.nodes.values() if not n.children and not n.host]
        ncols = max(n.col for n in leaves) + 1
        width = [0.0] * ncols
        for n in leaves:
            width[n.col] = max(width[n.col], SIZES[kind(n.tag)][0])
        first = {min(self.nodes[c].col for c in self.leaves_in(s)) for s in self.subs()}
        last = {max(self.nodes[c].col for c in self.leaves_in(s)) for s in self.subs()}
        centers, x = [], origin_x
        for c in range(ncols):
            depth = sum(1 for s in self.subs() if c in {self.nodes[x].col for x in self.leaves_in(s)})
            x += SUB_PAD * (c in first) * max(depth, 1) + width[c] / 2
            centers.append(x)
            x += width[c] / 2 + GAP_X + SUB_PAD * (c in last) * max(depth, 1)
        nlanes = max(1, len(self.lanes))
        rows = [1 + max((n.row for n in leaves if n.lane == lane), default=0) for lane in range(nlanes)]
        bands, y = [], origin_y
        for lane in range(nlanes):
            bands.append(Box(0, y, 0, 2 * LANE_PAD + rows[lane] * ROW))
            y += bands[-1].h
        for n in leaves:
            w, h = SIZES[kind(n.tag)]
            cy = bands[n.lane].y + LANE_PAD + ROW * n.row + ROW / 2 - 10
            n.box = Box(centers[n.col] - w / 2, cy - h / 2, w, h)
        for s in reversed(self.subs()):  # innermost first
            inner = [self.nodes[c].box for c in self.nodes[s].children if not self.nodes[c].host]
            x0, y0 = min(b.x for b in inner) - SUB_PAD, min(b.y for b in inner) - SUB_PAD
            x1 = max(b.x + b.w for b in inner) + SUB_PAD
            y1 = max(b.y + b.h for b in inner) + SUB_PAD
            self.nodes[s].box = Box(x0, y0, x1 - x0, y1 - y0)
        for n in self.nodes.values():
            if n.host:
                self._attach(n)
            if not n.children and kind(n.tag) != "task" and n.el.get("name"):
                n.label = Box(n.box.cx - LABEL_W / 2, n.box.y + n.box.h + 5, LABEL_W, LABEL_H)
        return bands, x, y

    def subs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if node.children]

    def leaves_in(self, sub: str) -> list[str]:
        out = []
        for c in self.nodes[sub].children:
            out.extend(self.leaves_in(c) if self.nodes[c].children else ([] if self.nodes[c].host else [c]))
        return out

    def _attach(self, n: Node) -> None:
        host = self.nodes[n.host]
        mine = [b for b in self.nodes if self.nodes[b].host == n.host]
        k = mine.index(n.id)
        if host.children:  # right border, level with its first target when it can
            targets = [self.nodes[t].box.cy for t in self.out[n.id]]
            cy = targets[0] if targets and host.box.y + 20 < targets[0] < host.box.y + host.box.h - 20 \
                else host.box.y + host.box.h - 40 - 50 * k
            n.box = Box(host.box.x + host.box.w - 18, cy - 18, 36, 36)
        else:
            n.box = Box(host.box.x + host.box.w - 30 - 40 * k - 18, host.box.y + host.box.h - 18, 36, 36)

    # -- edges --------------------------------------------------------------------------------------------
    def route(self, source: Node, target: Node, routed: list[list[tuple[float, float]]]) -> list:
        s, t = source.box, target.box
        xs = sorted({round(b.x + b.w + GAP_X / 2) for b in self._boxes()} | {round(b.x - GAP_X / 2)
                                                                           for b in self._boxes()})
        ys = sorted({round(b.y - 14) for b in self._boxes()} | {round(b.y + b.h + 34) for b in self._boxes()})
        outs = [("r", (s.x + s.w, s.cy)), ("b", (s.cx, s.y + s.h)), ("t", (s.cx, s.y))]
        ins = [("l", (t.x, t.cy)), ("t", (t.cx, t.y)), ("b", (t.cx, t.y + t.h))]
        if source.host:
            outs = [("r", (s.x + s.w, s.cy))] if self.nodes[source.host].children else [("b", (s.cx, s.y + s.h))]
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
                for yc in ys:
                    ok_out = o == "r" or (yc > a[1] if o == "b" else yc < a[1])
                    ok_in = i == "l" or (yc > b[1] if i == "b" else yc < b[1])
                    if not (ok_out and ok_in):
                        continue
                    head = [a, (a[0] + GAP_X / 2 - 5, a[1]), (a[0] + GAP_X / 2 - 5, yc)] if o == "r" else [a, (a[0], yc)]
                    tail = [(b[0] - GAP_X / 2 + 5, yc), (b[0] - GAP_X / 2 + 5, b[1]), b] if i == "l" else [(b[0], yc), b]
                    candidates.append(head + tail)
        return min(candidates, key=lambda p: self._cost(p, source, target, routed))

    def _boxes(self) -> list[Box]:
        return [n.box for n in self.nodes.values() if not n.children]

    def _cost(self, path: list, source: Node, target: Node, routed: list) -> float:
        skip = {source.id, target.id, source.host}
        inside = self.nodes[source.parent].box if source.parent else None
        cost = 15.0 * (len(path) - 2)
        for a, b in zip(path, path[1:], strict=False):
            cost += 0.05 * (abs(a[0] - b[0]) + abs(a[1] - b[1]))
            for n in self.nodes.values():
                if n.id in skip or (n.children and (n.id in (source.parent, target.parent))):
                    continue
                if n.children:  # only its border counts
                    inner = Box(n.box.x + 6, n.box.y + 6, n.box.w - 12, n.box.h - 12)
                    cost += 1000 * (n.box.hit(a, b, 0) and not (_inside(inner, a) and _inside(inner, b)))
                else:
                    cost += 1000 * n.box.hit(a, b)
                if n.label is not None and n.label.hit(a, b, 0):
                    cost += 60
            if inside is not None and not (_inside(inside, a) and _inside(inside, b)):
                cost += 1000
            for other in routed:
                for c, d in zip(other, other[1:], strict=False):
                    cost += _overlap(a, b, c, d)
        return cost


def _inside(box: Box, p: tuple[float, float]) -> bool:
    return box.x <= p[0] <= box.x + box.w and box.y <= p[1] <= box.y + box.h


def _overlap(a: tuple, b: tuple, c: tuple, d: tuple) -> float:
    """Shared length of two collinear segments (x3), or 25 for a crossing."""
    if a[0] == b[0] == c[0] == d[0] or a[1] == b[1] == c[1] == d[1]:
        axis = 1 if a[0] == b[0] else 0
        lo = max(min(a[axis], b[axis]), min(c[axis], d[axis]))
        hi = min(max(a[axis], b[axis]), max(c[axis], d[axis]))
        return 3 * max(0.0, hi - lo)
    hor, ver = ((a, b), (c, d)) if a[1] == b[1] else ((c, d), (a, b))
    if hor[0][1] != hor[1][1] or ver[0][0] != ver[1][0]:
        return 0.0
    crosses = (min(hor[0][0], hor[1][0]) < ver[0][0] < max(hor[0][0], hor[1][0])
               and min(ver[0][1], ver[1][1]) < hor[0][1] < max(ver[0][1], ver[1][1]))
    return 25.0 if crosses else 0.0


def _el(parent: etree._Element, ns: str, tag: str, **attrs: object) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: _num(v) if isinstance(v, float | int) else str(v)
                                                       for k, v in attrs.items()})


def _num(v: float) -> str:
    return str(int(round(v)))


def _bounds(parent: etree._Element, box: Box) -> None:
    _el(parent, DC, "Bounds", x=box.x, y=box.y, width=box.w, height=box.h)


def diagram_xml(text: str) -> tuple[str, str]:
    """(collaboration or "", BPMNDiagram) for the processes of a BPMN text."""
    root = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    processes = root.findall(f"{{{BPMN}}}process")
    pooled = any(p.find(f"{{{BPMN}}}laneSet") is not None for p in processes)
    collab = etree.Element(f"{{{BPMN}}}collaboration", id=f"{root.get('id', 'definitions')}_pools",
                           nsmap={"bpmn": BPMN})
    diagram = etree.Element(f"{{{BPMNDI}}}BPMNDiagram", id=f"{root.get('id', 'definitions')}_diagram",
                            nsmap={"bpmndi": BPMNDI, "dc": DC, "di": DI})
    plane = _el(diagram, BPMNDI, "BPMNPlane", id=f"{collab.get('id')}_plane" if pooled else
                f"{processes[0].get('id')}_plane", bpmnElement=collab.get("id") if pooled else processes[0].get("id"))
    top = 80.0
    for process in processes:
        lanes = list(process.iter(f"{{{BPMN}}}lane"))
        layout = Layout(process, lanes)
        if not layout.nodes:
            continue
        layout.inherit_lanes()
        main = layout.columns()
        layout.rows(main)
        left = 160.0 + (2 * HEADER if pooled else 0)
        bands, right, bottom = layout.place(left, top)
        if pooled:
            participant = _el(collab, BPMN, "participant", id=f"{process.get('id')}_pool",
                              name=process.get("name") or process.get("id"), processRef=process.get("id"))
            pool = Box(left - 2 * HEADER - 40, top, right - left + 2 * HEADER + 40, bottom - top)
            shape = _el(plane, BPMNDI, "BPMNShape", id=f"{participant.get('id')}_di",
                        bpmnElement=participant.get("id"), isHorizontal="true")
            _bounds(shape, pool)
            for lane, band in zip(lanes, bands, strict=False):
                shape = _el(plane, BPMNDI, "BPMNShape", id=f"{lane.get('id')}_di", bpmnElement=lane.get("id"),
                            isHorizontal="true")
                _bounds(shape, Box(pool.x + HEADER, band.y, pool.w - HEADER, band.h))
        order = sorted(layout.nodes.values(), key=lambda n: (n.host is not None, n.parent is not None))
        for n in order:
            shape = _el(plane, BPMNDI, "BPMNShape", id=f"{n.id}_di", bpmnElement=n.id)
            if n.children:
                shape.set("isExpanded", "true")
            if n.tag == "exclusiveGateway":
                shape.set("isMarkerVisible", "true")
            _bounds(shape, n.box)
            if n.label is not None:
                _bounds(_el(shape, BPMNDI, "BPMNLabel"), n.label)
        routed: list[list[tuple[float, float]]] = []
        for flow in layout.flows:
            source, target = layout.nodes.get(flow.get("sourceRef")), layout.nodes.get(flow.get("targetRef"))
            if source is None or target is None:
                continue
            path = layout.route(source, target, routed)
            routed.append(path)
            edge = _el(plane, BPMNDI, "BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id"))
            for x, y in path:
                _el(edge, DI, "waypoint", x=x, y=y)
        top = bottom + 60
    return (etree.tostring(collab, encoding="unicode") if pooled else "",
            etree.tostring(diagram, encoding="unicode"))


_GENERATED = re.compile(r"[ \t]*<(bpmn:collaboration|bpmndi:BPMNDiagram)\b.*?</\1>[ \t]*\n?", re.S)
_CLOSE = re.compile(r"</(?:\w+:)?definitions>\s*$")


def with_diagram(text: str) -> str:
    """The BPMN text with a freshly laid-out diagram; everything before the generated part is kept as is."""
    text = _GENERATED.sub("", text)
    close = _CLOSE.search(text)
    if close is None:
        raise ValueError("no closing definitions tag")
    blocks = [b for b in diagram_xml(text) if b]
    indent = "\n".join("  " + etree.tostring(_pretty(b), encoding="unicode").rstrip().replace("\n", "\n  ")
                       for b in blocks)
    return text[:close.start()] + indent + "\n" + text[close.start():]


def _pretty(block: str) -> etree._Element:
    el = etree.fromstring(block)
    etree.indent(el, space="  ")
    return el


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(with_diagram(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"laid out {path}")
