"""Typed SQLAlchemy models: the tables LegCare keeps, and nothing it does not need.

We store the Telegram user id (needed to reply), a language, a country (for the
emergency number) and a time zone. No names, usernames or phone numbers.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import BigInteger, Boolean, ForeignKey, MetaData, SmallInteger, String, Time
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ALL_WEEKDAYS = 0b1111111


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who has talked to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # None means "not asked yet"; answers are only ever kept when this is True.
    consent_store_answers: Mapped[bool | None] = mapped_column(Boolean)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    preferences: Mapped[Preferences | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )


class Preferences(Base):
    """When a user wants to hear from the bot at all."""

    __tablename__ = "preferences"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    active_from: Mapped[time] = mapped_column(Time, default=time(8, 0))
    active_until: Mapped[time] = mapped_column(Time, default=time(21, 0))
    # Bit 0 is Monday, matching datetime.weekday().
    weekdays: Mapped[int] = mapped_column(SmallInteger, default=ALL_WEEKDAYS)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_indefinitely: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="preferences", lazy="raise")


# Feature tables live in their own modules; importing them registers them on Base.metadata,
# which is what Alembic and the schema tests compare against.
from bot.db import admin_models as _admin_models  # noqa: E402, F401
from bot.db import nudge_models as _nudge_models  # noqa: E402, F401
from bot.db import reminder_models as _reminder_models  # noqa: E402, F401
from bot.db import triage_models as _triage_models  # noqa: E402, F401
