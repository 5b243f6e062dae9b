"""review languages per body

The language of each body's filing as the legal officer chose it at the review (issue 13, item 3); existing reviews
get none, which means each body's first language, as before.

Revision ID: 2b733da10280
Revises: 342d571d6aee
Create Date: 2026-12-06 12:56:16.825300
"""

import sqlalchemy as sa
from alembic import op

revision = '2b733da10280'
down_revision = '342d571d6aee'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('languages')
