"""Which tasks a bulk page is about, read from its query (or its posted hidden fields): the ``TaskFilter``
parameters of the work queues (task, episode, city, body, urgent, overdue, assignee, ref) and repeated
``task_id``. My tasks and the case list link here with them, so "these tasks" means the same on every page."""

from __future__ import annotations

from flask import g
from werkzeug.datastructures import MultiDict

from web.loaders import whole_number
from workflow.services.queues import TaskFilter

TEXT_MAX = 200
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def _text(args: MultiDict[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    return value[:TEXT_MAX] or None


def _flag(args: MultiDict[str, str], name: str) -> bool | None:
    value = (args.get(name) or "").strip().lower()
    return True if value in TRUE else False if value in FALSE else None


def _assignee(args: MultiDict[str, str]) -> int | None:
    value = (args.get("assignee") or "").strip().lower()
    if value == "me":
        return int(g.actor.id)
    if value in ("none", "nobody"):
        return 0
    return whole_number(value)


def task_filter(args: MultiDict[str, str], task: str) -> TaskFilter:
    """The filter the query asks for, always narrowed to ``task``; a value that cannot be read is ignored."""
    return TaskFilter(task=task, episode=_text(args, "episode"), city=_text(args, "city"), body=_text(args, "body"),
                      urgent=_flag(args, "urgent"), overdue=_flag(args, "overdue"), assignee=_assignee(args),
                      ref=_text(args, "ref"))


def task_ids(args: MultiDict[str, str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in args.getlist("task_id") if v.strip()))


def filter_fields(flt: TaskFilter) -> dict[str, str]:
    """The filter as hidden form fields (without the task, which the page fixes)."""
    fields = {}
    for name, value in flt.as_params().items():
        if name == "task":
            continue
        fields[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return fields
