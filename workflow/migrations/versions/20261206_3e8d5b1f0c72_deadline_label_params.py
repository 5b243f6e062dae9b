"""The parameters of a deadline label made from a template (the HRC time bar's years), so that pages, mails and
calendars can translate it instead of showing the English label.

Revision ID: 3e8d5b1f0c72
Revises: 9f1c2b7e4a61
Create Date: 2026-12-06 09:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '3e8d5b1f0c72'
down_revision = '9f1c2b7e4a61'
branch_labels = None
depends_on = None

# The one label so far made from a template, as services/deadlines.py wrote it before this revision.
TIME_BAR = re.compile(r"^HRC time bar \((\d+) years after exhaustion\)$")


def upgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_params', sa.JSON(), nullable=True))
    deadlines = sa.table('deadlines', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                         sa.column('label', sa.String), sa.column('label_params', sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(deadlines.c.id, deadlines.c.label).where(deadlines.c.kind == 'time_bar'))
    for row_id, label in rows.all():
        found = TIME_BAR.match(label or "")
        if found:
            connection.execute(deadlines.update().where(deadlines.c.id == row_id)
                               .values(label_params={"years": int(found.group(1))}))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('label_params')
