"""an instance's and a case's ready tasks and open deadlines found by index

Every save locks the instance with its ready tasks and open timers, and the case page and case list read a
case's ready tasks and open deadlines. ``deadlines.instance_id`` had no index: PostgreSQL found an instance's open
timers by reading the entry of every open deadline (7 ms of each task completion at 100,000 cases). The single
column indexes on ``human_tasks.instance_id``, ``human_tasks.case_id`` and ``deadlines.case_id`` fetched every
completed task or closed deadline of the instance or case to filter them out, a number each follow-up round
adds to. Each becomes an index on the column and the state.

Revision ID: 36502c980498
Revises: 3b8d2f6a9c41
Create Date: 2026-12-07 14:41:33.692071
"""

from alembic import op

revision = '36502c980498'
down_revision = '3b8d2f6a9c41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_case_id')
        batch_op.create_index('ix_deadlines_case_state', ['case_id', 'state'], unique=False)
        batch_op.create_index('ix_deadlines_instance_state', ['instance_id', 'state'], unique=False)

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_case_id')
        batch_op.drop_index('ix_human_tasks_instance_id')
        batch_op.create_index('ix_human_tasks_case_state', ['case_id', 'state'], unique=False)
        batch_op.create_index('ix_human_tasks_instance_state', ['instance_id', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_instance_state')
        batch_op.drop_index('ix_human_tasks_case_state')
        batch_op.create_index('ix_human_tasks_instance_id', ['instance_id'], unique=False)
        batch_op.create_index('ix_human_tasks_case_id', ['case_id'], unique=False)

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_instance_state')
        batch_op.drop_index('ix_deadlines_case_state')
        batch_op.create_index('ix_deadlines_case_id', ['case_id'], unique=False)
