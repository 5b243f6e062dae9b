"""Collective complaints over many cases, each with its own filing and process instance.

Revision ID: 52252af39e9b
Revises: 48bcc29e8b90
Create Date: 2026-11-25 10:54:14.135051
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = '52252af39e9b'
down_revision = '48bcc29e8b90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('collective_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('mandates', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.JSON(), nullable=False),
    sa.Column('narrative', sa.JSON(), nullable=False),
    sa.Column('officials', sa.JSON(), nullable=False),
    sa.Column('appeals_received', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_collective_complaints_created_by_id_users')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_collective_complaints_instance_id_process_instances'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collective_complaints'))
    )
    op.create_table('collective_cases',
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_collective_cases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['collective_id'], ['collective_complaints.id'], name=op.f('fk_collective_cases_collective_id_collective_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collective_id', 'case_id', name=op.f('pk_collective_cases'))
    )
    with op.batch_alter_table('filings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collective_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_filings_collective_id'), ['collective_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_filings_collective_id_collective_complaints'), 'collective_complaints', ['collective_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('filings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_filings_collective_id_collective_complaints'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_filings_collective_id'))
        batch_op.drop_column('collective_id')

    op.drop_table('collective_cases')
    op.drop_table('collective_complaints')
