"""What /stats shows: reminder taps over the last 7 and 30 days, streaks, the week by day.

Counted from ``nudge_taps`` (done, skipped, snoozed; "I just moved" counts as done), by
the user's local calendar days. A streak is the run of consecutive days with at least one
thing done, up to today (or yesterday, when nothing is done yet today). Pure but for
:func:`load_stats`; no Telegram here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.nudge_models import NudgeTap

__all__ = ["KEEP_TAPS", "DayCounts", "KindCounts", "Stats", "TapRecord", "load_stats", "summarise"]

KINDS = ("hydration", "posture", "stretch")
KEEP_TAPS = timedelta(days=90)
"""Taps older than this are deleted when stats are read (30 days are shown)."""
_ACTIONS = ("done", "skip", "snooze")


@dataclass(frozen=True)
class TapRecord:
    """One tap: kind, action (done / skip / snooze) and when."""

    kind: str
    action: str
    at: datetime


@dataclass(frozen=True)
class KindCounts:
    """How often each answer was given."""

    done: int = 0
    skipped: int = 0
    snoozed: int = 0

    @property
    def total(self) -> int:
        """All taps counted."""
        return self.done + self.skipped + self.snoozed


@dataclass(frozen=True)
class DayCounts:
    """One local day of the week chart."""

    day: date
    counts: KindCounts


@dataclass(frozen=True)
class Stats:
    """Everything /stats shows."""

    last7: dict[str, KindCounts]
    last30: dict[str, KindCounts]
    week: tuple[DayCounts, ...]
    """The last 7 local days, oldest first, all kinds together."""
    streak: int
    best: int

    @property
    def empty(self) -> bool:
        """No taps in the last 30 days."""
        return all(counts.total == 0 for counts in self.last30.values())


def _counts(counter: Counter[str]) -> KindCounts:
    return KindCounts(counter["done"], counter["skip"], counter["snooze"])


def summarise(taps: Iterable[TapRecord], *, now: datetime, zone: ZoneInfo) -> Stats:
    """Aggregate taps into the 7- and 30-day figures, the week and the streaks."""
    today = now.astimezone(zone).date()
    by_kind7: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    by_kind30: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    by_day: dict[date, Counter[str]] = {}
    for tap in taps:
        day = tap.at.astimezone(zone).date()
        age = (today - day).days
        if not 0 <= age < 30 or tap.action not in _ACTIONS:
            continue
        by_day.setdefault(day, Counter())[tap.action] += 1
        if tap.kind in by_kind30:
            by_kind30[tap.kind][tap.action] += 1
            if age < 7:
                by_kind7[tap.kind][tap.action] += 1
    week = tuple(
        DayCounts(day, _counts(by_day.get(day, Counter())))
        for day in (today - timedelta(days=offset) for offset in range(6, -1, -1))
    )
    done_days = {day for day, counter in by_day.items() if counter["done"]}
    return Stats(
        last7={kind: _counts(counter) for kind, counter in by_kind7.items()},
        last30={kind: _counts(counter) for kind, counter in by_kind30.items()},
        week=week,
        streak=_current_streak(done_days, today),
        best=_best_streak(done_days),
    )


def _current_streak(done_days: set[date], today: date) -> int:
    day = today if today in done_days else today - timedelta(days=1)
    streak = 0
    while day in done_days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def _best_streak(done_days: set[date]) -> int:
    best = 0
    for day in done_days:
        if day - timedelta(days=1) in done_days:
            continue
        length = 0
        while day + timedelta(days=length) in done_days:
            length += 1
        best = max(best, length)
    return best


async def load_stats(
    session: AsyncSession, user_id: int, *, now: datetime, zone: ZoneInfo
) -> Stats:
    """The user's stats from their taps (and forget taps older than :data:`KEEP_TAPS`)."""
    await session.execute(
        delete(NudgeTap)
        .where(NudgeTap.user_id == user_id, NudgeTap.at < now - KEEP_TAPS)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(NudgeTap.kind, NudgeTap.action, NudgeTap.at).where(
            NudgeTap.user_id == user_id, NudgeTap.at >= now - timedelta(days=31)
        )
    )
    return summarise(
        (TapRecord(kind, action, at) for kind, action, at in rows), now=now, zone=zone
    )
