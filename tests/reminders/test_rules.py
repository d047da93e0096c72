"""Pure pieces: stored schedules, weekday masks, pause ends, wording of schedules."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.pack import load_pack
from handlers.reminders import describe_schedule, presets
from handlers.settings import describe_days, describe_hours
from scheduler.planning import (
    ActiveHours,
    FixedTimes,
    Interval,
    ReminderKind,
    Schedule,
    TimesPerDay,
    UserPrefs,
)
from scheduler.preferences import PauseChoice, pause_end
from scheduler.rules import (
    ScheduleFormatError,
    decode_schedule,
    encode_schedule,
    mask_from_weekdays,
    weekdays_from_mask,
)

PACK = load_pack()

schedules = st.one_of(
    st.builds(Interval, st.integers(5, 24 * 60)),
    st.builds(TimesPerDay, st.integers(1, 24)),
    st.builds(
        FixedTimes,
        st.lists(
            st.builds(time, st.integers(0, 23), st.integers(0, 59)), min_size=1, max_size=24
        ).map(tuple),
    ),
)


@given(schedules)
def test_every_schedule_survives_storage(schedule: Schedule) -> None:
    stored = encode_schedule(schedule)
    assert len(stored) <= 160
    assert decode_schedule(stored) == schedule


@pytest.mark.parametrize(
    "stored", ["", "interval:", "interval:2", "daily:0", "at:25:00", "at:", "weekly:1", "x"]
)
def test_unreadable_schedules_are_refused(stored: str) -> None:
    with pytest.raises(ScheduleFormatError):
        decode_schedule(stored)


@given(st.frozensets(st.integers(0, 6)))
def test_weekday_masks_round_trip(days: frozenset[int]) -> None:
    assert weekdays_from_mask(mask_from_weekdays(days)) == days


def prefs(zone: str, start: time, end: time) -> UserPrefs:
    return UserPrefs(user_id=299, zone=ZoneInfo(zone), active_hours=ActiveHours(start, end))


@pytest.mark.parametrize(
    ("choice", "now", "hours", "expected"),
    [
        # An hour is an hour, even across a DST change.
        (PauseChoice.HOUR, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), (8, 21), (3, 29, 2, 30)),
        # "Today": until tomorrow's hours begin (London, summer time).
        (PauseChoice.TODAY, datetime(2026, 6, 1, 12, 0, tzinfo=UTC), (8, 21), (6, 2, 8, 0)),
        # Before today's hours begin, "today" still means until tomorrow's.
        (PauseChoice.TODAY, datetime(2026, 6, 1, 5, 0, tzinfo=UTC), (8, 21), (6, 2, 8, 0)),
        # At 01:00 inside a 22:00-02:00 window that began yesterday: until tonight at 22:00.
        (PauseChoice.TODAY, datetime(2026, 6, 2, 0, 0, tzinfo=UTC), (22, 2), (6, 2, 22, 0)),
        (PauseChoice.THREE_DAYS, datetime(2026, 6, 1, 12, 0, tzinfo=UTC), (8, 21), (6, 4, 8, 0)),
        # A week that crosses the autumn change still resumes at 08:00 local.
        (PauseChoice.WEEK, datetime(2026, 10, 20, 12, 0, tzinfo=UTC), (8, 21), (10, 27, 8, 0)),
    ],
)
def test_pause_ends(
    choice: PauseChoice,
    now: datetime,
    hours: tuple[int, int],
    expected: tuple[int, int, int, int],
) -> None:
    london = ZoneInfo("Europe/London")
    end = pause_end(choice, now, prefs("Europe/London", time(hours[0]), time(hours[1])))
    month, day, hour, minute = expected
    local = end.astimezone(london)
    assert (local.month, local.day, local.hour, local.minute) == (month, day, hour, minute)
    assert end > now


def test_only_timed_pauses_have_an_end() -> None:
    with pytest.raises(ValueError, match="not a timed pause"):
        pause_end(
            PauseChoice.UNTIL_RESUMED,
            datetime(2026, 6, 1, tzinfo=UTC),
            prefs("UTC", time(8), time(21)),
        )


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_every_preset_and_schedule_has_words(lang: str) -> None:
    for kind in ReminderKind:
        for schedule in [*presets(kind), FixedTimes((time(8), time(12, 30)))]:
            assert describe_schedule(PACK, lang, schedule)
    assert describe_schedule(PACK, "en", Interval(120)) == "every 2 hours"
    assert describe_schedule(PACK, "tr", Interval(45)) == "45 dakikada bir"
    assert describe_schedule(PACK, "en", FixedTimes((time(8), time(12, 30)))) == "at 08:00, 12:30"


def test_days_and_hours_read_naturally() -> None:
    assert describe_days(PACK, "en", frozenset(range(7))) == "every day"
    assert describe_days(PACK, "tr", frozenset(range(5))) == "pazartesiden cumaya"
    assert describe_days(PACK, "en", frozenset({0, 2, 4})) == "Mon, Wed, Fri"
    assert describe_hours(PACK, "en", time(22), time(6)) == "22:00–06:00"
    assert describe_hours(PACK, "tr", time(0), time(0)) == "gün boyu"


def test_the_presets_are_the_ones_the_issue_names() -> None:
    assert presets(ReminderKind.HYDRATION) == [Interval(60), Interval(120), Interval(180)]
    assert presets(ReminderKind.POSTURE) == [Interval(30), Interval(45), Interval(60)]
    assert presets(ReminderKind.STRETCH) == [TimesPerDay(2), TimesPerDay(3), TimesPerDay(4)]
