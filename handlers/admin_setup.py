"""Admin wiring that talks to Telegram outside a handler: command menus, content sync.

The admin commands appear only in admins' own chats: a ``BotCommandScopeChat`` menu per
admin and language (the public commands plus the admin commands their role may use).
Everyone else keeps the default menu. The content sync job polls the database every
second so this process serves a newly published version within about a second.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, Forbidden
from telegram.ext import Job

from bot.admin import roles
from bot.admin.roles import Capability, Role, may
from bot.context import LegCareApplication, LegCareContext, Services
from content.pack import ContentPack

logger = logging.getLogger(__name__)

CONTENT_SYNC_JOB = "content-sync"
CONTENT_SYNC_EVERY = timedelta(seconds=1)
_JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}

ADMIN_COMMANDS: tuple[tuple[str, Capability], ...] = (
    ("admin", Capability.VIEW),
    ("admin_keys", Capability.VIEW),
    ("admin_show", Capability.VIEW),
    ("admin_edit", Capability.EDIT),
    ("admin_pack", Capability.VIEW),
    ("admin_diff", Capability.VIEW),
    ("admin_preview", Capability.EDIT),
    ("admin_preview_off", Capability.EDIT),
    ("admin_publish", Capability.PUBLISH),
    ("admin_approve", Capability.APPROVE),
    ("admin_discard", Capability.EDIT),
    ("admin_history", Capability.VIEW),
    ("admin_rollback", Capability.ROLLBACK),
    ("audit", Capability.AUDIT),
    ("admin_stats", Capability.AUDIT),
    ("admin_list", Capability.MANAGE),
    ("admin_add", Capability.MANAGE),
    ("admin_remove", Capability.MANAGE),
    ("announce", Capability.ANNOUNCE),
)


async def set_admin_commands(bot: Bot, pack: ContentPack, user_id: int, role: Role) -> bool:
    """Show this admin the public commands plus their admin commands; False if Telegram
    does not know their chat yet (they have not started the bot)."""
    for lang in pack.languages:
        language_code = None if lang == pack.languages[0] else lang
        public = await bot.get_my_commands(language_code=language_code)
        commands = [
            *public,
            *(
                BotCommand(name, pack.text(lang, f"admin.commands.{name}"))
                for name, capability in ADMIN_COMMANDS
                if may(role, capability)
            ),
        ]
        try:
            await bot.set_my_commands(
                commands, scope=BotCommandScopeChat(user_id), language_code=language_code
            )
        except (BadRequest, Forbidden) as error:
            logger.info("no admin command menu for one admin yet: %s", error.message)
            return False
    return True


async def register_admin_menus(application: LegCareApplication) -> int:
    """Give every admin their command menu; return how many got one."""
    return await _admin_menus(application.bot, application.services)


async def _admin_menus(bot: Bot, services: Services) -> int:
    async with services.sessionmaker() as session:
        everyone = await roles.admins(session, services.settings.admin_user_ids)
    done = 0
    for user_id, role in everyone.items():
        if await set_admin_commands(bot, services.content.pack, user_id, role):
            done += 1
    logger.info("admin command menus for %d of %d admins", done, len(everyone))
    return done


async def refresh_command_menus(bot: Bot, services: Services) -> None:
    """After a publish that reworded commands: the public menu in every language (the
    same commands, the new descriptions), then every admin's menu."""
    pack = services.content.pack
    for lang in pack.languages:
        language_code = None if lang == pack.languages[0] else lang
        current = await bot.get_my_commands(language_code=language_code)
        reworded = [
            BotCommand(
                c.command, pack.texts[lang].get(f"core.commands.{c.command}", c.description)
            )
            for c in current
        ]
        if reworded:
            await bot.set_my_commands(reworded, language_code=language_code)
    await _admin_menus(bot, services)


def start_content_sync(application: LegCareApplication) -> Job[LegCareContext]:
    """Poll for newly published versions and previews every second."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the Application was built without a JobQueue")
    sync = application.services.admin.sync

    async def follow_published_content(_context: LegCareContext) -> None:
        """Serve the newest published version and current previews."""
        try:
            await sync.poll()
        except Exception:
            logger.exception("content sync failed; the next tick tries again")

    return job_queue.run_repeating(
        follow_published_content,
        interval=CONTENT_SYNC_EVERY,
        first=CONTENT_SYNC_EVERY,
        name=CONTENT_SYNC_JOB,
        job_kwargs=_JOB_KWARGS,
    )
