"""Outgoing message throttling on an injected clock, with 429 pauses per scope.

Two sliding-window limits apply to every message to a chat: at most ``overall_max`` per
``overall_period`` in total (25/s, under Telegram's ~30/s) and ``per_chat_max`` per
``per_chat_period`` for each chat (1/s). A caller *reserves* the next free slot, sleeps on
the clock until it, and sends; reservations are made in arrival order, so each chat's
messages keep their order and a busy chat never blocks the others. Nothing polls, so a
burst of thousands of sends wakes each waiter at most twice.

A 429 (``RetryAfter``) pauses only its scope: the chat, or everything when the request
had no chat or when several chats were refused in quick succession (Telegram does not say
which limit was hit; three chats refused within a second means it was the global one).
Reservations in a paused scope are dropped and their holders queue again after the pause.

Nothing here retries without bound. :meth:`RateLimiter.run` retries a call refused with a
429 at most ``max_retries`` times and only for pauses up to ``max_inline_wait``; then it
re-raises, and the dispatcher re-queues the delivery for :meth:`RateLimiter.resume_at`
without counting an attempt (a 429 says nothing about the message itself).

With :class:`~bot.clock.SystemClock` the limits hold for reserved instants; a waiter that
wakes a few milliseconds late sends that much later, which the margin under Telegram's
limits absorbs. This module does not import ``telegram``; the PTB adapter lives in
:mod:`scheduler.telegram_rate_limiter`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bot.clock import Clock

logger = logging.getLogger(__name__)

T = TypeVar("T")
ChatId = Hashable  # int ids; "@channel" strings are their own chats


class RetryScope(StrEnum):
    """What a 429 pauses."""

    CHAT = "chat"
    GLOBAL = "global"


@dataclass(frozen=True)
class RateLimits:
    """Tunable limits; the defaults stay under Telegram's documented flood limits."""

    overall_max: int = 25
    overall_period: timedelta = timedelta(seconds=1)
    per_chat_max: int = 1
    per_chat_period: timedelta = timedelta(seconds=1)
    max_retries: int = 2  # 429 retries inside run(); beyond that the caller re-queues
    max_inline_wait: timedelta = timedelta(seconds=30)  # longer pauses are re-queued at once
    retry_margin: timedelta = timedelta(milliseconds=100)  # added to every retry_after
    escalate_after_chats: int = 3  # distinct chats refused within escalation_window ...
    escalation_window: timedelta = timedelta(seconds=1)  # ... means the global limit was hit
    idle_chats_kept: int = 1024  # beyond this many chats, idle ones are swept (once a period)

    def __post_init__(self) -> None:
        if min(self.overall_max, self.per_chat_max, self.escalate_after_chats) < 1:
            raise ValueError("rates and the escalation threshold must be at least 1")
        if min(self.overall_period, self.per_chat_period) <= timedelta(0):
            raise ValueError("rate periods must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries cannot be negative")


@dataclass
class _Scope:
    """A sliding window of reserved send instants, plus a pause."""

    capacity: int
    period: timedelta
    reservations: deque[datetime] = field(init=False)
    paused_until: datetime | None = None
    epoch: int = 0  # bumped by every pause; reservations from an older epoch are void
    users: int = 0  # acquire() calls holding this state (it must not be pruned under them)
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # FIFO: one request at a time

    def __post_init__(self) -> None:
        self.reservations = deque(maxlen=self.capacity)

    def next_free(self, now: datetime) -> datetime:
        log = self.reservations
        at = max(now, log[-1]) if log else now
        if len(log) == self.capacity:
            at = max(at, log[0] + self.period)
        return at

    def resize(self, capacity: int, now: datetime) -> None:
        # Slots reserved for later were counted at the old rate: void them (their holders
        # queue again, as after a pause); the newest past ones still bound the window.
        self.epoch += 1
        while self.reservations and self.reservations[-1] > now:
            self.reservations.pop()
        self.capacity = capacity
        self.reservations = deque(self.reservations, maxlen=capacity)

    def reserve(self, now: datetime) -> datetime:
        at = self.next_free(now)
        self.reservations.append(at)
        return at

    def pause(self, until: datetime, now: datetime) -> None:
        self.paused_until = max(until, self.paused_until or until)
        self.epoch += 1
        while self.reservations and self.reservations[-1] > now:
            self.reservations.pop()

    def paused_at(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def idle_at(self, now: datetime) -> bool:
        return (
            self.users == 0
            and not self.paused_at(now)
            and (not self.reservations or self.reservations[-1] + self.period <= now)
        )


class RateLimitedError(Exception):
    """A call was refused with 429 and is not retried inline; re-queue it, no attempt."""

    def __init__(self, scope: RetryScope, resume_at: datetime) -> None:
        super().__init__(f"rate limited ({scope}) until {resume_at.isoformat()}")
        self.scope = scope
        self.resume_at = resume_at


class RateLimiter:
    """Global plus per-chat throttle driven by a :class:`~bot.clock.Clock`.

    One instance per bot token, shared by every sender in the process. Each chat's requests
    pass one at a time (FIFO) and its window records when they were actually let through,
    so waiting for a global slot can never squeeze two messages to one chat together.
    """

    def __init__(self, clock: Clock, limits: RateLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or RateLimits()
        self._global = _Scope(self.limits.overall_max, self.limits.overall_period)
        self._chats: dict[ChatId, _Scope] = {}
        self._refusals: deque[tuple[datetime, ChatId]] = deque()
        self._last_now: datetime | None = None
        self._next_sweep: datetime | None = None

    @property
    def overall_max(self) -> int:
        """How many messages this limiter lets out per ``overall_period`` in total, now."""
        return self.limits.overall_max

    def set_overall_max(self, overall_max: int) -> None:
        """Change the overall rate (e.g. this process's share of it) without a restart."""
        if overall_max < 1:
            raise ValueError("the overall rate must be at least 1")
        if overall_max != self.limits.overall_max:
            self.limits = replace(self.limits, overall_max=overall_max)
            self._global.resize(overall_max, self._now())

    async def acquire(self, chat_id: ChatId) -> None:
        """Wait until a message to ``chat_id`` may be sent, and count it as sent."""
        chat = self._chat(chat_id)
        chat.users += 1
        try:
            async with chat.turn:
                while True:
                    await self.wait_unpaused(chat_id)
                    epochs = (chat.epoch, self._global.epoch)
                    await self.clock.sleep_until(chat.next_free(self._now()))
                    if self._invalidated(chat, epochs):
                        continue
                    await self.clock.sleep_until(self._global.reserve(self._now()))
                    if self._invalidated(chat, epochs):
                        continue
                    chat.reserve(self._now())
                    return
        finally:
            chat.users -= 1

    async def wait_unpaused(self, chat_id: ChatId | None = None) -> None:
        """Wait out a global pause and, if given, the chat's pause (no rate slot taken)."""
        while (resume := self.resume_at(chat_id)) is not None:
            await self.clock.sleep_until(resume)

    def resume_at(self, chat_id: ChatId | None = None) -> datetime | None:
        """When the pauses affecting ``chat_id`` end, or ``None`` if none is in force."""
        now = self._now()
        scopes = [self._global]
        if chat_id is not None and chat_id in self._chats:
            scopes.append(self._chats[chat_id])
        ends = [scope.paused_until for scope in scopes if scope.paused_at(now)]
        return max((end for end in ends if end is not None), default=None)

    def pause(
        self, retry_after: timedelta, *, chat_id: ChatId | None, scope: RetryScope | None = None
    ) -> RetryScope:
        """Record a 429: pause its scope for ``retry_after`` (plus margin); return the scope.

        ``scope`` defaults to the chat if there is one. A chat-scoped 429 is escalated to
        global when ``escalate_after_chats`` distinct chats were refused within the window.
        """
        now = self._now()
        if scope is None:
            scope = RetryScope.CHAT if chat_id is not None else RetryScope.GLOBAL
        if scope is RetryScope.CHAT and chat_id is not None and self._escalates(chat_id, now):
            scope = RetryScope.GLOBAL
        until = now + max(retry_after, timedelta(0)) + self.limits.retry_margin
        if scope is RetryScope.GLOBAL or chat_id is None:
            self._global.pause(until, now)
            scope = RetryScope.GLOBAL
        else:
            self._chat(chat_id).pause(until, now)
        logger.warning("Telegram flood limit: %s paused for %s", scope, until - now)
        return scope

    async def run(
        self,
        chat_id: ChatId,
        call: Callable[[], Awaitable[T]],
        *,
        retry_after_of: Callable[[Exception], timedelta | None],
    ) -> T:
        """Acquire, then ``await call()``; on a 429 pause its scope and retry, boundedly.

        ``retry_after_of`` maps an exception to its retry_after, or ``None`` for anything
        that is not a 429 (those propagate untouched). Raises :class:`RateLimitedError`
        when the 429s outlast ``max_retries`` or ask for more than ``max_inline_wait``.
        """
        retries = 0
        while True:
            await self.acquire(chat_id)
            try:
                return await call()
            except Exception as exc:
                retry_after = retry_after_of(exc)
                if retry_after is None:
                    raise
                scope = self.pause(retry_after, chat_id=chat_id)
                if retries >= self.limits.max_retries or retry_after > self.limits.max_inline_wait:
                    resume = self.resume_at(chat_id) or self._now()
                    raise RateLimitedError(scope, resume) from exc
                retries += 1

    def _now(self) -> datetime:
        # Never let a backwards wall-clock step reopen a window that is already full.
        now = self.clock.now()
        if self._last_now is not None and now < self._last_now:
            return self._last_now
        self._last_now = now
        return now

    def _chat(self, chat_id: ChatId) -> _Scope:
        state = self._chats.get(chat_id)
        if state is None:
            now = self._now()
            if len(self._chats) >= self.limits.idle_chats_kept and (
                self._next_sweep is None or now >= self._next_sweep
            ):
                # at most one O(chats) sweep per period, however many chats appear
                for key in [key for key, scope in self._chats.items() if scope.idle_at(now)]:
                    del self._chats[key]
                self._next_sweep = now + self.limits.per_chat_period
            state = _Scope(self.limits.per_chat_max, self.limits.per_chat_period)
            self._chats[chat_id] = state
        return state

    def _invalidated(self, chat: _Scope, epochs: tuple[int, int]) -> bool:
        return (chat.epoch, self._global.epoch) != epochs

    def _escalates(self, chat_id: ChatId, now: datetime) -> bool:
        refusals = self._refusals
        refusals.append((now, chat_id))
        while refusals and refusals[0][0] <= now - self.limits.escalation_window:
            refusals.popleft()
        return len({chat for _, chat in refusals}) >= self.limits.escalate_after_chats
