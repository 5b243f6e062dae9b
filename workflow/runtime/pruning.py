"""Keep a running instance's task tree from growing with its loops; tell a stalled instance from a waiting one.

SpiffWorkflow 3.2 adds a new task under the last one for every step, loops included: a filing that follows up
on a silent body for years grows one chain of ~6 tasks per round. The stored state grows with it, every load
and save costs more, and past a depth of 1000 the library's ``TaskIterator`` (``max_depth``) stops looking:
no ready task, no timer, no error (issue 16). ``prune`` cuts the history that nothing can need any more, on
the live workflow just before it is serialized (``instances.save``):

- the *frontier* of a (sub-)workflow is every task not finished (ready, waiting, under way, predicted), every
  task in error, and the tasks the caller pins (the timers of open deadline rows, which ``projections.sync_deadlines``
  reads back, with the boundary-event split holding the task each guarded). Their lowest common ancestor,
  the *cut*, and everything below it stay as they are: a join, a
  boundary event, an event-based gateway or a multi-instance task under way only ever reads tasks there
  (its waiting siblings are unfinished, so the cut sits above them);
- above the cut only the latest run of each step is kept (and of each sub-process, with its sub-workflow),
  with the task before it (whose data a reset re-inherits), each under its nearest kept ancestor. So "reset
  to any step that ran" keeps its meaning (the latest run of each step, as ``repair._target`` picks), the
  diagram still shows every step done, and the tree is bounded by the number of steps in the process, not by
  the rounds;
- a branch that ended beside the path (a non-interrupting timer's escalation reaching an end event) leaves an
  end join waiting for the rest; its last one, carrying what every such branch would add to the end data,
  is kept. Everything else above the cut is dropped, with the sub-workflows of dropped tasks.

``stalled`` is the check made after every save: not complete, and nothing ready, under way or waiting for a
timer or a message.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

ERROR = "error"  # ProcessInstance.status of an instance in error (services/repair.py lists them)
FAILED = "instance_failed"  # the audit event of a failure: {"task", "process", "version"[, "code"]}
STALLED = "stalled"  # its code when nothing failed but nothing can move the instance on
STALLED_TEXT = "stalled: no task is ready, no timer or message is awaited and nothing is under way"
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
FRONTIER = TaskState.NOT_FINISHED_MASK | TaskState.ERROR
RAN = TaskState.COMPLETED | TaskState.ERROR  # a step that ran (what a reset may go back to)


def prune(workflow: BpmnWorkflow, pinned: set[UUID] | frozenset[UUID] = frozenset()) -> int:
    """Drop the task history above each (sub-)workflow's frontier; the number of tasks dropped."""
    dropped = 0
    for sub in [workflow, *list(workflow.subprocesses.values())]:
        dropped += _prune_one(workflow, sub, pinned)
    if dropped:
        _forget_dropped_catchers(workflow)
    return dropped


def _holds(top: BpmnWorkflow, sub: Any) -> bool:
    """Whether the sub-workflow is still held by a task of the tree (a parent's pruning may have deleted it)."""
    return any(sub is held for held in top.subprocesses.values())


def _prune_one(top: BpmnWorkflow, workflow: Any, pinned: set[UUID] | frozenset[UUID]) -> int:
    if top is not workflow and not _holds(top, workflow):
        return 0
    root = workflow.task_tree
    frontier = [t for t in workflow.tasks.values() if t.state & FRONTIER and not _parked(t)]
    # A pinned timer's parent too: a boundary timer's split holds the task it guarded (tasktree.guarded_task).
    frontier.extend(t.parent or t for t in workflow.tasks.values() if t.id in pinned)
    if not frontier:
        return 0  # complete (or stalled: left for ``stalled`` to report as it is)
    spine = _path(frontier[0])
    index = {task.id: i for i, task in enumerate(spine)}
    for task in frontier[1:]:
        current = task
        while current.id not in index:
            current = current.parent
        del spine[index[current.id] + 1:]
        index = {t.id: i for i, t in enumerate(spine)}
    cut = spine.pop()
    if not spine:
        return 0
    below = _subtree(cut)
    order = _preorder(root)
    above = [t for t in order if t.id not in below]
    keep = _latest_runs(top, above, cut, {t.task_spec.name for t in below.values() if t.state & RAN})
    keep |= _last_parked(above)
    if len(keep) == len(above):
        return 0
    _delete_subprocesses(top, {t.id for t in above if t.id not in keep})
    # Each kept task hangs from its nearest kept ancestor, in the order the tree had (all links read first).
    moved = [t for t in order if t is cut or (t.id in keep and t is not root)]
    parents = {}
    for task in moved:
        parent = task.parent
        while parent.id not in keep:
            parent = parent.parent
        parents[task.id] = parent
    for task in [t for t in above if t.id in keep]:
        task._children = []
    for task in moved:
        task._parent = parents[task.id].id
        parents[task.id]._children.append(task.id)
    dropped = len(above) - len(keep)
    workflow.tasks = {i: t for i, t in workflow.tasks.items() if i in keep or i in below}
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return dropped


def _delete_subprocesses(top: BpmnWorkflow, dropped: set[UUID]) -> None:
    """Delete the sub-workflows of dropped tasks, and theirs in turn (by id: the library's ``delete_subprocess``
    looks up every sub-workflow's calling task, and fails on one the library itself left without it)."""
    while gone := [i for i in dropped if i in top.subprocesses]:
        dropped = set()
        for task_id in gone:
            dropped.update(top.subprocesses.pop(task_id).tasks)


def _path(task: Any) -> list[Any]:
    """The tasks from the root down to ``task``."""
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    path.reverse()
    return path


def _subtree(task: Any) -> dict[UUID, Any]:
    found, stack = {}, [task]
    while stack:
        current = stack.pop()
        found[current.id] = current
        stack.extend(current.children)
    return found


def _preorder(task: Any) -> list[Any]:
    found, stack = [], [task]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(current.children))
    return found


def _latest_runs(top: BpmnWorkflow, above: list[Any], cut: Any, seen: set[str]) -> set[UUID]:
    """The root, the latest run of each step above the cut (and of each sub-process, whatever became of it) with
    the task before it (a reset re-inherits its data), and the cut's parent (the cut's own reset reads it)."""
    keep = {above[0].id, cut.parent.id}
    for task in sorted(above, key=lambda t: t.last_state_change, reverse=True):
        if not (task.state & RAN or task.id in top.subprocesses) or task.task_spec.name in seen:
            continue
        seen.add(task.task_spec.name)
        keep.add(task.id)
        if task.parent is not None:
            keep.add(task.parent.id)
    return keep


def _parked(task: Any) -> bool:
    """An end join a finished branch left waiting for the others (or cancelled by a later one)."""
    return isinstance(task.task_spec, _EndJoin) and task.state & (TaskState.WAITING | TaskState.FINISHED_MASK)


def _last_parked(above: list[Any]) -> set[UUID]:
    """The last end join above the cut, with its end event carrying every such branch's data.

    The process's final end join merges the data of each earlier end join's end event (oldest first), so one
    end event with the same merge stands for all of them.
    """
    parked = sorted((t for t in above if _parked(t) and t.parent is not None), key=lambda t: t.last_state_change)
    if not parked:
        return set()
    merged: dict[str, Any] = {}
    for end_join in parked:
        DeepMerge.merge(merged, end_join.parent.data)
    last = parked[-1]
    last.parent.data = merged
    return {last.id, last.parent.id}


def _forget_dropped_catchers(workflow: BpmnWorkflow) -> None:
    """The event manager must not keep catchers the tree no longer has (as ``instances.reset_to`` does)."""
    live = {id(workflow), *(id(sp) for sp in workflow.subprocesses.values())}
    for catcher in list(workflow.event_manager.tasks.values()):
        if id(catcher.workflow) not in live or catcher.id not in catcher.workflow.tasks:
            workflow.event_manager.remove_task(catcher)


def moves_on(task: Any) -> bool:
    """A task something can move on: ready, under way, or waiting for a timer or a message (a join waiting
    for a branch that never comes moves nothing)."""
    if task.state & (TaskState.READY | TaskState.STARTED):
        return True
    return bool(task.state == TaskState.WAITING and getattr(task.task_spec, "event_definition", None) is not None)


def live_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The tasks that move on (``moves_on``), top workflow and sub-workflows, read from the task maps (no depth
    limit)."""
    found = [t for t in workflow.tasks.values() if moves_on(t)]
    for sub in workflow.subprocesses.values():
        found.extend(t for t in sub.tasks.values() if moves_on(t))
    return found


def stalled(workflow: BpmnWorkflow, seen_live: int) -> bool:
    """Not complete, yet nothing can move it on: no ready task, no waiting timer or message, nothing under way.

    ``seen_live``: how many such tasks (``moves_on``) the library's own walk of the tree found. A tree too
    deep for it (``TaskIterator``'s ``max_depth``) hides its live tasks, and even looks complete: that is a stall
    too, whatever ``is_completed`` says.
    """
    if seen_live:
        return False
    return bool(live_tasks(workflow)) or not workflow.is_completed()
