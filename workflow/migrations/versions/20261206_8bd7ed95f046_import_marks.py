"""import marks: what the appeal import last wrote into the facts it only fills; incidents' city

``cases.import_marks`` holds keyed digests and row ids (``services/import_facts.py``), never values. Until now
the import wrote the person's city into ``incidents.place``; ``place`` is the exact spot and ``city`` the town
(d22a202b9480), so those values move to ``city``.

Revision ID: 8bd7ed95f046
Revises: 2b733da10280
Create Date: 2026-12-06 12:54:53.509599
"""

import sqlalchemy as sa
from alembic import op

revision = '8bd7ed95f046'
down_revision = '2b733da10280'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_marks', sa.JSON(), nullable=False, server_default='{}'))
    # Only what fits the city column (String(120)); a longer "city" stays the place it was.
    op.execute("UPDATE incidents SET city = place, place = NULL "
               "WHERE city IS NULL AND place IS NOT NULL AND length(place) <= 120")


def downgrade() -> None:
    op.execute("UPDATE incidents SET place = city WHERE place IS NULL AND city IS NOT NULL")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('import_marks')
