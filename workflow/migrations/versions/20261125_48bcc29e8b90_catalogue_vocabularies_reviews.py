"""The catalogue of bodies, vocabularies, legal facts and reviews as data; task assignees.

The rows of the catalogue and vocabularies are seeded by ``petitio init`` (workflow/catalogue.py,
workflow/vocab.py), which adds what is missing and never overwrites an admin's edit.

Revision ID: 48bcc29e8b90
Revises: 5c1f0e2b7d94
Create Date: 2026-11-25 10:38:06.667377
"""

import sqlalchemy as sa
from alembic import op

import workflow.models

revision = '48bcc29e8b90'
down_revision = '5c1f0e2b7d94'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('mandates', sa.JSON(), nullable=False),
    sa.Column('communication_types', sa.JSON(), nullable=False),
    sa.Column('required_consent', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('response_days', sa.Integer(), nullable=False),
    sa.Column('follow_up_days', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_bodies_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bodies')),
    sa.UniqueConstraint('code', name=op.f('uq_bodies_code'))
    )
    op.create_table('vocabulary_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vocabulary', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_vocabulary_terms_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vocabulary_terms')),
    sa.UniqueConstraint('vocabulary', 'key', name=op.f('uq_vocabulary_terms_vocabulary_key'))
    )
    op.create_table('legal_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.Column('torture_risk', sa.Boolean(), nullable=False),
    sa.Column('deprived_of_liberty', sa.Boolean(), nullable=False),
    sa.Column('remedies_exhausted_on', sa.Date(), nullable=True),
    sa.Column('remedies_summary', sa.Text(), nullable=False),
    sa.Column('remedies_ineffective', sa.Boolean(), nullable=False),
    sa.Column('other_procedure', sa.String(length=20), nullable=False),
    sa.Column('other_procedure_name', sa.String(length=200), nullable=False),
    sa.Column('other_procedure_concluded_on', sa.Date(), nullable=True),
    sa.Column('eu_status', sa.String(length=20), nullable=False),
    sa.Column('eu_subject', sa.Boolean(), nullable=False),
    sa.Column('updated_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_facts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_legal_facts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_facts')),
    sa.UniqueConstraint('case_id', name=op.f('uq_legal_facts_case_id'))
    )
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('bodies', sa.JSON(), nullable=False),
    sa.Column('mandates', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.JSON(), nullable=False),
    sa.Column('communication_type', sa.String(length=40), nullable=True),
    sa.Column('wgad_categories', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', workflow.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approval', sa.String(length=20), nullable=True),
    sa.Column('approval_notes', sa.Text(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', workflow.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_reviews_approver_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reviews_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_human_tasks_assignee_id_users'), 'users', ['assignee_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_human_tasks_assignee_id_users'), type_='foreignkey')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_case_id'))

    op.drop_table('reviews')
    op.drop_table('legal_facts')
    op.drop_table('vocabulary_terms')
    op.drop_table('bodies')
