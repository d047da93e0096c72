"""symptom check sessions and kept records

Revision ID: 0003_triage
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = '0003_triage'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('triage_checks',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('token', sa.String(length=16), nullable=False),
    sa.Column('content_label', sa.String(length=64), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('started_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_triage_checks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_triage_checks'))
    )
    with op.batch_alter_table('triage_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_checks_updated_at'), ['updated_at'], unique=False)

    op.create_table('triage_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('token', sa.String(length=16), nullable=False),
    sa.Column('content_label', sa.String(length=64), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('finished_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("disposition IN ('SELF_CARE', 'ROUTINE', 'URGENT_SAME_DAY', 'EMERGENCY_DEPARTMENT', 'EMERGENCY_AMBULANCE')", name=op.f('ck_triage_records_disposition')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_triage_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_records')),
    sa.UniqueConstraint('user_id', 'token', name='uq_triage_records_check')
    )
    with op.batch_alter_table('triage_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_records_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('triage_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_records_user_id'))

    op.drop_table('triage_records')
    with op.batch_alter_table('triage_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_checks_updated_at'))

    op.drop_table('triage_checks')
