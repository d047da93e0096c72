"""foundation: users and preferences

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('consent_store_answers', sa.Boolean(), nullable=True),
    sa.Column('blocked_at', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_table('preferences',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('active_from', sa.Time(), nullable=False),
    sa.Column('active_until', sa.Time(), nullable=False),
    sa.Column('weekdays', sa.SmallInteger(), nullable=False),
    sa.Column('paused_until', bot.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_indefinitely', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_preferences'))
    )


def downgrade() -> None:
    op.drop_table('preferences')
    op.drop_table('users')
