"""documents.wording_sha256: the wording a generated version used

Revision ID: 342d571d6aee
Revises: d22a202b9480
Create Date: 2026-12-06 12:55:07.664993
"""

import sqlalchemy as sa
from alembic import op

revision = '342d571d6aee'
down_revision = 'd22a202b9480'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SHA-256 of the template file that produced a generated filing version; NULL for uploads and for
    # versions generated before this column existed (their wording was not recorded).
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wording_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('wording_sha256')
