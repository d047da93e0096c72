"""Rate limiter on a manual clock: rates hold under bursts, 429s pause only their scope."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter

from bot.clock import ManualClock
from scheduler.rate_limit import RateLimitedError, RateLimiter, RateLimits, RetryScope
from scheduler.telegram_rate_limiter import TelegramRateLimiter, chat_of, retry_after_of

START = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
NO_MARGIN = RateLimits(retry_margin=timedelta(0))


def most_in_any_window(times: Sequence[datetime], period: timedelta) -> int:
    """The largest number of instants inside any half-open window ``[t, t + period)``."""
    ordered = sorted(times)
    best, low = 0, 0
    for high, instant in enumerate(ordered):
        while ordered[low] <= instant - period:
            low += 1
        best = max(best, high - low + 1)
    return best


class Recorder:
    """Runs acquire() for many sends concurrently and records when each went out."""

    def __init__(self, clock: ManualClock, limiter: RateLimiter) -> None:
        self.clock = clock
        self.limiter = limiter
        self.sent: list[tuple[datetime, int, int]] = []  # (when, chat, sequence number)
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, chats: Sequence[int]) -> None:
        base = len(self.tasks)
        self.tasks += [
            asyncio.create_task(self._one(base + seq, chat)) for seq, chat in enumerate(chats)
        ]

    async def _one(self, seq: int, chat: int) -> None:
        await self.limiter.acquire(chat)
        self.sent.append((self.clock.now(), chat, seq))

    async def finish(self, limit: timedelta = timedelta(hours=1)) -> None:
        deadline = self.clock.now() + limit
        while not all(task.done() for task in self.tasks):
            assert self.clock.now() < deadline, "sends did not drain"
            await self.clock.advance(SECOND)
        await asyncio.gather(*self.tasks)

    def times(self, chat: int | None = None) -> list[datetime]:
        return [when for when, c, _ in self.sent if chat is None or c == chat]


async def test_burst_of_thousands_across_many_chats_never_exceeds_rates() -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock, RateLimiter(clock))
    rng = random.Random(4)  # noqa: S311 - test data
    chats = [rng.randrange(600) for _ in range(3000)]
    recorder.start(chats)
    await recorder.finish()

    assert len(recorder.sent) == 3000
    assert most_in_any_window(recorder.times(), SECOND) <= 25
    by_chat: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for when, chat, seq in recorder.sent:
        by_chat[chat].append((when, seq))
    for chat, sends in by_chat.items():
        assert most_in_any_window([w for w, _ in sends], SECOND) <= 1, chat
        assert [seq for _, seq in sends] == sorted(seq for _, seq in sends)  # order kept
    # and it is not slower than it must be: 3000 at 25/s is 120 s
    elapsed = max(recorder.times()) - START
    assert elapsed < timedelta(seconds=125)


async def test_busy_chat_does_not_hold_up_the_others() -> None:
    clock = ManualClock(START)
    recorder = Recorder(clock, RateLimiter(clock))
    recorder.start([1] * 10 + [2, 3, 4])
    await recorder.finish()
    assert recorder.times(2) == recorder.times(3) == recorder.times(4) == [START]
    assert recorder.times(1) == [START + SECOND * k for k in range(10)]


async def test_configurable_rates() -> None:
    clock = ManualClock(START)
    limits = RateLimits(overall_max=5, per_chat_max=2, per_chat_period=timedelta(seconds=10))
    recorder = Recorder(clock, RateLimiter(clock, limits))
    recorder.start([1] * 6 + list(range(100, 120)))
    await recorder.finish()
    assert most_in_any_window(recorder.times(), SECOND) <= 5
    assert most_in_any_window(recorder.times(1), timedelta(seconds=10)) <= 2


async def test_chat_429_pauses_only_that_chat() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    assert limiter.pause(timedelta(seconds=7), chat_id=1) is RetryScope.CHAT
    assert limiter.resume_at(1) == START + timedelta(seconds=7)
    assert limiter.resume_at(2) is None
    recorder = Recorder(clock, limiter)
    recorder.start([1, 2, 1, 3])
    await recorder.finish()
    assert recorder.times(2) == recorder.times(3) == [START]
    assert recorder.times(1) == [START + timedelta(seconds=7), START + timedelta(seconds=8)]


async def test_global_429_pauses_everyone_then_resumes_at_rate() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    recorder = Recorder(clock, limiter)
    recorder.start(list(range(100)))
    await clock.advance(SECOND / 2)  # 25 went out at once
    assert len(recorder.sent) == 25
    assert limiter.pause(timedelta(seconds=5), chat_id=None) is RetryScope.GLOBAL
    await clock.advance(timedelta(seconds=4))
    assert len(recorder.sent) == 25
    await recorder.finish()
    later = [t for t in recorder.times() if t > START]
    assert min(later) == START + SECOND / 2 + timedelta(seconds=5)
    assert most_in_any_window(recorder.times(), SECOND) <= 25


async def test_chat_429s_from_several_chats_escalate_to_global() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    assert limiter.pause(SECOND, chat_id=1) is RetryScope.CHAT
    assert limiter.pause(SECOND, chat_id=2) is RetryScope.CHAT
    assert limiter.pause(timedelta(seconds=3), chat_id=3) is RetryScope.GLOBAL
    assert limiter.resume_at(99) == START + timedelta(seconds=3)


async def test_retry_margin_is_added() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock)
    limiter.pause(timedelta(seconds=2), chat_id=5)
    assert limiter.resume_at(5) == START + timedelta(seconds=2, milliseconds=100)


class FakeCall:
    """A send that is refused with 429 a given number of times, then succeeds."""

    def __init__(self, clock: ManualClock, refusals: int, retry_after: int = 3) -> None:
        self.clock = clock
        self.refusals = refusals
        self.retry_after = retry_after
        self.calls: list[datetime] = []

    async def __call__(self, *_: Any, **__: Any) -> dict[str, Any]:
        self.calls.append(self.clock.now())
        if len(self.calls) <= self.refusals:
            raise RetryAfter(self.retry_after)
        return {"message_id": len(self.calls)}


async def run_in_background(clock: ManualClock, coro: Any) -> Any:
    task = asyncio.ensure_future(coro)
    while not task.done():
        await clock.advance(SECOND)
    return task.result()


async def test_run_retries_a_429_after_its_pause_and_is_bounded() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    call = FakeCall(clock, refusals=2)
    result = await run_in_background(clock, limiter.run(7, call, retry_after_of=retry_after_of))
    assert result == {"message_id": 3}
    assert call.calls == [START, START + timedelta(seconds=3), START + timedelta(seconds=6)]

    stubborn = FakeCall(clock, refusals=100)
    with pytest.raises(RateLimitedError) as caught:
        await run_in_background(clock, limiter.run(8, stubborn, retry_after_of=retry_after_of))
    assert len(stubborn.calls) == NO_MARGIN.max_retries + 1
    assert caught.value.scope is RetryScope.CHAT
    assert caught.value.resume_at == stubborn.calls[-1] + timedelta(seconds=3)


async def test_run_does_not_wait_inline_for_long_pauses_or_touch_other_errors() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    long_pause = FakeCall(clock, refusals=1, retry_after=600)
    with pytest.raises(RateLimitedError) as caught:
        await limiter.run(1, long_pause, retry_after_of=retry_after_of)
    assert len(long_pause.calls) == 1
    assert caught.value.resume_at == START + timedelta(seconds=600)

    async def bad_request() -> None:
        raise BadRequest("Chat not found")

    with pytest.raises(BadRequest):
        await limiter.run(2, bad_request, retry_after_of=retry_after_of)


async def test_ptb_adapter_throttles_retries_and_reraises_retry_after() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    adapter = TelegramRateLimiter(limiter)
    await adapter.initialize()

    call = FakeCall(clock, refusals=1, retry_after=2)
    data = {"chat_id": "42", "text": "Time for a glass of water"}
    result = await run_in_background(
        clock, adapter.process_request(call, (), {}, "sendMessage", data, None)
    )
    assert result == {"message_id": 2}
    assert call.calls == [START, START + timedelta(seconds=2)]
    assert limiter.resume_at(42) is None

    stubborn = FakeCall(clock, refusals=100, retry_after=1)
    with pytest.raises(RetryAfter):
        await run_in_background(
            clock, adapter.process_request(stubborn, (), {}, "sendMessage", {"chat_id": 9}, 0)
        )
    assert len(stubborn.calls) == 1  # rate_limit_args=0: no inline retry

    # a request without a chat is not throttled but waits out a global pause
    limiter.pause(timedelta(seconds=4), chat_id=None)
    unthrottled = FakeCall(clock, refusals=0)
    started = clock.now()
    await run_in_background(
        clock, adapter.process_request(unthrottled, (), {}, "answerCallbackQuery", {}, None)
    )
    assert unthrottled.calls == [started + timedelta(seconds=4)]
    await adapter.shutdown()


def test_ptb_helpers() -> None:
    assert retry_after_of(RetryAfter(12)) == timedelta(seconds=12)
    assert retry_after_of(RetryAfter(timedelta(seconds=3))) == timedelta(seconds=3)
    assert retry_after_of(BadRequest("nope")) is None
    assert chat_of({"chat_id": "-100123"}) == -100123
    assert chat_of({"chat_id": "@channel"}) == "@channel"
    assert chat_of({"chat_id": 5}) == 5
    assert chat_of({"text": "x"}) is None


async def test_idle_chat_state_is_pruned() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock, RateLimits(idle_chats_kept=100))
    recorder = Recorder(clock, limiter)
    recorder.start(list(range(1000)))
    await recorder.finish()
    await clock.advance(timedelta(seconds=5))
    recorder.start([5000])  # the next new chat sweeps the idle ones
    await recorder.finish()
    assert len(limiter._chats) <= 100


async def test_backwards_clock_step_cannot_reopen_a_full_window() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock)
    await limiter.acquire(1)
    clock.set(START - timedelta(seconds=30))
    recorder = Recorder(clock, limiter)
    recorder.start([1])
    await clock.settle()
    assert recorder.sent == []  # the next slot for chat 1 is still START + 1 s
    clock.set(START + SECOND)
    await recorder.finish()
    assert recorder.times(1) == [START + SECOND]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimits(overall_max=0)
    with pytest.raises(ValueError, match="positive"):
        RateLimits(per_chat_period=timedelta(0))
    with pytest.raises(ValueError, match="negative"):
        RateLimits(max_retries=-1)


@pytest.mark.parametrize("seed", range(6))
async def test_random_waves_and_429s_never_break_rates_or_pauses(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    clock = ManualClock(START)
    limiter = RateLimiter(clock, NO_MARGIN)
    recorder = Recorder(clock, limiter)
    pauses: list[tuple[datetime, datetime, int | None]] = []  # (from, until, chat or global)
    for _ in range(40):
        recorder.start([rng.randrange(300) for _ in range(rng.randrange(80))])
        await clock.advance(timedelta(milliseconds=rng.randrange(2500)))
        if rng.random() < 0.3:
            chat = None if rng.random() < 0.3 else rng.randrange(300)
            retry_after = timedelta(seconds=rng.randrange(1, 6))
            scope = limiter.pause(retry_after, chat_id=chat)
            if scope is RetryScope.GLOBAL:
                chat = None
            pauses.append((clock.now(), clock.now() + retry_after, chat))
    await recorder.finish()

    assert len(recorder.sent) == len(recorder.tasks)
    assert most_in_any_window(recorder.times(), SECOND) <= 25
    for chat in {c for _, c, _ in recorder.sent}:
        assert most_in_any_window(recorder.times(chat), SECOND) <= 1
    for begin, until, paused_chat in pauses:
        for when, chat, _ in recorder.sent:
            if paused_chat is None or chat == paused_chat:
                assert not begin < when < until, (begin, until, paused_chat, when, chat)


async def test_the_overall_rate_can_change_while_sends_wait() -> None:
    clock = ManualClock(START)
    limiter = RateLimiter(clock)
    recorder = Recorder(clock, limiter)
    recorder.start(list(range(200)))
    await clock.advance(SECOND)  # one second at the full rate ...
    limiter.set_overall_max(8)  # ... then a second dispatcher joins and two more
    await recorder.finish()
    assert len(recorder.sent) == 200
    early = [t for t in recorder.times() if t < START + SECOND * 2]
    later = [t for t in recorder.times() if t >= START + SECOND * 2]
    assert most_in_any_window(early, SECOND) <= 25
    assert most_in_any_window(later, SECOND) <= 8
    assert limiter.overall_max == 8


def test_the_overall_rate_stays_at_least_one() -> None:
    limiter = RateLimiter(ManualClock(START))
    with pytest.raises(ValueError, match="at least 1"):
        limiter.set_overall_max(0)
