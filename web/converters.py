"""The ``int`` of every route, bounded: a number no row id can be is a 404 at routing, before any query.

Werkzeug's own ``int`` reads any run of digits (a Python int has no limit), and the database then fails on it:
SQLite with "Python int too large to convert to SQLite INTEGER", PostgreSQL with "integer out of range", both a 500.
``create_app`` puts this converter in the place of ``int`` before any route is added, so that no route, old or
new, can escape it; flask-smorest documents it as werkzeug's int, with its maximum.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from workflow.models import MAX_ID


class RowIdConverter(IntegerConverter):
    """``<int:...>``: ASCII digits only (Python reads other scripts' digits too), 0 to ``MAX_ID`` unless the rule
    says otherwise (``<int(max=...):...>``); at most 40 digits, so that Python is never asked to read a number of
    thousands of digits (it refuses)."""

    regex = r"[0-9]{1,40}"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        """Out of range is a 404 for this rule, not "try the next rule": another rule of the same path with other
        methods (``/cases/<ref>/arrests/<row_id>`` has GET elsewhere) would answer 405 for an id no row can have."""
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def install(converters: dict[str, Any]) -> None:
    converters["int"] = RowIdConverter
