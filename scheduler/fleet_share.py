"""Splitting the overall send rate between the reminder dispatchers that share one database.

Telegram's flood limit is per bot token, not per process, so with several bot processes on
one PostgreSQL each may only use its share of ``REMINDER_SEND_RATE``. Every dispatcher
checks in every few seconds (a row with its owner name and the time), counts the rows
seen within ``ttl`` and sets its limiter to ``rate // live``. A process that stops cleanly
checks out at once; one that was killed stops counting after ``ttl``, and until then the
others stay slower than they could be, never faster. A process joining is noticed by the
others at their next check-in, so for a few seconds the total can exceed the rate by one
share: the default 25/s leaves that margin under Telegram's ~30/s.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.reminder_models import DispatcherPresence
from scheduler.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

CHECK_IN_EVERY = timedelta(seconds=5)
PRESENCE_TTL = timedelta(seconds=20)


class FleetShare:
    """One dispatcher's presence, and the share of the overall rate it leaves this process."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        limiter: RateLimiter,
        *,
        owner: str,
        total_rate: int,
        ttl: timedelta = PRESENCE_TTL,
    ) -> None:
        if total_rate < 1:
            raise ValueError("the total rate must be at least 1")
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._limiter = limiter
        self.owner = owner
        self.total_rate = total_rate
        self._ttl = ttl
        self.live = 1

    async def check_in(self) -> int:
        """Record that this dispatcher is alive, re-divide the rate; return the live count."""
        now = self._clock.now()
        table = DispatcherPresence
        async with self._sessionmaker.begin() as session:
            gone = or_(table.owner == self.owner, table.seen_at < now - self._ttl)
            await session.execute(delete(table).where(gone))
            session.add(DispatcherPresence(owner=self.owner, seen_at=now))
            await session.flush()
            live = await session.scalar(select(func.count()).select_from(table)) or 1
        if live != self.live:
            logger.info("reminders: %d dispatchers share %d messages/s", live, self.total_rate)
        self.live = live
        self._limiter.set_overall_max(max(1, self.total_rate // live))
        return live

    async def check_out(self) -> None:
        """Leave the fleet, so the others take over this process's share at their next check-in."""
        async with self._sessionmaker.begin() as session:
            await session.execute(
                delete(DispatcherPresence).where(DispatcherPresence.owner == self.owner)
            )
