"""A fleet of reminder users for the large tests: rows in bulk, chats on the fake Bot API."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.clock import ManualClock
from bot.db.models import ALL_WEEKDAYS, Preferences, User
from bot.db.reminder_models import ReminderRule
from fakebot import FakeBotApi
from scheduler.planning import (
    ActiveHours,
    FixedTimes,
    Interval,
    ReminderKind,
    Schedule,
    TimesPerDay,
    UserPrefs,
    due_between,
    next_due,
)
from scheduler.planning import (
    ReminderRule as PlannedRule,
)
from scheduler.rules import encode_schedule

ZONES = ("Europe/Istanbul", "Europe/London", "America/New_York", "Australia/Sydney")


@dataclass(frozen=True)
class FleetUser:
    """One simulated user: where they live, when they are reachable, what they want."""

    user_id: int
    zone: str
    hours: ActiveHours
    rules: tuple[PlannedRule, ...]

    @property
    def prefs(self) -> UserPrefs:
        """Planning's view of this user."""
        return UserPrefs(user_id=self.user_id, zone=ZoneInfo(self.zone), active_hours=self.hours)


def make_fleet(count: int, *, seed: int, first_id: int = 10_000) -> list[FleetUser]:
    """``count`` users with varied zones, hours and schedules (reproducible from ``seed``)."""
    rng = random.Random(seed)  # noqa: S311 - test data
    fleet = []
    for index in range(count):
        rules: list[PlannedRule] = [
            PlannedRule(ReminderKind.HYDRATION, Interval(rng.choice((120, 180))))
        ]
        if rng.random() < 0.15:
            rules.append(PlannedRule(ReminderKind.POSTURE, Interval(rng.choice((45, 60)))))
        if rng.random() < 0.25:
            schedule: Schedule = (
                TimesPerDay(rng.choice((2, 3, 4)))
                if rng.random() < 0.5
                else FixedTimes((time(rng.randrange(8, 12), 30), time(rng.randrange(14, 20))))
            )
            rules.append(PlannedRule(ReminderKind.STRETCH, schedule))
        hours = ActiveHours(time(rng.randrange(6, 10)), time(rng.randrange(19, 23)))
        fleet.append(FleetUser(first_id + index, rng.choice(ZONES), hours, tuple(rules)))
    return fleet


async def store_fleet(
    sessionmaker: async_sessionmaker[AsyncSession], fleet: Sequence[FleetUser], *, now: datetime
) -> None:
    """Users, preferences and switched-on rules, planned from ``now``, in bulk."""
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(User),
            [
                {"id": u.user_id, "language": "en", "timezone": u.zone, "created_at": now}
                for u in fleet
            ],
        )
        await session.execute(
            insert(Preferences),
            [
                {
                    "user_id": u.user_id,
                    "active_from": u.hours.start,
                    "active_until": u.hours.end,
                    "weekdays": ALL_WEEKDAYS,
                    "paused_until": None,
                    "paused_indefinitely": False,
                }
                for u in fleet
            ],
        )
        await session.execute(
            insert(ReminderRule),
            [
                {
                    "user_id": u.user_id,
                    "kind": rule.kind.value,
                    "enabled": True,
                    "schedule": encode_schedule(rule.schedule),
                    "next_due_at": next_due(rule, u.prefs, now),
                    "revision": 0,
                    "updated_at": now,
                }
                for u in fleet
                for rule in u.rules
            ],
        )


def expected_sends(
    fleet: Sequence[FleetUser], start: datetime, end: datetime
) -> Counter[tuple[int, str]]:
    """(chat, text) of every reminder due in ``(start, end]``, as the test renderer words it."""
    expected: Counter[tuple[int, str]] = Counter()
    for user in fleet:
        for rule in user.rules:
            for instant in due_between(
                rule,
                user.prefs,
                start + timedelta(microseconds=1),
                end + timedelta(microseconds=1),
            ):
                expected[(user.user_id, f"{rule.kind.value} {instant.isoformat()}")] += 1
    return expected


def open_chats(api: FakeBotApi, user_ids: Sequence[int]) -> None:
    """Users who have started the bot, so it may message them."""
    for user_id in user_ids:
        api.user(user_id=user_id, first_name="User")
        api.chat(user_id).started = True


def delivered(api: FakeBotApi) -> Counter[tuple[int, str]]:
    """(chat, text) of every message the fake Telegram accepted."""
    return Counter(
        (int(call.params["chat_id"]), str(call.params["text"]))
        for call in api.calls_to("sendMessage")
        if call.ok
    )


@asynccontextmanager
async def fake_bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A plain PTB bot on the fake API (its own HTTP connection pool, like a process)."""
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        yield bot


@asynccontextmanager
async def clock_pump(clock: ManualClock) -> AsyncIterator[None]:
    """Move a manual clock to each pending deadline as soon as the loop is otherwise idle.

    For code that waits on the clock (the rate limiter) *and* on real sockets: the test
    sets the time of each step, and within a step whoever waits for a rate-limit slot gets
    it as soon as nothing else can run, so simulated time only moves as far as needed.
    """
    stop = asyncio.Event()

    async def pump() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.002)
            deadline = clock.next_wakeup()
            if deadline is not None:
                clock.set(max(deadline, clock.now()))

    task = asyncio.create_task(pump())
    try:
        yield
    finally:
        stop.set()
        await task
