"""The legal facts admissibility rests on, as a legal officer records them (the case page and the API).

Each field is checked here; what only holds for the facts as a whole (a concluded procedure needs its date) is
checked by ``services/review.update_legal_facts`` on the merged record. Fields left out keep their value.
"""

from __future__ import annotations

from typing import Any

from workflow.problems import Problem
from workflow.schemas.base import Day, Flag, InputSchema, Text
from workflow.schemas.validators import fail, one_of
from workflow.states import EuStatus, OtherProcedure

SUMMARY_MAX = 10000
NAME_MAX = 200
FIELDS = ("state_code", "torture_risk", "deprived_of_liberty", "remedies_exhausted_on", "remedies_summary",
          "remedies_ineffective", "other_procedure", "other_procedure_name", "other_procedure_concluded_on",
          "eu_status", "eu_subject")


class StateCode(Text):
    """A two-letter country code (ISO 3166-1 alpha-2), upper-cased."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs) or ""
        if len(code) != 2 or not code.isalpha() or not code.isascii():
            raise fail(Problem("bad_state_code"))
        return code.upper()


class LegalFactsUpdateSchema(InputSchema):
    state_code = StateCode(metadata={"description": "the state concerned, ISO 3166-1 alpha-2, e.g. KZ"})
    torture_risk = Flag()
    deprived_of_liberty = Flag()
    remedies_exhausted_on = Day(allow_none=True, past_only=True,
                                metadata={"description": "the final domestic decision; not in the future"})
    remedies_summary = Text(max_length=SUMMARY_MAX)
    remedies_ineffective = Flag()
    other_procedure = Text(validate=one_of(OtherProcedure.codes()),
                           metadata={"description": ", ".join(OtherProcedure.codes())})
    other_procedure_name = Text(max_length=NAME_MAX)
    other_procedure_concluded_on = Day(allow_none=True, past_only=True, metadata={"description": "not in the future"})
    eu_status = Text(validate=one_of(EuStatus.codes()), metadata={"description": ", ".join(EuStatus.codes())})
    eu_subject = Flag()
