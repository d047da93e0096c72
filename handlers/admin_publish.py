"""Publishing, approvals, history and rollback.

Publishing a draft: refuse if it is based on an older version, or if it changes
red-flag content without a second admin's approval (the approvers are asked); otherwise
say that the checks run, run every check in the background (tens of seconds), and
publish atomically only if nothing is found. A rollback makes an earlier version the
admin's draft and publishes it the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.admin import drafts, roles
from bot.admin.diff import diff_packs
from bot.admin.drafts import Approval, DraftStatus
from bot.admin.roles import Capability, may
from bot.admin.versions import (
    ContentStore,
    Draft,
    DraftChangedError,
    PublishConflictError,
    VersionInfo,
    publish_draft,
    version_label,
)
from bot.users import stored_language
from content.pack_io import locate_in
from handlers.admin_common import AdminRequest, fit, when
from handlers.admin_content import base_label, load_status, problem_lines
from handlers.admin_setup import refresh_command_menus
from handlers.common import ButtonRow, inline_keyboard

logger = logging.getLogger(__name__)

HISTORY_SHOWN = 15
ROLLBACK_BUTTONS = 8


async def publish(request: AdminRequest) -> None:
    """Publish the admin's draft if it may go live; the checks run in the background."""
    note = " ".join(request.args) if request.query is None else ""
    status = await load_status(request)
    if status is None:
        await request.say(request.t("draft.none"))
        return
    refusal = _refusal(status)
    if refusal is not None:
        await request.record("publish", refusal)
        await request.say(
            request.t(
                f"publish.{refusal}",
                base=base_label(status.draft.base_number),
                live=base_label(request.admin.sync.state.newest),
            )
        )
        return
    if status.needs_approval:
        asked = await ask_approvers(request, status)
        await request.record("publish", "waiting for approval")
        await request.say(
            request.t("publish.needs_approval", changes=", ".join(status.safety[:8]), asked=asked)
        )
        return
    await request.say(request.t("publish.checking"))
    request.context.application.create_task(
        check_and_publish(request, status.draft, note or status.draft.note),
        update=request.update,
    )


def _refusal(status: DraftStatus) -> str | None:
    if status.diff.empty:
        return "nothing"
    if status.stale:
        return "stale"
    return None


async def check_and_publish(request: AdminRequest, draft: Draft, note: str) -> None:
    """Run every check; publish atomically only if nothing is found."""
    problems = await request.admin.checker.check(draft.pack, request.now.date())
    if problems:
        located = await asyncio.to_thread(locate_in, draft.pack, problems)
        await request.record("publish", f"refused: {problems[0].key}")
        lines = [
            request.t("publish.refused", count=len(problems)),
            *problem_lines(request, located),
        ]
        await request.say(fit(lines, lambda n: request.t("problems.more", count=n)))
        return
    previous = request.services.content.pack
    try:
        async with request.services.sessionmaker.begin() as session:
            version = await publish_draft(
                session,
                draft,
                shipped=request.admin.shipped,
                approver_id=draft.approver,
                note=note,
                now=request.now,
            )
    except PublishConflictError:
        await request.record("publish", "conflict")
        await request.say(
            request.t(
                "publish.stale",
                base=base_label(draft.base_number),
                live=base_label(request.admin.sync.state.newest),
            )
        )
        return
    except DraftChangedError:
        await request.record("publish", "draft changed during the check")
        await request.say(request.t("publish.changed"))
        return
    request.admin.sync.served_locally(version.number, draft.pack)
    request.admin.sync.preview_locally(request.user_id, None, None)
    await request.record(
        "publish",
        f"{version.label}" + (f" approved by {draft.approver}" if draft.approver else ""),
    )
    logger.info("content %s published", version.label)
    if any(".commands." in change.key for change in diff_packs(previous, draft.pack).texts):
        await refresh_command_menus(request.context.bot, request.services)
    await request.say(
        request.t("publish.done", label=version.label), [[request.button("buttons.menu", "menu")]]
    )
    if draft.approver is not None:
        await _tell(
            request,
            draft.approver,
            "publish.done_for_approver",
            label=version.label,
            author=request.user_id,
        )


async def ask_approvers(request: AdminRequest, status: DraftStatus) -> int:
    """Ask every other admin who may approve; return how many were reached."""
    async with request.services.sessionmaker() as session:
        everyone = await roles.admins(session, request.services.settings.admin_user_ids)
    approvers = [
        user_id
        for user_id, role in everyone.items()
        if user_id != request.user_id and may(role, Capability.APPROVE)
    ]
    reached = 0
    digest = status.draft.sha256[:12]
    for approver in approvers:
        lang = await _language_of(request, approver)
        codec = request.codec
        rows: list[ButtonRow] = [
            [
                (
                    request.pack.text(lang, "admin.buttons.diff"),
                    codec.pack("ad", "diff", str(request.user_id), user_id=approver),
                ),
                (
                    request.pack.text(lang, "admin.buttons.approve"),
                    codec.pack("ad", "ok", str(request.user_id), digest, user_id=approver),
                ),
            ]
        ]
        text = request.pack.text(
            lang,
            "admin.approval.request",
            author=request.user_id,
            changes=", ".join(status.safety[:8]),
        )
        try:
            await request.context.bot.send_message(approver, text, reply_markup=_markup(rows))
        except (Forbidden, BadRequest) as error:
            logger.warning("could not ask an approver: %s", error.message)
            continue
        reached += 1
    return reached


async def approve(request: AdminRequest) -> None:
    """Approve another admin's red-flag change (the exact content shown)."""
    if request.query is None:
        if not request.args or not request.args[0].isdigit():
            await request.say(request.t("approval.usage"))
            return
        from handlers.admin_content import show_diff  # noqa: PLC0415 - shared screen

        await show_diff(request)
        return
    author, digest = int(request.args[0]), request.args[1]
    async with request.services.sessionmaker.begin() as session:
        outcome = await drafts.approve(
            session,
            approver_id=request.user_id,
            author_id=author,
            digest_prefix=digest,
            now=request.now,
        )
    await request.record("approve", f"draft of {author}: {outcome}")
    await request.say(request.t(f"approval.{outcome.value}", author=author))
    if outcome is Approval.APPROVED:
        await _tell(request, author, "approval.granted", approver=request.user_id, buttons=True)


async def _tell(
    request: AdminRequest, user_id: int, key: str, *, buttons: bool = False, **params: object
) -> None:
    lang = await _language_of(request, user_id)
    rows: list[ButtonRow] = []
    if buttons:
        rows = [
            [
                (
                    request.pack.text(lang, "admin.buttons.publish"),
                    request.codec.pack("ad", "pub", user_id=user_id),
                )
            ]
        ]
    try:
        await request.context.bot.send_message(
            user_id, request.pack.text(lang, f"admin.{key}", **params), reply_markup=_markup(rows)
        )
    except (Forbidden, BadRequest) as error:
        logger.warning("could not tell an admin: %s", error.message)


def _markup(rows: list[ButtonRow]) -> InlineKeyboardMarkup | None:
    return inline_keyboard(rows) if rows else None


async def _language_of(request: AdminRequest, user_id: int) -> str:
    async with request.services.sessionmaker() as session:
        stored = await stored_language(session, user_id)
    return request.pack.language_for(stored)


# ---------------------------------------------------------------------- history and rollback


def history_line(request: AdminRequest, version: VersionInfo, live: int | None) -> str:
    """``v3 · 2026-06-01 09:00 UTC · publish by 9001, approved by 9002 · note``."""
    parts = [f"<b>{version.label}</b>", when(version.published_at)]
    who = request.t(
        f"history.{version.kind}",
        author=version.author_id or "",
        restores=version_label(version.restores or 0),
    )
    if version.approver_id:
        who += request.t("history.approved", approver=version.approver_id)
    parts.append(who)
    if version.note:
        parts.append(f"<i>{html.escape(version.note)}</i>")
    line = " · ".join(parts)
    return line + (" " + request.t("history.live") if version.number == live else "")


async def show_history(request: AdminRequest) -> None:
    """List published versions, newest first; owners get rollback buttons."""
    async with request.services.sessionmaker() as session:
        versions = await ContentStore(session).history(HISTORY_SHOWN)
    if not versions:
        await request.show(request.t("history.empty"), [[request.button("buttons.menu", "menu")]])
        return
    live = versions[0].number
    lines = [request.t("history.title"), *(history_line(request, v, live) for v in versions)]
    rows: list[ButtonRow] = []
    if may(request.role, Capability.ROLLBACK):
        older = [v for v in versions if v.number != live][:ROLLBACK_BUTTONS]
        buttons = [
            request.button("history.rollback_button", "rb", str(v.number), label=v.label)
            for v in older
        ]
        rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append([request.button("buttons.menu", "menu")])
    await request.show(fit(lines, lambda n: request.t("problems.more", count=n)), rows)


async def confirm_rollback(request: AdminRequest) -> None:
    """Ask before replacing the owner's draft with an earlier version."""
    if not request.args or not request.args[0].isdigit():
        await request.say(request.t("rollback.usage"))
        return
    number = int(request.args[0])
    rows = [
        [
            request.button("rollback.yes", "rbgo", str(number), label=version_label(number)),
            request.button("buttons.menu", "menu"),
        ]
    ]
    await request.show(request.t("rollback.confirm", label=version_label(number)), rows)


async def roll_back(request: AdminRequest) -> None:
    """Make an earlier version the owner's draft, then publish it like any draft."""
    number = int(request.args[0])
    async with request.services.sessionmaker.begin() as session:
        draft = await drafts.start_rollback(
            session,
            author_id=request.user_id,
            number=number,
            newest=await ContentStore(session).newest_number(),
            now=request.now,
        )
    if draft is None:
        await request.say(request.t("rollback.unknown", label=version_label(number)))
        return
    await request.record("rollback", f"to {version_label(number)}")
    request.admin.sync.preview_locally(request.user_id, None, None)
    await publish(dataclasses.replace(request, args=()))
