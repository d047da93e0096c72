"""The running bot over real HTTP: greeting, menu, help, commands, bad input."""

from __future__ import annotations

import logging

import pytest

from bot.context import LegCareApplication
from fakebot import FakeBotApi, FakeUser

MAIN_MENU = [["🩺 Symptom check"], ["⏰ Reminders"], ["⚙️ Settings"], ["ℹ️ About / Help"]]


async def test_start_greets_with_a_disclaimer_and_the_main_menu(user: FakeUser) -> None:
    await user.send("/start")
    greeting, menu = user.texts[-2:]
    assert "Hello, I'm LegCare" in greeting
    assert "not a diagnosis" in greeting
    assert menu == "What would you like to do?"
    assert user.buttons == MAIN_MENU


async def test_a_menu_button_gets_an_answer_and_leads_back(user: FakeUser) -> None:
    await user.send("/start")
    await user.tap("ℹ️ About / Help")
    assert user.callback_answers, "the tap was not answered"
    assert "About LegCare" in user.last_text
    await user.tap("⬅️ Main menu")
    assert user.last_text == "What would you like to do?"
    assert user.buttons == MAIN_MENU


async def test_menu_and_help_commands(user: FakeUser) -> None:
    await user.send("/menu")
    assert user.buttons == MAIN_MENU
    await user.send("/help")
    assert "About LegCare" in user.last_text


async def test_commands_are_registered_in_every_language(
    fake_api: FakeBotApi, user: FakeUser
) -> None:
    assert fake_api.commands_for(user.user_id) == [
        "start",
        "menu",
        "settings",
        "stats",
        "travel",
        "history",
        "privacy",
        "help",
    ]
    turkish = {c["command"]: c["description"] for c in fake_api.commands(language_code="tr")}
    assert turkish["menu"] == "Ana menüyü göster"
    assert turkish["travel"].startswith("Yolculuk modu")


async def test_turkish_speakers_are_answered_in_turkish(
    fake_api: FakeBotApi, bot: LegCareApplication
) -> None:
    ayse = fake_api.user(user_id=2002, first_name="Ayşe", language_code="tr")
    await ayse.send("/start")
    assert "Merhaba, ben LegCare" in ayse.texts[-2]
    assert ayse.buttons[0] == ["🩺 Belirti kontrolü"]


@pytest.mark.parametrize("text", ["hello", "¿qué?", "🦵", "x" * 4000, "/nonsense"])
async def test_unknown_text_gets_a_friendly_answer_and_the_menu(user: FakeUser, text: str) -> None:
    await user.send(text)
    assert "didn't understand" in user.last_text
    assert user.buttons == MAIN_MENU


@pytest.mark.parametrize("data", ["m1:help:forgedtag0", "garbage", "t9:x:y", "m1:help"])
async def test_forged_or_stale_buttons_are_refused_politely(user: FakeUser, data: str) -> None:
    await user.send("/start")
    await user.tap_data(data)
    assert user.callback_answers[-1].text == "This menu has expired. Here is a fresh one."
    assert "This menu has expired" in user.last_text
    assert user.buttons == MAIN_MENU


async def test_another_users_button_is_refused(
    fake_api: FakeBotApi, bot: LegCareApplication, user: FakeUser
) -> None:
    await user.send("/start")
    stolen = user.last_message.inline_keyboard[3][0].callback_data
    mallory = fake_api.user(user_id=6666, first_name="Mallory", language_code="en")
    await mallory.send("/start")
    await mallory.tap_data(stolen)
    assert "This menu has expired" in mallory.last_text


async def test_a_failing_handler_is_logged_and_the_bot_keeps_serving(
    fake_api: FakeBotApi, user: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.fail_next("sendMessage", status=400, description="Bad Request: injected", times=1)
    with caplog.at_level(logging.ERROR):
        await user.send("/menu")
    assert any("unhandled error" in record.message for record in caplog.records)
    assert "Sorry, something went wrong" in user.last_text
    await user.send("/menu")
    assert user.buttons == MAIN_MENU
