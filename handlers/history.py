"""Privacy, consent and /history: what LegCare keeps of symptom checks, and deleting it.

Buttons carry ``p1:<what>[:<argument>...]`` signed for the user (see :mod:`bot.callbacks`);
routing is stateless like the settings screens. Answers are kept only after the user
agreed (asked once, after their first result; changeable on the privacy screen, which
Settings links to). Withdrawing consent deletes every kept check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import LegCareContext
from bot.triage.render import doctor_summary, text
from bot.triage.service import delete_everything
from bot.triage.store import KeptCheck
from content.telegram_html import MAX_MESSAGE_LENGTH
from handlers.common import (
    require_callback,
    require_message,
    require_user,
    send_main_menu,
    user_language,
)
from handlers.turn import Row, Turn, load_turn, markup

ACTION = "p"
_DATE_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Screen:
    """A message: Telegram HTML and its keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None


# ---------------------------------------------------------------------- screens


def consent_prompt(turn: Turn, token: str) -> Screen:
    """The one-time question whether to keep checks (after a first result)."""
    rows: list[Row] = [
        [
            turn.button(
                turn.text("symptom_check.consent.yes"), turn.signed(ACTION, "ask", "y", token)
            )
        ],
        [
            turn.button(
                turn.text("symptom_check.consent.no"), turn.signed(ACTION, "ask", "n", token)
            )
        ],
    ]
    return Screen(turn.text("symptom_check.consent.ask"), markup(rows))


def privacy_screen(turn: Turn, kept: int) -> Screen:
    """What is kept, the switch, history and "delete all my data"."""
    if turn.profile.consent:
        state = turn.text("symptom_check.privacy.kept", count=kept)
        switch = turn.button(turn.text("symptom_check.privacy.stop"), turn.signed(ACTION, "off"))
    else:
        state = turn.text("symptom_check.privacy.not_kept")
        switch = turn.button(turn.text("symptom_check.privacy.keep"), turn.signed(ACTION, "on"))
    rows: list[Row] = [
        [switch],
        [turn.button(turn.text("symptom_check.privacy.history"), turn.signed(ACTION, "h"))],
        [turn.button(turn.text("symptom_check.privacy.delete_all"), turn.signed(ACTION, "all"))],
        [
            turn.button(turn.text("symptom_check.privacy.back"), turn.signed("s", "home")),
            turn.home(),
        ],
    ]
    body = "\n\n".join(
        (turn.text("symptom_check.privacy.title"), state, turn.text("symptom_check.privacy.about"))
    )
    return Screen(body, markup(rows))


def history_screen(
    turn: Turn, records: list[KeptCheck], total: int, *, note: str | None = None
) -> Screen:
    """Kept checks, newest first, each with a doctor-summary and a delete button."""
    lines = [note] if note else []
    lines.append(turn.text("symptom_check.history.title"))
    rows: list[Row] = []
    if not records:
        empty = "empty" if turn.profile.consent else "not_kept"
        lines.append(turn.text(f"symptom_check.history.{empty}"))
    for number, record in enumerate(records, start=1):
        level = turn.pack.triage.dispositions[record.disposition].title
        lines.append(
            turn.text(
                "symptom_check.history.line",
                number=number,
                date=record.finished_at.astimezone(turn.zone).strftime(_DATE_FORMAT),
                level=text(turn.texts, turn.lang, level),
            )
        )
        rows.append(
            [
                turn.button(
                    turn.text("symptom_check.history.summary", number=number),
                    turn.signed(ACTION, "sum", str(record.id)),
                ),
                turn.button(
                    turn.text("symptom_check.history.delete", number=number),
                    turn.signed(ACTION, "del", str(record.id)),
                ),
            ]
        )
    if records:
        if total > len(records):
            lines.append(turn.text("symptom_check.history.more", shown=len(records), total=total))
        lines.append(turn.text("symptom_check.history.hint"))
    rows.append(
        [
            turn.button(turn.text("symptom_check.privacy.button"), turn.signed(ACTION, "home")),
            turn.home(),
        ]
    )
    return Screen("\n".join(lines), markup(rows))


def delete_all_screen(turn: Turn) -> Screen:
    """Ask before deleting everything."""
    rows: list[Row] = [
        [turn.button(turn.text("symptom_check.delete_all.yes"), turn.signed(ACTION, "allok"))],
        [turn.button(turn.text("symptom_check.delete_all.cancel"), turn.signed(ACTION, "home"))],
    ]
    return Screen(turn.text("symptom_check.delete_all.confirm"), markup(rows))


async def _history(turn: Turn, db: AsyncSession, *, note: str | None = None) -> Screen:
    records, total = await turn.checks(db).kept()
    return history_screen(turn, records, total, note=note)


# ---------------------------------------------------------------------- handlers


async def show_history(update: Update, context: LegCareContext) -> None:
    """List the user's kept checks (the /history command)."""
    user = require_user(update)
    message = require_message(update)
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, message.chat_id)
        screen = await _history(turn, db)
    await message.reply_text(screen.text, reply_markup=screen.markup)


async def show_privacy(update: Update, context: LegCareContext) -> None:
    """Show what LegCare keeps and the switches (the /privacy command)."""
    user = require_user(update)
    message = require_message(update)
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, message.chat_id)
        screen = privacy_screen(turn, (await turn.checks(db).kept())[1])
    await message.reply_text(screen.text, reply_markup=screen.markup)


async def on_privacy_button(update: Update, context: LegCareContext) -> None:
    """Route a privacy or history button to its change and redraw."""
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    route = _ROUTES.get(callback.args[0]) if callback and callback.args else None
    if callback is None or route is None:
        await refuse(update, context)
        return
    await query.answer()
    chat_id = update.effective_chat.id if update.effective_chat else user.id
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, chat_id)
        action = await route(turn, db, callback.args[1:])
    if action is None:
        await refuse(update, context, answered=True)
        return
    await action(query)


async def refuse(update: Update, context: LegCareContext, *, answered: bool = False) -> None:
    """Say the button expired and offer the main menu; change nothing."""
    query = require_callback(update)
    user = require_user(update)
    lang = await user_language(context, user)
    lead = context.services.content.pack.text(lang, "core.fallback.stale_button")
    if not answered:
        await query.answer(lead)
    await send_main_menu(context, user.id, lang, user.id, lead=lead)


# ---------------------------------------------------------------------- routes

Reply = Callable[[CallbackQuery], Awaitable[None]]


def _edit(screen: Screen) -> Reply:
    async def reply(query: CallbackQuery) -> None:
        try:
            await query.edit_message_text(screen.text, reply_markup=screen.markup)
        except BadRequest as error:
            # Tapping the same switch twice redraws an identical screen: nothing to do.
            if "not modified" not in error.message.lower():
                raise

    return reply


def _send_plain(message: str) -> Reply:
    """Send ``message`` as plain text (a doctor summary), below the tapped screen."""

    async def reply(query: CallbackQuery) -> None:
        if query.message is not None:
            await query.get_bot().send_message(query.message.chat.id, message, parse_mode=None)

    return reply


async def _home(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    if args:
        return None
    return _edit(privacy_screen(turn, (await turn.checks(db).kept())[1]))


async def _switch(turn: Turn, db: AsyncSession, agreed: bool) -> Reply:
    await turn.checks(db).set_consent(agreed)
    updated = replace(turn, profile=replace(turn.profile, consent=agreed))
    return _edit(privacy_screen(updated, (await updated.checks(db).kept())[1]))


async def _on(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    return None if args else await _switch(turn, db, True)


async def _off(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    return None if args else await _switch(turn, db, False)


async def _ask(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    if len(args) != 2 or args[0] not in ("y", "n"):
        return None
    agreed = args[0] == "y"
    checks = turn.checks(db)
    await checks.set_consent(agreed)
    if agreed:
        await checks.keep_current(args[1])
    return _edit(
        Screen(turn.text(f"symptom_check.consent.{'saved' if agreed else 'declined'}"), None)
    )


async def _list(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    return None if args else _edit(await _history(turn, db))


async def _summary(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    record = await turn.checks(db).kept_check(_record_id(args))
    if record is None:
        return _edit(await _history(turn, db, note=turn.text("symptom_check.history.gone")))
    summary = doctor_summary(turn.engine, record.session, turn.texts, turn.lang)
    return _send_plain(summary[:MAX_MESSAGE_LENGTH])


async def _delete(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    deleted = await turn.checks(db).forget(_record_id(args))
    note = turn.text(f"symptom_check.history.{'deleted' if deleted else 'gone'}")
    return _edit(await _history(turn, db, note=note))


async def _delete_all(turn: Turn, db: AsyncSession, args: tuple[str, ...]) -> Reply | None:
    return None if args else _edit(delete_all_screen(turn))


async def _delete_all_confirmed(
    turn: Turn, db: AsyncSession, args: tuple[str, ...]
) -> Reply | None:
    if args:
        return None
    await delete_everything(db, turn.user_id)
    return _edit(Screen(turn.text("symptom_check.delete_all.done"), None))


def _record_id(args: tuple[str, ...]) -> int:
    """The record id a button carries; -1 (matches nothing) if it is not one."""
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 18:
        return -1
    return int(args[0])


_ROUTES: dict[str, Callable[[Turn, AsyncSession, tuple[str, ...]], Awaitable[Reply | None]]] = {
    "home": _home,
    "on": _on,
    "off": _off,
    "ask": _ask,
    "h": _list,
    "sum": _summary,
    "del": _delete,
    "all": _delete_all,
    "allok": _delete_all_confirmed,
}
