"""A response from a body as staff record it (the case page and the API alike)."""

from __future__ import annotations

from workflow.schemas.base import Day, InputSchema, Text
from workflow.schemas.validators import one_of
from workflow.states import ResponseKind

REFERENCE_MAX = 200
SUMMARY_MAX = 20000


class ResponseInputSchema(InputSchema):
    kind = Text(required=True, validate=one_of(ResponseKind.codes()),
                metadata={"description": ", ".join(ResponseKind.codes())})
    received_on = Day(required=True, past_only=True, metadata={"description": "not in the future"})
    reference = Text(allow_none=True, load_default=None, max_length=REFERENCE_MAX,
                     metadata={"description": "the body's reference"})
    summary = Text(allow_none=True, load_default=None, max_length=SUMMARY_MAX)
