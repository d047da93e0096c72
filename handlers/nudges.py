"""Buttons on reminders and on follow-up questions.

Reminder buttons (``rn1:...``, see :mod:`scheduler.nudges`) are verified for the tapping
user, answered at once and applied in one unit of work: the reminder keeps its text, gains
a line saying what happened and keeps only "My leg feels worse". A tap on a reminder that
already has its answer, or on someone else's (forged) reminder, changes nothing. "My leg
feels worse", on any reminder, journey nudge or follow-up, opens a new symptom check at
its emergency screen.

Follow-up buttons (``fu1:<token>:<round>:<answer>``) answer the safety-net question;
"worse" goes straight back to the emergency screen. Nothing here logs what was answered.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot.callbacks import Callback
from bot.context import LegCareContext
from content.pack import ContentPack
from handlers import triage
from handlers.common import inline_keyboard, require_callback, require_user
from handlers.fallback import on_stale_button
from handlers.settings import defaults_of, load_user_settings
from scheduler import followups, nudges
from scheduler.nudges import TapOp, TapStatus, Voice
from scheduler.planning import ReminderKind
from scheduler.preferences import UserSettings

logger = logging.getLogger(__name__)

_TAPPED = {
    TapOp.DONE: "done",
    TapOp.SKIP: "skip",
    TapOp.SNOOZE_15: "snooze",
    TapOp.SNOOZE_60: "snooze",
    TapOp.PAUSE_TODAY: "paused",
    TapOp.MOVED: "moved",
}
_OPS = {op.value: op for op in TapOp}
_ANSWERS = {answer.value: answer for answer in followups.Answer}


def _voice(context: LegCareContext, user_id: int, lang: str) -> Voice:
    pack = context.services.content.for_user(user_id).pack
    return Voice(pack, pack.language_for(lang), context.services.codec, user_id)


async def _verified(update: Update, context: LegCareContext) -> tuple[Callback, int] | None:
    """The verified callback and the tapping user's id; stale or forged taps are refused."""
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    if callback is None or not callback.args:
        await on_stale_button(update, context)
        return None
    return callback, user.id


async def _append(query: CallbackQuery, line: str, voice: Voice, *, keep_worse: bool) -> None:
    """Add a line under the tapped message; leave only "My leg feels worse" on it."""
    if not isinstance(query.message, Message):
        return
    rows = [[nudges.worse_button(voice)]] if keep_worse else []
    try:
        await query.edit_message_text(
            f"{query.message.text_html}\n\n{line}",
            reply_markup=inline_keyboard(rows) if rows else None,
        )
    except BadRequest as error:
        logger.info("could not update a reminder message: %s", error.message)


async def on_nudge_button(update: Update, context: LegCareContext) -> None:
    """Apply a reminder button: done, skip, snooze, pause today, I just moved, worse."""
    verified = await _verified(update, context)
    if verified is None:
        return
    callback, user_id = verified
    query = require_callback(update)
    op = _OPS.get(callback.args[0])
    if op is TapOp.WORSE:
        await query.answer()
        await open_emergency_screen(update, context)
        return
    if op is None or len(callback.args) != 2 or not callback.args[1].isdigit():
        await on_stale_button(update, context)
        return
    await query.answer()
    services = context.services
    current = await load_user_settings(context, user_id, require_user(update).language_code or "")
    voice = _voice(context, user_id, current.language)
    async with services.sessionmaker.begin() as db:
        outcome = await nudges.tap(
            db,
            user_id,
            op,
            int(callback.args[1]),
            now=services.clock.now(),
            defaults=defaults_of(context),
        )
    if outcome.status is not TapStatus.DONE:
        return  # already answered, or not this user's reminder: nothing changes
    await _append(
        query, _tapped_line(voice, op, outcome, current.timezone), voice, keep_worse=True
    )


def _tapped_line(voice: Voice, op: TapOp, outcome: nudges.TapOutcome, zone_name: str) -> str:
    name = _TAPPED[op]
    if outcome.until is None:
        return voice.text(
            "nudges.tapped.moved_now" if op is TapOp.MOVED else f"nudges.tapped.{name}"
        )
    when = nudges.local_moment(voice.pack, voice.lang, outcome.until, ZoneInfo(zone_name))
    return voice.text(f"nudges.tapped.{name}", when=when)


async def open_emergency_screen(update: Update, context: LegCareContext) -> None:
    """ "My leg feels worse": a new symptom check, at its first (emergency) question."""
    user = require_user(update)
    chat_id = update.effective_chat.id if update.effective_chat else user.id
    await triage.start_fresh_check(context, user, chat_id)


async def on_followup_button(update: Update, context: LegCareContext) -> None:
    """Answer a follow-up question (better / same / worse, seen / not yet, ask at night)."""
    verified = await _verified(update, context)
    if verified is None:
        return
    callback, user_id = verified
    query = require_callback(update)
    args = callback.args
    await query.answer()
    services = context.services
    current = await load_user_settings(context, user_id, require_user(update).language_code or "")
    voice = _voice(context, user_id, current.language)
    now = services.clock.now()
    if len(args) == 2 and args[1] == "q":
        async with services.sessionmaker.begin() as db:
            when = await followups.allow_quiet(db, user_id, args[0], now=now)
        if when is not None:
            line = voice.text(
                "nudges.followup.night_ok", when=_local(voice, when, current.timezone)
            )
            await _append(query, line, voice, keep_worse=False)
        return
    answer = _ANSWERS.get(args[2]) if len(args) == 3 and args[1].isdigit() else None
    if answer is None:
        await on_stale_button(update, context)
        return
    async with services.sessionmaker.begin() as db:
        answered = await followups.answer(
            db,
            user_id,
            args[0],
            int(args[1]),
            answer,
            now=now,
            default_zone=defaults_of(context).zone,
        )
    if answered is None:
        await _append(query, voice.text("nudges.followup.answered"), voice, keep_worse=False)
        return
    await _append(query, _answer_text(voice, answered, current), voice, keep_worse=False)
    if answered.answer is followups.Answer.WORSE:
        await open_emergency_screen(update, context)


def _local(voice: Voice, when: datetime, zone_name: str) -> str:
    return nudges.local_moment(voice.pack, voice.lang, when, ZoneInfo(zone_name))


def _answer_text(voice: Voice, answered: followups.Answered, current: UserSettings) -> str:
    """What the follow-up message says after the answer."""
    match answered.answer:
        case followups.Answer.BETTER:
            return voice.text("nudges.followup.better")
        case followups.Answer.SAME:
            return voice.text("nudges.followup.same")
        case followups.Answer.WORSE:
            return voice.text("nudges.followup.worse")
        case followups.Answer.SEEN:
            lines = [voice.text("nudges.followup.seen")]
            if answered.hold_ended and current.kinds[ReminderKind.STRETCH].enabled:
                lines.append(voice.text("nudges.hold.ended"))
            return "\n".join(lines)
        case followups.Answer.NOT_YET:
            pack: ContentPack = voice.pack
            emergency = nudges.emergency_number(pack, voice.lang, current.country)
            when = answered.next_at
            lines = [
                voice.text("nudges.followup.not_yet"),
                nudges.where_to_go(pack, voice.lang, answered.level, emergency),
            ]
            if when is not None:
                lines.append(
                    voice.text(
                        "nudges.followup.ask_again", when=_local(voice, when, current.timezone)
                    )
                )
            return "\n".join(lines)
