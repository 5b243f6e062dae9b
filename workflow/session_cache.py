"""Small catalogue tables (vocabulary terms, bodies), and other reads a page repeats, read once per transaction.

A case page asks for the vocabularies and the bodies seven times (labels, forms, the admissibility check), each a
query and a round of ORM loading. ``rows_of`` reads a table's rows once and keeps them on the session until:

- a flush writes a row of that table (an admin's edit, the seed): the next use reads again;
- the transaction ends (commit or rollback): another writer may have changed the table since;
- a row of it is pending in the session (added, not flushed): the read goes to the database, which flushes first,
  as a query would.

The rows are the session's own objects (its identity map), so an unflushed change to one is seen as a query
would see it. Bulk statements that bypass the ORM (none changes these tables) would not clear the cache; the rows
a save folds into its own UPDATE clear it with ``forget_written``.
``remembered`` keeps any other answer the same way (a task's definition version: the case page asks for it three
times per task it offers).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import Session

_ROWS = "petitio_rows_of"  # Session.info key: {model: {key: what was read}}
_ALL = "all rows"
Row = TypeVar("Row")
Value = TypeVar("Value")


def rows_of(session: Session, model: type[Row]) -> list[Row]:
    """Every row of ``model``, a small table, as this transaction sees it (in no particular order)."""
    if any(isinstance(obj, model) for obj in session.new):
        _kept(session, model).pop(_ALL, None)
    return remembered(session, model, _ALL, lambda: list(session.scalars(select(model))))


def remembered(session: Session, model: type, key: Hashable, read: Callable[[], Value]) -> Value:
    """``read()``'s answer, kept on the session under ``key`` as ``rows_of`` keeps rows: forgotten when a flush
    writes a row of ``model`` (what the answer was read from) and when the transaction ends. Strong references:
    the ORM's identity map is weak, so an object read once and dropped would be read again at its next use."""
    kept = _kept(session, model)
    if key not in kept:
        kept[key] = read()
    return kept[key]


def _kept(session: Session, model: type) -> dict[Hashable, Any]:
    return session.info.setdefault(_ROWS, {}).setdefault(model, {})


@event.listens_for(Session, "after_flush")
def _forget_flushed(session: Session, _context: object) -> None:
    if session.info.get(_ROWS):  # the flushed objects are still the session's new, dirty and deleted here
        forget_written(session, {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)})


def forget_written(session: Session, models: set[type]) -> None:
    """Rows of ``models`` were written (by a flush, or around it: ``runtime/folded_writes.py``)."""
    cached = session.info.get(_ROWS)
    for model in models if cached else ():
        cached.pop(model, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_all(session: Session) -> None:
    session.info.pop(_ROWS, None)
