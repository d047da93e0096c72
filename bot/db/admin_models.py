"""Admin tables: who may change content, what they did, drafts, published versions,
the edit prompts they reply to, and announcements.

A published version is stored whole (the canonical JSON of the pack) and never changed;
the live version is the one with the highest ``number``. Publishing inserts one row whose
``number`` is the live number plus one, so two admins publishing at once cannot both win:
the primary key refuses the second (see :mod:`bot.admin.versions`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base
from bot.db.types import UTCDateTime

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class AdminMember(Base):
    """An editor or reviewer added by an owner (owners come from ADMIN_USER_IDS)."""

    __tablename__ = "admin_members"
    __table_args__ = (CheckConstraint("role IN ('editor', 'reviewer')", name="role"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))
    added_by: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminAudit(Base):
    """One admin action, or an attempt at one by someone who may not."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    # The actor's role at the time, or None for someone who is not an admin.
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    allowed: Mapped[bool] = mapped_column(Boolean)
    # Short, no user free text: a key, a version number, an outcome.
    detail: Mapped[str] = mapped_column(String(300), default="")


class ContentVersionRow(Base):
    """A published content pack, stored whole."""

    __tablename__ = "content_versions"
    __table_args__ = (CheckConstraint("kind IN ('baseline', 'publish', 'rollback')", name="kind"),)

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # None for the baseline: the pack shipped with the code, recorded at the first publish.
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    approver_id: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(300), default="")
    # For a rollback: the version whose content it restored.
    restores: Mapped[int | None] = mapped_column(Integer)


class ContentDraft(Base):
    """An admin's unpublished pack (one per admin), and its approval if it needs one."""

    __tablename__ = "content_drafts"

    author_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The live version the draft started from (None: the shipped pack).
    base_number: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(300), default="")
    # A rollback draft: the version it restores.
    restores: Mapped[int | None] = mapped_column(Integer)
    # The author sees the draft instead of live content (every process follows this).
    previewing: Mapped[bool] = mapped_column(Boolean, default=False)
    # A second admin approved exactly this content (sha256); any change voids it.
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminPrompt(Base):
    """A bot message an admin answers by replying: a new text, or an announcement."""

    __tablename__ = "admin_prompts"
    __table_args__ = (CheckConstraint("purpose IN ('text', 'announce')", name="purpose"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Announcement(Base):
    """A message an owner sends to every user who opted in, per language."""

    __tablename__ = "announcements"
    __table_args__ = (CheckConstraint("status IN ('draft', 'sent', 'cancelled')", name="status"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Language -> Telegram HTML text; the default language is required to send.
    texts: Mapped[dict[str, str]] = mapped_column(JSON)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnnouncementSubscriber(Base):
    """A user who asked to receive announcements (no row: not opted in)."""

    __tablename__ = "announcement_subscribers"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime)
