"""What every admin handler shares: the role guard, the request object, buttons, copy.

Admin handlers run in their own handler group, before every other feature
(:data:`ADMIN_GROUP`, -2: even before the typed red-flag check in -1). For an admin they
do their work and stop the update there (``ApplicationHandlerStop``). For anyone else
they only write an audit entry and let the update go on to the normal handlers, so a
non-admin's ``/admin_publish`` gets exactly the answer any unknown command gets, and a
forged admin button exactly the "this menu has expired" answer of any stale button.
Admin copy lives under ``admin.*`` in the content.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, filters

from bot.admin import audit
from bot.admin.roles import Capability, Role, may, role_of
from bot.admin.runtime import AdminRuntime
from bot.callbacks import CallbackCodec
from bot.context import LegCareContext, Services
from bot.db.admin_models import AdminPrompt
from content.pack import ContentPack
from content.telegram_html import MAX_MESSAGE_LENGTH
from handlers.common import (
    ButtonRow,
    inline_keyboard,
    require_callback,
    require_message,
    require_user,
    user_language,
)

logger = logging.getLogger(__name__)

ACTION = "ad"
ADMIN_GROUP = -2
PRIVATE = filters.ChatType.PRIVATE
PROMPTS_KEPT = timedelta(days=7)
"""Replies to prompts older than this are not taken as edits any more."""
MESSAGE_BUDGET = 3800
"""Room for admin messages, under Telegram's 4096 with space for a closing line."""


@dataclass(frozen=True)
class AdminRequest:
    """One admin command, button, reply or upload, from someone allowed to make it."""

    update: Update
    context: LegCareContext
    user_id: int
    role: Role
    lang: str
    args: tuple[str, ...]
    query: CallbackQuery | None = None

    @property
    def services(self) -> Services:
        """The application's services."""
        return self.context.services

    @property
    def admin(self) -> AdminRuntime:
        """Content sync and checker."""
        return self.context.services.admin

    @property
    def pack(self) -> ContentPack:
        """The live pack (admin copy comes from live content, never from a draft)."""
        return self.context.services.content.pack

    @property
    def codec(self) -> CallbackCodec:
        """The callback codec."""
        return self.context.services.codec

    @property
    def now(self) -> datetime:
        """The bot clock's now."""
        return self.context.services.clock.now()

    @property
    def chat_id(self) -> int:
        """Admin commands only work in private chats, so the chat is the admin's."""
        return self.user_id

    def t(self, key: str, /, **params: object) -> str:
        """Admin copy ``admin.<key>`` in the admin's language, parameters escaped."""
        return self.pack.text(self.lang, f"admin.{key}", **params)

    def button(self, label_key: str, verb: str, *args: str, **params: object) -> tuple[str, str]:
        """A signed admin button."""
        return (self.t(label_key, **params), self.data(verb, *args))

    def data(self, verb: str, *args: str) -> str:
        """Signed callback data for an admin button shown to this admin."""
        return self.codec.pack(ACTION, verb, *args, user_id=self.user_id)

    async def say(self, text: str, rows: Sequence[ButtonRow] = ()) -> Message:
        """Send a new message to the admin."""
        markup = inline_keyboard(rows) if rows else None
        return await self.context.bot.send_message(self.chat_id, text, reply_markup=markup)

    async def show(self, text: str, rows: Sequence[ButtonRow] = ()) -> None:
        """Edit the tapped message, or send a new one for a command."""
        markup: InlineKeyboardMarkup | None = inline_keyboard(rows) if rows else None
        if self.query is not None:
            try:
                await self.query.edit_message_text(text, reply_markup=markup)
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    raise
            return
        await self.context.bot.send_message(self.chat_id, text, reply_markup=markup)

    async def record(self, action: str, detail: str = "", *, allowed: bool = True) -> None:
        """Write an audit entry for this admin's action."""
        async with self.services.sessionmaker.begin() as session:
            audit.record(
                session,
                actor_id=self.user_id,
                role=self.role,
                action=action,
                allowed=allowed,
                now=self.now,
                detail=detail,
            )


AdminAction = Callable[[AdminRequest], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """An admin action and what it needs."""

    capability: Capability
    action: AdminAction


async def authorize(
    update: Update,
    context: LegCareContext,
    name: str,
    capability: Capability,
    *,
    audit_denied: bool = True,
) -> Role | None:
    """The caller's role if they may do ``capability``; else audit and return None.

    None tells the caller to let the update fall through to the normal handlers. An
    admin whose role lacks the capability is told so (they can see admin copy anyway)
    and the update stops.
    """
    user = require_user(update)
    services = context.services
    async with services.sessionmaker.begin() as session:
        role = await role_of(session, user.id, services.settings.admin_user_ids)
        allowed = may(role, capability)
        if not allowed and (audit_denied or role is not None):
            audit.record(
                session,
                actor_id=user.id,
                role=role,
                action=name,
                allowed=False,
                now=services.clock.now(),
                detail="not an admin" if role is None else f"{role} may not {capability}",
            )
    if allowed:
        return role
    if role is None:
        return None
    lang = await user_language(context, user)
    pack = services.content.pack
    role_name = pack.text(lang, f"admin.roles.{role.value}")
    text = pack.text(lang, "admin.common.not_for_role", role=role_name)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await context.bot.send_message(user.id, text)
    raise ApplicationHandlerStop


async def run_admin(
    update: Update,
    context: LegCareContext,
    name: str,
    route: Route,
    args: tuple[str, ...],
    *,
    query: CallbackQuery | None = None,
) -> None:
    """Authorize, then run the action and stop the update; or let it fall through."""
    role = await authorize(update, context, name, route.capability)
    if role is None:
        return
    user = require_user(update)
    if query is not None:
        await query.answer()
    request = AdminRequest(
        update=update,
        context=context,
        user_id=user.id,
        role=role,
        lang=await user_language(context, user),
        args=args,
        query=query,
    )
    await route.action(request)
    raise ApplicationHandlerStop


def admin_command(name: str, route: Route) -> CommandHandler[LegCareContext, None]:
    """A private-chat command handler guarded by the admin role check."""

    async def on_admin_command(update: Update, context: LegCareContext) -> None:
        """Run an admin command for admins; let anyone else's fall through."""
        require_message(update)
        await run_admin(update, context, name, route, tuple(context.args or ()))

    return CommandHandler(name, on_admin_command, filters=PRIVATE)


def admin_buttons(routes: dict[str, Route]) -> CallbackQueryHandler[LegCareContext, None]:
    """The one handler for every admin button: verify, authorize, route by verb."""

    async def on_admin_button(update: Update, context: LegCareContext) -> None:
        """Route a verified admin button; forged, stale or foreign taps fall through."""
        query = require_callback(update)
        user = require_user(update)
        callback = context.services.codec.unpack(query.data or "", user_id=user.id)
        route = routes.get(callback.args[0]) if callback and callback.args else None
        if callback is None or route is None:
            await _record_refused(context, user.id, "button", "forged or unknown button")
            return
        await run_admin(
            update, context, f"button:{callback.args[0]}", route, callback.args[1:], query=query
        )

    return CallbackQueryHandler(on_admin_button, pattern=CallbackCodec.action_pattern(ACTION))


async def _record_refused(context: LegCareContext, user_id: int, action: str, detail: str) -> None:
    services = context.services
    async with services.sessionmaker.begin() as session:
        role = await role_of(session, user_id, services.settings.admin_user_ids)
        audit.record(
            session,
            actor_id=user_id,
            role=role,
            action=action,
            allowed=False,
            now=services.clock.now(),
            detail=detail,
        )


# ---------------------------------------------------------------------- formatting


def code(value: str) -> str:
    """``<code>value</code>``, escaped."""
    return f"<code>{html.escape(value)}</code>"


def source(value: str, limit: int = 900) -> str:
    """A text's source (with its tags visible) in a ``<pre>`` block, cut at ``limit``."""
    cut = value if len(value) <= limit else value[:limit] + " …"
    return f"<pre>{html.escape(cut)}</pre>"


def short_hash(value: str) -> str:
    """A 10-character stand-in for a long key in callback data."""
    return hashlib.sha256(value.encode()).hexdigest()[:10]


def find_by_hash(candidates: Iterable[str], wanted: str) -> str | None:
    """The candidate whose `short_hash` is ``wanted``."""
    return next((c for c in candidates if short_hash(c) == wanted), None)


def fit(lines: Iterable[str], more: Callable[[int], str], budget: int = MESSAGE_BUDGET) -> str:
    """Join lines until the message budget is used; then say how many were left out."""
    kept: list[str] = []
    used = 0
    items = list(lines)
    for index, line in enumerate(items):
        if used + len(line) + 1 > budget:
            kept.append(more(len(items) - index))
            break
        kept.append(line)
        used += len(line) + 1
    text = "\n".join(kept)
    return text[:MAX_MESSAGE_LENGTH]


def when(moment: datetime) -> str:
    """``2026-06-01 09:00 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


async def forget_old_prompts(session: AsyncSession, request: AdminRequest) -> None:
    """Drop this admin's prompts older than `PROMPTS_KEPT`."""
    await session.execute(
        delete(AdminPrompt).where(
            AdminPrompt.user_id == request.user_id,
            AdminPrompt.created_at < request.now - PROMPTS_KEPT,
        )
    )
