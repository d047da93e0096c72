"""A real PTB Application polls the fake server while tests act as users."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.ext import AIORateLimiter, Application

from fakebot import BotTimeoutError, FakeBotApi, NoSuchButtonError
from fakebot.ptb import polling
from fakebot.sample_bot import Context, build_sample_application


@pytest.fixture
async def app(api: FakeBotApi) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run the test bot, polling the fake server."""
    async with polling(build_sample_application(api)) as running:
        yield running


@pytest.mark.usefixtures("app")
async def test_start_shows_a_menu_as_a_person_sees_it(api: FakeBotApi) -> None:
    ada = api.user(user_id=1001, first_name="Ada & Bob")
    replies = await ada.send("/start")
    assert [m.text for m in replies] == ["Hello Ada & Bob!"]
    assert ada.last_text == "Hello Ada & Bob!"
    assert ada.last_html == "Hello <b>Ada &amp; Bob</b>!"
    assert ada.buttons == [["Symptom check"], ["Reminders", "About"]]
    assert ada.last_message.button_labels == ["Symptom check", "Reminders", "About"]


@pytest.mark.usefixtures("app")
async def test_taps_edit_the_menu_and_are_answered(api: FakeBotApi) -> None:
    ada = api.user()
    await ada.send("/start")
    changed = await ada.tap("Symptom check")
    assert [m.text for m in changed] == ["Where is the pain?"]
    assert ada.buttons == [["Calf", "Thigh"]]
    await ada.tap("Calf")
    assert ada.last_text == "Noted: calf"
    assert ada.buttons == []
    assert len(ada.messages) == 1, "the menu was edited in place"
    assert [a.data for a in ada.callback_answers] == ["m1:check", "w1:calf"]


@pytest.mark.usefixtures("app")
async def test_a_pause_inside_a_handler_longer_than_the_quiet_period_is_waited_for(
    api: FakeBotApi,
) -> None:
    # The bot reports each finished update, so a slow step between two replies (a
    # loaded database, say) does not end the wait early.
    ada = api.user()
    pause = api.quiet_period * 5
    replies = await ada.send(f"/slow {pause}")
    assert [m.text for m in replies] == ["Looking that up…", "Found it."]


@pytest.mark.usefixtures("app")
async def test_tapping_an_older_message(api: FakeBotApi) -> None:
    ada = api.user()
    await ada.send("/start")
    first_menu = ada.last_message
    await ada.send("/start")
    await ada.tap("Symptom check", message=first_menu)
    assert ada.messages[0].text == "Where is the pain?"
    assert ada.messages[1].buttons[0] == ["Symptom check"]


@pytest.mark.usefixtures("app")
async def test_a_missing_button_lists_the_ones_present(api: FakeBotApi) -> None:
    ada = api.user()
    await ada.send("/start")
    with pytest.raises(NoSuchButtonError, match=r"'Symptom check', 'Reminders', 'About'"):
        await ada.tap("Settings")
    with pytest.raises(NoSuchButtonError, match="not a callback button"):
        await ada.tap("About")


@pytest.mark.usefixtures("app")
async def test_forged_callback_data_gets_the_expired_answer(api: FakeBotApi) -> None:
    ada = api.user()
    await ada.send("/start")
    await ada.tap_data("t9:forged")
    assert ada.callback_answers[-1].text == "This menu has expired"
    assert ada.last_text == "Menu"


@pytest.mark.usefixtures("app")
async def test_the_bot_downloads_an_uploaded_document(api: FakeBotApi) -> None:
    ada = api.user()
    data = b"%PDF-1.4 fake scan"
    await ada.send_document("scan.pdf", data, mime_type="application/pdf")
    digest = hashlib.sha256(data).hexdigest()[:8]
    assert ada.last_text == f"Got scan.pdf: {len(data)} bytes, {digest}"
    assert [c.method for c in api.calls if c.method in {"getFile", "downloadFile"}] == [
        "getFile",
        "downloadFile",
    ]


@pytest.mark.usefixtures("app")
async def test_locations_reach_the_bot(api: FakeBotApi) -> None:
    ada = api.user()
    await ada.send_location(41.01, 28.97)
    assert ada.last_text == "Location 41.01"


@pytest.mark.usefixtures("app")
async def test_a_reaction_ends_only_after_every_call_for_it(api: FakeBotApi) -> None:
    ada = api.user()
    api.slow("sendMessage", 0.2)
    replies = await ada.send("hello")
    assert [m.text for m in replies] == ["You said: hello"]
    assert [c.method for c in ada.calls] == ["sendChatAction", "sendMessage"]


async def test_messages_the_bot_sends_by_itself(
    api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    ada = api.user()
    await ada.send("/start")
    waiting = asyncio.create_task(ada.wait_for(lambda m: "stretch" in m.text, timeout=2))
    await app.bot.send_message(1001, "Time for your <b>stretches</b>")
    reminder = await waiting
    assert reminder.html == "Time for your <b>stretches</b>"
    with pytest.raises(BotTimeoutError, match="no bot message to Ada matched"):
        await ada.wait_for(lambda m: "stretch" in m.text, after=reminder, timeout=0.2)


@pytest.mark.usefixtures("app")
async def test_silence_is_reported_unless_expected(api: FakeBotApi) -> None:
    ada = api.user()
    assert await ada.send("/silent", expect_reply=False) == []
    with pytest.raises(BotTimeoutError, match=r"made no call about chat 1001 within 0\.3s"):
        await ada.send("/silent", timeout=0.3)


async def test_a_bot_that_is_not_polling_is_reported(api: FakeBotApi) -> None:
    ada = api.user()
    with pytest.raises(BotTimeoutError, match="did not fetch the message '/start'"):
        await ada.send("/start", timeout=0.2)


@pytest.mark.usefixtures("app")
async def test_users_are_independent(api: FakeBotApi) -> None:
    users = [api.user(user_id=3000 + n, first_name=f"U{n}") for n in range(8)]
    await asyncio.gather(*(u.send(f"I am {u.first_name}") for u in users))
    assert [u.last_text for u in users] == [f"You said: I am U{n}" for n in range(8)]


async def test_errors_reach_the_application(api: FakeBotApi) -> None:
    errors: list[object] = []

    async def remember(update: object, context: Context) -> None:
        errors.append(context.error)

    application = build_sample_application(api)
    application.add_error_handler(remember)
    async with polling(application):
        ada = api.user()
        await ada.send("/start")
        api.block_user(1001)
        await ada.send("hello")
        api.fail_next("sendMessage", status=502)
        api.unblock_user(1001)
        await ada.send("hello again")
    assert [type(e).__name__ for e in errors] == ["Forbidden", "NetworkError"]
    assert [(c.method, c.status) for c in ada.calls] == [
        ("sendMessage", 200),
        ("sendChatAction", 403),
        ("sendChatAction", 200),
        ("sendMessage", 502),
    ]


@pytest.mark.slow
async def test_a_retrying_bot_is_waited_for(api: FakeBotApi) -> None:
    application = build_sample_application(api, rate_limiter=AIORateLimiter(max_retries=1))
    async with polling(application):
        ada = api.user()
        api.fail_next("sendMessage", status=429, retry_after=1)
        await ada.send("hello")
    assert ada.last_text == "You said: hello"
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]
