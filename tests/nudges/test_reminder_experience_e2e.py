"""The reminder experience end to end: the real bot over the fake Bot API, the real
engine (materialiser, dispatcher, renderer, sender) stepped with the injected clock."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, time, timedelta

import matplotlib.image
from sqlalchemy import select

from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.nudge_models import CareFollowUp, NudgeTap
from bot.db.reminder_models import ReminderRule
from fakebot import ChatMessage, FakeUser
from scheduler.planning import (
    ActiveHours,
    Interval,
    ReminderKind,
    TimesPerDay,
    UserPrefs,
    due_between,
)
from scheduler.planning import ReminderRule as PlannedRule
from tests.nudges.support import ISTANBUL, EngineDriver
from tests.triage_bot.support import answer, cards, open_check

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GYM = (
    "No",
    "No",
    "No",
    "16 to 54",
    "Both legs",
    "Gradually, over days or weeks",
    "Back of the thigh",
    "Less than a week",
    "Dull ache, heavy or stiff",
    "New or harder exercise",
    "No, it looks normal",
    "No",  # varicose veins
    "No",  # numbness or weakness
)


def water(message: ChatMessage) -> bool:
    return message.text.startswith("💧 Water ·")


def stretch(message: ChatMessage) -> bool:
    return message.text.startswith("🤸 Stretch ·")


def journey(message: ChatMessage) -> bool:
    return message.text.startswith("🧳 Journey: hour")


def istanbul_prefs(user_id: int) -> UserPrefs:
    return UserPrefs(user_id=user_id, zone=ISTANBUL, active_hours=ActiveHours(time(8), time(21)))


async def in_istanbul(user: FakeUser) -> None:
    """/start, then the time zone from the settings screen."""
    await user.send("/start")
    await user.tap("⚙️ Settings")
    await user.tap("🕒 Time zone")
    await user.tap("Istanbul")


async def switch_on(user: FakeUser, kind: str, preset: str) -> None:
    """From the settings screen: Reminders, the kind, a preset."""
    await user.tap("⏰ Reminders")
    await user.tap(kind)
    await user.tap(preset)
    await user.tap("⬅️ Reminders")
    await user.tap("⚙️ Settings")


async def test_a_day_of_hourly_water_then_done_shows_in_stats_with_a_png_chart(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await in_istanbul(user)
    await switch_on(user, "💧 Water", "Every hour")
    start = clock.now()  # Monday 12:00 in Istanbul
    rule = PlannedRule(ReminderKind.HYDRATION, Interval(60))
    expected = list(
        due_between(rule, istanbul_prefs(user.user_id), start, start + timedelta(days=1))
    )

    await reminder_engine.run_for(timedelta(days=1))

    reminders = [m for m in user.messages if water(m)]
    assert len(expected) == 13  # Mon 12:00-20:00 and Tue 08:00-11:00, shifted by the user offset
    assert [e.astimezone(ISTANBUL).hour for e in expected] == [*range(12, 21), *range(8, 12)]
    assert len(reminders) == 13
    rows = [
        row
        for row in await reminder_engine.deliveries(user.user_id)
        if row.kind == "hydration" and row.scheduled_at < start + timedelta(days=1)
    ]  # (the next slot is already materialised, ten minutes ahead)
    assert [(row.scheduled_at, row.status, row.sends) for row in rows] == [
        (instant, "sent", 1) for instant in expected
    ]
    assert all(
        row.sent_at is not None
        and timedelta(0) <= row.sent_at - row.scheduled_at < timedelta(minutes=1)
        for row in rows
    )
    # Rotating: never the same tip twice in a row, every tip within four reminders.
    titles = [m.text.split("\n")[0] for m in reminders]
    assert all(a != b for a, b in itertools.pairwise(titles))
    assert len(set(titles[:4])) == 4
    # Every reminder has its buttons.
    assert reminders[0].buttons == [
        ["✅ Done", "⏭ Skip"],
        ["😴 15 min", "😴 1 hour"],
        ["⏸ Pause today"],
        ["🩺 My leg feels worse"],
    ]

    await user.tap("✅ Done", message=reminders[-1])
    assert "✅ Done. Well done!" in user.last_text
    assert user.buttons == [["🩺 My leg feels worse"]]
    await user.tap("⏭ Skip", message=reminders[-2])
    await user.send("/stats")
    figures = next(m.text for m in reversed(user.messages) if "Your reminders" in m.text)
    assert "💧 Water: ✅ 1 done · ⏭ 1 skipped · 😴 0 snoozed" in figures
    assert "🔥 Streak: 1 days in a row" in figures
    await user.wait_for(lambda m: m.kind == "photo")  # drawn in a worker thread
    (photo,) = user.photos
    assert photo.data.startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(io.BytesIO(photo.data), format="png")
    height, width = image.shape[:2]
    assert (width, height) == (640, 360)
    assert photo.caption == "Your last 7 days."


async def test_a_snooze_comes_back_and_the_regular_reminder_still_comes_on_time(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await in_istanbul(user)
    await switch_on(user, "💧 Water", "Every hour")
    rule = PlannedRule(ReminderKind.HYDRATION, Interval(60))
    first, second = list(
        due_between(
            rule, istanbul_prefs(user.user_id), clock.now(), clock.now() + timedelta(hours=2)
        )
    )
    await reminder_engine.run_until(first)
    reminder = next(m for m in reversed(user.messages) if water(m))
    snooze_data = next(
        button.callback_data
        for row in reminder.inline_keyboard
        for button in row
        if button.text == "😴 15 min"
    )
    snoozed_at = clock.now()
    await user.tap("😴 15 min", message=reminder)
    assert "Snoozed. I'll remind you again at Mon " in user.last_text
    assert snooze_data is not None
    await user.tap_data(snooze_data, message=reminder)  # a replay: nothing more happens

    await reminder_engine.run_until(second + timedelta(minutes=5))

    assert len([m for m in user.messages if water(m)]) == 3
    rows = [
        row
        for row in await reminder_engine.deliveries(user.user_id)
        if row.kind == "hydration" and row.scheduled_at <= second
    ]
    assert [(row.scheduled_at, row.status) for row in rows] == [
        (first, "sent"),
        (snoozed_at + timedelta(minutes=15), "sent"),
        (second, "sent"),  # the schedule did not move
    ]
    assert all(
        row.sent_at is not None and row.sent_at - row.scheduled_at < timedelta(minutes=1)
        for row in rows
    )
    async with bot.services.sessionmaker() as session:
        stored = await session.get(ReminderRule, (user.user_id, "hydration"))
        taps = list(await session.scalars(select(NudgeTap)))
    assert stored is not None
    assert stored.schedule == "interval:60"
    assert [(tap.action, tap.kind) for tap in taps] == [("snooze", "hydration")]


async def test_my_leg_feels_worse_opens_the_emergency_screen_and_stretches_pause(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await in_istanbul(user)
    await switch_on(user, "🤸 Stretching", "3× a day")
    await switch_on(user, "💧 Water", "Every 2 h")
    rule = PlannedRule(ReminderKind.STRETCH, TimesPerDay(3))
    first_stretch = next(
        iter(
            due_between(
                rule, istanbul_prefs(user.user_id), clock.now(), clock.now() + timedelta(days=1)
            )
        )
    )
    await reminder_engine.run_until(first_stretch)
    reminder = next(m for m in reversed(user.messages) if stretch(m))
    assert "⚠️ Don't do this if:" in reminder.text
    await user.tap("🩺 My leg feels worse", message=reminder)
    first = await user.wait_for(lambda m: m.text.startswith("Question 1"), after=reminder)
    assert "breath" in first.text.lower()  # the emergency screen, first question
    await answer(user, "Yes")  # suddenly short of breath: a clot may have moved
    await user.wait_for(lambda m: "Your result" in m.text)
    (card,) = cards(user)
    assert card.startswith("🚨 Call 999 now")
    result = next(m.text for m in reversed(user.messages) if "Your result" in m.text)
    assert "I've paused your stretch reminders" in result
    assert "I'll check in at Mon " in result

    stretches_before = len([m for m in user.messages if stretch(m)])
    waters_before = len([m for m in user.messages if water(m)])
    await reminder_engine.run_for(timedelta(days=1), step=timedelta(minutes=5))

    assert len([m for m in user.messages if stretch(m)]) == stretches_before
    assert len([m for m in user.messages if water(m)]) > waters_before
    held = [
        row
        for row in await reminder_engine.deliveries(user.user_id)
        if row.kind == "stretch" and row.reason == "care_hold"
    ]
    assert len(held) == 3
    assert {row.status for row in held} == {"expired"}
    seen = next(m for m in user.messages if "Were you able to be seen?" in m.text)
    assert "Call 999 now" in seen.text  # where to go, repeated
    assert seen.buttons == [["✅ Yes, I was seen"], ["⏳ Not yet"], ["👎 Worse"]]


async def test_a_self_care_result_is_followed_up_after_48_hours_and_worse_reenters_the_screen(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await open_check(user)
    await answer(user, *GYM)
    await user.wait_for(lambda m: "Your result" in m.text)
    result = next(m.text for m in reversed(user.messages) if "Your result" in m.text)
    assert "🏠 You can look after this yourself" in result
    assert "I'll ask how your leg is on Wed 10:00." in result  # London, 48 hours on
    async with bot.services.sessionmaker() as session:
        (promised,) = list(await session.scalars(select(CareFollowUp)))
    assert (promised.level, promised.due_at) == ("SELF_CARE", clock.now() + timedelta(hours=48))

    await reminder_engine.run_for(timedelta(hours=49), step=timedelta(minutes=10))

    asked = [m for m in user.messages if "How is your leg now?" in m.text]
    assert len(asked) == 1
    assert asked[0].buttons == [["👍 Better"], ["➖ The same"], ["👎 Worse"]]
    (row,) = [
        r for r in await reminder_engine.deliveries(user.user_id) if r.kind.startswith("fu:")
    ]
    assert (row.status, row.sends) == ("sent", 1)
    await user.tap("👎 Worse", message=asked[0])
    await user.wait_for(lambda m: m.text.startswith("Question 1"), after=asked[0])
    async with bot.services.sessionmaker() as session:
        assert list(await session.scalars(select(CareFollowUp))) == []


async def test_a_six_hour_journey_nudges_hourly_within_active_hours_and_stops_by_itself(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await in_istanbul(user)
    clock.set(datetime(2026, 6, 1, 17, 30, tzinfo=ISTANBUL))
    await user.send("/travel")
    await user.tap("6 h")
    assert "A quick clot check before you go" in user.last_text
    await user.tap("None of these")
    assert "Journey mode is on until Mon 23:30. 3 nudges" in user.last_text
    start = clock.now()

    await reminder_engine.run_for(timedelta(hours=40), step=timedelta(minutes=5))

    nudges = [m for m in user.messages if journey(m)]
    assert [m.text.split("\n")[0] for m in nudges] == [
        "🧳 Journey: hour 1",
        "🧳 Journey: hour 2",
        "🧳 Journey: hour 3",
    ]
    rows = [r for r in await reminder_engine.deliveries(user.user_id) if r.kind.startswith("tn:")]
    assert [r.scheduled_at for r in rows] == [start + timedelta(hours=k) for k in (1, 2, 3)]
    assert {r.status for r in rows} == {"sent"}
    (offer,) = [m for m in user.messages if "How are your legs after your journey?" in m.text]
    (offer_row,) = [
        r for r in await reminder_engine.deliveries(user.user_id) if r.kind.startswith("tc:")
    ]
    assert offer_row.scheduled_at == datetime(2026, 6, 3, 8, 0, tzinfo=ISTANBUL)
    assert offer.buttons == [["🩺 Start a symptom check"], ["👍 My legs are fine"]]
    await user.tap("🩺 Start a symptom check", message=offer)
    await user.wait_for(lambda m: m.text.startswith("Question 1"), after=offer)


async def test_i_have_arrived_stops_the_journey_nudges_and_a_replay_changes_nothing(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock, reminder_engine: EngineDriver
) -> None:
    await in_istanbul(user)
    await user.send("/travel")
    await user.tap("4 h")
    await user.tap("Not sure")
    assert "ask a pharmacist or doctor before you go" in user.last_text
    assert "call 999 at once if you get sudden breathlessness" in user.last_text
    await reminder_engine.run_for(timedelta(hours=1, minutes=5), step=timedelta(minutes=5))
    (nudge,) = [m for m in user.messages if journey(m)]
    arrived = nudge.inline_keyboard[0][0].callback_data
    assert arrived is not None
    await user.tap("🏁 I've arrived", message=nudge)
    assert "Journey nudges are off." in user.last_text
    await user.tap_data(arrived, message=nudge)  # a replay deletes nothing more
    await reminder_engine.run_for(timedelta(hours=4), step=timedelta(minutes=10))
    assert [m for m in user.messages if journey(m)] == []  # the one nudge now says "arrived"
    rows = await reminder_engine.deliveries(user.user_id)
    assert [(r.kind[:3], r.status) for r in rows] == [("tn:", "sent"), ("tc:", "pending")]
