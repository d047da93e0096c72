"""Admin commands and buttons: the routes, and their registration before every feature.

Every admin command, button, reply and upload goes through the role guard in
:mod:`handlers.admin_common`; see there for why non-admins get exactly the answers of
unknown commands and stale buttons.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.admin.roles import Capability
from bot.callbacks import CallbackCodec
from bot.context import LegCareApplication
from handlers import admin_announcements, admin_content, admin_ops, admin_publish
from handlers.admin_common import (
    ADMIN_GROUP,
    PRIVATE,
    AdminRequest,
    Route,
    admin_buttons,
    admin_command,
)
from handlers.admin_setup import set_admin_commands


async def open_admin_menu(request: AdminRequest) -> None:
    """Show the admin menu (and make sure this admin has the admin command menu)."""
    if request.query is None:
        await set_admin_commands(request.context.bot, request.pack, request.user_id, request.role)
    await admin_content.show_menu(request)


COMMANDS: dict[str, Route] = {
    "admin": Route(Capability.VIEW, open_admin_menu),
    "admin_keys": Route(Capability.VIEW, admin_content.browse_keys),
    "admin_show": Route(Capability.VIEW, admin_content.show_text),
    "admin_edit": Route(Capability.EDIT, admin_content.ask_for_text),
    "admin_pack": Route(Capability.VIEW, admin_content.send_pack),
    "admin_diff": Route(Capability.VIEW, admin_content.show_diff),
    "admin_preview": Route(Capability.EDIT, admin_content.start_preview),
    "admin_preview_off": Route(Capability.EDIT, admin_content.stop_preview),
    "admin_publish": Route(Capability.PUBLISH, admin_publish.publish),
    "admin_approve": Route(Capability.APPROVE, admin_publish.approve),
    "admin_discard": Route(Capability.EDIT, admin_content.discard_draft),
    "admin_history": Route(Capability.VIEW, admin_publish.show_history),
    "admin_rollback": Route(Capability.ROLLBACK, admin_publish.confirm_rollback),
    "audit": Route(Capability.AUDIT, admin_ops.show_audit),
    "admin_stats": Route(Capability.AUDIT, admin_ops.show_stats),
    "admin_list": Route(Capability.MANAGE, admin_ops.list_admins),
    "admin_add": Route(Capability.MANAGE, admin_ops.add_admin),
    "admin_remove": Route(Capability.MANAGE, admin_ops.remove_admin),
    "announce": Route(Capability.ANNOUNCE, admin_announcements.start_announcement),
}

BUTTONS: dict[str, Route] = {
    "menu": Route(Capability.VIEW, open_admin_menu),
    "keys": Route(Capability.VIEW, admin_content.browse_keys),
    "show": Route(Capability.VIEW, admin_content.show_text),
    "edit": Route(Capability.EDIT, admin_content.ask_for_text),
    "pack": Route(Capability.VIEW, admin_content.send_pack),
    "diff": Route(Capability.VIEW, admin_content.show_diff),
    "pv": Route(Capability.EDIT, admin_content.start_preview),
    "pvoff": Route(Capability.EDIT, admin_content.stop_preview),
    "pub": Route(Capability.PUBLISH, admin_publish.publish),
    "ok": Route(Capability.APPROVE, admin_publish.approve),
    "hist": Route(Capability.VIEW, admin_publish.show_history),
    "rb": Route(Capability.ROLLBACK, admin_publish.confirm_rollback),
    "rbgo": Route(Capability.ROLLBACK, admin_publish.roll_back),
    "audit": Route(Capability.AUDIT, admin_ops.show_audit),
    "stats": Route(Capability.AUDIT, admin_ops.show_stats),
    "adm": Route(Capability.MANAGE, admin_ops.list_admins),
    "an": Route(Capability.ANNOUNCE, admin_announcements.start_announcement),
    "ane": Route(Capability.ANNOUNCE, admin_announcements.ask_for_announcement_text),
    "ans": Route(Capability.ANNOUNCE, admin_announcements.confirm_announcement),
    "ango": Route(Capability.ANNOUNCE, admin_announcements.send_announcement),
    "anx": Route(Capability.ANNOUNCE, admin_announcements.cancel_announcement),
}


def register(app: LegCareApplication) -> None:
    """Attach the admin handlers in their own group, ahead of every other handler."""
    for name, route in COMMANDS.items():
        app.add_handler(admin_command(name, route), group=ADMIN_GROUP)
    app.add_handler(admin_buttons(BUTTONS), group=ADMIN_GROUP)
    app.add_handler(
        MessageHandler(PRIVATE & filters.Document.ALL, admin_content.on_admin_document),
        group=ADMIN_GROUP,
    )
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            admin_content.on_admin_reply,
        ),
        group=ADMIN_GROUP,
    )
    # The user's News screen (opt in or out of announcements), a normal feature handler.
    app.add_handler(
        CallbackQueryHandler(
            admin_announcements.on_news_button,
            pattern=CallbackCodec.action_pattern(admin_announcements.NEWS_ACTION),
        )
    )
