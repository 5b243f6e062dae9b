"""The ready tasks of a case or of a collective complaint as page panels, each with its form when this user may
do the task (otherwise why not: another team's lane, or four eyes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from web.labels import data_labels, task_name
from web.messages import message
from web.tasks import forms
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.models import HumanTask
from workflow.problems import Problem
from workflow.roles import Role
from workflow.services.queues import TaskFilter
from workflow.services.tasks import four_eyes_blocks, held_by_other, task_schema, task_ui_schema
from workflow.services.users import display_names


@dataclass(frozen=True)
class Refused:
    """A task form the service refused: what was typed, and why, per field."""

    values: dict[str, Any]
    errors: Mapping[str, Problem]


@dataclass
class TaskPanel:
    """One ready task as the page shows it. Review steps get more from ``web/review/panel.py``."""

    id: str
    bpmn_id: str
    name: str
    lane: str | None
    due_at: datetime | None
    overdue: bool
    body: str | None
    mode: str  # form | other_lane | four_eyes | held
    blocked_by: str | None = None  # four eyes: the step this user did that bars them from this one
    fields: list[forms.Field] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    description: str | None = None
    assignee: str | None = None  # the task went back to this person (the rest of the lane still sees it)
    held: bool = False  # claimed or assigned (services/queues.py): only ``assignee`` may complete it
    mine: bool = False  # held by this user
    queue: dict[str, Any] = field(default_factory=dict)  # the queue it was opened from, for "Complete and next"
    may_claim: bool = False
    may_release: bool = False  # the holder or a manager
    back: str = ""  # where claiming or releasing returns to
    parts: dict[str, Any] = field(default_factory=dict)  # what a feature adds (the review: its checks)


def task_panels(session: Session, rows: list[HumanTask], now: datetime, bodies: Mapping[int, str], *,
                refused: Mapping[str, Refused] | None = None) -> list[TaskPanel]:
    """``bodies``: filing id -> body, naming the body a filing's task is about; ``refused``: task id -> the
    refused attempt, shown again with its problems."""
    assignees = display_names(session, {r.assignee_id for r in rows if r.assignee_id})
    queue = queue_params()
    panels = []
    for row in rows:
        held = row.assigned_at is not None and row.assignee_id is not None
        panel = TaskPanel(id=row.id, bpmn_id=row.bpmn_id, name=task_name(row.bpmn_id, row.name), lane=row.lane,
                          due_at=row.due_at, overdue=row.overdue(now), body=bodies.get(row.filing_id or 0),
                          mode="form", assignee=assignees.get(row.assignee_id or 0), held=held,
                          mine=held and row.assignee_id == g.actor.id, queue=queue)
        panel.may_claim = not held and row.lane == g.actor.role
        panel.may_release = held and (panel.mine or g.actor.role == Role.MANAGER)
        panel.back = f"{request.path}#task-{row.id}"
        _offer(session, panel, row, (refused or {}).get(row.id))
        panels.append(panel)
    return panels


def _offer(session: Session, panel: TaskPanel, row: HumanTask, refused: Refused | None) -> None:
    """The form, if this user may do the task; otherwise why not."""
    if row.lane != g.actor.role:
        panel.mode = "other_lane"  # listed, never offered: the service would refuse it anyway
    elif held_by_other(row, g.actor) is not None:
        panel.mode = "held"
    elif blocked_by := four_eyes_blocks(session, row, g.actor):
        panel.mode, panel.blocked_by = "four_eyes", task_name(blocked_by)
    else:
        schema = task_schema(session, row)
        errors = {name.partition(".")[0]: message(problem) for name, problem in (refused.errors if refused else {})
                  .items()}
        panel.fields = forms.fields_of(schema, prefix=f"t{row.id[:8]}", ui=task_ui_schema(session, row),
                                       values=refused.values if refused else None, errors=errors,
                                       labels=data_labels())
        panel.errors = forms.other_errors(schema, errors)
        panel.description = _(schema["description"]) if schema.get("description") else None


QUEUE_PREFIX = "queue_"


def queue_params() -> dict[str, Any]:
    """The queue a task page was opened from (``queue_task``, ``queue_episode``... in the link or the posted
    form), checked like My tasks checks its filter; a bad value drops the queue rather than the page."""
    given = {name.removeprefix(QUEUE_PREFIX): value for name, value in request.values.items()
             if name.startswith(QUEUE_PREFIX) and name.removeprefix(QUEUE_PREFIX) in TaskFilter.names()}
    try:
        flt = TaskFilter.from_params(given)
    except ValidationFailed:
        return {}
    return {f"{QUEUE_PREFIX}{name}": value for name, value in flt.as_params().items()}
