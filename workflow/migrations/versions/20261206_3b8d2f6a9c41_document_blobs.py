"""documents may be stored in the database

``document_storage = "database"`` keeps each document's encrypted blob (the same bytes the filesystem store writes)
in ``document_blobs``, so several machines share the documents through the one PostgreSQL database.

Revision ID: 3b8d2f6a9c41
Revises: 3b8d5f2e6a41
Create Date: 2026-12-06 22:55:00
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = '3b8d2f6a9c41'
down_revision = '3b8d5f2e6a41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_blobs',
                    sa.Column('key', sa.String(length=32), nullable=False),
                    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
                    sa.Column('created_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_document_blobs')))


def downgrade() -> None:
    op.drop_table('document_blobs')
