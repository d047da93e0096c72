"""reminder rules and deliveries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scheduled_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('available_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('sends', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'sent', 'expired', 'failed', 'dead')", name=op.f('ck_reminder_deliveries_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    sa.UniqueConstraint('user_id', 'kind', 'scheduled_at', name='uq_reminder_deliveries_slot')
    )
    op.create_index('ix_reminder_deliveries_claim', 'reminder_deliveries', ['status', 'available_at'], unique=False)

    op.create_table('reminder_rules',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('schedule', sa.String(length=160), nullable=False),
    sa.Column('next_due_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_rules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_reminder_rules'))
    )
    op.create_index(op.f('ix_reminder_rules_next_due_at'), 'reminder_rules', ['next_due_at'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_reminder_rules_next_due_at'), table_name='reminder_rules')

    op.drop_table('reminder_rules')
    op.drop_index('ix_reminder_deliveries_claim', table_name='reminder_deliveries')

    op.drop_table('reminder_deliveries')
