"""Tables of the reminder experience: taps on reminders, and the one promised follow-up.

Stored is the minimum. :class:`NudgeTap` records what a person did with a reminder (done,
skipped, snoozed: no health data) for ``/stats``. :class:`CareFollowUp` is the safety net
a symptom-check result promised: only the result's level and when to ask, one row per
user, deleted as soon as the person answers it (and with the user's data). Journey mode
stores nothing of its own: its nudges are reminder deliveries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base
from bot.db.types import UTCDateTime

_DISPOSITIONS = (
    "'SELF_CARE', 'ROUTINE', 'URGENT_SAME_DAY', 'EMERGENCY_DEPARTMENT', 'EMERGENCY_AMBULANCE'"
)


class NudgeTap(Base):
    """What the person did with one reminder; the first tap on a reminder is the one kept."""

    __tablename__ = "nudge_taps"
    __table_args__ = (
        CheckConstraint("action IN ('done', 'skip', 'snooze')", name="action"),
        Index("ix_nudge_taps_user_at", "user_id", "at"),
    )

    # The delivery tapped (no foreign key: delivery history is purged before stats are).
    delivery_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CareFollowUp(Base):
    """The follow-up a symptom-check result promised, until the person answers it."""

    __tablename__ = "care_followups"
    __table_args__ = (CheckConstraint(f"level IN ({_DISPOSITIONS})", name="level"),)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Random; names this follow-up in its delivery kind (fu:<token>) and its buttons.
    token: Mapped[str] = mapped_column(String(8))
    # The symptom check it follows (a later result of the same check may only raise it).
    check_token: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(24))
    # Bumped each time the question is asked again ("not yet"): older buttons are stale.
    round: Mapped[int] = mapped_column(SmallInteger, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The person agreed to be asked outside their reminder hours.
    allow_quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
