"""Several dispatchers on one database share the overall send rate (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.reminder_models import DispatcherPresence
from bot.runner import running_bot
from bot.settings import Settings
from fakebot import FakeBotApi
from fakebot.ptb import ReportingUpdateProcessor
from scheduler.fleet_share import PRESENCE_TTL, FleetShare
from scheduler.rate_limit import RateLimiter

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RATE = 25


def dispatchers(
    sessionmaker: async_sessionmaker[AsyncSession], clock: ManualClock, count: int
) -> list[FleetShare]:
    return [
        FleetShare(sessionmaker, clock, RateLimiter(clock), owner=f"worker-{n}", total_rate=RATE)
        for n in range(count)
    ]


async def check_in_all(fleet: list[FleetShare]) -> list[int]:
    return [await member.check_in() for member in fleet]


async def owners(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(DispatcherPresence.owner)))


async def test_three_dispatchers_each_take_a_third_of_the_rate(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(START)
    fleet = dispatchers(sessionmaker, clock, 3)
    # Each sees the ones that checked in before it; after one round everyone sees three.
    assert await check_in_all(fleet) == [1, 2, 3]
    assert await check_in_all(fleet) == [3, 3, 3]
    assert [member._limiter.overall_max for member in fleet] == [8, 8, 8]
    assert sum(member._limiter.overall_max for member in fleet) <= RATE


async def test_a_clean_stop_hands_its_share_back_at_the_next_check_in(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(START)
    first, second = dispatchers(sessionmaker, clock, 2)
    await check_in_all([first, second, first])
    assert first._limiter.overall_max == 12
    await second.check_out()
    assert await owners(sessionmaker) == {"worker-0"}
    assert await first.check_in() == 1
    assert first._limiter.overall_max == RATE


async def test_a_killed_dispatcher_stops_counting_after_the_ttl(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(START)
    survivor, killed = dispatchers(sessionmaker, clock, 2)
    await check_in_all([survivor, killed])
    await clock.advance(PRESENCE_TTL - timedelta(seconds=1))
    assert await survivor.check_in() == 2  # not yet: it may only be slow
    await clock.advance(timedelta(seconds=2))
    assert await survivor.check_in() == 1
    assert await owners(sessionmaker) == {"worker-0"}
    assert survivor._limiter.overall_max == RATE


async def test_a_running_bot_checks_in_at_start_and_out_when_it_stops(
    fake_api: FakeBotApi, bot_settings: Settings
) -> None:
    clock = ManualClock(START)
    processor = ReportingUpdateProcessor(fake_api)
    async with running_bot(bot_settings, clock=clock, update_processor=processor) as bot:
        present = await owners(bot.services.sessionmaker)
        assert len(present) == 1
    engine = create_engine(bot_settings.database_url)
    try:
        assert await owners(create_sessionmaker(engine)) == set()
    finally:
        await engine.dispose()
