"""``petitio keys rotate``: re-encrypt every document and encrypted field under a new key, then retire the old.

Reads never stop: the new key is added (and made current) first, the old key stays readable until every
blob and field has been rewritten, and readers in other processes reload the key ring when they meet a
key id they do not know. Each document is replaced atomically; encrypted fields (every ``EncryptedText``
column of the model, found in its metadata: identities, facts, job parameters) are rewritten table by table in
batches, one transaction per batch. A rotation that is interrupted leaves several key files behind; the next run
sees them and finishes the job (what is already under the new key is skipped) instead of starting
another rotation. Only then are the old key files deleted: what they encrypted, including any copy of
the database or the documents taken before, can no longer be decrypted with the keys on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from workflow import crypto
from workflow.config import Settings
from workflow.errors import PetitioError
from workflow.keyring import KeyRing
from workflow.models import Base
from workflow.runtime.context import document_store

SWEEPS = 5  # passes over everything before giving up on retiring the old keys (writers racing the rotation)
INDEX_SUFFIX = "_index"  # `persons.full_name_index` is the blind index of `persons.full_name` (the model's naming)


@dataclass(frozen=True)
class EncryptedTable:
    """A table's encrypted columns as stored: raw ciphertext, untouched by the ORM's decrypting types."""

    name: str
    table: sa.TableClause  # the primary key, the encrypted columns (bytes) and their blind indexes (text)
    key: str  # the primary key column
    columns: dict[str, str]  # column -> the name its ciphertext is bound to ("persons.full_name")
    indexes: dict[str, str]  # encrypted column -> its blind index column


def encrypted_tables(metadata: sa.MetaData | None = None) -> list[EncryptedTable]:
    """Every table with an ``EncryptedText`` column (dates and JSON included), read from the model's metadata:
    the model is the one owner of what is encrypted, so a column added there is rotated without a change here.
    A column ``<name>_index`` beside an encrypted ``<name>`` is its blind index, recomputed under the new key."""
    found = []
    for table in (metadata or Base.metadata).sorted_tables:
        columns = {c.name: c.type.column for c in table.columns if isinstance(c.type, crypto.EncryptedText)}
        if not columns:
            continue
        (key,) = (c.name for c in table.primary_key.columns)  # every encrypted table has a one-column key
        indexes = {name: name + INDEX_SUFFIX for name in columns if name + INDEX_SUFFIX in table.columns}
        raw = sa.table(table.name, sa.column(key, table.c[key].type),
                       *(sa.column(c, sa.LargeBinary()) for c in columns),
                       *(sa.column(i, sa.String()) for i in indexes.values()))
        found.append(EncryptedTable(table.name, raw, key, columns, indexes))
    return found


class RotationRefused(PetitioError):
    code = "rotation_refused"


@dataclass
class RotationReport:
    key: str = ""
    resumed: bool = False
    documents_reencrypted: int = 0
    documents_skipped: int = 0
    persons_reencrypted: int = 0
    persons_skipped: int = 0
    rows_reencrypted: dict[str, int] = field(default_factory=dict)  # per table, persons included
    rows_skipped: dict[str, int] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    def count(self, table: str, *, reencrypted: bool) -> None:
        counts = self.rows_reencrypted if reencrypted else self.rows_skipped
        counts[table] = counts.get(table, 0) + 1
        if table == "persons":  # the report's first figures, kept for whoever reads them
            if reencrypted:
                self.persons_reencrypted += 1
            else:
                self.persons_skipped += 1

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "rows_reencrypted": dict(self.rows_reencrypted),
                "rows_skipped": dict(self.rows_skipped)}


def start_rotation(settings: Settings) -> tuple[KeyRing, bool]:
    """The ring to rotate to: a new current key, or the current one of an unfinished rotation (resumed)."""
    if settings.document_key:
        raise RotationRefused("keys come from PETITIO_DOCUMENT_KEY: rotate that key in the environment "
                              "(keys rotate manages the key files under PETITIO_HOME/keys only)")
    ring = KeyRing.load_or_create(settings.keys_dir)
    resumed = len(ring.key_ids) > 1
    if not resumed:
        ring.add_new_key(settings.keys_dir)
    crypto.configure(settings)  # this process encrypts under the new key from now on
    return ring, resumed


def reencrypt_documents(settings: Settings, ring: KeyRing, report: RotationReport) -> int:
    """Rewrite every blob not yet under the ring's current key; returns how many were rewritten."""
    store = document_store(settings, keyring=ring)
    done = 0
    for key in store.blob_keys():
        try:
            changed = store.reencrypt(key)
        except FileNotFoundError:
            continue  # deleted meanwhile
        if changed:
            done += 1
            report.documents_reencrypted += 1
    return done


def reencrypt_fields(engine: Engine, ring: KeyRing, report: RotationReport, *, batch_size: int = 200,
                     count_skipped: bool = True) -> int:
    """Rewrite the encrypted fields of every table (``encrypted_tables``) not under the current key and
    recompute every blind index; one transaction per batch of rows. Returns how many rows were rewritten."""
    fields = crypto.FieldCrypto(ring)
    return sum(_reencrypt_table(engine, fields, ring.current_id, table, report, batch_size=batch_size,
                                count_skipped=count_skipped) for table in encrypted_tables())


def _reencrypt_table(engine: Engine, fields: crypto.FieldCrypto, current: str, encrypted: EncryptedTable,
                     report: RotationReport, *, batch_size: int, count_skipped: bool) -> int:
    table, key = encrypted.table, encrypted.table.c[encrypted.key]
    done = 0
    last: Any = None
    while True:
        with engine.begin() as conn:
            query = sa.select(table).order_by(key).limit(batch_size).with_for_update()
            rows = conn.execute(query if last is None else query.where(key > last)).all()
            if not rows:
                return done
            for row in rows:
                values: dict[str, Any] = {}
                plain: dict[str, str | None] = {}
                for column, bound_to in encrypted.columns.items():
                    blob = row._mapping[column]
                    if blob is None:
                        plain[column] = None
                        continue
                    plain[column] = fields.decrypt(bound_to, blob)
                    if crypto.key_id_of(blob) != current:
                        values[column] = fields.encrypt(bound_to, plain[column])
                reencrypted = bool(values)
                for column, index in encrypted.indexes.items():
                    digest = fields.blind_index(plain[column])
                    if digest != row._mapping[index]:
                        values[index] = digest
                if values:
                    conn.execute(table.update().where(key == row._mapping[encrypted.key]).values(**values))
                if reencrypted:
                    done += 1
                    report.count(encrypted.name, reencrypted=True)
                elif count_skipped:
                    report.count(encrypted.name, reencrypted=False)
            last = rows[-1]._mapping[encrypted.key]


def rotate_keys(engine: Engine, settings: Settings, *, batch_size: int = 200) -> dict[str, Any]:
    ring, resumed = start_rotation(settings)
    report = RotationReport(key=ring.current_id, resumed=resumed)
    total = len(document_store(settings, keyring=ring).blob_keys())
    report.documents_skipped = total - reencrypt_documents(settings, ring, report)
    reencrypt_fields(engine, ring, report, batch_size=batch_size)
    # A writer that loaded the key ring just before the rotation started may have stored something under
    # the old key after we passed it: sweep again until a pass finds nothing left to do.
    for _ in range(SWEEPS):
        if not (reencrypt_documents(settings, ring, report)
                + reencrypt_fields(engine, ring, report, batch_size=batch_size, count_skipped=False)):
            break
    else:
        raise RotationRefused("data is still being written under the old key; run `petitio keys rotate` again")
    for old in sorted(ring.key_ids - {ring.current_id}):
        ring.retire(old)
        report.retired.append(old)
    crypto.configure(settings)
    return report.as_dict()
