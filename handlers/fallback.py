"""Answers for anything no feature claimed: unknown text, expired or forged buttons."""

from __future__ import annotations

from telegram import Update

from bot.context import LegCareContext
from handlers.common import (
    require_callback,
    require_message,
    require_user,
    send_main_menu,
    user_language,
)


async def on_unknown_text(update: Update, context: LegCareContext) -> None:
    """Say we did not understand and offer the menu."""
    user = require_user(update)
    lang = await user_language(context, user)
    lead = context.services.content.pack.text(lang, "core.fallback.unknown_text")
    await send_main_menu(context, require_message(update).chat_id, lang, user.id, lead=lead)


async def on_stale_button(update: Update, context: LegCareContext) -> None:
    """Tell the user the menu expired and send a fresh one; change nothing."""
    query = require_callback(update)
    user = require_user(update)
    lang = await user_language(context, user)
    text = context.services.content.pack.text(lang, "core.fallback.stale_button")
    await query.answer(text)
    await send_main_menu(context, user.id, lang, user.id, lead=text)
