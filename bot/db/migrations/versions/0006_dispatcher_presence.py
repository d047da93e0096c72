"""dispatcher presence (the running dispatchers share the overall send rate)

Revision ID: 0006_presence
Revises: 0005_nudges
Create Date: 2026-11-22 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0006_presence"
down_revision: str | None = "0005_nudges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatcher_presence",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("seen_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_dispatcher_presence")),
    )


def downgrade() -> None:
    op.drop_table("dispatcher_presence")
