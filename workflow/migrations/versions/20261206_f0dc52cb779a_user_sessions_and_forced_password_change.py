"""user sessions and forced password change

Server-side sign-in sessions (issue 14): the cookie carries a random id whose SHA-256 is kept here, so that
sign-out, "sign out everywhere", a password, role or account change end a session on the server. Existing
users get ``must_change_password`` false; nobody is signed out by the upgrade except that cookies issued
before it carry no session id and are asked to sign in again.

Revision ID: f0dc52cb779a
Revises: e41a7c3d5b92
Create Date: 2026-12-06 16:05:23.491151
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = 'f0dc52cb779a'
down_revision = 'e41a7c3d5b92'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('user_agent_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_user_sessions_secret_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Plain ALTER TABLE, never a batch rebuild of ``users``: on SQLite that drops and recreates the table, which
    # other tables' foreign keys refuse (or follow with ON DELETE CASCADE) on an installation with rows.
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    op.drop_column('users', 'must_change_password')  # SQLite 3.35+ drops a column in place

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
