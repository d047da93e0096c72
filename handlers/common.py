"""Small helpers every handler uses: guards, language, keyboards, the main menu."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram import User as TelegramUser

from bot.context import LegCareContext
from bot.users import stored_language

ButtonRow = Sequence[tuple[str, str]]

# The main menu: (text key, callback action, callback arguments). Features own the actions.
MAIN_MENU: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("core.menu.check", "t", ("new",)),  # handlers.triage
    ("core.menu.reminders", "m", ("reminders",)),
    ("core.menu.settings", "m", ("settings",)),
    ("core.menu.help", "m", ("help",)),
)


class MissingUpdatePartError(RuntimeError):
    """A handler received an update without the part its filter promised."""


def require_user(update: Update) -> TelegramUser:
    """The person behind the update; handlers are only registered for updates with one."""
    if update.effective_user is None:
        raise MissingUpdatePartError("update has no user")
    return update.effective_user


def require_message(update: Update) -> Message:
    """The incoming message of a message update."""
    if update.effective_message is None:
        raise MissingUpdatePartError("update has no message")
    return update.effective_message


def require_callback(update: Update) -> CallbackQuery:
    """The button tap of a callback-query update."""
    if update.callback_query is None:
        raise MissingUpdatePartError("update has no callback query")
    return update.callback_query


async def user_language(context: LegCareContext, user: TelegramUser) -> str:
    """The language to answer in: the stored choice, else Telegram's, else the default."""
    async with context.services.sessionmaker() as session:
        stored = await stored_language(session, user.id)
    return context.services.content.pack.language_for(stored or user.language_code)


def inline_keyboard(rows: Sequence[ButtonRow]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def main_menu_markup(context: LegCareContext, lang: str, user_id: int) -> InlineKeyboardMarkup:
    """The main menu buttons in the user's language, signed for this user."""
    pack = context.services.content.pack
    codec = context.services.codec
    return inline_keyboard(
        [
            [(pack.text(lang, key), codec.pack(action, *args, user_id=user_id))]
            for key, action, args in MAIN_MENU
        ]
    )


def home_button(context: LegCareContext, lang: str, user_id: int) -> tuple[str, str]:
    """A 'Main menu' button for the bottom of any screen."""
    return (
        context.services.content.pack.text(lang, "core.menu.home"),
        context.services.codec.pack("m", "home", user_id=user_id),
    )


async def send_main_menu(
    context: LegCareContext, chat_id: int, lang: str, user_id: int, *, lead: str | None = None
) -> None:
    """Send the main menu as a new message, optionally after a line of explanation."""
    title = context.services.content.pack.text(lang, "core.menu.title")
    text = f"{lead}\n\n{title}" if lead else title
    await context.bot.send_message(
        chat_id, text, reply_markup=main_menu_markup(context, lang, user_id)
    )
