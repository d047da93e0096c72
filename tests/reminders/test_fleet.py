"""Large runs over the fake Bot API: three dispatchers on PostgreSQL for a simulated day."""

from __future__ import annotations

import asyncio
import logging
import time as wallclock
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_sessionmaker
from fakebot import FakeBotApi
from scheduler.dispatcher import Dispatcher
from scheduler.materialise import materialise_due
from scheduler.rate_limit import RateLimiter
from scheduler.store import ReminderStore
from scheduler.telegram_sender import TelegramSender
from tests.conftest import FIGURES
from tests.reminders.fleet import (
    clock_pump,
    delivered,
    expected_sends,
    fake_bot,
    make_fleet,
    open_chats,
    store_fleet,
)
from tests.reminders.support import render_for_tests

logger = logging.getLogger(__name__)

DAY_START = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # London springs forward tonight
STEP = timedelta(seconds=60)  # the dispatch job's tick, coarsened
FLEET_SIZE = 1000
TOKEN = "123456:FLEET"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_three_dispatchers_deliver_every_due_reminder_exactly_once(
    database_url: str, record_property: Callable[[str, object], None]
) -> None:
    fleet = make_fleet(FLEET_SIZE, seed=20261122)
    clock = ManualClock(DAY_START)
    engines: list[AsyncEngine] = [create_engine(database_url) for _ in range(3)]
    sessionmakers = [create_sessionmaker(engine) for engine in engines]
    await store_fleet(sessionmakers[0], fleet, now=clock.now())
    end = DAY_START + timedelta(days=1)
    started = wallclock.perf_counter()
    async with FakeBotApi(TOKEN) as api:
        open_chats(api, [user.user_id for user in fleet])
        async with fake_bot(api) as bot_a, fake_bot(api) as bot_b, fake_bot(api) as bot_c:
            dispatchers = [
                Dispatcher(
                    sessionmaker=sessionmaker,
                    clock=clock,
                    sender=TelegramSender(bot, RateLimiter(clock)),
                    renderer=render_for_tests,
                    default_zone=ZoneInfo("UTC"),
                    owner=f"process-{index}",
                )
                for index, (sessionmaker, bot) in enumerate(
                    zip(sessionmakers, (bot_a, bot_b, bot_c), strict=True)
                )
            ]
            async with clock_pump(clock):
                while clock.now() < end:
                    step_time = clock.now()
                    # Every process runs both jobs; they share the work through the database.
                    if step_time.minute % 2 == 0:
                        await asyncio.gather(
                            *(
                                materialise_due(sessionmaker, clock, default_zone=ZoneInfo("UTC"))
                                for sessionmaker in sessionmakers
                            )
                        )
                    await asyncio.gather(*(dispatcher.drain() for dispatcher in dispatchers))
                    clock.set(max(clock.now(), min(end, step_time + STEP)))
                await asyncio.gather(*(dispatcher.drain() for dispatcher in dispatchers))
        # Waiting for rate-limit slots moves the clock on a little past the end of the day,
        # so a reminder due in those seconds may also have gone out (once, like the rest).
        finished = clock.now()
        got = delivered(api)
        async with sessionmakers[0]() as session:
            counts = await ReminderStore(session).counts()
    for engine in engines:
        await engine.dispose()
    elapsed = wallclock.perf_counter() - started

    expected = expected_sends(fleet, DAY_START, end)
    duplicates = sum(count - 1 for count in got.values() if count > 1)
    lost = expected - got
    unexpected = got - expected_sends(fleet, DAY_START, finished)
    claims = [dispatcher.report.claimed for dispatcher in dispatchers]
    record_property(
        FIGURES,
        f"[3 dispatchers, PostgreSQL, {FLEET_SIZE} users, one simulated day] "
        f"due {sum(expected.values())}, delivered {sum(got.values())}, "
        f"duplicates {duplicates}, lost {sum(lost.values())}, "
        f"claims per dispatcher {claims}, statuses {counts}, {elapsed:.1f} s",
    )
    assert sum(expected.values()) > 5_000
    assert lost == Counter()
    assert unexpected == Counter()
    assert duplicates == 0
    assert finished - end < timedelta(minutes=1)
    assert counts.get("sent") == sum(got.values())
    assert all(claimed > 0 for claimed in claims), "the work is shared"
    assert all(dispatcher.report.errors == 0 for dispatcher in dispatchers)
