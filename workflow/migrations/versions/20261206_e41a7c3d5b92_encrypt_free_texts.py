"""encrypt every free text at rest (issue 14 item 2)

Revision ID: e41a7c3d5b92
Revises: 8bd7ed95f046
Create Date: 2026-12-06 16:15:00

The free texts staff type (incident descriptions and places, notes, risk notes, withdrawal reasons, review and
approval notes, reviews' admissibility findings (they quote the legal facts), legal facts' texts, collective complaints' title, narrative and officials, document file
names, responses' reference and summary, filings' external reference) and the serialized BPMN state (which
holds copies of every form's data) become AES-GCM blobs bound to "table.column" (``workflow.crypto``), like
the identity fields in 5c1f0e2b7d94. Existing rows are converted in batches: read in the clear, encrypted
with the installation's keys into a new column, which then replaces the old one. JSON values are encrypted
as ``crypto.EncryptedJSON`` writes them. On SQLite ``secure_delete`` zeroes the pages the plaintext leaves.
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from workflow import crypto

revision = 'e41a7c3d5b92'
down_revision = '8bd7ed95f046'
branch_labels = None
depends_on = None

# table -> column -> (old type, nullable)
COLUMNS: dict[str, dict[str, tuple[Any, bool]]] = {
    "persons": {"occupation": (sa.Text(), True), "organisation": (sa.Text(), True)},
    "incidents": {"place": (sa.Text(), True), "description": (sa.Text(), False)},
    "consent_records": {"risk_note": (sa.Text(), True), "withdrawal_reason": (sa.Text(), True)},
    "reviews": {"notes": (sa.Text(), False), "approval_notes": (sa.Text(), False), "checks": (sa.JSON(), False)},
    "legal_facts": {"remedies_summary": (sa.Text(), False), "other_procedure_name": (sa.String(200), False)},
    "collective_complaints": {"title": (sa.String(300), False), "narrative": (sa.JSON(), False),
                              "officials": (sa.JSON(), False)},
    "documents": {"filename": (sa.String(255), False)},
    "responses": {"reference": (sa.String(200), True), "summary": (sa.Text(), True)},
    "filings": {"external_reference": (sa.String(200), True)},
    "process_instances": {"state_json": (sa.Text(), False), "last_error": (sa.Text(), True)},
}
BATCH = 200


def _is_json(old_type: Any) -> bool:
    return isinstance(old_type, sa.JSON)


def _plain(value: Any, old_type: Any) -> str:
    # The text crypto.EncryptedJSON / EncryptedText would encrypt for this value.
    return json.dumps(value, sort_keys=True, default=str) if _is_json(old_type) else str(value)


def _secure_delete() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete=ON")


def _convert(table_name: str, source_suffix: str, target_suffix: str, *, encrypting: bool) -> None:
    """Copy every column ``<c><source_suffix>`` of the table into ``<c><target_suffix>``, (de|en)crypting."""
    bind = op.get_bind()
    columns = COLUMNS[table_name]

    def plain_type(old_type: Any) -> Any:
        return old_type if _is_json(old_type) else sa.Text()

    source_types = {c: (sa.LargeBinary() if not encrypting else plain_type(t)) for c, (t, _) in columns.items()}
    target_types = {c: (sa.LargeBinary() if encrypting else plain_type(t)) for c, (t, _) in columns.items()}
    table = sa.table(table_name, sa.column("id", sa.Integer()),
                     *(sa.column(c + source_suffix, source_types[c]) for c in columns),
                     *(sa.column(c + target_suffix, target_types[c]) for c in columns))
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, *(table.c[c + source_suffix] for c in columns))
                            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        fields = crypto.active(fresh=True)  # only needed, and only loaded, when there are rows
        for row in rows:
            values = {}
            for column, (old_type, _) in columns.items():
                value = row._mapping[column + source_suffix]
                bound_to = f"{table_name}.{column}"
                if value is None:
                    values[column + target_suffix] = None
                elif encrypting:
                    values[column + target_suffix] = fields.encrypt(bound_to, _plain(value, old_type))
                else:
                    text = fields.decrypt(bound_to, bytes(value))
                    values[column + target_suffix] = json.loads(text) if _is_json(old_type) else text
            bind.execute(table.update().where(table.c.id == row.id).values(**values))
        last = rows[-1].id


def _replace(table_name: str, suffix: str, *, new_types: dict[str, Any]) -> None:
    """Drop the old columns and give the new ones their names, without copying the table.

    Not ``batch_alter_table`` on SQLite: it recreates the table, and dropping the old one with foreign keys on
    (``workflow.db`` turns them on, and the pragma cannot change inside the migration's transaction) runs
    the ON DELETE actions of the tables that refer to it: incidents' perpetrator links, a process's tasks and
    deadlines, a collective complaint's cases would be deleted. SQLite (3.35+) drops and renames a column in
    place; it cannot add NOT NULL to an existing column, so there the new columns stay nullable (the models
    always write them). PostgreSQL gets the old NOT NULL back.
    """
    bind = op.get_bind()
    for column, (_, nullable) in COLUMNS[table_name].items():
        if bind.dialect.name == "sqlite":
            op.execute(f'ALTER TABLE "{table_name}" DROP COLUMN "{column}"')
            op.execute(f'ALTER TABLE "{table_name}" RENAME COLUMN "{column}{suffix}" TO "{column}"')
        else:
            op.drop_column(table_name, column)
            op.alter_column(table_name, column + suffix, new_column_name=column, existing_type=new_types[column],
                            nullable=nullable)


def _add(table_name: str, suffix: str, types: dict[str, Any]) -> None:
    for column, column_type in types.items():
        op.add_column(table_name, sa.Column(column + suffix, column_type, nullable=True))


def upgrade() -> None:
    _secure_delete()
    for table_name, columns in COLUMNS.items():
        _add(table_name, "_enc", {c: sa.LargeBinary() for c in columns})
        _convert(table_name, "", "_enc", encrypting=True)
        _replace(table_name, "_enc", new_types={c: sa.LargeBinary() for c in columns})


def downgrade() -> None:
    _secure_delete()
    for table_name, columns in COLUMNS.items():
        _add(table_name, "_plain", {c: t for c, (t, _) in columns.items()})
        _convert(table_name, "", "_plain", encrypting=False)
        _replace(table_name, "_plain", new_types={c: t for c, (t, _) in columns.items()})
