"""Helpers for reminder tests: users with preferences, a scripted sender, row queries."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import ALL_WEEKDAYS, Preferences, User
from bot.db.reminder_models import ReminderDelivery
from scheduler import preferences
from scheduler.dispatcher import DispatchConfig, Dispatcher
from scheduler.planning import ReminderKind, Schedule
from scheduler.render import DueReminder, ReminderMessage
from scheduler.sending import SendResult, SendStatus

UTC_ZONE = ZoneInfo("UTC")
DEFAULTS = preferences.Defaults(zone=ZoneInfo("Europe/London"), country="GB")


def render_for_tests(reminder: DueReminder) -> ReminderMessage:
    """A text that names the delivery, so tests can count each one."""
    return ReminderMessage(f"{reminder.kind} {reminder.scheduled_at.isoformat()}")


@dataclass
class RecordingSender:
    """Records sends; answers SENT unless a chat has scripted results queued."""

    scripted: dict[int, deque[SendResult]] = field(default_factory=dict)
    sent: list[tuple[int, str]] = field(default_factory=list)
    calls: int = 0

    def script(self, chat_id: int, *results: SendResult) -> None:
        """Answer the next sends to ``chat_id`` with ``results``, in order."""
        self.scripted.setdefault(chat_id, deque()).extend(results)

    async def send(self, chat_id: int, message: ReminderMessage) -> SendResult:
        """Record the send and answer."""
        self.calls += 1
        queue = self.scripted.get(chat_id)
        if queue:
            result = queue.popleft()
            if result.status is not SendStatus.SENT:
                return result
        self.sent.append((chat_id, message.text))
        return SendResult(SendStatus.SENT, message_id=len(self.sent))

    def per_chat(self) -> Counter[int]:
        """How many messages each chat got."""
        return Counter(chat for chat, _ in self.sent)


async def add_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: int,
    *,
    now: datetime,
    zone: str = "UTC",
    hours: tuple[time, time] = (time(0), time(0)),
    weekdays: int = ALL_WEEKDAYS,
    language: str = "en",
) -> None:
    """A registered user with active hours (all day by default) in ``zone``."""
    async with sessionmaker.begin() as session:
        session.add(User(id=user_id, language=language, timezone=zone, created_at=now))
        session.add(
            Preferences(
                user_id=user_id,
                active_from=hours[0],
                active_until=hours[1],
                weekdays=weekdays,
                paused_until=None,
                paused_indefinitely=False,
            )
        )


async def set_schedule(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: int,
    kind: ReminderKind,
    schedule: Schedule,
    *,
    now: datetime,
) -> None:
    """Switch a kind on with ``schedule``, as the settings screen does."""
    async with sessionmaker.begin() as session:
        await preferences.set_schedule(
            session, user_id, kind, schedule, now=now, defaults=DEFAULTS
        )


async def deliveries(
    sessionmaker: async_sessionmaker[AsyncSession], user_ids: Iterable[int] | None = None
) -> list[ReminderDelivery]:
    """Every delivery row (of these users), oldest slot first."""
    statement = select(ReminderDelivery).order_by(
        ReminderDelivery.scheduled_at, ReminderDelivery.user_id, ReminderDelivery.kind
    )
    if user_ids is not None:
        statement = statement.where(ReminderDelivery.user_id.in_(list(user_ids)))
    async with sessionmaker() as session:
        return list(await session.scalars(statement))


def statuses(rows: Iterable[ReminderDelivery]) -> Counter[tuple[str, str | None]]:
    """(status, reason) counts."""
    return Counter((row.status, row.reason) for row in rows)


def dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: RecordingSender,
    *,
    owner: str = "test-dispatcher",
    config: DispatchConfig | None = None,
) -> Dispatcher:
    """A dispatcher with the test renderer and a deterministic jitter."""
    import random

    return Dispatcher(
        sessionmaker=sessionmaker,
        clock=clock,
        sender=sender,
        renderer=render_for_tests,
        default_zone=UTC_ZONE,
        owner=owner,
        config=config,
        rng=random.Random(4),  # noqa: S311 - deterministic jitter for tests
    )
