"""/start, /menu and /help, and the main menu's own buttons."""

from __future__ import annotations

from telegram import Update

from bot.context import LegCareContext
from bot.users import register
from handlers import reminders, settings
from handlers.common import (
    home_button,
    inline_keyboard,
    main_menu_markup,
    require_callback,
    require_message,
    require_user,
    send_main_menu,
    user_language,
)
from handlers.fallback import on_stale_button


async def start(update: Update, context: LegCareContext) -> None:
    """Greet the user with the disclaimer and the main menu; register them if new."""
    user = require_user(update)
    message = require_message(update)
    pack = context.services.content.pack
    async with context.services.sessionmaker.begin() as session:
        registration = await register(
            session,
            user_id=user.id,
            language=pack.language_for(user.language_code),
            now=context.services.clock.now(),
        )
        lang = pack.language_for(registration.user.language)
    greeting = (
        f"{pack.text(lang, 'core.start.greeting')}\n\n{pack.text(lang, 'core.start.disclaimer')}"
    )
    await message.reply_text(greeting)
    await send_main_menu(context, message.chat_id, lang, user.id)


async def show_menu(update: Update, context: LegCareContext) -> None:
    """Show the main menu."""
    user = require_user(update)
    lang = await user_language(context, user)
    await send_main_menu(context, require_message(update).chat_id, lang, user.id)


async def show_help(update: Update, context: LegCareContext) -> None:
    """Explain what LegCare does."""
    user = require_user(update)
    lang = await user_language(context, user)
    await require_message(update).reply_text(
        context.services.content.pack.text(lang, "core.help.text"),
        reply_markup=inline_keyboard([[home_button(context, lang, user.id)]]),
    )


_MENU_TARGETS = frozenset({("help",), ("home",), ("reminders",), ("settings",)})


async def on_menu_button(update: Update, context: LegCareContext) -> None:
    """Open the main-menu entry the user tapped."""
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    if callback is None or callback.args not in _MENU_TARGETS:
        await on_stale_button(update, context)
        return
    await query.answer()
    lang = await user_language(context, user)
    pack = context.services.content.pack
    target = callback.args[0]
    if target == "help":
        await query.edit_message_text(
            pack.text(lang, "core.help.text"),
            reply_markup=inline_keyboard([[home_button(context, lang, user.id)]]),
        )
    elif target == "home":
        await query.edit_message_text(
            pack.text(lang, "core.menu.title"),
            reply_markup=main_menu_markup(context, lang, user.id),
        )
    elif target == "reminders":
        await reminders.open_reminders(query, context, user.id, lang)
    else:
        await settings.open_settings(query, context, user.id, lang)
