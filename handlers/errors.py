"""The one error handler: log with the traceback, apologise, keep serving."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import LegCareContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: LegCareContext) -> None:
    """Log the failure and, when there is a chat, tell the user politely."""
    logger.error("unhandled error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    pack = context.services.content.pack
    user = update.effective_user
    lang = pack.language_for(user.language_code if user else None)
    try:
        await context.bot.send_message(
            update.effective_chat.id, pack.text(lang, "core.fallback.error")
        )
    except TelegramError:
        logger.warning("could not tell the user about the error", exc_info=True)
