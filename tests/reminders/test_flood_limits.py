"""Real time against a fake Telegram that enforces flood limits and fails 5% of sends.

The only reminder test on the system clock: Telegram's limits are about real seconds,
and the fake server measures them with the event loop's clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time as wallclock
from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from bot.clock import SystemClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.reminder_models import ReminderDelivery
from fakebot import FakeBotApi
from scheduler.dispatcher import DispatchConfig, Dispatcher
from scheduler.planning import ActiveHours, FixedTimes, ReminderKind
from scheduler.planning import ReminderRule as PlannedRule
from scheduler.rate_limit import RateLimiter
from scheduler.store import ReminderStore
from scheduler.telegram_sender import TelegramSender, reminder_rate_limits
from tests.conftest import FIGURES
from tests.reminders.fleet import FleetUser, delivered, fake_bot, open_chats, store_fleet
from tests.reminders.support import render_for_tests

TOKEN = "123456:FLOOD"
USERS = 100
RATE = 25


class RecordingLimiter(RateLimiter):
    """The production limiter, noting when it lets each message go."""

    def __init__(self, clock: SystemClock) -> None:
        super().__init__(clock, reminder_rate_limits(RATE))
        self.grants: list[float] = []

    async def acquire(self, chat_id: Hashable) -> None:
        """Wait for a slot, then note the time."""
        await super().acquire(chat_id)
        self.grants.append(self.clock.now().timestamp())


async def watch_lag(lags: list[float]) -> None:
    """Record how late the event loop wakes a 10 ms sleep (until cancelled)."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append(loop.time() - before - 0.01)


def busiest_second(instants: list[float]) -> int:
    """The most calls in any one-second window."""
    ordered = sorted(instants)
    most, start = 0, 0
    for end, instant in enumerate(ordered):
        while instant - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_flood_limits_and_server_errors_delay_but_never_lose_a_reminder(
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    clock = SystemClock()
    now = clock.now()
    kinds = (ReminderKind.HYDRATION, ReminderKind.POSTURE, ReminderKind.STRETCH)
    fleet = [
        FleetUser(
            user_id=50_000 + index,
            zone="UTC",
            hours=ActiveHours(datetime.min.time(), datetime.min.time()),
            rules=tuple(PlannedRule(kind, FixedTimes((datetime.min.time(),))) for kind in kinds),
        )
        for index in range(USERS)
    ]
    engine = create_engine(sqlite_url)
    sessionmaker = create_sessionmaker(engine)
    await store_fleet(sessionmaker, fleet, now=now)
    # Three reminders per user, all due this second: 300 messages, 3 to every chat.
    due = now.replace(microsecond=0) - timedelta(seconds=1)
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(ReminderDelivery),
            [
                {
                    "user_id": user.user_id,
                    "kind": kind.value,
                    "scheduled_at": due,
                    "status": "pending",
                    "available_at": due,
                    "attempts": 0,
                    "sends": 0,
                    "updated_at": now,
                }
                for user in fleet
                for kind in kinds
            ],
        )
    caplog.set_level(logging.WARNING)
    started = wallclock.perf_counter()
    async with FakeBotApi(TOKEN) as api:
        open_chats(api, [user.user_id for user in fleet])
        api.enforce_rate_limits(global_per_second=30, per_chat_per_second=1)
        api.random_server_errors(0.05, seed=11)
        stubborn = fleet[7].user_id
        # Nine 429s for one chat: more than its three messages can retry inline (two each),
        # so at least one is re-queued until the pause ends, without counting an attempt.
        api.fail_next("sendMessage", status=429, retry_after=1, times=9, chat_id=stubborn)
        limiter = RecordingLimiter(clock)
        lags: list[float] = []
        watcher = asyncio.create_task(watch_lag(lags))
        async with fake_bot(api) as bot:
            dispatcher = Dispatcher(
                sessionmaker=sessionmaker,
                clock=clock,
                sender=TelegramSender(bot, limiter),
                renderer=render_for_tests,
                default_zone=ZoneInfo("UTC"),
                config=DispatchConfig(backoff_base=timedelta(milliseconds=300)),
            )
            async with asyncio.timeout(90):
                while True:
                    await dispatcher.drain()
                    async with sessionmaker() as session:
                        counts = await ReminderStore(session).counts()
                    if counts.get("pending", 0) + counts.get("claimed", 0) == 0:
                        break
                    await asyncio.sleep(0.1)  # a retry's backoff or a 429's pause
        watcher.cancel()
        sends = api.calls_to("sendMessage")
        got = delivered(api)
        violations = api.rate_limit_violations
        injected = api.random_errors_injected
    await engine.dispose()
    elapsed = wallclock.perf_counter() - started

    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in sends:
        per_chat[int(call.params["chat_id"])].append(call.at)
    closest = min(
        later - earlier
        for times in per_chat.values()
        for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)
    )
    busiest = busiest_second([call.at for call in sends])
    granted = busiest_second(limiter.grants)
    report = dispatcher.report
    record_property(
        FIGURES,
        f"[flood limits 30/s + 1/s per chat, 5% 5xx] {USERS * 3} due, "
        f"{sum(got.values())} delivered, {len(sends)} requests, {injected} 5xx injected, "
        f"{report.retried} retried, {report.rate_limited} re-queued after 429, "
        f"{violations} flood-limit 429s, busiest second {granted} sent / {busiest} received, "
        f"closest two to one chat {closest:.3f} s, "
        f"event loop lag max {max(lags) * 1000:.0f} ms, {elapsed:.1f} s",
    )
    assert counts == {"sent": USERS * 3}
    assert sorted(got.values()) == [1] * (USERS * 3)
    assert injected > 0
    assert report.retried >= injected - 1  # each 5xx is retried (bar a last, given-up one)
    assert report.rate_limited >= 1
    assert violations == 0
    # The limiter spaces messages 1/RATE s apart; a late wake-up of the event loop (a
    # stall of `lag`) can only pull into one second what was spaced over 1 + lag seconds.
    assert granted <= RATE + math.ceil(RATE * max(lags))
    assert closest >= 0.95
    assert report.errors == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert report.failed == 0
