"""Reminder preferences: what the settings screens read and change. No Telegram here.

Every change goes through one function that writes it and then :func:`replan` s the user,
so it takes effect at once: each rule's ``next_due_at`` is recomputed from now with the new
preferences (or cleared when the rule cannot fire), its revision moves (a materialiser
pass that read the old plan will not overwrite the new one), and deliveries that were
materialised for the future under the old plan are deleted. Deliveries already due are
left to the dispatcher, which applies the current preferences when it claims them.

Pauses are stored as an instant (``paused_until``) or as "until resumed"
(``paused_indefinitely``): *1 hour* is now + 1 h; *today* lasts until tomorrow's active
hours begin ("tomorrow" counted from the day the current active window started, so at
01:00 in a 22:00-02:00 window it means tonight at 22:00); *N days* until the active hours
begin N days after today.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from timezonefinder import TimezoneFinder

from bot.db.models import ALL_WEEKDAYS, Preferences, User
from bot.db.reminder_models import ReminderRule
from bot.db.repositories import UserRepository
from scheduler import followups
from scheduler.planning import (
    DAY,
    FixedTimes,
    Interval,
    ReminderKind,
    Schedule,
    TimesPerDay,
    UserPrefs,
    next_due,
    resolve_local,
    window_at,
)
from scheduler.planning import ReminderRule as PlannedRule
from scheduler.rules import (
    DEFAULT_ACTIVE_HOURS,
    DEFAULT_SCHEDULES,
    ScheduleFormatError,
    decode_schedule,
    encode_schedule,
    is_known_zone,
    mask_from_weekdays,
    user_prefs,
    weekdays_from_mask,
    zone_of,
)
from scheduler.store import ReminderStore

# The short list of places the time-zone screen offers (the label is settings.city.<key>);
# anywhere else is reached by sharing a location.
CITY_ZONES: Mapping[str, str] = {
    "london": "Europe/London",
    "dublin": "Europe/Dublin",
    "lisbon": "Europe/Lisbon",
    "madrid": "Europe/Madrid",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "rome": "Europe/Rome",
    "warsaw": "Europe/Warsaw",
    "athens": "Europe/Athens",
    "istanbul": "Europe/Istanbul",
    "moscow": "Europe/Moscow",
    "dubai": "Asia/Dubai",
    "new_york": "America/New_York",
    "chicago": "America/Chicago",
    "denver": "America/Denver",
    "los_angeles": "America/Los_Angeles",
    "sydney": "Australia/Sydney",
    "auckland": "Pacific/Auckland",
}


class PauseChoice(StrEnum):
    """The pause lengths the reminders screen offers."""

    HOUR = "1h"
    TODAY = "today"
    THREE_DAYS = "3d"
    WEEK = "7d"
    UNTIL_RESUMED = "off"


_PAUSE_DAYS = {PauseChoice.THREE_DAYS: 3, PauseChoice.WEEK: 7}


class UnknownChoiceError(ValueError):
    """A value that the settings screens never offer (a forged or outdated button)."""


@dataclass(frozen=True)
class KindSettings:
    """One reminder kind as the user set it."""

    kind: ReminderKind
    enabled: bool
    schedule: Schedule
    next_due_at: datetime | None


@dataclass(frozen=True)
class UserSettings:
    """Everything the settings and reminders screens show."""

    language: str
    country: str
    timezone: str
    active_from: time
    active_until: time
    weekdays: frozenset[int]
    paused_until: datetime | None
    paused_indefinitely: bool
    kinds: Mapping[ReminderKind, KindSettings]

    def paused_at(self, instant: datetime) -> bool:
        """Whether reminders are paused at ``instant``."""
        return self.paused_indefinitely or (
            self.paused_until is not None and instant < self.paused_until
        )


@dataclass(frozen=True)
class Defaults:
    """What a user has before choosing anything (from the operator's settings)."""

    zone: ZoneInfo
    country: str


async def load_settings(session: AsyncSession, user_id: int, defaults: Defaults) -> UserSettings:
    """The user's current settings (defaults where they chose nothing)."""
    user = await _require_user(session, user_id)
    preferences = await session.get(Preferences, user_id)
    rules = await ReminderStore(session).rules_of(user_id)
    kinds: dict[ReminderKind, KindSettings] = {}
    for kind in ReminderKind:
        row = rules.get(kind.value)
        schedule = _schedule_of(row, kind)
        kinds[kind] = KindSettings(
            kind=kind,
            enabled=row is not None and row.enabled,
            schedule=schedule,
            next_due_at=None if row is None else row.next_due_at,
        )
    hours_from, hours_until = DEFAULT_ACTIVE_HOURS.start, DEFAULT_ACTIVE_HOURS.end
    weekdays, paused_until, indefinitely = ALL_WEEKDAYS, None, False
    if preferences is not None:
        hours_from, hours_until = preferences.active_from, preferences.active_until
        weekdays = preferences.weekdays
        paused_until, indefinitely = preferences.paused_until, preferences.paused_indefinitely
    return UserSettings(
        language=user.language,
        country=user.country or defaults.country,
        timezone=zone_of(user.timezone, defaults.zone).key,
        active_from=hours_from,
        active_until=hours_until,
        weekdays=weekdays_from_mask(weekdays),
        paused_until=paused_until,
        paused_indefinitely=indefinitely,
        kinds=kinds,
    )


# ---------------------------------------------------------------------- changes


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    """Talk to the user in ``language`` from now on (validated by the caller's pack)."""
    user = await _require_user(session, user_id)
    user.language = language


async def set_country(session: AsyncSession, user_id: int, country: str) -> None:
    """Use ``country``'s emergency number (validated against the countries list)."""
    user = await _require_user(session, user_id)
    user.country = country.upper()


async def set_timezone(
    session: AsyncSession, user_id: int, zone: str, *, now: datetime, defaults: Defaults
) -> None:
    """Plan reminders in ``zone`` (an IANA name this system knows)."""
    if not is_known_zone(zone):
        raise UnknownChoiceError(f"unknown time zone {zone!r}")
    user = await _require_user(session, user_id)
    user.timezone = zone
    await replan(session, user_id, now=now, defaults=defaults)


async def set_timezone_at(
    session: AsyncSession,
    user_id: int,
    latitude: float,
    longitude: float,
    *,
    now: datetime,
    defaults: Defaults,
) -> str | None:
    """Plan reminders in the zone of a shared location; the zone, or None if there is none."""
    zone = await zone_at(latitude, longitude)
    if zone is not None:
        await set_timezone(session, user_id, zone, now=now, defaults=defaults)
    return zone


async def set_active_hours(
    session: AsyncSession,
    user_id: int,
    start: time,
    end: time,
    *,
    now: datetime,
    defaults: Defaults,
) -> None:
    """Remind only between ``start`` and ``end`` local time (crossing midnight if end < start)."""
    for moment in (start, end):
        if moment.second or moment.microsecond or moment.tzinfo is not None:
            raise UnknownChoiceError(f"active hours are whole minutes: {moment!r}")
    preferences = await _preferences(session, user_id)
    preferences.active_from, preferences.active_until = start, end
    await replan(session, user_id, now=now, defaults=defaults)


async def toggle_weekday(
    session: AsyncSession, user_id: int, day: int, *, now: datetime, defaults: Defaults
) -> frozenset[int]:
    """Switch reminders on ``day`` (0 is Monday) on or off; return the new set."""
    if day not in range(7):
        raise UnknownChoiceError(f"weekday out of range: {day}")
    preferences = await _preferences(session, user_id)
    days = weekdays_from_mask(preferences.weekdays) ^ {day}
    preferences.weekdays = mask_from_weekdays(days)
    await replan(session, user_id, now=now, defaults=defaults)
    return days


async def set_weekdays(
    session: AsyncSession,
    user_id: int,
    days: frozenset[int],
    *,
    now: datetime,
    defaults: Defaults,
) -> None:
    """Remind on exactly these weekdays."""
    if not days <= frozenset(range(7)):
        raise UnknownChoiceError(f"weekdays out of range: {sorted(days)}")
    preferences = await _preferences(session, user_id)
    preferences.weekdays = mask_from_weekdays(days)
    await replan(session, user_id, now=now, defaults=defaults)


async def set_kind_enabled(
    session: AsyncSession,
    user_id: int,
    kind: ReminderKind,
    enabled: bool,
    *,
    now: datetime,
    defaults: Defaults,
) -> None:
    """Switch one reminder kind on (with its last or default schedule) or off."""
    rule = await _rule(session, user_id, kind, now=now)
    rule.enabled = enabled
    await replan(session, user_id, now=now, defaults=defaults)


async def set_schedule(
    session: AsyncSession,
    user_id: int,
    kind: ReminderKind,
    schedule: Schedule,
    *,
    now: datetime,
    defaults: Defaults,
) -> None:
    """Give one kind a new schedule and switch it on."""
    rule = await _rule(session, user_id, kind, now=now)
    rule.schedule = encode_schedule(schedule)
    rule.enabled = True
    await replan(session, user_id, now=now, defaults=defaults)


async def toggle_fixed_hour(
    session: AsyncSession,
    user_id: int,
    kind: ReminderKind,
    hour: int,
    *,
    now: datetime,
    defaults: Defaults,
) -> Schedule:
    """Add or remove a fixed HH:00 time for ``kind`` (switching it to fixed times).

    Removing the last fixed time is refused: the schedule stays as it is.
    """
    if hour not in range(24):
        raise UnknownChoiceError(f"hour out of range: {hour}")
    rule = await _rule(session, user_id, kind, now=now)
    current = _schedule_of(rule, kind)
    times = set(current.times) if isinstance(current, FixedTimes) else set()
    times ^= {time(hour)}
    if not times:
        return current
    schedule = FixedTimes(tuple(times))
    rule.schedule = encode_schedule(schedule)
    rule.enabled = True
    await replan(session, user_id, now=now, defaults=defaults)
    return schedule


async def pause(
    session: AsyncSession,
    user_id: int,
    choice: PauseChoice,
    *,
    now: datetime,
    defaults: Defaults,
) -> datetime | None:
    """Pause every reminder; return when they come back (None: until resumed)."""
    user = await _require_user(session, user_id)
    preferences = await _preferences(session, user_id)
    if choice is PauseChoice.UNTIL_RESUMED:
        preferences.paused_indefinitely = True
        preferences.paused_until = None
    else:
        prefs = user_prefs(user, preferences, defaults.zone)
        preferences.paused_indefinitely = False
        preferences.paused_until = pause_end(choice, now, prefs)
    await replan(session, user_id, now=now, defaults=defaults)
    return preferences.paused_until


async def resume(
    session: AsyncSession, user_id: int, *, now: datetime, defaults: Defaults
) -> None:
    """End any pause."""
    preferences = await _preferences(session, user_id)
    preferences.paused_indefinitely = False
    preferences.paused_until = None
    await replan(session, user_id, now=now, defaults=defaults)


def pause_end(choice: PauseChoice, now: datetime, prefs: UserPrefs) -> datetime:
    """When a timed pause chosen at ``now`` ends (see the module docs)."""
    if choice is PauseChoice.HOUR:
        return now + timedelta(hours=1)
    days = 1 if choice is PauseChoice.TODAY else _PAUSE_DAYS.get(choice)
    if days is None:
        raise UnknownChoiceError(f"not a timed pause: {choice}")
    window = window_at(now, prefs)
    today = window.day if window is not None else now.astimezone(prefs.zone).date()
    return resolve_local(today + days * DAY, prefs.active_hours.start, prefs.zone)


async def replan(
    session: AsyncSession, user_id: int, *, now: datetime, defaults: Defaults
) -> None:
    """Recompute every rule of the user from ``now`` and drop plans made for the future."""
    await session.flush()
    user = await _require_user(session, user_id)
    preferences = await session.get(Preferences, user_id)
    prefs = user_prefs(user, preferences, defaults.zone)
    store = ReminderStore(session)
    for row in (await store.rules_of(user_id)).values():
        row.revision += 1
        row.updated_at = now
        row.next_due_at = None
        if not row.enabled:
            continue
        try:
            kind = ReminderKind(row.kind)
            rule = PlannedRule(kind, decode_schedule(row.schedule))
        except (ScheduleFormatError, ValueError):
            row.enabled = False
            continue
        row.next_due_at = next_due(rule, prefs, now)
    # Only the rules' own slots: one-off deliveries (announcements, follow-ups, journey
    # nudges) were planned on their own terms and must not be lost to a settings change.
    await store.drop_future(user_id, after=now, kinds=[kind.value for kind in ReminderKind])
    await followups.keep_out_of_quiet(session, user_id, prefs, now=now)
    await session.flush()


# ---------------------------------------------------------------------- location


@cache
def _finder() -> TimezoneFinder:
    # Loading the boundary data takes most of a second: once, on first use, in a thread.
    return TimezoneFinder()


def _zone_at_blocking(latitude: float, longitude: float) -> str | None:
    return _finder().timezone_at(lng=longitude, lat=latitude)


async def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a point, resolved offline, off the event loop; None at sea."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    zone = await asyncio.to_thread(_zone_at_blocking, latitude, longitude)
    if zone is None or not is_known_zone(zone):
        return None
    return zone


# ---------------------------------------------------------------------- helpers


async def _require_user(session: AsyncSession, user_id: int) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise LookupError(f"user {user_id} has not started the bot")
    return user


async def _preferences(session: AsyncSession, user_id: int) -> Preferences:
    preferences = await session.get(Preferences, user_id)
    if preferences is None:
        preferences = Preferences(
            user_id=user_id,
            active_from=DEFAULT_ACTIVE_HOURS.start,
            active_until=DEFAULT_ACTIVE_HOURS.end,
            weekdays=ALL_WEEKDAYS,
            paused_until=None,
            paused_indefinitely=False,
        )
        session.add(preferences)
    return preferences


async def _rule(
    session: AsyncSession, user_id: int, kind: ReminderKind, *, now: datetime
) -> ReminderRule:
    await _require_user(session, user_id)
    rule = await session.get(ReminderRule, (user_id, kind.value))
    if rule is None:
        rule = ReminderRule(
            user_id=user_id,
            kind=kind.value,
            enabled=False,
            schedule=encode_schedule(DEFAULT_SCHEDULES[kind]),
            next_due_at=None,
            revision=0,
            updated_at=now,
        )
        session.add(rule)
    return rule


def _schedule_of(row: ReminderRule | None, kind: ReminderKind) -> Schedule:
    if row is not None:
        try:
            return decode_schedule(row.schedule)
        except ScheduleFormatError:
            pass
    return DEFAULT_SCHEDULES[kind]


__all__ = [
    "CITY_ZONES",
    "Defaults",
    "FixedTimes",
    "Interval",
    "KindSettings",
    "PauseChoice",
    "TimesPerDay",
    "UnknownChoiceError",
    "UserSettings",
]
