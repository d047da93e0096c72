"""The settings and reminders screens, driven as a user over the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.models import Preferences, User
from bot.db.reminder_models import ReminderDelivery, ReminderRule
from fakebot import FakeBotApi, FakeUser
from scheduler.materialise import materialise_due
from scheduler.planning import (
    ActiveHours,
    Interval,
    ReminderKind,
    UserPrefs,
    next_due,
)
from scheduler.planning import ReminderRule as PlannedRule


def labels(user: FakeUser) -> list[str]:
    """Every button label on the newest keyboard."""
    return [label for row in user.buttons for label in row]


async def rule_of(bot: LegCareApplication, user_id: int, kind: str) -> ReminderRule | None:
    async with bot.services.sessionmaker() as session:
        return await session.get(ReminderRule, (user_id, kind))


async def test_settings_show_what_the_user_has_and_change_it(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock
) -> None:
    await user.send("/start")
    await user.tap("⚙️ Settings")
    assert user.callback_answers, "the tap was answered"
    assert "Country: United Kingdom (emergency number 999)" in user.last_text
    assert "Time zone: Europe/London" in user.last_text
    await user.tap("🕒 Time zone")
    await user.tap("Istanbul")
    assert "Time zone: Europe/Istanbul (it is 12:00 there now)" in user.last_text
    await user.tap("🌍 Country")
    await user.tap("Türkiye")
    assert "Country: Türkiye (emergency number 112)" in user.last_text
    await user.tap("🌅 Reminder hours")
    await user.tap("07:00")
    assert "Until what time?" in user.last_text
    assert user.buttons[0][0] == "08:00"  # the end is after the start, then past midnight
    await user.tap("22:00")
    assert "Reminder hours: 07:00–22:00" in user.last_text
    await user.tap("📅 Reminder days")
    await user.tap("✅ Sun")
    assert "▫️ Sun" in labels(user)
    assert "Mon, Tue, Wed, Thu, Fri, Sat" in user.last_text
    await user.tap("Monday to Friday")
    await user.tap("✅ Done")
    assert "Reminder days: Monday to Friday" in user.last_text
    async with bot.services.sessionmaker() as session:
        stored = await session.get(User, user.user_id)
        prefs = await session.get(Preferences, user.user_id)
    assert stored is not None
    assert prefs is not None
    assert (stored.timezone, stored.country) == ("Europe/Istanbul", "TR")
    assert (prefs.active_from, prefs.active_until, prefs.weekdays) == (time(7), time(22), 0b11111)


async def test_enable_hydration_set_hours_pause_and_resume(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock
) -> None:
    await user.send("/start")
    await user.tap("⏰ Reminders")
    assert "💧 Water: off" in user.last_text
    await user.tap("💧 Water")
    await user.tap("Every 2 h")
    rule = await rule_of(bot, user.user_id, "hydration")
    assert rule is not None
    assert (rule.enabled, rule.schedule) == (True, "interval:120")
    prefs = UserPrefs(
        user_id=user.user_id,
        zone=ZoneInfo("Europe/London"),
        active_hours=ActiveHours(time(8), time(21)),
    )
    expected = next_due(PlannedRule(ReminderKind.HYDRATION, Interval(120)), prefs, clock.now())
    assert rule.next_due_at == expected
    assert expected is not None
    local = expected.astimezone(ZoneInfo("Europe/London"))
    assert f"On: every 2 hours. Next: Mon {local:%H:%M}." in user.last_text
    assert "✅ Every 2 h" in labels(user)

    # Narrow the hours: the plan moves at once.
    await user.tap("⬅️ Reminders")
    await user.tap("⚙️ Settings")
    await user.tap("🌅 Reminder hours")
    await user.tap("15:00")
    await user.tap("18:00")
    rule = await rule_of(bot, user.user_id, "hydration")
    assert rule is not None
    assert rule.next_due_at is not None
    assert rule.next_due_at.astimezone(ZoneInfo("Europe/London")).hour == 15

    await user.tap("⏰ Reminders")
    await user.tap("⏸ Pause")
    await user.tap("For today")
    assert "⏸ Paused until Tue 15:00." in user.last_text
    assert ["▶️ Resume"] in user.buttons
    rule = await rule_of(bot, user.user_id, "hydration")
    assert rule is not None
    assert rule.next_due_at is not None
    assert rule.next_due_at.astimezone(ZoneInfo("Europe/London")).strftime("%a %H") == "Tue 15"

    await user.tap("▶️ Resume")
    assert "Paused" not in user.last_text
    await user.tap("⏸ Pause")
    await user.tap("Until I resume")
    assert "⏸ Paused until you resume." in user.last_text
    rule = await rule_of(bot, user.user_id, "hydration")
    assert rule is not None
    assert rule.next_due_at is None
    await user.tap("▶️ Resume")
    rule = await rule_of(bot, user.user_id, "hydration")
    assert rule is not None
    assert rule.next_due_at is not None


async def test_fixed_times_are_toggled_and_the_last_one_is_kept(
    bot: LegCareApplication, user: FakeUser
) -> None:
    await user.send("/start")
    await user.tap("⏰ Reminders")
    await user.tap("🤸 Stretching")
    await user.tap("🕘 At fixed times…")
    await user.tap("10")
    await user.tap("17")
    assert {"✅ 10", "✅ 17", "11"} <= set(labels(user))
    await user.tap("✅ 10")
    await user.tap("✅ 17")  # the last one stays
    assert "Keep at least one time." in user.last_text
    rule = await rule_of(bot, user.user_id, "stretch")
    assert rule is not None
    assert (rule.enabled, rule.schedule) == (True, "at:17:00")
    await user.tap("✅ Done")
    assert "On: at 17:00." in user.last_text


async def test_a_shared_location_sets_the_time_zone(
    bot: LegCareApplication, user: FakeUser
) -> None:
    await user.send("/start")
    await user.tap("⚙️ Settings")
    await user.tap("🕒 Time zone")
    await user.tap("📍 Use my location")
    assert user.reply_keyboard == [["📍 Send my location"]]
    await user.send_location(40.71, -74.0)
    assert "Your time zone is now America/New_York." in user.texts[-2]
    assert "Time zone: America/New_York" in user.last_text
    await user.send_location(0.0, -30.0)  # mid-Atlantic: a nautical zone is still a zone
    assert "Etc/GMT+2" in user.last_text


async def test_language_switches_the_screens_to_turkish(
    bot: LegCareApplication, user: FakeUser
) -> None:
    await user.send("/start")
    await user.tap("⚙️ Settings")
    await user.tap("🗣 Language")
    await user.tap("Türkçe")
    assert "Dil: Türkçe" in user.last_text
    await user.tap("⏰ Hatırlatmalar")
    assert "💧 Su: kapalı" in user.last_text


async def test_a_due_reminder_reaches_the_user_through_the_jobs(
    bot: LegCareApplication, user: FakeUser, fake_api: FakeBotApi, clock: ManualClock
) -> None:
    await user.send("/start")
    await user.tap("⏰ Reminders")
    await user.tap("🧍 Posture")
    await user.tap("✅ Turn on")
    rule = await rule_of(bot, user.user_id, "posture")
    assert rule is not None
    assert rule.next_due_at is not None
    clock.set(rule.next_due_at + timedelta(seconds=1))
    services = bot.services
    await materialise_due(services.sessionmaker, clock, default_zone=ZoneInfo("Europe/London"))
    # The dispatch job runs every 2 seconds of real time.
    reminder = await user.wait_for(
        lambda message: message.text.startswith("🧍 Posture ·"), timeout=30
    )
    assert reminder.from_bot
    # The outcome is recorded in its own transaction right after Telegram answered.
    async with asyncio.timeout(30):
        while True:
            async with services.sessionmaker() as session:
                rows = list(await session.scalars(select(ReminderDelivery)))
            if rows and rows[0].status != "claimed":
                break
            await asyncio.sleep(0.02)
    assert [(row.kind, row.status, row.sends) for row in rows] == [("posture", "sent", 1)]
    assert len(fake_api.calls_to("sendMessage")) >= 1


async def wait_for_status(bot: LegCareApplication, status: str) -> list[ReminderDelivery]:
    """Every delivery, once the newest one has reached ``status`` (recorded after the send)."""
    async with asyncio.timeout(30):
        while True:
            async with bot.services.sessionmaker() as session:
                rows = list(
                    await session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id))
                )
            if rows and rows[-1].status == status:
                return rows
            await asyncio.sleep(0.02)


async def test_a_user_who_blocked_the_bot_gets_nothing_until_they_start_again(
    bot: LegCareApplication, user: FakeUser, fake_api: FakeBotApi, clock: ManualClock
) -> None:
    await user.send("/start")
    await user.tap("⏰ Reminders")
    await user.tap("🧍 Posture")
    await user.tap("Every 45 min")
    fake_api.block_user(user.user_id)
    rule = await rule_of(bot, user.user_id, "posture")
    assert rule is not None
    assert rule.next_due_at is not None
    clock.set(rule.next_due_at + timedelta(seconds=1))
    london = ZoneInfo("Europe/London")
    await materialise_due(bot.services.sessionmaker, clock, default_zone=london)
    (row,) = await wait_for_status(bot, "dead")  # Telegram answered 403
    assert row.reason == "blocked"
    assert row.last_error == "Forbidden: Forbidden: bot was blocked by the user"
    async with bot.services.sessionmaker() as session:
        stored = await session.get(User, user.user_id)
    assert stored is not None
    assert stored.blocked_at == clock.now()
    # Blocked: nothing more is planned for them, however much time passes.
    clock.set(clock.now() + timedelta(hours=2))
    await materialise_due(bot.services.sessionmaker, clock, default_zone=london)
    async with bot.services.sessionmaker() as session:
        assert len(list(await session.scalars(select(ReminderDelivery)))) == 1
    # Back with /start: reminders resume with the next slot; what was missed is recorded
    # (too late to be useful) and never sent as a backlog.
    fake_api.unblock_user(user.user_id)
    await user.send("/start")
    await materialise_due(bot.services.sessionmaker, clock, default_zone=london)
    rule = await rule_of(bot, user.user_id, "posture")
    assert rule is not None
    assert rule.next_due_at is not None
    clock.set(rule.next_due_at + timedelta(seconds=1))
    await materialise_due(bot.services.sessionmaker, clock, default_zone=london)
    reminder = await user.wait_for(
        lambda message: message.text.startswith("🧍 Posture ·"), timeout=30
    )
    assert reminder.from_bot
    rows = await wait_for_status(bot, "sent")
    assert [(row.status, row.reason) for row in rows] == [
        ("dead", "blocked"),
        *[("expired", "too_late")] * (len(rows) - 2),
        ("sent", None),
    ]


async def test_a_signed_but_outdated_button_gets_one_answer_and_a_fresh_menu(
    bot: LegCareApplication, user: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    await user.send("/start")
    codec = bot.services.codec
    for data in (
        codec.pack("r", "k", "walking", user_id=user.user_id),  # a kind we no longer have
        codec.pack("r", "iv", "hydration", "7", user_id=user.user_id),  # not a preset
        codec.pack("s", "hu", "9", user_id=user.user_id),  # the end hour is missing
        codec.pack("s", "cty", "XX", user_id=user.user_id),  # not a country we know
    ):
        answers = len(user.callback_answers)
        await user.tap_data(data)
        assert len(user.callback_answers) == answers + 1
        assert "This menu has expired" in user.last_text
        assert user.buttons[1] == ["⏰ Reminders"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
