"""API tokens get a name and an expiry; audit events hold codes only and are hash-chained

- ``api_tokens.name`` ("token N" per user, in the order they were issued) and ``api_tokens.expires_at``
  (90 days from this migration for the tokens that exist: none dies the day of the upgrade).
- ``audit_events.data`` of existing events is scrubbed to the rule of ``workflow/audit.py``: a mapping
  becomes the list of its keys (``form``, ``before``, ``after``, ``old``, ``new``: the field names), any
  other value that is not a code is dropped and its key listed under ``scrubbed``.
- ``audit_events.seq``/``prev_hash``/``hash``: every existing event is chained in id order.

Revision ID: 5e1f0c7a9d21
Revises: 5e7a2f0c91d4
Create Date: 2026-12-06 16:30:00
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from workflow.audit import GENESIS_HASH, AuditDataRefused, check_data, event_hash
from workflow.audit import _is_scalar as is_code
from workflow.models import UTCDateTime

revision = '5e1f0c7a9d21'
down_revision = '5e7a2f0c91d4'
branch_labels = None
depends_on = None

BATCH = 500


def _scrub(data: dict) -> dict:
    try:
        return check_data(dict(data or {}))
    except AuditDataRefused:
        pass
    clean: dict = {}
    scrubbed = []
    for key, value in (data or {}).items():
        if not isinstance(key, str) or not is_code(key):
            continue
        if isinstance(value, dict) and all(isinstance(k, str) and is_code(k) for k in value):
            clean[key] = sorted(value)
        elif isinstance(value, list) and all(is_code(v) for v in value):
            clean[key] = value
        elif is_code(value):
            clean[key] = value
        else:
            scrubbed.append(key)
    if scrubbed:
        clean["scrubbed"] = sorted(scrubbed)
    return check_data(clean)


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('expires_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])

    bind = op.get_bind()
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                      sa.column('name', sa.String), sa.column('expires_at', UTCDateTime()))
    expires = datetime.now(UTC) + timedelta(days=90)
    counts: dict[int, int] = {}
    for token_id, user_id in bind.execute(sa.select(tokens.c.id, tokens.c.user_id).order_by(tokens.c.id)).all():
        counts[user_id] = counts.get(user_id, 0) + 1
        bind.execute(tokens.update().where(tokens.c.id == token_id)
                     .values(name=f"token {counts[user_id]}", expires_at=expires))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=80), nullable=False)
        batch_op.alter_column('expires_at', existing_type=UTCDateTime(), nullable=False)

    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('at', UTCDateTime()),
                      sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
                      sa.column('object_type', sa.String), sa.column('object_id', sa.String),
                      sa.column('case_id', sa.Integer), sa.column('data', sa.JSON),
                      sa.column('seq', sa.Integer), sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    seq, prev, last_id = 0, GENESIS_HASH, 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            seq += 1
            data = _scrub(row.data)
            digest = event_hash(prev, seq, row.at, row.actor_id, row.action, row.object_type, row.object_id,
                                row.case_id, data)
            bind.execute(events.update().where(events.c.id == row.id)
                         .values(data=data, seq=seq, prev_hash=prev, hash=digest))
            prev, last_id = digest, row.id


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('name')
