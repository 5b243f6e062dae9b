"""The one serializer: SpiffWorkflow's spiff configuration plus the types our task data uses."""

from __future__ import annotations

from datetime import date

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

_registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
# datetime, timedelta and UUID are registered by SpiffWorkflow; date is not and fails to serialize.
_registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))

SERIALIZER = BpmnWorkflowSerializer(_registry)
SERIALIZER_VERSION: str = SERIALIZER.VERSION
