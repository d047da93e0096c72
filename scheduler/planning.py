"""When reminders are due: pure, time-zone and DST-correct schedule arithmetic.

Vocabulary
----------
*Active window*: the user's active hours on one local calendar day, ``[start, end)`` in
local wall-clock time. If ``end <= start`` the window crosses midnight and ends on the
next day; ``start == end`` means all day (24 wall-clock hours from ``start``). A window
belongs to the day it **starts** on: in a 22:00-02:00 window the 01:00 slot of Saturday
morning is Friday's, and is sent only if Friday is an allowed weekday.

*Slot*: a wall-clock time inside a window at which a reminder is due. Slots are laid out
in local wall-clock time and only then turned into instants, so they never drift:

- ``Interval(60)`` in 08:00-21:00 gives 08:00, 09:00, ..., 20:00, every day;
- ``TimesPerDay(n)`` cuts the window into ``n`` equal parts and takes the middle of each
  (3 in 08:00-21:00: 10:10, 14:30, 18:50);
- ``FixedTimes(...)`` are wall-clock times; one outside the active window never fires.

Every slot is then shifted by the user's stable offset (:func:`user_offset`, under four
minutes) so that users do not all wake the bot at the top of the hour; a slot that the
shift would push out of the window fires unshifted instead.

*Local time to instant* (:func:`resolve_local`): a wall time that does not exist (the
spring-forward gap) becomes the first instant after the gap, i.e. the transition itself;
an ambiguous one (fall back) means its first occurrence. Several slots that land on the
same instant fire once, and nothing fires twice in a repeated hour. A grid slot
(interval, times per day) moved out of a gap is dropped if another slot of the grid is
within half a spacing of it, so a 30-minute posture grid does not fire at 03:00 and 03:04.

A reminder is due only inside an active window, on an allowed weekday, and not while
the user is paused. :func:`is_quiet` answers the narrower question "is this outside the
user's active hours?" for messages that are not scheduled reminders (follow-ups).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import ensure_utc

DAY = timedelta(days=1)
MAX_USER_OFFSET = timedelta(minutes=4)
MIN_INTERVAL = timedelta(minutes=5)
ALL_WEEKDAYS: frozenset[int] = frozenset(range(7))
# A weekly pattern repeats after 7 days; DST can remove a slot on one day only. Two weeks
# of windows without a single slot means the rule can never fire.
_SEARCH_HORIZON_DAYS = 15


class ReminderKind(StrEnum):
    """What a reminder is about; also the key of per-kind policies."""

    HYDRATION = "hydration"
    POSTURE = "posture"
    STRETCH = "stretch"


# The choices the settings menu offers; the engine itself accepts any valid schedule.
INTERVAL_PRESETS_MINUTES: Mapping[ReminderKind, tuple[int, ...]] = {
    ReminderKind.HYDRATION: (60, 120, 180),
    ReminderKind.POSTURE: (30, 45, 60),
}
TIMES_PER_DAY_PRESETS: Mapping[ReminderKind, tuple[int, ...]] = {
    ReminderKind.STRETCH: (2, 3, 4),
}


@dataclass(frozen=True)
class Interval:
    """Every ``minutes`` minutes, on a grid anchored at the start of the active window."""

    minutes: int

    def __post_init__(self) -> None:
        if not MIN_INTERVAL <= timedelta(minutes=self.minutes) <= DAY:
            raise ValueError(f"interval must be 5 minutes to 24 hours: {self.minutes}")


@dataclass(frozen=True)
class TimesPerDay:
    """``count`` times a day, at the middles of equal parts of the active window."""

    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 24:
            raise ValueError(f"times per day must be 1 to 24: {self.count}")


@dataclass(frozen=True)
class FixedTimes:
    """At these local wall-clock times (whole minutes), when inside the active window."""

    times: tuple[time, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.times) <= 24:
            raise ValueError("between 1 and 24 fixed times are allowed")
        for moment in self.times:
            if moment.tzinfo is not None or moment.second or moment.microsecond:
                raise ValueError(f"fixed times are naive whole minutes: {moment!r}")
        object.__setattr__(self, "times", tuple(sorted(set(self.times))))


Schedule = Interval | TimesPerDay | FixedTimes


@dataclass(frozen=True)
class ReminderRule:
    """One kind of reminder a user has switched on, and its schedule."""

    kind: ReminderKind
    schedule: Schedule


@dataclass(frozen=True)
class ActiveHours:
    """Local wall-clock hours ``[start, end)``; crosses midnight if ``end < start``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is not None or moment.second or moment.microsecond:
                raise ValueError(f"active hours are naive whole minutes: {moment!r}")

    @property
    def all_day(self) -> bool:
        """Whether the window covers the whole day (start equals end)."""
        return self.start == self.end

    @property
    def crosses_midnight(self) -> bool:
        """Whether a window that starts on one day ends on the next."""
        return self.end <= self.start

    @property
    def length(self) -> timedelta:
        """Wall-clock length of the window (DST may make the real one an hour off)."""
        span = _minutes(self.end) - _minutes(self.start)
        return timedelta(minutes=span if span > 0 else span + 24 * 60)


@dataclass(frozen=True)
class Pause:
    """Reminders are off until ``until`` (exclusive), or until resumed if ``None``."""

    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.until is not None:
            object.__setattr__(self, "until", ensure_utc(self.until))

    def covers(self, instant: datetime) -> bool:
        """Whether ``instant`` falls inside the pause."""
        return self.until is None or instant < self.until


@dataclass(frozen=True)
class UserPrefs:
    """Everything about a user that decides when a reminder may reach them."""

    user_id: int
    zone: ZoneInfo
    active_hours: ActiveHours
    weekdays: frozenset[int] = ALL_WEEKDAYS  # date.weekday(): Monday is 0
    pause: Pause | None = None
    offset: timedelta = field(init=False)

    def __post_init__(self) -> None:
        if not self.weekdays <= ALL_WEEKDAYS:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday): {sorted(self.weekdays)}")
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "offset", user_offset(self.user_id))

    def is_paused(self, instant: datetime) -> bool:
        """Whether the user's pause covers ``instant``."""
        return self.pause is not None and self.pause.covers(ensure_utc(instant))


def user_offset(user_id: int) -> timedelta:
    """Stable per-user shift in whole seconds, in ``[0, MAX_USER_OFFSET)``.

    Derived from a hash of the id (not ``hash()``, which is salted per process), so every
    process and every restart agrees, and consecutive ids spread out.
    """
    digest = hashlib.blake2b(str(user_id).encode(), digest_size=8).digest()
    return timedelta(seconds=int.from_bytes(digest, "big") % int(MAX_USER_OFFSET.total_seconds()))


def resolve_local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Turn a local date and wall-clock time into a UTC instant.

    Non-existent (spring-forward gap): the first instant after the gap, the transition.
    Ambiguous (fall back): the first occurrence.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if _wall(first, zone) == naive:
        return min(first, second) if _wall(second, zone) == naive else first
    # In a gap: fold=1 applies the later offset and lands before the transition, fold=0
    # the earlier one and lands after it. Find the first instant whose wall time is >= naive.
    low, high = min(first, second), max(first, second)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class Window:
    """One occurrence of the active hours, as instants ``[start, end)``."""

    day: date  # the local day the window starts on; its weekday is the one that counts
    start: datetime
    end: datetime

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end


def window_on(day: date, prefs: UserPrefs) -> Window:
    """The active window that starts on local ``day`` (whatever its weekday)."""
    hours = prefs.active_hours
    end_day = day + DAY if hours.crosses_midnight else day
    return Window(
        day=day,
        start=resolve_local(day, hours.start, prefs.zone),
        end=resolve_local(end_day, hours.end, prefs.zone),
    )


def window_at(instant: datetime, prefs: UserPrefs) -> Window | None:
    """The active window containing ``instant``, ignoring weekdays and pause."""
    instant = ensure_utc(instant)
    local_day = instant.astimezone(prefs.zone).date()
    for day in (local_day, local_day - DAY):
        window = window_on(day, prefs)
        if instant in window:
            return window
    return None


def is_quiet(instant: datetime, prefs: UserPrefs) -> bool:
    """Whether ``instant`` is outside the user's active hours (weekdays and pause aside).

    For messages that are not scheduled reminders, such as a follow-up the user asked for.
    """
    return window_at(instant, prefs) is None


def is_active(instant: datetime, prefs: UserPrefs) -> bool:
    """Whether a reminder may reach the user at ``instant``.

    Inside active hours, in a window that started on an allowed weekday, and not paused.
    """
    window = window_at(instant, prefs)
    return (
        window is not None
        and window.day.weekday() in prefs.weekdays
        and not prefs.is_paused(instant)
    )


def next_active_instant(instant: datetime, prefs: UserPrefs) -> datetime | None:
    """The first instant at or after ``instant`` at which :func:`is_active` holds.

    ``None`` if there is none: no weekday allowed, or paused until resumed.
    """
    start = ensure_utc(instant)
    if prefs.pause is not None:
        if prefs.pause.until is None:
            return None
        start = max(start, prefs.pause.until)
    local_day = start.astimezone(prefs.zone).date()
    for offset in range(-1, _SEARCH_HORIZON_DAYS):
        window = window_on(local_day + offset * DAY, prefs)
        if window.day.weekday() not in prefs.weekdays or window.end <= start:
            continue
        return max(start, window.start)
    return None


def next_due(rule: ReminderRule, prefs: UserPrefs, after: datetime) -> datetime | None:
    """The first due instant strictly after ``after``, or ``None`` if it can never fire."""
    return next(_due_from(rule, prefs, ensure_utc(after), strict=True), None)


def due_between(
    rule: ReminderRule, prefs: UserPrefs, start: datetime, end: datetime
) -> Iterator[datetime]:
    """Due instants in ``[start, end)``, strictly increasing."""
    end = ensure_utc(end)
    for instant in _due_from(rule, prefs, ensure_utc(start), strict=False):
        if instant >= end:
            return
        yield instant


def slots_in(window: Window, rule: ReminderRule, prefs: UserPrefs) -> list[datetime]:
    """Due instants inside one window, before weekday and pause filtering, increasing."""
    hours = prefs.active_hours
    length = hours.length
    spacing: timedelta | None = None  # grid schedules only
    match rule.schedule:
        case Interval(minutes=minutes):
            spacing = timedelta(minutes=minutes)
            relative = [spacing * k for k in range(-(-length // spacing))]
        case TimesPerDay(count=count):
            spacing = length / count
            relative = [_whole_minutes(length * (2 * k + 1) / (2 * count)) for k in range(count)]
        case FixedTimes(times=times):
            relative = [
                timedelta(minutes=(_minutes(moment) - _minutes(hours.start)) % (24 * 60))
                for moment in times
            ]
    start_wall = datetime.combine(window.day, hours.start)
    moved: dict[datetime, bool] = {}  # instant -> every slot landing on it was in a gap
    for rel in relative:
        if rel >= length:
            continue
        wall = start_wall + (rel + prefs.offset if rel + prefs.offset < length else rel)
        instant = resolve_local(wall.date(), wall.time(), prefs.zone)
        if instant in window:
            moved[instant] = moved.get(instant, True) and _wall(instant, prefs.zone) != wall
    ordered = sorted(moved)
    if spacing is None or not ordered:
        return ordered
    # A grid slot in a spring-forward gap moves to the transition, unless another slot of
    # the grid is within half a spacing of it: then it is absorbed, not sent twice in a row.
    half = spacing / 2
    return [
        instant
        for before, instant, after in zip(
            [None, *ordered[:-1]], ordered, [*ordered[1:], None], strict=True
        )
        if not moved[instant]
        or not any(other is not None and abs(other - instant) < half for other in (before, after))
    ]


def _due_from(
    rule: ReminderRule, prefs: UserPrefs, start: datetime, *, strict: bool
) -> Iterator[datetime]:
    if not prefs.weekdays or (prefs.pause is not None and prefs.pause.until is None):
        return
    if prefs.pause is not None and prefs.pause.until is not None and prefs.pause.until > start:
        start, strict = prefs.pause.until, False
    day = start.astimezone(prefs.zone).date() - DAY
    empty_days = 0
    while empty_days < _SEARCH_HORIZON_DAYS:
        found = False
        if day.weekday() in prefs.weekdays:
            for instant in slots_in(window_on(day, prefs), rule, prefs):
                if instant > start or (instant == start and not strict):
                    found = True
                    yield instant
        empty_days = 0 if found else empty_days + 1
        day += DAY


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _whole_minutes(span: timedelta) -> timedelta:
    return timedelta(minutes=int(span.total_seconds() // 60))
