"""Where a process instance stands, by the BPMN ids of its diagrams, and the BPMN file each diagram comes from.

Two readings, of different cost. ``instance_position`` loads the workflow (decrypting and deserializing its state)
and walks the task tree: every flow node done, ready, waiting, in error or under way, for the diagram. ``steps``
reads only the projections kept by every save (``human_tasks``, ``deadlines``): the user tasks done and ready and
the timers waiting, for the text beside the diagram on a page that must stay cheap.

An embedded sub-process is part of its parent's diagram; a call activity's sub-workflow (a filing) is a diagram of
its own (``filing.bpmn``) and gets a position of its own, named by the filing it works on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.util.task import TaskIterator, TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.errors import NotFound
from workflow.models import CollectiveComplaint, Deadline, HumanTask, ProcessDefinition, ProcessInstance, User
from workflow.runtime import instances
from workflow.runtime import specs as spec_registry
from workflow.runtime.tasktree import filing_id_of
from workflow.services import processes


@dataclass(frozen=True)
class Position:
    """One diagram's flow nodes by state (BPMN ids, each once)."""

    process_id: str
    ready: tuple[str, ...]  # manual tasks a person can complete now
    done: tuple[str, ...]  # completed at least once, in the order they were first completed
    waiting: tuple[str, ...]  # events waiting: timers, messages, event-based gateways
    error: tuple[str, ...]
    active: tuple[str, ...]  # sub-processes and call activities under way


@dataclass(frozen=True)
class CalledPosition:
    """A call activity's sub-workflow: a filing's own process."""

    filing_id: int | None  # None until its first step recorded the filing
    position: Position


@dataclass(frozen=True)
class InstancePosition:
    instance_id: int
    status: str  # running | complete | error (ProcessInstance.status)
    version: int  # the definition version the instance runs on
    position: Position
    called: tuple[CalledPosition, ...]

    def of_filing(self, filing_id: int) -> Position:
        found = next((c.position for c in self.called if c.filing_id == filing_id), None)
        if found is None:
            raise NotFound(f"filing {filing_id} has no process in this instance")
        return found


def instance_position(session: Session, settings: Settings, instance: ProcessInstance,
                      actor: User | None) -> InstancePosition:
    """Load the instance (nothing runs, nothing is saved) and read where it stands."""
    workflow = processes.load(session, settings, instance, actor).workflow
    own, called = _walk(workflow, workflow)
    return InstancePosition(
        instance.id, instance.status, instance.definition.version, _position(workflow.spec.name, own),
        tuple(CalledPosition(_filing_of(tasks), _position(sub.spec.name, tasks)) for sub, tasks in called))


def _walk(top: Any, workflow: Any) -> tuple[list[Any], list[tuple[Any, list[Any]]]]:
    """The tasks drawn on ``workflow``'s diagram (its embedded sub-processes' included), and each called
    sub-workflow with the tasks of its own diagram (those it calls in turn come after it)."""
    own: list[Any] = []
    called: list[tuple[Any, list[Any]]] = []
    for task in TaskIterator(workflow.task_tree):  # this workflow's tree only: sub-workflows are apart
        own.append(task)
        sub = top.subprocesses.get(task.id)
        if sub is None:
            continue
        inner, deeper = _walk(top, sub)
        if isinstance(task.task_spec, CallActivity):
            called.append((sub, inner))
        else:
            own.extend(inner)
        called.extend(deeper)
    return own, called


def _ids(tasks: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.task_spec.bpmn_id for t in tasks))


def _position(process_id: str, tasks: list[Any]) -> Position:
    drawn = [t for t in tasks if t.task_spec.bpmn_id is not None]  # not the engine's own Start, joins and End

    def having(state: TaskState) -> Iterator[Any]:
        return (t for t in drawn if t.state == state)

    done = sorted(having(TaskState.COMPLETED), key=lambda t: t.last_state_change)
    return Position(process_id, ready=_ids(t for t in having(TaskState.READY) if t.task_spec.manual),
                    done=_ids(done), waiting=_ids(having(TaskState.WAITING)),
                    error=_ids(having(TaskState.ERROR)), active=_ids(having(TaskState.STARTED)))


def _filing_of(tasks: list[Any]) -> int | None:
    return next((found for t in reversed(tasks) if (found := filing_id_of(t)) is not None), None)


def diagram_source(definition: ProcessDefinition, process_id: str) -> str:
    """The BPMN XML of the file that defines ``process_id`` in this version: the process itself or one it calls
    (its diagram is that file's)."""
    spec, subprocess_specs = spec_registry.specs_for(definition)
    found = spec if spec.name == process_id else subprocess_specs.get(process_id)
    source = definition.sources.get(found.file) if found is not None and found.file else None
    if source is None:
        raise NotFound(f"process {process_id!r} is not part of {definition.process_id} version {definition.version}")
    return str(source)


# -- the steps, from the projections ------------------------------------------------------------------------

@dataclass(frozen=True)
class Steps:
    """The user tasks done (in order) and ready, and the timers waiting, of one instance."""

    done: list[HumanTask]
    ready: list[HumanTask]
    waiting: list[Deadline]


def case_steps(session: Session, case_id: int, *,
               read: tuple[Iterable[HumanTask], Iterable[Deadline]] | None = None) -> Steps:
    """The case's steps, its filings' included (rows by case: the indexed way the case page reads them). ``read``:
    the case's ready tasks and its deadlines, when the caller read them already (``services.cases.read_case``);
    only the completed tasks are read then."""
    if read is None:
        return _steps(session, HumanTask.case_id == case_id, Deadline.case_id == case_id)
    ready, deadlines = read
    done = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "completed")
                           .order_by(HumanTask.completed_at, HumanTask.created_at, HumanTask.id)).all()
    return Steps(done=list(done), ready=sorted(ready, key=lambda t: (t.created_at, t.id)),
                 waiting=sorted((d for d in deadlines if d.open_timer), key=lambda d: (d.due_at, d.id)))


def instance_steps(session: Session, instance_id: int) -> Steps:
    """The steps of an instance without a case (a collective complaint's)."""
    return _steps(session, HumanTask.instance_id == instance_id, Deadline.instance_id == instance_id)


def _steps(session: Session, tasks_where: Any, deadlines_where: Any) -> Steps:
    rows = session.scalars(select(HumanTask).where(tasks_where, HumanTask.state.in_(("ready", "completed")))
                           .order_by(HumanTask.completed_at, HumanTask.created_at, HumanTask.id)).all()
    waiting = session.scalars(select(Deadline).where(deadlines_where, Deadline.open_timer)
                              .order_by(Deadline.due_at, Deadline.id)).all()
    return Steps(done=[r for r in rows if r.state == "completed"], ready=[r for r in rows if r.state == "ready"],
                 waiting=list(waiting))


def case_instance(session: Session, case_id: int) -> ProcessInstance:
    """The case's process instance (one a case)."""
    instance = instances.of_case(session, case_id)
    if instance is None:
        raise NotFound(f"case {case_id} has no process")
    return instance


def collective_instance(session: Session, collective: CollectiveComplaint) -> ProcessInstance:
    """The collective complaint's process instance."""
    instance = session.get(ProcessInstance, collective.instance_id) if collective.instance_id is not None else None
    if instance is None:
        raise NotFound(f"collective complaint {collective.id} has no process")
    return instance
