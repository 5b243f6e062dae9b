"""Small catalogue tables (vocabulary terms, bodies) read once per transaction instead of once per use.

A case page asks for the vocabularies and the bodies seven times (labels, forms, the admissibility check), each a
query and a round of ORM loading. ``rows_of`` reads a table's rows once and keeps them on the session until:

- a flush writes a row of that table (an admin's edit, the seed): the next use reads again;
- the transaction ends (commit or rollback): another writer may have changed the table since;
- a row of it is pending in the session (added, not flushed): the read goes to the database, which flushes first,
  as a query would.

The rows are the session's own objects (its identity map), so an unflushed change to one is seen as a query
would see it. Bulk statements that bypass the ORM (none changes these tables) would not clear the cache.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import Session

_ROWS = "petitio_rows_of"  # Session.info key: {model: [rows]}
Row = TypeVar("Row")


def rows_of(session: Session, model: type[Row]) -> list[Row]:
    """Every row of ``model``, a small table, as this transaction sees it (in no particular order)."""
    cached: dict[type, list[Any]] = session.info.setdefault(_ROWS, {})
    if model in cached and not any(isinstance(obj, model) for obj in session.new):
        return cached[model]
    rows = list(session.scalars(select(model)))
    cached[model] = rows
    return rows


@event.listens_for(Session, "after_flush")
def _forget_written(session: Session, _context: object) -> None:
    cached = session.info.get(_ROWS)
    if not cached:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):  # still the flushed objects here
        cached.pop(type(obj), None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_all(session: Session) -> None:
    session.info.pop(_ROWS, None)
