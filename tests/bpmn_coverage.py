"""Every flow node of every shipped ``bpmn/*.bpmn`` file is reached by at least one test.

While the tests run, ``Recorder`` wraps the runtime's ``save`` (``workflow/runtime/instances.py``: every change
to an instance goes through it) with a function that calls the original and then notes, per BPMN file, the ids
of the flow nodes whose tasks were really reached: READY, WAITING, STARTED, COMPLETED or ERROR, in the top
workflow and in every sub-workflow (the embedded ``case_work``, the call activities running ``filing.bpmn``).
Predicted tasks (FUTURE, LIKELY, MAYBE) are not reached; neither are CANCELLED ones, since a task cancelled
after it was reached (a boundary timer whose task was done) was READY or WAITING at an earlier save.

When a session that ran the whole suite ends (tests/conftest.py ``pytest_sessionfinish``), the recorded ids are
compared with every flow node of the shipped files and the run fails, naming each node no test reached. A run
of a part of the suite (a path, ``-k``, ``-m``, only the PostgreSQL half) prints the count and checks nothing.

Only processes run in the pytest process are seen: the CLI's child processes and the browser tests' server
(`petitio serve` in a child) are not recorded, so every node must be reached by an in-process test.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from workflow.runtime import instances

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# The flow nodes of BPMN 2.0 (activities, events, gateways), by element name; lanes, flows, data objects,
# collaborations and the diagram (bpmndi) are not flow nodes.
FLOW_NODE_TAGS = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})
REACHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR

Reached = set[tuple[str, str]]  # (file name, BPMN id)


@dataclass(frozen=True)
class FlowNode:
    file: str
    id: str
    name: str
    kind: str

    def describe(self) -> str:
        return f"{self.file}: {self.id}" + (f" ({self.name})" if self.name else "") + f" [{self.kind}]"


def flow_nodes(path: Path) -> list[FlowNode]:
    """The flow nodes of every process in one BPMN file, embedded subprocesses' nodes included."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    found = []
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        for element in process.iter():
            if not isinstance(element.tag, str):  # comments and processing instructions
                continue
            qname = etree.QName(element)
            if qname.namespace == BPMN_NS and qname.localname in FLOW_NODE_TAGS:
                found.append(FlowNode(path.name, element.get("id"), element.get("name") or "", qname.localname))
    return found


def shipped_flow_nodes(folder: Path = BPMN_DIR) -> list[FlowNode]:
    return [node for path in sorted(folder.glob("*.bpmn")) for node in flow_nodes(path)]


def reached_in(workflow: Any) -> Reached:
    """(file, BPMN id) of the tasks of a workflow and of its sub-workflows that were really reached."""
    found = set()
    for part in (workflow, *workflow.subprocesses.values()):
        source = Path(part.spec.file or "").name
        for task in part.tasks.values():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id and task.state & REACHED:
                found.add((source, bpmn_id))
    return found


def unreached(nodes: Iterable[FlowNode], reached: Reached) -> list[FlowNode]:
    return [node for node in nodes if (node.file, node.id) not in reached]


class Recorder:
    """Wraps ``instances.save`` so that every save also records the nodes reached (instrumentation: the
    original runs unchanged). Modules that imported ``save`` by name (``workflow.services.processes``) are
    pointed at the wrapper too; modules imported later get it from them."""

    def __init__(self) -> None:
        self.reached: Reached = set()
        self.saves = 0
        self._original: Callable[..., None] | None = None
        self._patched: list[Any] = []

    def install(self) -> None:
        original = self._original = instances.save

        @wraps(original)
        def save(loaded: instances.Loaded, **kwargs: Any) -> None:
            original(loaded, **kwargs)
            self.saves += 1
            self.reached |= reached_in(loaded.workflow)

        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            if name.split(".")[0] in ("workflow", "web") and getattr(module, "save", None) is original:
                module.save = save
                self._patched.append(module)

    def uninstall(self) -> None:
        for module in self._patched:
            module.save = self._original
        self._patched.clear()


# Options that narrow a selection (-k, -m, --deselect, --ignore, --ignore-glob, --lf, --sw) or run nothing.
NARROWING = ("keyword", "markexpr", "deselect", "ignore", "ignore_glob", "lf", "stepwise", "collectonly")


def whole_suite(args: Iterable[str], option: Namespace, backends: Iterable[str]) -> bool:
    """Did a session with these arguments (``config.args``, ``config.option``) select every test of the SQLite
    part? That part holds every test (the PostgreSQL half only repeats the database tests), so the check runs
    there, when nothing narrowed the selection: no path below ``tests``, no narrowing option.
    """
    if "sqlite" not in backends:
        return False
    tests = Path(__file__).resolve().parent
    if [Path(arg.split("::")[0]).resolve() for arg in args] != [tests]:
        return False
    return not any(getattr(option, name, None) for name in NARROWING)


def summary(nodes: list[FlowNode], reached: Reached) -> tuple[str, list[FlowNode]]:
    missing = unreached(nodes, reached)
    return f"BPMN flow nodes reached: {len(nodes) - len(missing)}/{len(nodes)}", missing


def report(session: pytest.Session, recorder: Recorder, backends: Iterable[str]) -> None:
    """Print the one-line summary; after a whole, passing suite, fail the run naming every node no test reached.

    A failing run is not checked (a failed test may have stopped before its nodes), only counted.
    """
    recorder.uninstall()
    config = session.config
    enforce = whole_suite(config.args, config.option, backends) and session.exitstatus == pytest.ExitCode.OK
    if not recorder.saves and not enforce:
        return
    line, missing = summary(shipped_flow_nodes(), recorder.reached)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_line(line + ("" if enforce else " (not checked: part of the suite, or tests failed)"))
    if enforce and missing:
        if reporter is not None:
            reporter.write_sep("=", "BPMN flow nodes no test reached (tests/bpmn_coverage.py)", red=True)
            for node in missing:
                reporter.write_line(node.describe())
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
