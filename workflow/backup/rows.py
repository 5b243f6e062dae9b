"""Table rows as the archive holds them: every table of the model, values as stored, in a form both SQLite and
PostgreSQL read back, and a digest of a table's rows that does not depend on the order a database returns them in.

Encrypted columns are read and written as the raw bytes they hold (``EncryptedText`` is swapped for its
``LargeBinary`` storage), so ciphertext stays ciphertext and no key is needed to dump or load a database.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import crypto
from workflow.models import Base, DocumentBlob, UTCDateTime

ROWS_PER_FRAME: Final = 500
BYTES_PER_FRAME: Final = 4 << 20  # rows are sent on earlier when they are large (process state, audit data)
_MODULUS: Final = 1 << 256


def _kind(column: sa.Column[Any]) -> str:
    """How a column's values are written: bytes as base64, dates and times in ISO form, the rest as JSON has them."""
    column_type = column.type
    if isinstance(column_type, crypto.EncryptedText | sa.LargeBinary):
        return "bytes"
    if isinstance(column_type, UTCDateTime | sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Time):
        return "time"
    return "plain"


@dataclass(frozen=True)
class RawTable:
    """A model table whose encrypted columns read and write their stored bytes."""

    name: str
    table: sa.TableClause
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    order_by: tuple[str, ...]
    serial: str | None  # an integer primary key whose PostgreSQL sequence must follow the restored ids

    def select(self) -> sa.Select[Any]:
        return sa.select(self.table).order_by(*(self.table.c[c] for c in self.order_by))


def raw_tables() -> list[RawTable]:
    """Every table of the model's metadata, parents before children (the order rows can be inserted in). Not
    ``document_blobs``: its blobs travel as the archive's documents, whichever store they come from or go to."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == DocumentBlob.__tablename__:
            continue
        columns = tuple(c.name for c in table.columns)
        raw_columns = [sa.column(c.name, sa.LargeBinary() if isinstance(c.type, crypto.EncryptedText) else c.type)
                       for c in table.columns]
        keys = tuple(c.name for c in table.primary_key.columns) or columns
        primary = list(table.primary_key.columns)
        serial = primary[0].name if len(primary) == 1 and isinstance(primary[0].type, sa.Integer) else None
        found.append(RawTable(table.name, sa.table(table.name, *raw_columns), columns,
                              tuple(_kind(c) for c in table.columns), keys, serial))
    return found


def encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    return value


def decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    return value


def canonical(encoded: list[Any]) -> str:
    """One row as the digest sees it and the archive holds it (JSON values' keys sorted, no spaces)."""
    return json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class TableDigest:
    """Row count and the sum of the rows' SHA-256 (mod 2**256): the same whatever order the rows come in, so a
    PostgreSQL dump and its SQLite restore agree although the two order text keys differently."""

    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, encoded: list[Any]) -> None:
        self.add_line(canonical(encoded))

    def add_line(self, line: str) -> None:
        self.rows += 1
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest(), "big")) % _MODULUS

    @property
    def hexdigest(self) -> str:
        return self._sum.to_bytes(32, "big").hex()

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.hexdigest}


def encoded_rows(conn: Connection, raw: RawTable) -> Iterator[list[Any]]:
    """The table's rows, encoded, streamed from the database in batches (never the whole table in memory)."""
    result = conn.execution_options(stream_results=True, yield_per=ROWS_PER_FRAME).execute(raw.select())
    for row in result:
        yield [encode(value, kind) for value, kind in zip(row, raw.kinds, strict=True)]


def table_digests(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every table's row count and digest as it is in this database now (``verify``)."""
    digests = {}
    for raw in raw_tables():
        digest = TableDigest()
        for row in encoded_rows(conn, raw):
            digest.add(row)
        digests[raw.name] = digest.as_dict()
    return digests
