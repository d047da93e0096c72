"""The one source of time for LegCare.

Every piece of code that needs "now" or needs to wait takes a :class:`Clock`. Production
uses :class:`SystemClock`; tests and the demo use :class:`ManualClock`, on which time moves
only when the test says so and waiters wake in deadline order, so a simulated day runs in
milliseconds and never sleeps.

All instants are timezone-aware and normalised to UTC.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

# A wall-clock jump (NTP step, suspended laptop) is noticed at least this often.
_SYSTEM_SLEEP_SLICE = timedelta(seconds=30)


def ensure_utc(instant: datetime) -> datetime:
    """Return ``instant`` in UTC, refusing naive datetimes."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime where an aware one is required: {instant!r}")
    return instant.astimezone(UTC)


class Clock(Protocol):
    """Tells the time and waits for it; ``now()`` is always UTC-aware."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when`` (at once, after one yield, if already past)."""
        ...

    async def sleep(self, delay: timedelta) -> None:
        """Wait for ``delay`` of this clock's time."""
        ...


class SystemClock:
    """The real clock: UTC wall time and ``asyncio.sleep``."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep in slices so that a wall-clock step is noticed within 30 seconds."""
        when = ensure_utc(when)
        await asyncio.sleep(0)
        while True:
            remaining = when - self.now()
            if remaining <= timedelta(0):
                return
            await asyncio.sleep(min(remaining, _SYSTEM_SLEEP_SLICE).total_seconds())

    async def sleep(self, delay: timedelta) -> None:
        """Wait for ``delay`` of wall time."""
        await self.sleep_until(self.now() + delay)


@dataclass(order=True)
class _Waiter:
    when: datetime
    seq: int
    future: asyncio.Future[None] = field(compare=False)


class ManualClock:
    """A clock that moves only when told to; for tests, the demo and simulations.

    ``set`` jumps: every waiter whose deadline has passed is woken and observes the new
    time. ``advance``/``advance_to`` step: the clock visits each pending deadline in order
    (ties in the order the waits began), sets ``now()`` to exactly that deadline, wakes those
    waiters and lets the event loop settle before moving on, so a loop that sleeps ten
    seconds at a time runs once per ten simulated seconds, as it would for real.

    Settling yields to the event loop until a round passes without any waiter being added
    or woken (at least ``settle_rounds`` times). That is exact for code that only awaits
    the clock and other asyncio objects; code that waits on threads or sockets in between
    should be awaited by the test through its own completion signal.
    """

    def __init__(self, start: datetime | None = None, *, settle_rounds: int = 8) -> None:
        self._now = ensure_utc(start) if start else datetime(2026, 1, 1, tzinfo=UTC)
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._activity = 0
        self._settle_rounds = settle_rounds

    def now(self) -> datetime:
        """Return the simulated current instant in UTC."""
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the test moves the clock to ``when`` or beyond."""
        when = ensure_utc(when)
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, _Waiter(when, next(self._seq), future))
        self._activity += 1
        await future

    async def sleep(self, delay: timedelta) -> None:
        """Wait for ``delay`` of simulated time."""
        await self.sleep_until(self._now + delay)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` and wake every waiter that is now due (they run at the next yield).

        Moving backwards is allowed (a wall clock can step back); nobody wakes then.
        """
        self._now = ensure_utc(when)
        self._wake_due()

    async def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``, visiting every deadline on the way, and settle."""
        if delta < timedelta(0):
            raise ValueError(f"cannot advance by a negative amount: {delta}")
        await self.advance_to(self._now + delta)

    async def advance_to(self, when: datetime) -> None:
        """Move forward to ``when``, visiting every deadline on the way, and settle."""
        target = ensure_utc(when)
        if target < self._now:
            raise ValueError(f"cannot advance backwards to {target} from {self._now}")
        await self.settle()
        while (deadline := self.next_wakeup()) is not None and deadline <= target:
            self._now = deadline
            self._wake_due()
            await self.settle()
        self._now = target
        await self.settle()

    async def settle(self) -> None:
        """Yield until woken tasks have run and gone back to waiting (see class docs)."""
        quiet_rounds = 0
        while quiet_rounds < self._settle_rounds:
            before = self._activity
            await asyncio.sleep(0)
            quiet_rounds = quiet_rounds + 1 if self._activity == before else 0

    def next_wakeup(self) -> datetime | None:
        """Return the earliest deadline someone is still waiting for."""
        while self._waiters and self._waiters[0].future.done():
            heapq.heappop(self._waiters)  # cancelled waits
        return self._waiters[0].when if self._waiters else None

    @property
    def pending(self) -> int:
        """How many waits are in progress."""
        return sum(1 for waiter in self._waiters if not waiter.future.done())

    def _wake_due(self) -> None:
        while self._waiters and self._waiters[0].when <= self._now:
            waiter = heapq.heappop(self._waiters)
            if not waiter.future.done():
                waiter.future.set_result(None)
                self._activity += 1
