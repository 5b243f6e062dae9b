"""Deadlines and responses: deadline kinds, users' e-mail addresses, the digest log, calendar feed tokens.

Revision ID: 7d3e1a4c9b20
Revises: 52252af39e9b
Create Date: 2026-11-25 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = '7d3e1a4c9b20'
down_revision = '52252af39e9b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))

    op.create_table('digest_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadlines', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_logs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_logs')),
    sa.UniqueConstraint('user_id', 'day', name=op.f('uq_digest_logs_user_id_day'))
    )
    op.create_table('calendar_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_tokens_token_hash'))
    )
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_tokens_user_id'))

    op.drop_table('calendar_tokens')
    op.drop_table('digest_logs')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
