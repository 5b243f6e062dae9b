"""The filter of a work queue, as query parameters: the one check for My tasks, the bulk pages and the API."""

from __future__ import annotations

from workflow.models import MAX_ID
from workflow.schemas.base import Boolean, InputSchema, Number, Text
from workflow.schemas.validators import in_range

__all__ = ["MAX_ID", "TaskFilterSchema"]  # assignees are user ids: MAX_ID is the models'


class TaskFilterSchema(InputSchema):
    """``services/queues.TaskFilter`` from text; an empty value leaves that filter open."""

    task = Text(max_length=100, allow_none=True, metadata={"description": "the BPMN id of a task kind"})
    episode = Text(max_length=80, allow_none=True, metadata={"description": "an episode key"})
    city = Text(max_length=120, allow_none=True)
    body = Text(max_length=40, allow_none=True, metadata={"description": "a filing's body code"})
    urgent = Boolean(allow_none=True, metadata={"description": "true: urgent cases only; false: the others"})
    overdue = Boolean(allow_none=True, metadata={"description": "true: overdue tasks only; false: the others"})
    assignee = Number(allow_none=True, validate=in_range(0, MAX_ID),
                      metadata={"description": "a user id holding the task; 0: tasks nobody holds"})
    ref = Text(max_length=40, allow_none=True, metadata={"description": "a case reference, exactly"})
