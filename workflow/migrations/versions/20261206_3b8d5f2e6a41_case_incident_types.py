"""each case's incident types as rows

The statistics page counted cases per incident type by expanding every incident's JSON list of types, most of
the page's time at 100,000 cases. ``case_incident_types`` holds a row per (type, case), kept in step with
``incidents.types`` on every flush (workflow/models.py); this fills it from the incidents already stored.
``incidents.types`` is plain JSON (not encrypted), so the backfill reads it directly.

Revision ID: 3b8d5f2e6a41
Revises: 7c3e9a1f5b20
Create Date: 2026-12-06 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '3b8d5f2e6a41'
down_revision = '7c3e9a1f5b20'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        'case_incident_types',
        sa.Column('incident_type', sa.String(length=80), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_incident_types_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_type', 'case_id', name=op.f('pk_case_incident_types')),
    )
    op.create_index(op.f('ix_case_incident_types_case_id'), 'case_incident_types', ['case_id'], unique=False)
    # The rows as the flush hook writes them: one per case and type, however many incidents name it.
    incidents = sa.table('incidents', sa.column('case_id', sa.Integer()), sa.column('types', sa.JSON()))
    bind = op.get_bind()
    pairs: set[tuple[int, str]] = set()
    for case_id, types in bind.execute(sa.select(incidents.c.case_id, incidents.c.types)):
        pairs.update((case_id, kind) for kind in types or ())
    rows = [{"case_id": case_id, "incident_type": kind} for case_id, kind in sorted(pairs)]
    for start in range(0, len(rows), BATCH):
        bind.execute(table.insert(), rows[start:start + BATCH])


def downgrade() -> None:
    op.drop_index(op.f('ix_case_incident_types_case_id'), table_name='case_incident_types')
    op.drop_table('case_incident_types')
