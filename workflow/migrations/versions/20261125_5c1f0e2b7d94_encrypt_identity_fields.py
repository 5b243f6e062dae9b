"""encrypt identity fields, add blind indexes

Revision ID: 5c1f0e2b7d94
Revises: a98648a1c350
Create Date: 2026-11-26 09:00:00

Identity columns of ``persons`` become AES-GCM blobs (``workflow.crypto``). Existing rows are converted
in place: read in the clear, encrypted with the installation's keys (the same ``PETITIO_HOME/keys`` or
``PETITIO_DOCUMENT_KEY`` that ``petitio init`` is run with), written to new columns that then replace the
old ones. On SQLite ``secure_delete`` zeroes the pages the plaintext leaves behind.
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

from workflow import crypto

revision = '5c1f0e2b7d94'
down_revision = 'a98648a1c350'
branch_labels = None
depends_on = None

# column -> old type
IDENTITY = {
    "full_name": sa.Text(),
    "full_name_native": sa.Text(),
    "birth_date": sa.Date(),
    "phone": sa.Text(),
    "email": sa.Text(),
    "passport_number": sa.Text(),
    "address": sa.Text(),
}
INDEXED = {"full_name": "full_name_index", "full_name_native": "full_name_native_index"}
BATCH = 500


def _plain_text(value: object) -> str:
    # SQLite hands dates back as ISO strings, PostgreSQL as dates: both become the ISO form.
    return value.isoformat() if isinstance(value, date) else str(value)


def _secure_delete() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete=ON")


def _convert(source_suffix: str, target_suffix: str, encrypting: bool) -> None:
    """Copy every identity column ``<c><source_suffix>`` into ``<c><target_suffix>``, (de|en)crypting."""
    bind = op.get_bind()
    cols = [sa.column("id", sa.Integer())]
    cols += [sa.column(c + source_suffix) for c in IDENTITY]
    cols += [sa.column(c + target_suffix) for c in IDENTITY]
    if encrypting:
        cols += [sa.column(i) for i in INDEXED.values()]
    persons = sa.table("persons", *cols)
    last = 0
    while True:
        rows = bind.execute(sa.select(persons.c.id, *(persons.c[c + source_suffix] for c in IDENTITY))
                            .where(persons.c.id > last).order_by(persons.c.id).limit(BATCH)).all()
        if not rows:
            return
        fields = crypto.active(fresh=True)  # only needed, and only loaded, when there are rows
        for row in rows:
            values = {}
            for column in IDENTITY:
                value = row._mapping[column + source_suffix]
                if value is None:
                    values[column + target_suffix] = None
                elif encrypting:
                    values[column + target_suffix] = fields.encrypt(f"persons.{column}", _plain_text(value))
                else:
                    text = fields.decrypt(f"persons.{column}", bytes(value))
                    values[column + target_suffix] = date.fromisoformat(text) if column == "birth_date" else text
            if encrypting:
                for column, index in INDEXED.items():
                    value = row._mapping[column + source_suffix]
                    values[index] = None if value is None else fields.blind_index(_plain_text(value))
            bind.execute(persons.update().where(persons.c.id == row.id).values(**values))
        last = rows[-1].id


def upgrade() -> None:
    _secure_delete()
    with op.batch_alter_table('persons', schema=None) as batch_op:
        for column in IDENTITY:
            batch_op.add_column(sa.Column(f"{column}_enc", sa.LargeBinary(), nullable=True))
        for index in INDEXED.values():
            batch_op.add_column(sa.Column(index, sa.String(length=64), nullable=True))

    _convert("", "_enc", encrypting=True)

    with op.batch_alter_table('persons', schema=None) as batch_op:
        for column in IDENTITY:
            batch_op.drop_column(column)
        for column in IDENTITY:
            batch_op.alter_column(f"{column}_enc", new_column_name=column, existing_type=sa.LargeBinary(),
                                  nullable=column != "full_name")
        for index in INDEXED.values():
            batch_op.create_index(batch_op.f(f"ix_persons_{index}"), [index], unique=False)


def downgrade() -> None:
    _secure_delete()
    with op.batch_alter_table('persons', schema=None) as batch_op:
        for index in INDEXED.values():
            batch_op.drop_index(batch_op.f(f"ix_persons_{index}"))
        for column, old_type in IDENTITY.items():
            batch_op.add_column(sa.Column(f"{column}_plain", old_type, nullable=True))

    _convert("", "_plain", encrypting=False)

    with op.batch_alter_table('persons', schema=None) as batch_op:
        for column in IDENTITY:
            batch_op.drop_column(column)
        for index in INDEXED.values():
            batch_op.drop_column(index)
        for column, old_type in IDENTITY.items():
            batch_op.alter_column(f"{column}_plain", new_column_name=column, existing_type=old_type,
                                  nullable=column != "full_name")
