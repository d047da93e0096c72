"""Reminder planning: tables of DST days, windows, weekdays, pauses and offsets."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.planning import (
    MAX_USER_OFFSET,
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
    user_offset,
    window_on,
)

ZERO_OFFSET_USER = 299  # user_offset(299) == 0, so tables read as plain wall-clock times
OFFSET_USER = 1  # user_offset(1) == 3 min 50 s, pinned below
ALL_DAY = ActiveHours(time(0), time(0))
DAYTIME = ActiveHours(time(8), time(21))
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def prefs(
    zone: str,
    hours: ActiveHours = ALL_DAY,
    *,
    weekdays: frozenset[int] = frozenset(range(7)),
    pause: Pause | None = None,
    user_id: int = ZERO_OFFSET_USER,
) -> UserPrefs:
    return UserPrefs(
        user_id=user_id,
        zone=ZoneInfo(zone),
        active_hours=hours,
        weekdays=weekdays,
        pause=pause,
    )


def rule(schedule: Schedule, kind: ReminderKind = ReminderKind.HYDRATION) -> ReminderRule:
    return ReminderRule(kind=kind, schedule=schedule)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def on_day(r: ReminderRule, p: UserPrefs, day: date) -> list[datetime]:
    """Everything due in the window that starts on ``day``."""
    window = window_on(day, p)
    return list(due_between(r, p, window.start, window.end))


def walls(instants: list[datetime], zone: str) -> list[str]:
    return [i.astimezone(ZoneInfo(zone)).strftime("%a %H:%M:%S") for i in instants]


# --- local time to instant -------------------------------------------------------------

# (zone, local date, wall time, the one instant it fires at)
FIXED_TIME_ON_DST_DAYS = [
    # New York: spring forward 02:00 EST -> 03:00 EDT; fall back 02:00 EDT -> 01:00 EST
    ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),  # gap: 03:00
    ("America/New_York", date(2026, 3, 8), time(1, 30), utc(2026, 3, 8, 6, 30)),
    ("America/New_York", date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),
    ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # EDT one
    ("America/New_York", date(2026, 11, 1), time(2, 30), utc(2026, 11, 1, 7, 30)),
    ("America/New_York", date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 0)),
    ("America/New_York", date(2027, 11, 7), time(1, 30), utc(2027, 11, 7, 5, 30)),
    # London: 01:00 GMT -> 02:00 BST; 02:00 BST -> 01:00 GMT
    ("Europe/London", date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1, 0)),  # gap: 02:00
    ("Europe/London", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30)),
    ("Europe/London", date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30)),  # BST one
    ("Europe/London", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 2, 30)),
    ("Europe/London", date(2027, 3, 28), time(1, 30), utc(2027, 3, 28, 1, 0)),
    ("Europe/London", date(2027, 10, 31), time(1, 30), utc(2027, 10, 31, 0, 30)),
    # Sydney (southern hemisphere): 03:00 AEDT -> 02:00 AEST in April, 02:00 -> 03:00 in Oct
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30)),  # AEDT one
    ("Australia/Sydney", date(2026, 4, 5), time(1, 30), utc(2026, 4, 4, 14, 30)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16, 0)),  # gap: 03:00
    ("Australia/Sydney", date(2026, 10, 4), time(1, 30), utc(2026, 10, 3, 15, 30)),
    ("Australia/Sydney", date(2027, 4, 4), time(2, 30), utc(2027, 4, 3, 15, 30)),
    ("Australia/Sydney", date(2027, 10, 3), time(2, 30), utc(2027, 10, 2, 16, 0)),
    # Istanbul: UTC+3 all year, Europe's DST days are ordinary days
    ("Europe/Istanbul", date(2026, 3, 29), time(2, 30), utc(2026, 3, 28, 23, 30)),
    ("Europe/Istanbul", date(2026, 10, 25), time(1, 30), utc(2026, 10, 24, 22, 30)),
    ("Europe/Istanbul", date(2027, 3, 28), time(2, 30), utc(2027, 3, 27, 23, 30)),
    ("Europe/Istanbul", date(2027, 10, 31), time(1, 30), utc(2027, 10, 30, 22, 30)),
]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), FIXED_TIME_ON_DST_DAYS)
def test_resolve_local_on_dst_days(zone: str, day: date, wall: time, expected: datetime) -> None:
    assert resolve_local(day, wall, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), FIXED_TIME_ON_DST_DAYS)
def test_fixed_time_fires_exactly_once_on_dst_days(
    zone: str, day: date, wall: time, expected: datetime
) -> None:
    p = prefs(zone)
    r = rule(FixedTimes((wall,)))
    assert on_day(r, p, day) == [expected]
    assert next_due(r, p, expected - timedelta(hours=20)) == expected
    assert next_due(r, p, expected) != expected


# --- interval grids on DST days --------------------------------------------------------

# (zone, date, interval minutes, wall slots that fire, in order)
HOURLY = [f"{h:02}:00:00" for h in range(24)]
HALF_HOURLY = [f"{h:02}:{m:02}:00" for h in range(24) for m in (0, 30)]


def _weekday_walls(day: date, slots: list[str]) -> list[str]:
    name = day.strftime("%a")
    return [f"{name} {slot}" for slot in slots]


GRID_ON_DST_DAYS = [
    ("Europe/Istanbul", date(2026, 3, 29), 60, HOURLY),
    ("Europe/London", date(2026, 3, 29), 60, [s for s in HOURLY if s != "01:00:00"]),
    ("Europe/London", date(2026, 10, 25), 60, HOURLY),
    ("America/New_York", date(2026, 3, 8), 60, [s for s in HOURLY if s != "02:00:00"]),
    ("America/New_York", date(2026, 11, 1), 60, HOURLY),
    ("America/New_York", date(2027, 3, 14), 30, [s for s in HALF_HOURLY if s[:2] != "02"]),
    ("America/New_York", date(2027, 11, 7), 30, HALF_HOURLY),
    ("Australia/Sydney", date(2026, 4, 5), 60, HOURLY),
    ("Australia/Sydney", date(2026, 10, 4), 60, [s for s in HOURLY if s != "02:00:00"]),
    ("Australia/Sydney", date(2027, 10, 3), 180, ["00:00:00", *HOURLY[3::3]]),
]


@pytest.mark.parametrize(("zone", "day", "minutes", "expected"), GRID_ON_DST_DAYS)
def test_interval_grid_is_wall_clock_anchored_on_dst_days(
    zone: str, day: date, minutes: int, expected: list[str]
) -> None:
    due = on_day(rule(Interval(minutes)), prefs(zone), day)
    assert walls(due, zone) == _weekday_walls(day, expected)
    assert len(set(due)) == len(due)


def test_fall_back_hour_fires_once_then_waits_the_real_extra_hour() -> None:
    zone = "America/New_York"
    due = on_day(rule(Interval(60)), prefs(zone), date(2026, 11, 1))
    one_am = due[1]
    assert one_am == utc(2026, 11, 1, 5, 0)  # 01:00 EDT, the first 01:00
    assert due[2] - one_am == timedelta(hours=2)  # 02:00 EST; the repeated 01:00 is skipped


def test_grid_slot_in_gap_moves_to_transition_when_the_grid_is_sparse() -> None:
    # Every 3 h from 02:00: 02:00 does not exist on spring-forward day, the next slot is
    # 05:00, so the reminder moves to 03:00 EDT instead of being lost.
    p = prefs("America/New_York", ActiveHours(time(2), time(2)))
    due = on_day(rule(Interval(180)), p, date(2026, 3, 8))
    assert walls(due[:2], "America/New_York") == ["Sun 03:00:00", "Sun 05:00:00"]


def test_grid_slot_in_gap_is_absorbed_next_to_a_regular_slot() -> None:
    # Posture every 30 min with an offset: 02:03:50 and 02:33:50 do not exist; firing them
    # at 03:00 would be followed by 03:03:50, so they are absorbed.
    p = prefs("America/New_York", user_id=OFFSET_USER)
    due = on_day(rule(Interval(30), ReminderKind.POSTURE), p, date(2026, 3, 8))
    assert walls(due[3:6], "America/New_York") == [
        "Sun 01:33:50",
        "Sun 03:03:50",
        "Sun 03:33:50",
    ]
    assert min(b - a for a, b in itertools.pairwise(due)) == timedelta(minutes=30)


# --- schedules inside active hours -----------------------------------------------------

SCHEDULES_IN_DAYTIME = [
    (Interval(60), [f"{h:02}:00:00" for h in range(8, 21)]),
    (
        Interval(120),
        ["08:00:00", "10:00:00", "12:00:00", "14:00:00", "16:00:00", "18:00:00", "20:00:00"],
    ),
    (Interval(180), ["08:00:00", "11:00:00", "14:00:00", "17:00:00", "20:00:00"]),
    (Interval(45), [f"{(8 * 60 + 45 * k) // 60:02}:{(45 * k) % 60:02}:00" for k in range(18)]),
    (TimesPerDay(2), ["11:15:00", "17:45:00"]),
    (TimesPerDay(3), ["10:10:00", "14:30:00", "18:50:00"]),
    (TimesPerDay(4), ["09:37:00", "12:52:00", "16:07:00", "19:22:00"]),
    (FixedTimes((time(21), time(7, 59), time(12, 30), time(8))), ["08:00:00", "12:30:00"]),
]


@pytest.mark.parametrize(("schedule", "expected"), SCHEDULES_IN_DAYTIME)
def test_schedules_in_daytime_window(schedule: Schedule, expected: list[str]) -> None:
    day = date(2026, 6, 3)
    due = on_day(rule(schedule), prefs("Europe/Istanbul", DAYTIME), day)
    assert walls(due, "Europe/Istanbul") == _weekday_walls(day, expected)


def test_offset_shifts_the_grid_and_never_leaves_the_window() -> None:
    day = date(2026, 6, 3)
    p = prefs("Europe/Istanbul", ActiveHours(time(8), time(20, 2)), user_id=OFFSET_USER)
    due = on_day(rule(Interval(60)), p, day)
    expected = [f"{h:02}:03:50" for h in range(8, 20)] + ["20:00:00"]  # 20:03:50 is too late
    assert walls(due, "Europe/Istanbul") == _weekday_walls(day, expected)


def test_crossing_midnight_slots_belong_to_the_day_the_window_started() -> None:
    # Only Friday allowed: Friday 22:00-02:00 fires into Saturday morning; Thursday's
    # window (which reaches into Friday morning) does not fire at all.
    zone = "Europe/Istanbul"
    p = prefs(zone, ActiveHours(time(22), time(2)), weekdays=frozenset({FRI}))
    start = datetime(2026, 6, 1, tzinfo=ZoneInfo(zone))  # a Monday
    due = list(due_between(rule(Interval(60)), p, start, start + timedelta(days=7)))
    assert walls(due, zone) == ["Fri 22:00:00", "Fri 23:00:00", "Sat 00:00:00", "Sat 01:00:00"]
    assert is_active(due[-1], p)
    assert not is_active(datetime(2026, 6, 5, 1, tzinfo=ZoneInfo(zone)), p)  # Thursday's
    assert not is_quiet(datetime(2026, 6, 5, 1, tzinfo=ZoneInfo(zone)), p)  # but not quiet


@pytest.mark.parametrize(
    ("day", "hours", "expected"),
    [
        # Saturday-night window over fall back: 01:00 once, the real window is 5 h long
        (date(2026, 10, 31), ActiveHours(time(22), time(2)), ["22", "23", "00", "01"]),
        # over spring forward: 02:00 does not exist and 03:00 is already the window's end
        (date(2026, 3, 7), ActiveHours(time(22), time(3)), ["22", "23", "00", "01"]),
    ],
)
def test_crossing_midnight_window_over_dst(
    day: date, hours: ActiveHours, expected: list[str]
) -> None:
    zone = "America/New_York"
    due = on_day(rule(Interval(60)), prefs(zone, hours), day)
    assert [i.astimezone(ZoneInfo(zone)).strftime("%H") for i in due] == expected


def test_fall_back_window_contains_the_repeated_hour() -> None:
    p = prefs("America/New_York", ActiveHours(time(22), time(2)))
    window = window_on(date(2026, 10, 31), p)
    assert window.end - window.start == timedelta(hours=5)
    assert is_active(utc(2026, 11, 1, 6, 30), p)  # 01:30 EST, the second 01:30
    assert is_quiet(utc(2026, 11, 1, 7, 0), p)  # 02:00 EST, window over


# --- weekdays, pause, quiet hours ------------------------------------------------------


def test_weekdays_filter_whole_windows() -> None:
    zone = "Europe/London"
    p = prefs(zone, DAYTIME, weekdays=frozenset({MON, WED}))
    start = datetime(2026, 6, 1, tzinfo=ZoneInfo(zone))  # Monday
    due = list(due_between(rule(TimesPerDay(2)), p, start, start + timedelta(days=14)))
    days = [i.astimezone(ZoneInfo(zone)).strftime("%a") for i in due]
    assert days == ["Mon", "Mon", "Wed", "Wed"] * 2


def test_no_weekdays_or_fixed_time_outside_window_never_fires() -> None:
    after = utc(2026, 6, 1)
    assert next_due(rule(Interval(60)), prefs("UTC", DAYTIME, weekdays=frozenset()), after) is None
    assert next_due(rule(FixedTimes((time(7),))), prefs("UTC", DAYTIME), after) is None
    assert next_active_instant(after, prefs("UTC", weekdays=frozenset())) is None


def test_pause_until_an_instant_and_resume() -> None:
    zone = ZoneInfo("Europe/Istanbul")
    r = rule(Interval(60))
    after = datetime(2026, 6, 1, 8, 30, tzinfo=zone)
    paused = prefs(
        "Europe/Istanbul", DAYTIME, pause=Pause(datetime(2026, 6, 1, 10, 30, tzinfo=zone))
    )
    assert next_due(r, paused, after) == datetime(2026, 6, 1, 11, tzinfo=zone)
    ends_on_slot = prefs(
        "Europe/Istanbul", DAYTIME, pause=Pause(datetime(2026, 6, 1, 11, tzinfo=zone))
    )
    assert next_due(r, ends_on_slot, after) == datetime(2026, 6, 1, 11, tzinfo=zone)
    assert not is_active(datetime(2026, 6, 1, 9, tzinfo=zone), paused)
    assert is_quiet(datetime(2026, 6, 1, 9, tzinfo=zone), paused) is False

    forever = prefs("Europe/Istanbul", DAYTIME, pause=Pause())
    assert next_due(r, forever, after) is None
    assert list(due_between(r, forever, after, after + timedelta(days=30))) == []
    assert next_active_instant(after, forever) is None

    resumed = prefs("Europe/Istanbul", DAYTIME)
    assert next_due(r, resumed, after) == datetime(2026, 6, 1, 9, tzinfo=zone)


def test_next_active_instant_skips_quiet_hours_weekends_and_pause() -> None:
    zone = ZoneInfo("Europe/Istanbul")
    weekdays = frozenset({MON, TUE, WED, THU, FRI})
    p = prefs("Europe/Istanbul", DAYTIME, weekdays=weekdays)
    friday_night = datetime(2026, 6, 5, 22, tzinfo=zone)
    monday_8 = datetime(2026, 6, 8, 8, tzinfo=zone)
    assert next_active_instant(friday_night, p) == monday_8
    inside = datetime(2026, 6, 5, 12, tzinfo=zone)
    assert next_active_instant(inside, p) == inside
    paused = prefs(
        "Europe/Istanbul", DAYTIME, weekdays=weekdays, pause=Pause(monday_8 + timedelta(hours=1))
    )
    assert next_active_instant(friday_night, paused) == monday_8 + timedelta(hours=1)


# --- per-user offset -------------------------------------------------------------------


def test_user_offset_is_pinned_stable_and_bounded() -> None:
    # Pinned: changing the derivation would move every user's reminders.
    assert user_offset(OFFSET_USER) == timedelta(minutes=3, seconds=50)
    assert user_offset(ZERO_OFFSET_USER) == timedelta(0)
    offsets = [user_offset(user_id) for user_id in range(1, 20_001)]
    assert offsets == [user_offset(user_id) for user_id in range(1, 20_001)]
    assert all(timedelta(0) <= o < MAX_USER_OFFSET for o in offsets)
    assert all(o.microseconds == 0 for o in offsets)
    # spread: every second of the range is used, no minute holds more than 30 %
    assert len(set(offsets)) == int(MAX_USER_OFFSET.total_seconds())
    per_minute = [sum(1 for o in offsets if o // timedelta(minutes=1) == m) for m in range(4)]
    assert max(per_minute) < 0.3 * len(offsets)


# --- validation ------------------------------------------------------------------------


def test_rules_and_prefs_are_validated() -> None:
    with pytest.raises(ValueError, match="interval"):
        Interval(4)
    with pytest.raises(ValueError, match="times per day"):
        TimesPerDay(0)
    with pytest.raises(ValueError, match="whole minutes"):
        FixedTimes((time(8, 0, 30),))
    with pytest.raises(ValueError, match="weekdays"):
        prefs("UTC", weekdays=frozenset({7}))
    with pytest.raises(ValueError, match="naive"):
        Pause(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    assert FixedTimes((time(9), time(8), time(9))).times == (time(8), time(9))
    assert ActiveHours(time(8), time(8)).all_day
    assert ActiveHours(time(22), time(2)).length == timedelta(hours=4)


def test_window_entirely_inside_a_dst_gap_is_empty_that_day_only() -> None:
    # 02:00-02:30 does not exist on spring-forward day in New York.
    p = prefs("America/New_York", ActiveHours(time(2), time(2, 30)))
    for schedule in (Interval(60), TimesPerDay(2), FixedTimes((time(2, 15),))):
        assert on_day(rule(schedule), p, date(2026, 3, 8)) == []
        assert len(on_day(rule(schedule), p, date(2026, 3, 9))) >= 1
