"""What changed between two versions of a process: a pure function over their source sets.

A version's sources are file name -> text (``ProcessDefinition.sources``: the BPMN files by name, the form schemas
as ``forms/<name>``). The summary covers the process and every process it calls (call activities, followed
transitively), so a changed ``filing.bpmn`` shows in the summary of ``case``. Flow nodes are compared by
(process id, node id):

- **added** / **removed**: a node id only in the new / only in the old version;
- **renamed**: the same id with another name (the id is what running instances and the inbox hold, so a renamed
  task is still the same task);
- **re-identified**: a node removed and a node added in the same process with the same type and the same name
  (unique on both sides), i.e. a task whose id changed while its name stayed; it is listed here instead of in
  added and removed, because for running instances it is a new task all the same;
- **forms changed**: the form schemas (by file name) whose JSON differs, is new or is gone; user tasks whose form
  schema name changed are listed too.

The XML is read with the hardened ``parse_xml`` (no DTD, no entities), like every deployment.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from workflow.runtime.specs import FORM_PROPERTY, parse_xml

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
FORM_PREFIX = "forms/"
# Children of a process that are not flow nodes (nor containers of them).
_NOT_NODES = frozenset({"sequenceFlow", "laneSet", "lane", "dataObject", "dataObjectReference", "dataStoreReference",
                        "textAnnotation", "association", "extensionElements", "documentation", "ioSpecification",
                        "property", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics"})
_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})


@dataclass(frozen=True)
class Node:
    process_id: str
    node_id: str
    kind: str  # the BPMN element: userTask, scriptTask, exclusiveGateway, boundaryEvent, ...
    name: str | None
    form: str | None = None  # a user task's form schema (formJsonSchemaFilename)

    @property
    def is_user_task(self) -> bool:
        return self.kind == "userTask"


@dataclass(frozen=True)
class Renamed:
    old: Node
    new: Node


@dataclass(frozen=True)
class ChangeSummary:
    added: tuple[Node, ...] = ()
    removed: tuple[Node, ...] = ()
    renamed: tuple[Renamed, ...] = ()  # same id, another name
    reidentified: tuple[Renamed, ...] = ()  # same name and type, another id
    task_forms: tuple[Renamed, ...] = ()  # user tasks (same id) whose form schema name changed
    forms_changed: tuple[str, ...] = ()
    forms_added: tuple[str, ...] = ()
    forms_removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any((self.added, self.removed, self.renamed, self.reidentified, self.task_forms,
                        self.forms_changed, self.forms_added, self.forms_removed))


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _form_of(element: etree._Element) -> str | None:
    for prop in element.iter(f"{SPIFF}property"):
        if prop.get("name") == FORM_PROPERTY:
            return prop.get("value")
    return None


def _nodes_in(container: etree._Element, process_id: str, found: dict[tuple[str, str], Node]) -> None:
    for child in container:
        kind = _local(child.tag)
        if not kind or kind in _NOT_NODES:  # comments have no str tag
            continue
        node_id = child.get("id")
        if node_id is None or not child.tag.startswith(BPMN):
            continue
        form = _form_of(child) if kind == "userTask" else None
        found[(process_id, node_id)] = Node(process_id, node_id, kind, child.get("name"), form)
        if kind in _CONTAINERS:
            _nodes_in(child, process_id, found)


def _processes(sources: Mapping[str, str]) -> dict[str, etree._Element]:
    """process id -> its <bpmn:process> element, over every BPMN file of the set."""
    found: dict[str, etree._Element] = {}
    for name, text in sorted(sources.items()):
        if name.endswith(".bpmn"):
            for process in parse_xml(text, name).getroot().iter(f"{BPMN}process"):
                found.setdefault(process.get("id", ""), process)
    return found


def _reachable(processes: dict[str, etree._Element], process_id: str) -> list[str]:
    """The process and every process its call activities reach, in the order met."""
    order, todo = [], [process_id]
    while todo:
        current = todo.pop(0)
        if current in order or current not in processes:
            continue
        order.append(current)
        todo.extend(call.get("calledElement", "") for call in processes[current].iter(f"{BPMN}callActivity"))
    return order


def flow_nodes(sources: Mapping[str, str], process_id: str) -> dict[tuple[str, str], Node]:
    """(process id, node id) -> Node for the process and the processes it calls."""
    processes = _processes(sources)
    found: dict[tuple[str, str], Node] = {}
    for reached in _reachable(processes, process_id):
        _nodes_in(processes[reached], reached, found)
    return found


def defining_file(sources: Mapping[str, str], process_id: str) -> str | None:
    """The BPMN file of a source set that defines ``process_id``."""
    for name, text in sorted(sources.items()):
        if name.endswith(".bpmn") and any(p.get("id") == process_id
                                          for p in parse_xml(text, name).getroot().iter(f"{BPMN}process")):
            return name
    return None


def _forms(sources: Mapping[str, str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for name, text in sources.items():
        if name.startswith(FORM_PREFIX):
            try:
                parsed[name.removeprefix(FORM_PREFIX)] = json.loads(text)
            except ValueError:  # stored sources were checked at deployment; compare the text if not
                parsed[name.removeprefix(FORM_PREFIX)] = text
    return parsed


def _by_name(nodes: list[Node]) -> dict[tuple[str, str, str | None], Node]:
    """(process, kind, name) -> node, for the names that occur once among ``nodes``."""
    keys = Counter((n.process_id, n.kind, n.name) for n in nodes)
    return {(n.process_id, n.kind, n.name): n for n in nodes if n.name and keys[(n.process_id, n.kind, n.name)] == 1}


def summarise(old: Mapping[str, str], new: Mapping[str, str], process_id: str) -> ChangeSummary:
    """What changed in ``process_id`` (and the processes it calls) from the ``old`` sources to the ``new``."""
    before, after = flow_nodes(old, process_id), flow_nodes(new, process_id)
    gone = [before[k] for k in sorted(before.keys() - after.keys())]
    came = [after[k] for k in sorted(after.keys() - before.keys())]
    gone_by_name, came_by_name = _by_name(gone), _by_name(came)
    reidentified = tuple(Renamed(gone_by_name[k], came_by_name[k]) for k in sorted(gone_by_name.keys()
                                                                                   & came_by_name.keys(),
                                                                                   key=str))
    moved = {r.old for r in reidentified} | {r.new for r in reidentified}
    kept = sorted(before.keys() & after.keys())
    old_forms, new_forms = _forms(old), _forms(new)
    return ChangeSummary(
        added=tuple(n for n in came if n not in moved),
        removed=tuple(n for n in gone if n not in moved),
        renamed=tuple(Renamed(before[k], after[k]) for k in kept if before[k].name != after[k].name),
        reidentified=reidentified,
        task_forms=tuple(Renamed(before[k], after[k]) for k in kept
                         if after[k].is_user_task and before[k].form != after[k].form),
        forms_changed=tuple(sorted(n for n in old_forms.keys() & new_forms.keys() if old_forms[n] != new_forms[n])),
        forms_added=tuple(sorted(new_forms.keys() - old_forms.keys())),
        forms_removed=tuple(sorted(old_forms.keys() - new_forms.keys())),
    )
