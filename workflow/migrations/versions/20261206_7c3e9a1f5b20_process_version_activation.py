"""process versions are activated on their own

An admin may upload a new version of a process without new cases starting on it: ``activated_at`` and
``activated_by_id`` say which version is active (the one activated last). Every version that exists was
active when it was deployed (``petitio init`` activated it), so each gets its deployment time: the active
version stays the one that was current before the upgrade.

Revision ID: 7c3e9a1f5b20
Revises: 5e1f0c7a9d21
Create Date: 2026-12-06 19:40:00
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = '7c3e9a1f5b20'
down_revision = '5e1f0c7a9d21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch rebuild: process_instances references this table.
    op.add_column('process_definitions',
                  sa.Column('activated_at', workflow.models.UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES clause in place (Alembic would want a batch rebuild).
        op.execute("ALTER TABLE process_definitions ADD COLUMN activated_by_id INTEGER "
                   "CONSTRAINT fk_process_definitions_activated_by_id_users REFERENCES users (id)")
    else:
        op.add_column('process_definitions', sa.Column('activated_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_process_definitions_activated_by_id_users'), 'process_definitions',
                              'users', ['activated_by_id'], ['id'])
    op.execute("UPDATE process_definitions SET activated_at = deployed_at")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_process_definitions_activated_by_id_users'), 'process_definitions',
                           type_='foreignkey')
    op.drop_column('process_definitions', 'activated_by_id')  # SQLite 3.35+ drops a column in place
    op.drop_column('process_definitions', 'activated_at')
