"""Announcements: users opt in from Settings; the owner writes, previews and confirms;
the reminder engine's dispatcher delivers, in each user's language and hours."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.admin import announcements
from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.models import Preferences, User
from bot.db.reminder_models import ReminderDelivery
from fakebot import FakeBotApi, FakeUser

NEWS_EN = "<b>New:</b> LegCare now explains every question. Tap ❓ to see why we ask."
NEWS_TR = (
    "<b>Yeni:</b> LegCare artık her sorunun nedenini açıklıyor. Görmek için ❓ simgesine dokun."
)


async def opt_in(user: FakeUser, settings: str, news: str, switch: str) -> None:
    await user.send("/start")
    await user.send("/settings")
    await user.tap(news)
    await user.wait_for(lambda m: any(switch in row for row in m.buttons))
    await user.tap(switch)
    screen = await user.wait_for(lambda m: "📣" in m.text and m.buttons[-1:] == [[settings]])
    assert switch not in str(screen.buttons)


async def move_clock_until(clock: ManualClock, done: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not done():
        assert loop.time() < deadline, "not delivered within 15 s"
        await clock.advance(timedelta(seconds=1))
        await asyncio.sleep(0.1)


async def test_an_announcement_reaches_exactly_the_users_who_opted_in(
    bot: LegCareApplication,
    fake_api: FakeBotApi,
    owner: FakeUser,
    user: FakeUser,
    clock: ManualClock,
) -> None:
    ayse = fake_api.user(user_id=2002, first_name="Ayşe", language_code="tr")
    bob = fake_api.user(user_id=2003, first_name="Bob", language_code="en")
    await opt_in(user, "⬅️ Settings", "📣 News", "✅ Send me news")
    assert "News: on" in user.last_text
    await opt_in(ayse, "⬅️ Ayarlar", "📣 Haberler", "✅ Bana haber gönder")
    await bob.send("/start")

    await owner.send("/start")
    await owner.send("/announce")
    assert "2 users who opted in" in owner.texts[-2]
    await owner.send(NEWS_EN, reply_to=owner.last_message)
    assert "Announcement preview" in owner.last_text
    assert "Türkçe: no text yet; these users get the English text." in owner.last_text
    await owner.tap("✏️ Türkçe")
    prompt = await owner.wait_for(lambda m: "announcement in Türkçe" in m.text)
    await owner.send(NEWS_TR, reply_to=prompt)
    preview = owner.last_text
    assert "New: LegCare now explains every question" in preview
    assert "Yeni: LegCare artık" in preview
    await owner.tap("📣 Send to 2 users…")
    await owner.wait_for(lambda m: "cannot be taken back" in m.text)
    assert user.texts[-1] != NEWS_EN  # nothing is sent before the owner confirms
    await owner.tap("✅ Yes, send it now")
    await owner.wait_for(lambda m: "Queued for 2 users" in m.text)

    # The dispatch job runs every 2 s of real time; the rate limiter (1 message a second
    # per chat, 25 in all) waits on the bot's clock, which the test moves.
    def delivered() -> bool:
        return any("LegCare now explains" in t for t in user.texts) and any(
            "her sorunun nedenini" in t for t in ayse.texts
        )

    await move_clock_until(clock, delivered)
    got = await user.wait_for(lambda m: "LegCare now explains" in m.text)
    assert got.html == NEWS_EN
    # The outcome is recorded just after Telegram accepts the message, so the user can
    # see it a moment before its row says "sent".
    statuses: list[tuple[int, str, str]] = []
    deadline = asyncio.get_running_loop().time() + 15
    while asyncio.get_running_loop().time() < deadline:
        async with bot.services.sessionmaker() as session:
            rows = list(await session.scalars(select(ReminderDelivery)))
        statuses = sorted((r.user_id, r.kind, r.status) for r in rows)
        if all(status != "claimed" for _, _, status in statuses):
            break
        await asyncio.sleep(0.05)
    assert statuses == [
        (user.user_id, "news:1", "sent"),
        (ayse.user_id, "news:1", "sent"),
    ]
    assert not any("LegCare now explains" in text for text in bob.texts)
    await owner.send("/admin_stats")
    assert "Opted in to announcements: 2" in owner.last_text


async def test_opting_out_and_quiet_hours(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock
) -> None:
    await opt_in(user, "⬅️ Settings", "📣 News", "✅ Send me news")
    await user.tap("🔕 No news, thanks")
    await user.wait_for(lambda m: "News: off" in m.text)
    sessionmaker = bot.services.sessionmaker
    async with sessionmaker.begin() as session:
        assert not await announcements.opted_in(session, user.user_id)
        await announcements.set_opt_in(session, user.user_id, True, now=clock.now())
        prefs = await session.get(Preferences, user.user_id)
        stored = await session.get(User, user.user_id)
        assert stored is not None
        stored.timezone = "Europe/Istanbul"
        if prefs is None:
            prefs = Preferences(user_id=user.user_id)
            session.add(prefs)
        prefs.active_from, prefs.active_until = time(22, 0), time(23, 0)
        prefs.paused_indefinitely = True
    night = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 12:00 in Istanbul
    async with sessionmaker.begin() as session:
        await announcements.start(session, 9001, now=night)
        assert await announcements.set_text(session, 9001, "en", "<b>unclosed") != []
        assert await announcements.set_text(session, 9001, "en", "Hello") == []
        assert (
            await announcements.send(
                session, 9001, now=night, default_zone=ZoneInfo("Europe/London")
            )
            == 1
        )
    async with sessionmaker() as session:
        [row] = list(await session.scalars(select(ReminderDelivery)))
    # Not at noon: at 22:00 Istanbul time, the start of the user's hours (even paused).
    assert row.available_at == datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
