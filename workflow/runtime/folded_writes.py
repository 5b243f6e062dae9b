"""An instance's new state and the rows its save changed, written together in one statement on PostgreSQL.

Completing a task changes a handful of rows besides the instance's state: its case's stage, the inbox row it
completes and the one it opens, the deadline its timer closes and the one the next step opens, the consent it
records. Flushed by the ORM, each is a round trip of its own. On PostgreSQL they go with the state's version-checked
UPDATE, in one statement: that UPDATE is a WITH clause returning the instance's id, and every other write is a WITH
clause that runs only if that UPDATE matched (it reads the RETURNING: the clauses of one statement share one
snapshot and learn of each other's work only through it). A stale writer writes nothing at all.

Folded: column changes of loaded rows of ``FOLDED`` models, and their new rows (a key the database assigns is
returned). Left to the next flush: other models, relationship changes, deletions; and everything when the database
is SQLite (no round trips to save: its one statement each costs less than this module's own work), inside a
savepoint (rolling one back expires only the rows the ORM flushed in it, so a folded row would keep values the
database no longer has) or in a read session (``db.HELD_BACK``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Column, Table, bindparam, exists, func, insert, inspect, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from workflow import session_cache
from workflow.db import HELD_BACK, WriterWaitedTooLong
from workflow.errors import Conflict
from workflow.models import Case, ConsentRecord, Deadline, HumanTask, ProcessInstance
from workflow.row_changes import changed_columns, new_row_values, relationships_changed
from workflow.runtime import projections

FOLDED = (Case, ConsentRecord, Deadline, HumanTask)  # simple rows: one table, no version column
_STATE = ProcessInstance.__table__
_WRITE_STATE = update(_STATE).where(_STATE.c.id == bindparam("instance_id"),
                                    _STATE.c.version == bindparam("read_version"))

# One write's shape: (table, column keys written, key column keys, a key the database assigns is returned).
Shape = tuple[str, tuple[str, ...], tuple[str, ...], bool]


@dataclass
class _Write:
    obj: Any
    table: Table
    values: dict[str, Any]  # attribute key -> value
    columns: dict[str, Column[Any]]  # attribute key -> its column
    key: dict[str, Any] | None  # a loaded row's key columns -> values; None: a new row
    returned_key: str | None = None  # a new row's key attribute the database assigns

    @property
    def shape(self) -> Shape:
        key_columns = tuple(sorted(self.key)) if self.key is not None else ()
        return (self.table.name, tuple(self.columns[k].key for k in self.values), key_columns,
                self.returned_key is not None)

    def params(self, n: int) -> dict[str, Any]:
        found = {f"w{n}_{self.columns[k].key}": v for k, v in self.values.items()}
        return found | {f"w{n}_key_{k}": v for k, v in (self.key or {}).items()}


def write_state(session: Session, instance: ProcessInstance, values: dict[str, Any]) -> None:
    """Write the instance's new state, checked against the version it was loaded from, and with it the session's
    pending changes this module folds. A stale writer (another transaction saved the instance since) is a Conflict
    that wrote nothing, and the save's changes are dropped from the session too: no later flush writes them."""
    writes = _pending(session) if _may_fold(session) else []
    read_version = instance.version
    values = {**values, "version": read_version + 1}
    try:
        if writes:
            _in_one_statement(session, instance.id, read_version, values, writes)
        else:
            _state_alone(session, instance.id, read_version, values)
    except Conflict:
        _drop(session)
        raise
    for key, value in values.items():
        set_committed_value(instance, key, value)
    for write in writes:
        _done(session, write)
    if writes:
        session_cache.forget_written(session, {type(w.obj) for w in writes})
        projections.note_written(session)


def _may_fold(session: Session) -> bool:
    return (session.get_bind().dialect.name == "postgresql" and not session.in_nested_transaction()
            and HELD_BACK not in session.info)


def _pending(session: Session) -> list[_Write]:
    """The session's new and changed rows that can be folded, in a stable order (one statement shape per step)."""
    writes = [w for obj in session.new if isinstance(obj, FOLDED) and (w := _insert_of(obj)) is not None]
    writes += [w for obj in session.dirty if isinstance(obj, FOLDED) and (w := _update_of(obj)) is not None]
    return sorted(writes, key=lambda w: (w.key is None, w.shape, str(w.key)))


@cache
def _columns(model: type) -> dict[str, Column[Any]]:
    return {attr.key: attr.columns[0] for attr in inspect(model).column_attrs}


def _update_of(obj: Any) -> _Write | None:
    changes = changed_columns(obj)
    if not changes or relationships_changed(obj):
        return None
    columns = _columns(type(obj))
    state = inspect(obj)
    key = dict(zip((c.key for c in state.mapper.primary_key), state.identity, strict=True))
    if any(columns[k].primary_key for k in changes):
        return None
    for attr, column in columns.items():  # what the flush would add: an ``onupdate`` the row did not set
        if attr not in changes and column.onupdate is not None:
            if not (column.onupdate.is_scalar or column.onupdate.is_callable):
                return None
            changes[attr] = column.onupdate.arg(None) if column.onupdate.is_callable else column.onupdate.arg
    if any(column.server_onupdate is not None for column in columns.values()):
        return None
    return _Write(obj, state.mapper.local_table, changes, columns, key)


def _insert_of(obj: Any) -> _Write | None:
    if relationships_changed(obj):
        return None
    columns = _columns(type(obj))
    values = new_row_values(obj)
    if any(column.server_default is not None and values[attr] is None for attr, column in columns.items()):
        return None
    keys = [attr for attr, column in columns.items() if column.primary_key]
    assigned = [attr for attr in keys if values[attr] is None]
    if assigned and (len(keys) != 1 or not columns[keys[0]].autoincrement):
        return None
    for attr in assigned:
        del values[attr]
    return _Write(obj, inspect(obj).mapper.local_table, values, columns, None, assigned[0] if assigned else None)


def _in_one_statement(session: Session, instance_id: int, read_version: int, values: dict[str, Any],
                      writes: list[_Write]) -> None:
    statement = _folded_statement(tuple(sorted(values)), tuple(w.shape for w in writes))
    params = {"state_key": instance_id, "state_read_version": read_version}
    params |= {f"state_{k}": v for k, v in values.items()}
    for n, write in enumerate(writes):
        params |= write.params(n)
    row = session.connection().execute(statement, params).one()
    if row[0] != 1:
        raise Conflict(f"process instance {instance_id} was changed by someone else; reload and retry")
    for n, write in enumerate(writes):
        if write.returned_key is not None:
            write.values[write.returned_key] = row._mapping[f"w{n}_key"]


@lru_cache(maxsize=256)
def _folded_statement(state_columns: tuple[str, ...], shapes: tuple[Shape, ...]) -> Executable:
    """``WITH state AS (UPDATE the instance ... RETURNING id), w0 AS (... WHERE EXISTS (SELECT FROM state)), ...
    SELECT (SELECT count(*) FROM state), (SELECT id FROM w<n>) ...``: built once per shape."""
    # Every parameter is named apart from every column: an UPDATE also sets the columns its parameters name.
    state = (update(_STATE).where(_STATE.c.id == bindparam("state_key"),
                                  _STATE.c.version == bindparam("state_read_version"))
             .values({_STATE.c[k]: bindparam(f"state_{k}") for k in state_columns})
             .returning(_STATE.c.id).cte("state"))
    matched = exists(select(state.c.id))
    answers = [select(func.count()).select_from(state).scalar_subquery().label("matched")]
    clauses = []
    for n, shape in enumerate(shapes):
        clause = _write_statement(n, shape, matched).cte(f"w{n}")
        clauses.append(clause)
        if shape[3]:
            answers.append(select(*clause.c).scalar_subquery().label(f"w{n}_key"))
    return select(*answers).add_cte(*clauses)


def _write_statement(n: int, shape: Shape, matched: Any) -> Executable:
    """One write, its parameters named ``w<n>_<column>`` (and ``w<n>_key_<column>``), done only if ``matched``."""
    table_name, written, key_columns, returns_key = shape
    table = ProcessInstance.metadata.tables[table_name]
    binds = {table.c[c]: bindparam(f"w{n}_{c}", type_=table.c[c].type) for c in written}
    if key_columns:
        where = [table.c[c] == bindparam(f"w{n}_key_{c}", type_=table.c[c].type) for c in key_columns]
        return update(table).where(*where, matched).values(binds)
    statement = insert(table).from_select(list(binds), select(*binds.values()).where(matched))
    return statement.returning(*table.primary_key.columns) if returns_key else statement


def _state_alone(session: Session, instance_id: int, read_version: int, values: dict[str, Any]) -> None:
    try:
        written = session.connection().execute(
            _WRITE_STATE, {"instance_id": instance_id, "read_version": read_version, **values}).rowcount
    except OperationalError as err:
        # On SQLite a transaction whose snapshot is older than another writer's commit is refused as "locked"; a
        # late writer that could not get the writer at all is busy, not stale (a 503 on pages).
        if "locked" not in str(err.orig) or isinstance(err.orig, WriterWaitedTooLong):
            raise
        written = 0
    if written != 1:
        raise Conflict(f"process instance {instance_id} was changed by someone else; reload and retry")


def _done(session: Session, write: _Write) -> None:
    """The row is written: the object holds what the database holds, as committed values. A new row leaves the
    session (a query reads it back when someone asks), so that no rollback can leave it behind in the identity
    map as a row the database never kept."""
    for key, value in write.values.items():
        set_committed_value(write.obj, key, value)
    if write.key is None:
        session.expunge(write.obj)


def _drop(session: Session) -> None:
    """A stale save's changes leave the session, folded or not: the rows it added, and what it changed of others."""
    for obj in [obj for obj in session.new if isinstance(obj, FOLDED)]:
        session.expunge(obj)
    for obj in [obj for obj in session.dirty if isinstance(obj, FOLDED)]:
        session.expire(obj)
