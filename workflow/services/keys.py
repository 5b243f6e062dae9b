"""``petitio keys rotate``: re-encrypt every document and identity field under a new key, then retire the old.

Reads never stop: the new key is added (and made current) first, the old key stays readable until every
blob and field has been rewritten, and readers in other processes reload the key ring when they meet a
key id they do not know. Each document is replaced atomically; identity fields are rewritten in batches,
one transaction per batch. A rotation that is interrupted leaves several key files behind; the next run
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
from workflow.storage import DocumentStore

ENCRYPTED_COLUMNS = ("full_name", "full_name_native", "birth_date", "phone", "email", "passport_number", "address")
INDEXES = {"full_name": "full_name_index", "full_name_native": "full_name_native_index"}
SWEEPS = 5  # passes over everything before giving up on retiring the old keys (writers racing the rotation)

# Raw columns: the ciphertext as stored, untouched by the ORM's decrypting types.
_persons = sa.table(
    "persons",
    sa.column("id", sa.Integer()),
    *(sa.column(c, sa.LargeBinary()) for c in ENCRYPTED_COLUMNS),
    *(sa.column(i, sa.String()) for i in INDEXES.values()),
)


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
    retired: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    store = DocumentStore(settings.documents_dir, ring, max_bytes=settings.max_document_bytes)
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
    """Rewrite identity fields not under the current key and recompute every blind index; one
    transaction per batch. Returns how many persons were rewritten."""
    fields = crypto.FieldCrypto(ring)
    done = 0
    last = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(_persons).where(_persons.c.id > last).order_by(_persons.c.id).limit(batch_size)
                .with_for_update()
            ).all()
            if not rows:
                return done
            for row in rows:
                values: dict[str, Any] = {}
                plain: dict[str, str | None] = {}
                for column in ENCRYPTED_COLUMNS:
                    blob = row._mapping[column]
                    if blob is None:
                        plain[column] = None
                        continue
                    qualified = f"persons.{column}"
                    plain[column] = fields.decrypt(qualified, blob)
                    if crypto.key_id_of(blob) != ring.current_id:
                        values[column] = fields.encrypt(qualified, plain[column])
                reencrypted = bool(values)
                for column, index in INDEXES.items():
                    digest = fields.blind_index(plain[column])
                    if digest != row._mapping[index]:
                        values[index] = digest
                if values:
                    conn.execute(_persons.update().where(_persons.c.id == row.id).values(**values))
                if reencrypted:
                    done += 1
                    report.persons_reencrypted += 1
                elif count_skipped:
                    report.persons_skipped += 1
            last = rows[-1].id


def rotate_keys(engine: Engine, settings: Settings, *, batch_size: int = 200) -> dict[str, Any]:
    ring, resumed = start_rotation(settings)
    report = RotationReport(key=ring.current_id, resumed=resumed)
    total = len(DocumentStore(settings.documents_dir, ring).blob_keys())
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
