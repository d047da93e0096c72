"""Running the bot: database ready, content loaded, polling until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.admin.checking import CheckCache, PackChecker
from bot.admin.runtime import AdminRuntime
from bot.admin.sync import ContentSync
from bot.admin.versions import SHIPPED_LABEL
from bot.app import build_application
from bot.clock import Clock
from bot.context import LegCareApplication
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head
from bot.settings import Settings
from content.pack import load_pack
from handlers.admin_setup import start_content_sync
from scheduler import guard as single_process
from scheduler.jobs import start_reminders

logger = logging.getLogger(__name__)

SHIPPED_CONTENT_LABEL = SHIPPED_LABEL


@asynccontextmanager
async def running_bot(
    settings: Settings,
    *,
    clock: Clock,
    check_cache: CheckCache | None = None,
    update_processor: BaseUpdateProcessor | None = None,
    receive_updates: bool = True,
) -> AsyncIterator[LegCareApplication]:
    """Migrate, start polling and yield the running Application; stop cleanly on exit.

    With ``receive_updates=False`` the process is a worker: it delivers reminders and
    follows content like any other, but leaves Telegram's updates (and the command menu)
    to the one process that polls, since Telegram lets only one client call getUpdates.
    """
    settings.require_token()
    # SQLite: one process per database file; a second one stops here with one clear line.
    database_lock = await single_process.acquire_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        pack = await asyncio.to_thread(load_pack)
        sessionmaker = create_sessionmaker(engine)
        # The newest published version if there is one, else the shipped pack.
        sync = ContentSync(sessionmaker, shipped=pack)
        application = build_application(
            settings,
            sessionmaker=sessionmaker,
            content=await sync.load(),
            clock=clock,
            admin=AdminRuntime(sync=sync, checker=PackChecker(pack, cache=check_cache)),
            update_processor=update_processor,
        )
        async with application:
            updater = application.updater
            if updater is None:
                raise RuntimeError("the Application was built without an Updater")
            if receive_updates:
                # post_init is only called by run_polling/run_webhook, which we do not use.
                if application.post_init is not None:
                    await application.post_init(application)
                await updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await application.start()
            reminders = await start_reminders(application)
            # Every process follows publishes and admins' previews within about a second.
            content_sync = start_content_sync(application)
            logger.info("LegCare is running%s", "" if receive_updates else " as a worker")
            try:
                yield application
            finally:
                logger.info("LegCare is stopping")
                # First: stop claiming reminders, finish in-flight sends, release leases.
                await reminders.stop()
                content_sync.schedule_removal()
                if updater.running:
                    await updater.stop()
                await application.stop()
    finally:
        await engine.dispose()
        if database_lock is not None:
            database_lock.release()


async def serve(
    settings: Settings, *, clock: Clock, stop: asyncio.Event, receive_updates: bool = True
) -> None:
    """Run until `stop` is set (the CLI sets it on SIGINT or SIGTERM)."""
    async with running_bot(settings, clock=clock, receive_updates=receive_updates):
        await stop.wait()
