"""Consent, /history, the privacy screen and deleting data, end to end; and admin previews."""

from __future__ import annotations

from bot.context import LegCareApplication
from bot.db.models import User
from content.live import ContentVersion
from fakebot import FakeUser
from tests.triage_bot.support import (
    NO_RED_FLAGS,
    answer,
    open_check,
    records,
    stored_check,
    stored_session,
)
from tests.triage_bot.test_check_e2e import GYM


async def _finish_gym_check(user: FakeUser, *, asked_to_keep: bool = True) -> None:
    await open_check(user)
    await answer(user, *GYM)
    if asked_to_keep:
        # The question is its own message after the result; wait for it rather than
        # assume it came within the result's quiet period (busy machines).
        await user.wait_for(
            lambda message: any(
                button.text == "✖️ No, thanks" for row in message.inline_keyboard for button in row
            )
        )


async def test_agreeing_keeps_checks_that_history_lists_summarises_and_deletes(
    user: FakeUser, bot: LegCareApplication
) -> None:
    sessionmaker = bot.services.sessionmaker
    await _finish_gym_check(user)
    assert await records(sessionmaker, user.user_id) == []  # nothing kept before consent
    await user.tap("✅ Yes, keep my checks")
    assert "Your checks will be kept" in user.last_text
    (kept,) = await records(sessionmaker, user.user_id)
    assert kept.disposition == "SELF_CARE"

    # The next check is kept without asking again.
    await _finish_gym_check(user, asked_to_keep=False)
    assert "Keep your checks?" not in user.last_text
    assert len(await records(sessionmaker, user.user_id)) == 2

    await user.send("/history")
    history = user.last_message
    lines = history.text.splitlines()
    assert lines[0] == "📜 Your past checks"
    # 09:00 UTC on 1 June is 10:00 in London, the default time zone.
    assert lines[1:3] == [
        "1. 2026-06-01 10:00: 🏠 You can look after this yourself",
        "2. 2026-06-01 10:00: 🏠 You can look after this yourself",
    ]
    assert user.buttons[:2] == [["📝 1", "🗑 1"], ["📝 2", "🗑 2"]]
    (summary,) = await user.tap("📝 1")
    assert summary.parse_mode is None
    assert "New or harder exercise" in summary.text
    (edited,) = await user.tap("🗑 1", message=history)
    assert edited.message_id == history.message_id
    assert edited.text.startswith("Check deleted.\n📜 Your past checks\n1. ")
    assert edited.buttons[0] == ["📝 1", "🗑 1"]
    assert len(await records(sessionmaker, user.user_id)) == 1


async def test_declining_keeps_nothing_and_history_says_so(
    user: FakeUser, bot: LegCareApplication
) -> None:
    await _finish_gym_check(user)
    await user.tap("✖️ No, thanks")
    await _finish_gym_check(user, asked_to_keep=False)
    assert "Keep your checks?" not in user.last_text  # asked once
    assert await records(bot.services.sessionmaker, user.user_id) == []
    await user.send("/history")
    assert "LegCare does not keep your checks" in user.last_text


async def test_the_privacy_screen_in_settings_switches_keeping_off_and_deletes(
    user: FakeUser, bot: LegCareApplication
) -> None:
    sessionmaker = bot.services.sessionmaker
    await _finish_gym_check(user)
    await user.tap("✅ Yes, keep my checks")
    await user.send("/settings")
    await user.tap("🔒 Privacy")
    assert "Your symptom checks are kept (1 saved)" in user.last_text
    assert "never stores your name" in user.last_text
    await user.tap("🚫 Stop keeping them (deletes them)")
    assert "Your symptom checks are not kept" in user.last_text
    assert await records(sessionmaker, user.user_id) == []
    await user.tap("✅ Keep my checks")
    assert "Your symptom checks are kept (0 saved)" in user.last_text
    await user.tap("⬅️ Settings")
    assert user.last_text.startswith("⚙️ Settings")


async def test_deleting_all_data_asks_first_then_forgets_the_user(
    user: FakeUser, bot: LegCareApplication
) -> None:
    sessionmaker = bot.services.sessionmaker
    await _finish_gym_check(user)
    await user.tap("✅ Yes, keep my checks")
    await user.send("/privacy")
    await user.tap("🗑 Delete all my data")
    assert "Delete all your data?" in user.last_text
    await user.tap("✖️ Cancel")
    assert "🔒 Privacy" in user.last_text
    await user.tap("🗑 Delete all my data")
    await user.tap("🗑 Yes, delete everything")
    assert "All your data has been deleted" in user.last_text
    assert user.last_message.inline_keyboard == []
    async with sessionmaker() as db:
        assert await db.get(User, user.user_id) is None
    assert await stored_check(sessionmaker, user.user_id) is None
    assert await records(sessionmaker, user.user_id) == []
    await user.send("/start")  # and LegCare starts afresh
    assert user.last_text == "What would you like to do?"


async def test_an_admin_previewing_a_draft_runs_the_check_on_the_draft(
    user: FakeUser, bot: LegCareApplication
) -> None:
    live = bot.services.content
    texts = {lang: dict(table) for lang, table in live.pack.texts.items()}
    texts["en"]["triage.q.limb.text"] = "DRAFT: has your leg suddenly gone cold or pale?"
    draft = live.pack.model_copy(update={"texts": texts})
    live.start_preview(user.user_id, ContentVersion("draft-42", draft))
    await open_check(user)
    await answer(user, "No")
    assert "DRAFT: has your leg" in user.last_text
    row = await stored_check(bot.services.sessionmaker, user.user_id)
    assert row is not None
    assert row.content_label == "draft-42"

    live.end_preview(user.user_id)
    await answer(user, "No")  # the draft's button still works: the check moves to live
    assert user.last_text.startswith("Question 3")
    row = await stored_check(bot.services.sessionmaker, user.user_id)
    assert row is not None
    assert row.content_label == "shipped"
    session = await stored_session(bot.services.sessionmaker, user.user_id)
    assert session is not None
    assert session.answers == (("breath", "n"), ("limb", "n"))
    await answer(user, NO_RED_FLAGS[2])


async def test_a_child_is_sent_to_a_doctor_and_not_asked_to_agree_to_anything(
    user: FakeUser,
) -> None:
    await open_check(user)
    await answer(user, *NO_RED_FLAGS, "Under 16")
    assert "Your result" in user.last_text
    assert "📅 Book an appointment" in user.last_text
    assert "Keep your checks?" not in user.last_text
