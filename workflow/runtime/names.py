"""The names of the deployed flow nodes by BPMN id: what to call a step when only its id is at hand.

The BPMN ``name`` is the one owner of a step's display name (the pages translate it: ``make i18n`` extracts it,
``workflow/babel_extract.py``). An inbox row carries the name of its own version; an audit event, an escalation
or a bulk action carries only the id, so its name comes from here: the deployed versions, the active ones winning.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import ProcessDefinition
from workflow.runtime.specs import specs_for

# The versions' hashes (in the order they win) -> the map: definitions are immutable, so it changes only when a
# version is deployed or activated.
_CACHE: dict[tuple[str, ...], dict[str, str]] = {}


def flow_node_names(session: Session) -> Mapping[str, str]:
    """BPMN id -> name of every named flow node of every deployed version; where versions disagree, the version
    activated last wins (never-activated uploads count least)."""
    rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.sha256).order_by(
        ProcessDefinition.activated_at.asc().nulls_first(), ProcessDefinition.id)).all()
    key = tuple(sha for _, sha in rows)
    names = _CACHE.get(key)
    if names is None:
        names = {}
        for definition_id, _sha in rows:
            definition = session.get(ProcessDefinition, definition_id)
            assert definition is not None  # just listed
            spec, subprocess_specs = specs_for(definition)
            for process in (spec, *subprocess_specs.values()):
                for task_spec in process.task_specs.values():
                    bpmn_id, name = getattr(task_spec, "bpmn_id", None), getattr(task_spec, "bpmn_name", None)
                    if bpmn_id and name:
                        names[bpmn_id] = " ".join(name.split())
        _CACHE.clear()  # one map is all anyone needs: the current one
        _CACHE[key] = names
    return names
