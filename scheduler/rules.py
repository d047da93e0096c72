"""Between stored rows and planning values: schedules as text, preferences as UserPrefs.

A rule's schedule is stored as one short string so that adding a schedule type needs no
migration: ``interval:<minutes>``, ``daily:<count>`` (times per day) or
``at:HH:MM,HH:MM`` (fixed local times). :func:`decode_schedule` refuses anything that
:mod:`scheduler.planning` would refuse. Pure: no database, no Telegram.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.db.models import ALL_WEEKDAYS, Preferences, User
from scheduler.planning import (
    ActiveHours,
    FixedTimes,
    Interval,
    Pause,
    ReminderKind,
    Schedule,
    TimesPerDay,
    UserPrefs,
)

logger = logging.getLogger(__name__)

DEFAULT_ACTIVE_HOURS = ActiveHours(time(8, 0), time(21, 0))

# What a kind starts with when the user first switches it on.
DEFAULT_SCHEDULES: Mapping[ReminderKind, Schedule] = {
    ReminderKind.HYDRATION: Interval(120),
    ReminderKind.POSTURE: Interval(45),
    ReminderKind.STRETCH: TimesPerDay(3),
}


class ScheduleFormatError(ValueError):
    """A stored schedule string that does not describe a valid schedule."""


def encode_schedule(schedule: Schedule) -> str:
    """The stored form of a schedule."""
    match schedule:
        case Interval(minutes=minutes):
            return f"interval:{minutes}"
        case TimesPerDay(count=count):
            return f"daily:{count}"
        case FixedTimes(times=times):
            return "at:" + ",".join(moment.strftime("%H:%M") for moment in times)


def decode_schedule(text: str) -> Schedule:
    """Parse a stored schedule; raises :class:`ScheduleFormatError` on anything invalid."""
    kind, _, value = text.partition(":")
    try:
        if kind == "interval":
            return Interval(int(value))
        if kind == "daily":
            return TimesPerDay(int(value))
        if kind == "at":
            return FixedTimes(tuple(time.fromisoformat(part) for part in value.split(",")))
    except ValueError as error:
        raise ScheduleFormatError(f"invalid schedule {text!r}: {error}") from error
    raise ScheduleFormatError(f"unknown schedule type in {text!r}")


def weekdays_from_mask(mask: int) -> frozenset[int]:
    """Bit 0 is Monday, as stored in ``preferences.weekdays``."""
    return frozenset(day for day in range(7) if mask >> day & 1)


def mask_from_weekdays(days: frozenset[int]) -> int:
    """The stored bit mask of a set of weekdays (0 is Monday)."""
    return sum(1 << day for day in days) & ALL_WEEKDAYS


def is_known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone this system's tz database has."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_of(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The user's zone, or ``default`` when unset or unknown to this system's tz database."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("stored time zone is unknown here; using the default")
        return default


def pause_of(preferences: Preferences | None) -> Pause | None:
    """The pause stored in the preferences, if any."""
    if preferences is None:
        return None
    if preferences.paused_indefinitely:
        return Pause(None)
    if preferences.paused_until is not None:
        return Pause(preferences.paused_until)
    return None


def user_prefs(user: User, preferences: Preferences | None, default_zone: ZoneInfo) -> UserPrefs:
    """Everything planning needs about a user, from their rows (defaults where unset)."""
    hours = DEFAULT_ACTIVE_HOURS
    weekdays = ALL_WEEKDAYS
    if preferences is not None:
        hours = ActiveHours(preferences.active_from, preferences.active_until)
        weekdays = preferences.weekdays
    return UserPrefs(
        user_id=user.id,
        zone=zone_of(user.timezone, default_zone),
        active_hours=hours,
        weekdays=weekdays_from_mask(weekdays),
        pause=pause_of(preferences),
    )


def is_paused_at(preferences: Preferences | None, instant: datetime) -> bool:
    """Whether a pause covers ``instant``."""
    pause = pause_of(preferences)
    return pause is not None and pause.covers(instant)
