"""Properties of reminder planning over random rules, zones and instants near DST changes."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.planning import (
    INTERVAL_PRESETS_MINUTES,
    TIMES_PER_DAY_PRESETS,
    ActiveHours,
    FixedTimes,
    Interval,
    Pause,
    ReminderKind,
    ReminderRule,
    Schedule,
    TimesPerDay,
    UserPrefs,
    due_between,
    is_active,
    is_quiet,
    next_active_instant,
    next_due,
    resolve_local,
    window_at,
)

ZONES = [
    "Europe/Istanbul",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
    "Asia/Kolkata",
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TWO_YEARS = 2 * 365 * 24 * 3600
SPAN = timedelta(days=3)


@cache
def transitions() -> list[datetime]:
    """Every UTC-offset change of the test zones in 2026-2027 (to the half hour)."""
    found = []
    for name in ZONES:
        zone = ZoneInfo(name)
        previous = EPOCH.astimezone(zone).utcoffset()
        for step in range(2 * 365 * 48):
            instant = EPOCH + timedelta(minutes=30 * step)
            offset = instant.astimezone(zone).utcoffset()
            if offset != previous:
                found.append(instant)
            previous = offset
    return found


def test_the_zones_have_transitions_to_test() -> None:
    assert len(transitions()) >= 20


minutes = st.one_of(st.sampled_from([0, 15, 30, 45]), st.integers(0, 59))
wall_times = st.builds(time, st.integers(0, 23), minutes)
instants = st.one_of(
    st.integers(0, TWO_YEARS).map(lambda s: EPOCH + timedelta(seconds=s)),
    st.builds(
        lambda t, s: t + timedelta(seconds=s),
        st.sampled_from(transitions()),
        st.integers(-3 * 86400, 3 * 86400),
    ),
)
interval_presets = st.sampled_from(
    sorted({m for presets in INTERVAL_PRESETS_MINUTES.values() for m in presets})
)
preset_schedules: st.SearchStrategy[Schedule] = st.one_of(
    interval_presets.map(Interval),
    st.sampled_from(TIMES_PER_DAY_PRESETS[ReminderKind.STRETCH]).map(TimesPerDay),
)
schedules: st.SearchStrategy[Schedule] = st.one_of(
    preset_schedules,
    st.integers(5, 24 * 60).map(Interval),
    st.integers(1, 24).map(TimesPerDay),
    st.lists(wall_times, min_size=1, max_size=6).map(lambda ts: FixedTimes(tuple(ts))),
)


@st.composite
def user_prefs(draw: st.DrawFn, *, near: datetime | None = None) -> UserPrefs:
    pause = None
    if near is not None and draw(st.booleans()):
        pause = draw(
            st.one_of(
                st.just(Pause()),
                st.integers(-86400, 3 * 86400).map(lambda s: Pause(near + timedelta(seconds=s))),
            )
        )
    return UserPrefs(
        user_id=draw(st.integers(1, 10**10)),
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        active_hours=draw(st.builds(ActiveHours, wall_times, wall_times)),
        weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        pause=pause,
    )


@st.composite
def cases(
    draw: st.DrawFn, schedule_strategy: st.SearchStrategy[Schedule] = schedules
) -> tuple[ReminderRule, UserPrefs, datetime]:
    start = draw(instants)
    rule = ReminderRule(draw(st.sampled_from(ReminderKind)), draw(schedule_strategy))
    return rule, draw(user_prefs(near=start)), start


def expected_per_window(rule: ReminderRule, prefs: UserPrefs) -> int:
    match rule.schedule:
        case Interval(minutes=m):
            return -(-prefs.active_hours.length // timedelta(minutes=m))
        case TimesPerDay(count=count):
            return count
        case FixedTimes(times=times):
            return len(times)


@settings(deadline=None)
@given(cases())
def test_due_instants_are_active_increasing_and_bounded_per_window(
    case: tuple[ReminderRule, UserPrefs, datetime],
) -> None:
    rule, prefs, start = case
    due = list(due_between(rule, prefs, start, start + SPAN))
    assert all(start <= instant < start + SPAN for instant in due)
    assert all(a < b for a, b in itertools.pairwise(due))
    for instant in due:
        assert is_active(instant, prefs)
        assert not is_quiet(instant, prefs)
    per_window = Counter(window.day for i in due if (window := window_at(i, prefs)))
    assert max(per_window.values(), default=0) <= expected_per_window(rule, prefs)


@settings(deadline=None)
@given(cases())
def test_next_due_chain_matches_due_between(
    case: tuple[ReminderRule, UserPrefs, datetime],
) -> None:
    rule, prefs, start = case
    expected = [i for i in due_between(rule, prefs, start, start + SPAN) if i > start]
    chain: list[datetime] = []
    cursor = start
    while (following := next_due(rule, prefs, cursor)) is not None and following < start + SPAN:
        assert following > cursor
        chain.append(following)
        cursor = following
    assert chain == expected


@settings(deadline=None)
@given(cases(preset_schedules))
def test_presets_never_fire_closer_than_half_their_spacing(
    case: tuple[ReminderRule, UserPrefs, datetime],
) -> None:
    rule, prefs, start = case
    length = prefs.active_hours.length
    match rule.schedule:
        case Interval(minutes=m):
            spacing = timedelta(minutes=m)
        case TimesPerDay(count=count):
            if length < timedelta(hours=8):
                return  # narrow windows squeeze a 1-hour DST gap into their slots
            spacing = length / count
        case FixedTimes():
            return
    due = list(due_between(rule, prefs, start, start + SPAN))
    assert all(b - a >= spacing / 2 for a, b in itertools.pairwise(due))


@settings(deadline=None)
@given(user_prefs(), instants)
def test_next_active_instant_is_the_first_active_one(prefs: UserPrefs, start: datetime) -> None:
    found = next_active_instant(start, prefs)
    assert found is not None  # no pause drawn without a start, weekdays non-empty
    assert found >= start
    assert is_active(found, prefs)
    if found > start:
        assert not is_active(found - timedelta(seconds=1), prefs)
        assert not is_active(start, prefs)


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), wall_times, st.sampled_from(ZONES))
def test_resolve_local_is_the_first_instant_at_or_after_the_wall_time(
    day: date, wall: time, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    naive = datetime.combine(day, wall)
    instant = resolve_local(day, wall, zone)
    assert instant.tzinfo is UTC

    def wall_of(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(tzinfo=None)

    assert wall_of(instant) >= naive
    assert wall_of(instant - timedelta(seconds=1)) < naive
