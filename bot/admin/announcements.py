"""Announcements: an owner's message to every user who opted in to news.

An owner prepares an announcement (a text per language; users whose language has none
get the default language's), looks at the preview and confirms. Confirming queues one
delivery per subscriber in the reminder engine's ``reminder_deliveries`` table, of kind
``news:<id>`` and due at the first moment inside that user's reminder hours, so the same
leased, rate-limited, retrying dispatcher and Telegram sender deliver it exactly as they
deliver reminders (at most once per user: the table's unique key). The dispatcher asks
:class:`AnnouncementRenderer` for the text, which reads it from the database once per
announcement.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.admin_models import Announcement, AnnouncementSubscriber
from bot.db.models import Preferences, User
from content.pack import DEFAULT_LANGUAGE
from content.problems import ContentProblem
from content.telegram_html import MAX_MESSAGE_LENGTH, parse_html
from scheduler.planning import ALL_WEEKDAYS, next_active_instant
from scheduler.render import (
    ANNOUNCEMENT_KIND_PREFIX,
    DueReminder,
    ReminderMessage,
    Renderer,
    is_announcement,
)
from scheduler.rules import user_prefs
from scheduler.store import NewDelivery, ReminderStore

logger = logging.getLogger(__name__)


def announcement_kind(announcement_id: int) -> str:
    """The delivery kind of an announcement: ``news:12``."""
    return f"{ANNOUNCEMENT_KIND_PREFIX}{announcement_id}"


def check_announcement(text: str) -> list[ContentProblem]:
    """An announcement text must be non-empty Telegram HTML within one message."""
    parsed = parse_html(text)
    if not text.strip():
        return [ContentProblem("announcement", "the text is empty")]
    if parsed.problem is not None:
        return [ContentProblem("announcement", f"not Telegram HTML: {parsed.problem.reason}")]
    if len(parsed.text) > MAX_MESSAGE_LENGTH:
        return [ContentProblem("announcement", f"longer than {MAX_MESSAGE_LENGTH} characters")]
    return []


# ---------------------------------------------------------------------- opting in


async def set_opt_in(session: AsyncSession, user_id: int, on: bool, *, now: datetime) -> None:
    """Start or stop news for a user (who must be registered)."""
    found = await session.get(AnnouncementSubscriber, user_id)
    if on and found is None:
        session.add(AnnouncementSubscriber(user_id=user_id, since=now))
    elif not on and found is not None:
        await session.delete(found)
    await session.flush()


async def opted_in(session: AsyncSession, user_id: int) -> bool:
    """Whether the user gets news."""
    return await session.get(AnnouncementSubscriber, user_id) is not None


async def audience(session: AsyncSession) -> int:
    """How many users would get an announcement now (opted in, not blocked)."""
    count = await session.scalar(
        select(func.count())
        .select_from(AnnouncementSubscriber)
        .join(User, User.id == AnnouncementSubscriber.user_id)
        .where(User.blocked_at.is_(None))
    )
    return int(count or 0)


# ---------------------------------------------------------------------- preparing


async def current(session: AsyncSession, author_id: int) -> Announcement | None:
    """The announcement this owner is preparing, if any."""
    found: Announcement | None = await session.scalar(
        select(Announcement)
        .where(Announcement.author_id == author_id, Announcement.status == "draft")
        .order_by(Announcement.id.desc())
        .limit(1)
    )
    return found


async def start(session: AsyncSession, author_id: int, *, now: datetime) -> Announcement:
    """Begin a new announcement, cancelling one being prepared."""
    await cancel(session, author_id)
    announcement = Announcement(author_id=author_id, status="draft", texts={}, created_at=now)
    session.add(announcement)
    await session.flush()
    return announcement


async def set_text(
    session: AsyncSession, author_id: int, lang: str, text: str
) -> list[ContentProblem]:
    """Put one language's text into the announcement being prepared."""
    announcement = await current(session, author_id)
    if announcement is None:
        return [ContentProblem("announcement", "no announcement is being prepared")]
    problems = check_announcement(text)
    if not problems:
        announcement.texts = {**announcement.texts, lang: text}
    return problems


async def cancel(session: AsyncSession, author_id: int) -> bool:
    """Drop the announcement being prepared."""
    result = await session.execute(
        update(Announcement)
        .where(Announcement.author_id == author_id, Announcement.status == "draft")
        .values(status="cancelled")
    )
    return bool(getattr(result, "rowcount", 0))


async def send(
    session: AsyncSession, author_id: int, *, now: datetime, default_zone: ZoneInfo
) -> int | None:
    """Queue the prepared announcement for every subscriber; return how many, or None if
    there is nothing ready (no announcement, or no text in the default language)."""
    announcement = await current(session, author_id)
    if announcement is None or DEFAULT_LANGUAGE not in announcement.texts:
        return None
    rows = await session.execute(
        select(User, Preferences)
        .join(AnnouncementSubscriber, AnnouncementSubscriber.user_id == User.id)
        .outerjoin(Preferences, Preferences.user_id == User.id)
        .where(User.blocked_at.is_(None))
    )
    kind = announcement_kind(announcement.id)
    deliveries = [
        NewDelivery(user.id, kind, _first_moment(user, prefs, now, default_zone))
        for user, prefs in rows
    ]
    created = await ReminderStore(session).add_deliveries(deliveries, now=now)
    announcement.status = "sent"
    announcement.recipients = len(deliveries)
    announcement.confirmed_at = now
    logger.info("announcement %d queued for %d users", announcement.id, created)
    return len(deliveries)


def _first_moment(
    user: User, preferences: Preferences | None, now: datetime, default_zone: ZoneInfo
) -> datetime:
    """Now, or the start of the user's next reminder hours (any weekday, pause or not:
    news is not a reminder, but nobody should get it in the middle of their night)."""
    prefs = dataclasses.replace(
        user_prefs(user, preferences, default_zone), weekdays=ALL_WEEKDAYS, pause=None
    )
    return next_active_instant(now, prefs) or now


async def forget_drafts_older_than(session: AsyncSession, before: datetime) -> int:
    """Remove announcements that were prepared but never sent."""
    result = await session.execute(
        delete(Announcement).where(Announcement.status != "sent", Announcement.created_at < before)
    )
    return int(getattr(result, "rowcount", 0))


# ---------------------------------------------------------------------- delivering


class AnnouncementRenderer:
    """Renders announcement deliveries from the database; everything else with ``fallback``.

    Announcements never change once sent, so each one's texts are read once per process.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], fallback: Renderer) -> None:
        self._sessionmaker = sessionmaker
        self._fallback = fallback
        self._texts: dict[int, dict[str, str]] = {}

    def __call__(self, reminder: DueReminder) -> ReminderMessage | Awaitable[ReminderMessage]:
        """Render one due delivery."""
        if not is_announcement(reminder.kind):
            return self._fallback(reminder)
        return self._announcement(reminder)

    async def _announcement(self, reminder: DueReminder) -> ReminderMessage:
        announcement_id = int(reminder.kind.removeprefix(ANNOUNCEMENT_KIND_PREFIX))
        texts = self._texts.get(announcement_id)
        if texts is None:
            async with self._sessionmaker() as session:
                found = await session.get(Announcement, announcement_id)
            if found is None or found.status != "sent":
                raise LookupError(f"announcement {announcement_id} is not sent")
            texts = self._texts[announcement_id] = dict(found.texts)
        return ReminderMessage(texts.get(reminder.language) or texts[DEFAULT_LANGUAGE])
