"""The fake server speaks the Bot API the way PTB expects, and validates like Telegram."""

from __future__ import annotations

import asyncio
import datetime as dtm

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from fakebot import FakeBotApi, FakeUser

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Calf", callback_data="t1:calf")]])


async def started(api: FakeBotApi, user_id: int = 1001) -> FakeUser:
    """Return a user who has written to the bot (so the bot may write to them)."""
    user = api.user(user_id=user_id, first_name=f"User{user_id}")
    await user.send("/start", wait=False)
    return user


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    assert bot.id == 123456
    assert bot.username == "legcare_test_bot"


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    wrong = Bot("123456:WRONG", base_url=api.base_url, base_file_url=api.base_file_url)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with wrong:  # initialize() calls getMe, and shuts down on failure
            pass


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_raw_http_answers_are_telegram_shaped(api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api.base_url}WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.post(f"{api.base_url}{api.token}/getMe", json={}) as response:
            body = await response.json()
            assert body["ok"] is True
            assert body["result"]["is_bot"] is True
        await started(api)
        url = f"{api.base_url}{api.token}/sendMessage"
        async with session.post(url, json={"chat_id": 1001, "text": "hi"}) as response:
            assert (await response.json())["result"]["text"] == "hi"
        async with session.get(url, params={"chat_id": "1001", "text": "123"}) as response:
            assert (await response.json())["result"]["text"] == "123"


async def test_sending_to_a_chat_nobody_opened_fails(api: FakeBotApi, bot: Bot) -> None:
    api.user(user_id=1001)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(1001, "hello")


async def test_get_updates_delivers_user_messages_with_command_entities(
    api: FakeBotApi, bot: Bot
) -> None:
    user = await started(api)
    await user.send("I have pain", wait=False)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/start", "I have pain"]
    start = updates[0].message
    assert start is not None
    assert start.from_user is not None
    assert start.from_user.first_name == "User1001"
    assert start.chat.type == "private"
    assert start.entities[0].type == "bot_command"
    assert start.entities[0].length == len("/start")
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert confirmed == ()


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: FakeBotApi, bot: Bot) -> None:
    user = api.user()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await user.send("hello", wait=False)
    async with asyncio.timeout(2):
        updates = await poll
    assert [u.message.text for u in updates if u.message] == ["hello"]


@pytest.mark.slow
async def test_long_poll_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == ()


async def test_drop_pending_updates_discards_the_queue(api: FakeBotApi, bot: Bot) -> None:
    await started(api)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_html_message_reaches_the_chat_as_plain_text_with_entities(
    api: FakeBotApi, bot: Bot
) -> None:
    user = await started(api)
    sent = await bot.send_message(
        1001, "<b>Calf</b> pain &amp; <i>swelling</i>", parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert sent.text == "Calf pain & swelling"
    assert sent.text_html == "<b>Calf</b> pain &amp; <i>swelling</i>"
    assert user.last_text == "Calf pain & swelling"
    assert user.last_html == "<b>Calf</b> pain &amp; <i>swelling</i>"
    assert user.buttons == [["Calf"]]
    call = api.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == 1001
    assert call.params["reply_markup"] == KEYBOARD.to_dict()


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("x" * 4097, None, "Message is too long"),
        ("<b>" + "x" * 4097 + "</b>", "HTML", "Message is too long"),
        ("   \n ", None, "Message text is empty"),
        ("<b> </b>", "HTML", "Message text is empty"),
        ("<div>hi</div>", "HTML", "Can't parse entities: unsupported tag <div>"),
        ("Rest & ice", "HTML", "Can't parse entities: unescaped '&'"),
        ("<b>unclosed", "HTML", "Can't parse entities: unclosed tag <b>"),
    ],
)
async def test_invalid_text_is_rejected(
    api: FakeBotApi, bot: Bot, text: str, parse_mode: str | None, error: str
) -> None:
    user = await started(api)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(1001, text, parse_mode=parse_mode)
    assert caught.value.message == error
    assert user.messages == []


async def test_length_limit_applies_after_entity_parsing(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    await bot.send_message(1001, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert user.last_text == "&" * 4096


@pytest.mark.parametrize(
    ("data", "accepted"),
    [("x" * 64, True), ("x" * 65, False), ("é" * 32, True), ("é" * 33, False), ("", False)],
)
async def test_callback_data_must_be_1_to_64_bytes(
    api: FakeBotApi, bot: Bot, data: str, accepted: bool
) -> None:
    await started(api)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])
    if accepted:
        await bot.send_message(1001, "choose", reply_markup=markup)
    else:
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(1001, "choose", reply_markup=markup)


async def test_edits_apply_and_identical_edits_are_refused(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    sent = await bot.send_message(1001, "Where is the pain?", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Where is the pain?", 1001, sent.message_id, reply_markup=KEYBOARD
        )
    edited = await bot.edit_message_text("<i>Thanks</i>", 1001, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, object)
    assert user.last_text == "Thanks"
    assert user.last_message.edits == 1
    assert user.buttons == [], "editing the text without reply_markup removes the keyboard"
    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=KEYBOARD)
    assert user.buttons == [["Calf"]]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=KEYBOARD)


async def test_editing_a_missing_or_foreign_message_fails(api: FakeBotApi, bot: Bot) -> None:
    await started(api)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 1001, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", 1001, 1)


async def test_deleted_messages_disappear(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    sent = await bot.send_message(1001, "temporary")
    assert await bot.delete_message(1001, sent.message_id)
    assert user.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(1001, sent.message_id)


async def test_injected_429_carries_retry_after(api: FakeBotApi, bot: Bot) -> None:
    await started(api)
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(1001, "hi")).text == "hi", "only the next call fails"
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (400, BadRequest, "Injected fault"),
        (500, NetworkError, "Internal Server Error"),
        (502, NetworkError, "Bad Gateway"),
    ],
)
async def test_injected_errors_raise_the_matching_ptb_exception(
    api: FakeBotApi, bot: Bot, status: int, error: type[TelegramError], message: str
) -> None:
    user = await started(api)
    api.fail_next("sendMessage", status=status, times=2)
    for _ in range(2):
        with pytest.raises(error) as caught:
            await bot.send_message(1001, "hi")
        assert caught.value.message == message
    await bot.send_message(1001, "hi")
    assert user.texts == ["hi"], "failed sends are not delivered"


async def test_faults_can_target_one_chat(api: FakeBotApi, bot: Bot) -> None:
    await started(api, 1001)
    await started(api, 1002)
    api.fail_next("sendMessage", status=403, chat_id=1002)
    await bot.send_message(1001, "fine")
    with pytest.raises(Forbidden):
        await bot.send_message(1002, "blocked")


async def test_blocked_user_gets_nothing_until_unblocked(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    await bot.get_updates(timeout=0)
    api.block_user(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "reminder")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(1001, "typing")
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None
    assert member.new_chat_member.status == "kicked"
    api.unblock_user(1001)
    await bot.send_message(1001, "welcome back")
    assert user.texts == ["welcome back"]


async def test_slow_method_times_out_in_ptb(api: FakeBotApi, bot: Bot) -> None:
    await started(api)
    api.slow("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "hi", read_timeout=0.1)
    api.slow("sendMessage", 0)
    await bot.send_message(1001, "hi")


async def test_rate_limits_refuse_bursts_per_chat_and_globally(api: FakeBotApi, bot: Bot) -> None:
    for user_id in range(2001, 2041):
        await started(api, user_id)
    # A low global rate, so that even a slow machine sends the burst faster than it refills.
    api.enforce_rate_limits(global_per_second=5, per_chat_per_second=1, tolerance=0)
    await bot.send_message(2001, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(2001, "two")
    loop = asyncio.get_running_loop()
    began = loop.time()
    results = await asyncio.gather(
        *(bot.send_message(user_id, "news") for user_id in range(2002, 2041)),
        return_exceptions=True,
    )
    elapsed = loop.time() - began
    refused = [r for r in results if isinstance(r, RetryAfter)]
    accepted = len(results) - len(refused)
    # The bucket holds 5 (one taken by "one") and leaks 5/s while the burst arrives.
    assert 4 <= accepted <= 4 + 5 * elapsed + 1, (accepted, elapsed)
    assert api.rate_limit_violations == 1 + len(refused)
    assert {v.scope for v in api.rate_limit_log} == {"chat", "global"}
    assert all(v.retry_after >= 1 for v in api.rate_limit_log)


async def test_random_server_errors_are_reproducible(api: FakeBotApi, bot: Bot) -> None:
    await started(api)

    async def failures(seed: int) -> list[int]:
        api.random_server_errors(rate=0.3, seed=seed)
        failed = []
        for index in range(30):
            try:
                await bot.send_message(1001, f"n{index}")
            except NetworkError:
                failed.append(index)
        return failed

    first = await failures(seed=7)
    assert 0 < len(first) < 30
    assert await failures(seed=7) == first
    assert api.random_errors_injected == len(first), "counted since the last configuration"
    api.random_server_errors(rate=0)
    await bot.send_message(1001, "reliable again")


async def test_commands_are_stored_per_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api, 1001)
    admin = await started(api, 9001)
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Başla")], language_code="tr")
    admin_scope = BotCommandScopeChat(9001)
    await bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("publish", "Publish content")],
        scope=admin_scope,
    )
    assert user.commands == ["start", "help"]
    assert admin.commands == ["start", "publish"]
    assert api.commands_for(1001, language_code="tr") == ["start"]
    stored = await bot.get_my_commands(scope=admin_scope)
    assert [c.command for c in stored] == ["start", "publish"]
    await bot.delete_my_commands(scope=admin_scope)
    assert admin.commands == ["start", "help"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("x", "x")], scope=BotCommandScopeChat(4242))


async def test_files_go_both_ways(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") * 2
    photo = await bot.send_photo(1001, png, caption="<b>Stretch</b>", parse_mode="HTML")
    assert photo.photo[-1].width == 64
    assert photo.caption == "Stretch"
    await bot.send_document(1001, b"day,pain\n1,3\n", filename="diary.csv", caption="Your diary")
    assert [p.data for p in user.photos] == [png]
    document = user.documents[0]
    assert (document.file_name, document.data, document.caption) == (
        "diary.csv",
        b"day,pain\n1,3\n",
        "Your diary",
    )
    upload = api.calls_to("sendDocument")[0].params["document"]
    assert upload.file_name == "diary.csv"
    again = await bot.send_document(1001, photo.photo[-1].file_id)
    assert again.document is not None
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(1001, b"x", filename="x.txt", caption="x" * 1025)

    await user.send_document("scan.pdf", b"%PDF-1.4 fake", mime_type="application/pdf", wait=False)
    updates = await bot.get_updates(timeout=0)
    sent = updates[-1].message
    assert sent is not None
    assert sent.document is not None
    assert sent.document.file_name == "scan.pdf"
    file = await sent.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 fake"
    assert api.calls_to("downloadFile")[-1].ok
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_chat_action_must_be_known(api: FakeBotApi, bot: Bot) -> None:
    await started(api)
    assert await bot.send_chat_action(1001, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(1001, "dancing")


async def test_callback_answers_are_recorded_once(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    await bot.send_message(1001, "Where?", reply_markup=KEYBOARD)
    await user.tap("Calf", wait=False)
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None
    assert query.data == "t1:calf"
    assert isinstance(query.message, Message)
    assert query.message.text == "Where?"
    await query.answer("Noted", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    assert [(a.text, a.show_alert, a.data) for a in user.callback_answers] == [
        ("Noted", True, "t1:calf")
    ]


async def test_replies_must_point_at_an_existing_message(api: FakeBotApi, bot: Bot) -> None:
    user = await started(api)
    quoted = await bot.send_message(1001, "Noted", reply_to_message_id=1)
    assert quoted.reply_to_message is None
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(1001, "Noted", reply_to_message_id=99)
    await bot.send_message(1001, "Noted", reply_to_message_id=99, allow_sending_without_reply=True)
    assert user.texts == ["Noted", "Noted"]
