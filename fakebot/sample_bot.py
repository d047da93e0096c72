"""A tiny PTB bot for trying the fake server: a menu, echo, taps, files, locations.

Used by fakebot's own tests, and handy with :func:`fakebot.chat_in_terminal`. Handlers:
``/start`` (menu: Symptom check / Reminders / About-URL), ``/silent`` (no reply), ``/slow
SECONDS`` (two replies with a pause between them, like a slow database), text
(echo in bold, after a typing action), ``m1:``/``w1:`` taps (answer, then edit), any other
tap ("This menu has expired" and a new menu), documents (downloaded and measured),
locations.

``python -m fakebot.sample_bot`` chats with it in the terminal (no network needed).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from fakebot.ptb import application_builder, polling
from fakebot.server import FakeBotApi
from fakebot.terminal import chat_in_terminal, read_stdin_line, write_stdout

MENU = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Symptom check", callback_data="m1:check")],
        [
            InlineKeyboardButton("Reminders", callback_data="m1:remind"),
            InlineKeyboardButton("About", url="https://example.org/legcare"),
        ],
    ]
)
WHERE = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Calf", callback_data="w1:calf"),
            InlineKeyboardButton("Thigh", callback_data="w1:thigh"),
        ]
    ]
)
Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    """Greet and show the menu."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    name = html.escape(user.first_name)
    await message.reply_text(f"Hello <b>{name}</b>!", reply_markup=MENU)


async def echo(update: Update, context: Context) -> None:
    """Repeat the text back in bold."""
    message = update.effective_message
    if message is None:
        return
    text = html.escape(message.text or "")
    await message.reply_chat_action("typing")
    await message.reply_text(f"You said: <b>{text}</b>")


async def on_menu(update: Update, context: Context) -> None:
    """Answer the tap, then move the menu on."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.data == "m1:check":
        await query.edit_message_text("Where is the pain?", reply_markup=WHERE)
    elif query.data and query.data.startswith("w1:"):
        await query.edit_message_text(f"Noted: <i>{query.data[3:]}</i>")
    else:
        await query.answer("This menu has expired", show_alert=True)


async def on_stale(update: Update, context: Context) -> None:
    """Answer unknown buttons and show the menu again."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    await query.answer("This menu has expired")
    await context.bot.send_message(chat.id, "Menu", reply_markup=MENU)


async def on_document(update: Update, context: Context) -> None:
    """Download the file and confirm what arrived."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    file = await message.document.get_file()
    data = bytes(await file.download_as_bytearray())
    digest = hashlib.sha256(data).hexdigest()[:8]
    await message.reply_text(f"Got {message.document.file_name}: {len(data)} bytes, {digest}")


async def on_location(update: Update, context: Context) -> None:
    """Acknowledge a shared location."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    await message.reply_text(f"Location {message.location.latitude:.2f}")


async def reply_slowly(update: Update, context: Context) -> None:
    """Reply, pause for the seconds given (default 0.5), then reply again."""
    message = update.effective_message
    if message is None:
        return
    try:
        pause = float(context.args[0]) if context.args else 0.5
    except ValueError:
        pause = 0.5
    await message.reply_text("Looking that up…")
    await asyncio.sleep(min(max(pause, 0.0), 5.0))
    await message.reply_text("Found it.")


async def stay_silent(update: Update, context: Context) -> None:
    """Do nothing (a handler that sends no reply)."""


def build_sample_application(
    api: FakeBotApi, *, rate_limiter: BaseRateLimiter[Any] | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the sample bot for ``api`` (HTML parse mode by default)."""
    builder = application_builder(api).defaults(Defaults(parse_mode=ParseMode.HTML))
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("silent", stay_silent))
    app.add_handler(CommandHandler("slow", reply_slowly))
    app.add_handler(CallbackQueryHandler(on_menu, pattern=r"^(m1|w1):"))
    app.add_handler(CallbackQueryHandler(on_stale))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


async def chat_with_sample_bot() -> None:
    """Run the fake server and the sample bot, and chat with it on this terminal."""
    async with FakeBotApi() as api, polling(build_sample_application(api)):
        user = api.user(user_id=1001, first_name="Ada")
        await chat_in_terminal(user, read_line=read_stdin_line, write=write_stdout)


if __name__ == "__main__":
    asyncio.run(chat_with_sample_bot())
