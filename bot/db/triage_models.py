"""Symptom-check tables: the check a user is in the middle of, and the checks they kept.

:class:`TriageCheck` holds only what is needed to continue the active check (the engine's
session as JSON, the content version it ran on, and the token its buttons carry); it is
removed when the user leaves the result, starts a new check, deletes their data, or after
a day without activity. :class:`TriageRecord` rows exist only for users who agreed to keep
their checks (``users.consent_store_answers``), one per finished check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base
from bot.db.types import UTCDateTime

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_DISPOSITIONS = (
    "'SELF_CARE', 'ROUTINE', 'URGENT_SAME_DAY', 'EMERGENCY_DEPARTMENT', 'EMERGENCY_AMBULANCE'"
)


class TriageCheck(Base):
    """The symptom check a user is taking now (at most one per user)."""

    __tablename__ = "triage_checks"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Random, carried by every button of this check: taps from an older check are refused.
    token: Mapped[str] = mapped_column(String(16))
    content_label: Mapped[str] = mapped_column(String(64))
    # bot.triage.engine.Session.to_dict(): answers so far and the red-flag rules met.
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Bumped on every change; a write that read an older revision changes nothing.
    revision: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TriageRecord(Base):
    """A finished check the user agreed to keep; listed by /history, deletable one by one."""

    __tablename__ = "triage_records"
    __table_args__ = (
        UniqueConstraint("user_id", "token", name="uq_triage_records_check"),
        CheckConstraint(f"disposition IN ({_DISPOSITIONS})", name="disposition"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(16))
    content_label: Mapped[str] = mapped_column(String(64))
    disposition: Mapped[str] = mapped_column(String(24))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
