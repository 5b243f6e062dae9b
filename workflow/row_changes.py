"""What a flush would write for an object, read from its ORM state: for the writes that go around the unit of work.

Two writers take rows out of the session instead of letting a flush write them: a read session on SQLite holds its
few writes back (``workflow/db.py``), and an instance's save sends the rows it changed with its own UPDATE
(``workflow/runtime/folded_writes.py``). Both read the rows here, the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect


def changed_columns(obj: Any) -> dict[str, Any]:
    """A loaded row's column attributes whose value changed since it was read: attribute key -> new value."""
    state = inspect(obj)
    columns = state.mapper.column_attrs
    # Only the attributes set since the row was read (those the ORM keeps an original of) can have changed.
    return {key: getattr(obj, key) for key in state.committed_state
            if key in columns and state.attrs[key].history.has_changes()}


def relationships_changed(obj: Any) -> bool:
    """Whether a relationship of the row was set or changed: only a flush turns that into foreign keys."""
    state = inspect(obj)
    relationships = state.mapper.relationships
    return any(key in relationships and state.attrs[key].history.has_changes() for key in state.committed_state)


def new_row_values(obj: Any) -> dict[str, Any]:
    """A new row's column attributes as a flush would insert them, None included: a Python-side default is taken
    now (an audit event's ``at`` is when its data was read), not when the row is written."""
    values = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        column = attr.columns[0]
        if value is None and column.default is not None and not column.primary_key:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
        values[attr.key] = value
    return values
