"""What the complainant allows, and a withdrawal of consent (the case page and the API alike).

Each field is checked here; that "fully anonymous" excludes every way of naming the person is checked by
``services/consent.update_consent_permissions`` on the choices as they will be. Fields left out keep their value.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from workflow.problems import Problem
from workflow.schemas.base import Dict, Flag, InputSchema, Text
from workflow.schemas.catalogue import BODY_CODES as CODES

PERMISSION_FLAGS = ("share_name_with_government", "publish_name", "initials_only", "anonymous")
OVERRIDE_VALUES = ("allow", "deny")
RISK_NOTE_MAX = 5000
REASON_MAX = 5000


class BodyOverrides(Dict):
    """body code -> "allow" or "deny": an exception to the choices above for one body."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        problems = {code: Problem("unknown_body") if code not in CODES
                    else Problem("not_one_of", {"choices": list(OVERRIDE_VALUES)})
                    for code, choice in value.items() if code not in CODES or choice not in OVERRIDE_VALUES}
        if problems:
            raise ValidationError(problems)  # type: ignore[arg-type]
        return dict(value)


class ConsentChoicesSchema(InputSchema):
    share_name_with_government = Flag()
    publish_name = Flag()
    initials_only = Flag()
    anonymous = Flag(metadata={"description": "excludes every other way of naming the person"})
    body_overrides = BodyOverrides(metadata={
        "description": "body code -> allow or deny naming for that body; replaces the whole map"})
    risk_note = Text(allow_none=True, max_length=RISK_NOTE_MAX,
                     metadata={"description": "reprisals, threats, detention (never in the audit log)"})


class WithdrawalSchema(InputSchema):
    reason = Text(required=True, max_length=REASON_MAX)
