"""Jobs (imports and bulk actions run item by item), users' time zones, escalated deadlines that stay open,
and who claimed a task when.

Revision ID: b9e86eee7172
Revises: 3e8d5b1f0c72
Create Date: 2026-12-06 09:40:47.084777
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = 'b9e86eee7172'
down_revision = '3e8d5b1f0c72'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('params', sa.LargeBinary(), nullable=False),  # encrypted JSON (workflow.crypto.EncryptedJSON)
    sa.Column('error', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_state', ['state', 'heartbeat_at'], unique=False)

    op.create_table('job_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('finished_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_job_items_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_items_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_items')),
    sa.UniqueConstraint('job_id', 'position', name=op.f('uq_job_items_job_id_position'))
    )
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.create_index('ix_job_items_job_state', ['job_id', 'state'], unique=False)

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', workflow.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', workflow.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('assigned_at')

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.drop_index('ix_job_items_job_state')

    op.drop_table('job_items')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state')

    op.drop_table('jobs')
