"""The injected clock: simulated time moves only when a test moves it."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock, SystemClock, ensure_utc

START = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)


def test_system_clock_is_utc_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_ensure_utc_refuses_naive_and_normalises() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    plus_three = datetime(2026, 1, 1, 3, tzinfo=timezone(timedelta(hours=3)))
    assert ensure_utc(plus_three) == datetime(2026, 1, 1, tzinfo=UTC)
    assert ensure_utc(plus_three).tzinfo is UTC


def test_manual_clock_set_and_refuses_naive() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    clock.set(START + timedelta(hours=1))
    assert clock.now() == START + timedelta(hours=1)
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


async def test_sleep_until_past_returns_without_moving_time() -> None:
    clock = ManualClock(START)
    await clock.sleep_until(START - timedelta(seconds=1))
    await clock.sleep(timedelta(0))
    assert clock.now() == START


async def test_advance_wakes_in_deadline_order_and_at_exact_time() -> None:
    clock = ManualClock(START)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, delay: timedelta) -> None:
        await clock.sleep(delay)
        woke.append((name, clock.now()))

    tasks = [
        asyncio.create_task(sleeper(name, timedelta(seconds=seconds)))
        for name, seconds in (("c", 30), ("a", 10), ("b", 20), ("a2", 10))
    ]
    await clock.settle()
    assert clock.pending == 4
    assert clock.next_wakeup() == START + timedelta(seconds=10)

    await clock.advance(timedelta(seconds=15))
    assert woke == [("a", START + timedelta(seconds=10)), ("a2", START + timedelta(seconds=10))]
    assert clock.now() == START + timedelta(seconds=15)

    await clock.advance(timedelta(minutes=1))
    assert [name for name, _ in woke] == ["a", "a2", "b", "c"]
    assert woke[2][1] == START + timedelta(seconds=20)
    assert woke[3][1] == START + timedelta(seconds=30)
    await asyncio.gather(*tasks)


async def test_periodic_loop_runs_once_per_period_over_a_simulated_day() -> None:
    clock = ManualClock(START)
    ticks: list[datetime] = []

    async def loop() -> None:
        while True:
            ticks.append(clock.now())
            await clock.sleep(timedelta(seconds=10))

    task = asyncio.create_task(loop())
    await clock.advance(timedelta(days=1))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(ticks) == 8641  # at 0 s and after each of 8640 ten-second sleeps
    assert all(b - a == timedelta(seconds=10) for a, b in itertools.pairwise(ticks))


async def test_chained_waits_settle_within_one_advance() -> None:
    clock = ManualClock(START)
    handoff: asyncio.Queue[datetime] = asyncio.Queue()
    seen: list[datetime] = []

    async def producer() -> None:
        await clock.sleep(timedelta(minutes=5))
        await handoff.put(clock.now())

    async def consumer() -> None:
        seen.append(await handoff.get())
        await clock.sleep(timedelta(minutes=1))
        seen.append(clock.now())

    tasks = [asyncio.create_task(producer()), asyncio.create_task(consumer())]
    await clock.advance(timedelta(minutes=10))
    assert seen == [START + timedelta(minutes=5), START + timedelta(minutes=6)]
    await asyncio.gather(*tasks)


async def test_set_jumps_and_waiters_see_the_new_time() -> None:
    clock = ManualClock(START)
    seen: list[datetime] = []

    async def sleeper() -> None:
        await clock.sleep(timedelta(minutes=1))
        seen.append(clock.now())

    task = asyncio.create_task(sleeper())
    await clock.settle()
    clock.set(START + timedelta(hours=2))
    await task
    assert seen == [START + timedelta(hours=2)]


async def test_cancelled_waiter_is_forgotten() -> None:
    clock = ManualClock(START)
    task = asyncio.create_task(clock.sleep(timedelta(seconds=5)))
    await clock.settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_wakeup() is None
    assert clock.pending == 0


async def test_advance_refuses_to_go_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="negative"):
        await clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backwards"):
        await clock.advance_to(START - timedelta(seconds=1))


async def test_system_clock_sleep_until_the_past_returns() -> None:
    clock = SystemClock()
    await clock.sleep_until(clock.now() - timedelta(seconds=1))
    await clock.sleep(timedelta(0))
