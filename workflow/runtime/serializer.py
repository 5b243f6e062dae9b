"""The one serializer: SpiffWorkflow's spiff configuration plus the types our task data uses.

Specs are stored once per definition version, so the workflow converter here writes instance state
only; converting the specs on every save was most of the cost of a save.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """``to_dict`` without ``spec``/``subprocess_specs``; ``from_dict`` expects them handed in."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


_registry = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: StateOnlyWorkflowConverter})
# datetime, timedelta and UUID are registered by SpiffWorkflow; date is not and fails to serialize.
_registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))

SERIALIZER = BpmnWorkflowSerializer(_registry)
SERIALIZER_VERSION: str = SERIALIZER.VERSION
