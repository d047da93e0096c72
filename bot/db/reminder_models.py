"""Reminder tables: the rules users switched on, and one row per due reminder.

The database is the source of truth for reminders. A :class:`ReminderRule` says what a
user wants (kind, schedule) and when it is next due; the materialiser turns due rules into
:class:`ReminderDelivery` rows, unique per (user, kind, scheduled instant), so running it
twice, or in two processes, creates nothing twice. The dispatcher claims deliveries with a
lease and records what happened to each (see :mod:`scheduler.dispatcher`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base
from bot.db.types import UTCDateTime

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life; the last four are final."""

    PENDING = "pending"  # waiting for ``available_at``
    CLAIMED = "claimed"  # a dispatcher holds it until ``available_at`` (its lease)
    SENT = "sent"  # Telegram accepted it
    EXPIRED = "expired"  # not sent on purpose: too late, superseded, quiet, blocked, off
    FAILED = "failed"  # transient errors outlasted the retries
    DEAD = "dead"  # Telegram refused it for good (400, 403): dead letter


FINAL_STATUSES = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.EXPIRED, DeliveryStatus.FAILED, DeliveryStatus.DEAD}
)


class ReminderRule(Base):
    """One reminder kind for one user: on or off, its schedule and when it is next due."""

    __tablename__ = "reminder_rules"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Encoded by scheduler.rules: "interval:60", "daily:3" or "at:08:00,12:30".
    schedule: Mapped[str] = mapped_column(String(160))
    # The first slot not yet materialised; None when the rule cannot fire (off, paused
    # until resumed, no weekday allowed).
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Bumped by every preference change; the materialiser only advances the revision it read.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderDelivery(Base):
    """One reminder that is (or was) due, and what became of it."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "scheduled_at", name="uq_reminder_deliveries_slot"),
        CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'expired', 'failed', 'dead')",
            name="status",
        ),
        # The claim query: status IN (pending, claimed) AND available_at <= now.
        Index("ix_reminder_deliveries_claim", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    # Pending: not to be claimed before this. Claimed: the lease expires at this instant and
    # anyone may claim it again. One column keeps the claim query on one index range.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    # Transient failures (5xx, network); 429s are not counted.
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # How many times Telegram accepted it; more than 1 is a known duplicate.
    sends: Mapped[int] = mapped_column(SmallInteger, default=0)
    reason: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DispatcherPresence(Base):
    """A reminder dispatcher that is alive, so the running ones can share the send rate."""

    __tablename__ = "dispatcher_presence"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
