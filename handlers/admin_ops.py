"""Operator screens: the audit log, statistics, and managing editors and reviewers."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat
from telegram.error import BadRequest, Forbidden

from bot.admin import audit, roles, stats
from bot.admin.roles import OwnerRoleError, Role
from handlers.admin_common import AdminRequest, code, fit, when
from handlers.admin_setup import set_admin_commands

logger = logging.getLogger(__name__)

AUDIT_SHOWN = 25


async def show_audit(request: AdminRequest) -> None:
    """The newest admin actions and refused attempts."""
    async with request.services.sessionmaker() as session:
        entries = await audit.latest(session, AUDIT_SHOWN)
    lines = [request.t("audit.title")]
    for entry in entries:
        role = request.t(f"roles.{entry.role.value}") if entry.role else request.t("roles.none")
        mark = "✅" if entry.allowed else "⛔"
        detail = f" · {code(entry.detail)}" if entry.detail else ""
        lines.append(
            f"{mark} {when(entry.at)} · {entry.actor_id} ({role}) · {code(entry.action)}{detail}"
        )
    if not entries:
        lines.append(request.t("audit.empty"))
    await request.show(
        fit(lines, lambda n: request.t("problems.more", count=n)),
        [[request.button("buttons.menu", "menu")]],
    )


async def show_stats(request: AdminRequest) -> None:
    """Users, subscriptions, checks, reminders, blocked users, the live version."""
    async with request.services.sessionmaker() as session:
        figures = await stats.collect(session, request.now)
    state = request.admin.sync.state
    lines = [request.t("stats.title"), request.t("stats.live", label=state.served)]
    for figure in figures:
        if figure.values is None:
            lines.append(request.t(f"stats.missing.{figure.name}"))
            continue
        lines.append(_figure_line(request, figure.name, figure.values))
    await request.show("\n".join(lines), [[request.button("buttons.menu", "menu")]])


def _figure_line(request: AdminRequest, name: str, values: dict[str, int]) -> str:
    if name == "users":
        return request.t("stats.users", total=values["total"], blocked=values["blocked"])
    if name == "subscriptions":
        return request.t("stats.subscriptions", rules=values["rules"], users=values["users"])
    if name == "announcements":
        return request.t("stats.announcements", total=values["total"])
    lines = [request.t(f"stats.breakdown.{name}")]
    for days in stats.WINDOWS:
        parts = [
            f"{label.split('|')[0].lower()} {count}"
            for label, count in sorted(values.items())
            if label.endswith(f"|{days}")
        ]
        lines.append(request.t("stats.window", days=days, values=", ".join(parts) or "0"))
    return "\n".join(lines)


# ---------------------------------------------------------------------- admins


async def list_admins(request: AdminRequest) -> None:
    """Owners, editors and reviewers, with how to change them."""
    async with request.services.sessionmaker() as session:
        everyone = await roles.admins(session, request.services.settings.admin_user_ids)
    lines = [request.t("admins.title")]
    lines += [
        f"• {user_id}: {request.t(f'roles.{role.value}')}" for user_id, role in everyone.items()
    ]
    lines.append(request.t("admins.hint"))
    await request.show("\n".join(lines), [[request.button("buttons.menu", "menu")]])


async def add_admin(request: AdminRequest) -> None:
    """``/admin_add <user id> <editor|reviewer>``."""
    args = request.args
    if (
        len(args) != 2
        or not args[0].isdigit()
        or args[1] not in {r.value for r in roles.STORED_ROLES}
    ):
        await request.say(request.t("admins.add_usage"))
        return
    user_id, role = int(args[0]), Role(args[1])
    owners = request.services.settings.admin_user_ids
    try:
        async with request.services.sessionmaker.begin() as session:
            await roles.set_member(
                session, user_id, role, by=request.user_id, owners=owners, now=request.now
            )
    except OwnerRoleError:
        await request.say(request.t("admins.owner", user=user_id))
        return
    await request.record("admin_add", f"{user_id} as {role}")
    await set_admin_commands(request.context.bot, request.pack, user_id, role)
    await request.say(
        request.t("admins.added", user=user_id, role=request.t(f"roles.{role.value}"))
    )


async def remove_admin(request: AdminRequest) -> None:
    """``/admin_remove <user id>``."""
    if len(request.args) != 1 or not request.args[0].isdigit():
        await request.say(request.t("admins.remove_usage"))
        return
    user_id = int(request.args[0])
    owners = request.services.settings.admin_user_ids
    try:
        async with request.services.sessionmaker.begin() as session:
            removed = await roles.remove_member(session, user_id, owners=owners)
    except OwnerRoleError:
        await request.say(request.t("admins.owner", user=user_id))
        return
    if not removed:
        await request.say(request.t("admins.not_admin", user=user_id))
        return
    await request.record("admin_remove", str(user_id))
    for lang in request.pack.languages:
        language_code = None if lang == request.pack.languages[0] else lang
        try:
            await request.context.bot.delete_my_commands(
                scope=BotCommandScopeChat(user_id), language_code=language_code
            )
        except (BadRequest, Forbidden) as error:
            logger.warning("could not remove an admin's command menu: %s", error.message)
    await request.say(request.t("admins.removed", user=user_id))
