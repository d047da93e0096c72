"""The composition root: builds the configured python-telegram-bot Application."""

from __future__ import annotations

import logging
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)

import handlers
from bot.admin.checking import PackChecker
from bot.admin.runtime import AdminRuntime
from bot.admin.sync import ContentSync
from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.context import LegCareApplication, LegCareContext, Services
from bot.settings import Settings
from content.live import LiveContent
from handlers import admin_setup

logger = logging.getLogger(__name__)

USER_COMMANDS = ("start", "menu", "settings", "stats", "travel", "history", "privacy", "help")


def build_application(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    content: LiveContent,
    clock: Clock,
    admin: AdminRuntime | None = None,
    update_processor: BaseUpdateProcessor | None = None,
) -> LegCareApplication:
    """Wire settings, database, content and handlers into an Application (no I/O here).

    ``update_processor`` replaces PTB's default of one update at a time (tests pass one
    that reports each finished update to the fake Bot API).
    """
    if admin is None:
        sync = ContentSync(sessionmaker, shipped=content.pack, content=content)
        admin = AdminRuntime(sync=sync, checker=PackChecker(content.pack))
    services = Services(
        settings=settings,
        sessionmaker=sessionmaker,
        content=content,
        codec=CallbackCodec(settings.callback_signing_key()),
        clock=clock,
        admin=admin,
    )
    builder = ApplicationBuilder()
    if update_processor is not None:
        builder = builder.concurrent_updates(update_processor)
    application = (
        builder.application_class(LegCareApplication, kwargs={"services": services})
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=UTC,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=LegCareContext))
        .post_init(_register_commands)
        .build()
    )
    if not isinstance(application, LegCareApplication):
        raise TypeError("ApplicationBuilder ignored application_class")
    handlers.register(application)
    return application


async def _register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Publish the command list in every language the content speaks."""
    if not isinstance(application, LegCareApplication):
        raise TypeError("expected a LegCareApplication")
    pack = application.services.content.pack
    for lang in pack.languages:
        commands = [
            BotCommand(name, pack.text(lang, f"core.commands.{name}")) for name in USER_COMMANDS
        ]
        language_code = None if lang == pack.languages[0] else lang
        await application.bot.set_my_commands(commands, language_code=language_code)
    logger.info("registered bot commands for %d languages", len(pack.languages))
    # Admins see the admin commands in their own chats only (BotCommandScopeChat).
    await admin_setup.register_admin_menus(application)
