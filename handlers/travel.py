"""Journey mode in Telegram: /travel, the length, a short clot-risk check, then nudges.

Buttons carry ``tv1:...`` (see :mod:`scheduler.nudges`): the length screen fixes the
journey's start, so tapping the same answer twice plans the same deliveries (nothing new).
The clot-risk answer only chooses the advice shown; it is not stored or logged.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Message, Update

from bot.context import LegCareContext
from bot.travel import JOURNEY_HOURS, Journey, start_journey, stop_journey
from handlers.common import inline_keyboard, require_callback, require_message, require_user
from handlers.fallback import on_stale_button
from handlers.settings import defaults_of, load_user_settings
from scheduler.nudges import TRAVEL_ACTION, Voice, emergency_number, local_moment

logger = logging.getLogger(__name__)

_RISK_ANSWERS = ("y", "n", "u")


async def _voice(context: LegCareContext, user_id: int, language_code: str | None) -> Voice:
    current = await load_user_settings(context, user_id, language_code or "")
    pack = context.services.content.for_user(user_id).pack
    return Voice(pack, pack.language_for(current.language), context.services.codec, user_id)


def _length_rows(voice: Voice) -> list[list[tuple[str, str]]]:
    buttons = [
        (
            voice.text("nudges.travel.hours", hours=hours),
            voice.codec.pack(TRAVEL_ACTION, "l", str(hours), user_id=voice.user_id),
        )
        for hours in JOURNEY_HOURS
    ]
    return [buttons[:4], buttons[4:]]


async def show_travel(update: Update, context: LegCareContext) -> None:
    """Ask how long the journey is."""
    user = require_user(update)
    voice = await _voice(context, user.id, user.language_code)
    await require_message(update).reply_text(
        voice.text("nudges.travel.prompt"), reply_markup=inline_keyboard(_length_rows(voice))
    )


async def on_travel_button(update: Update, context: LegCareContext) -> None:
    """Length chosen, clot-risk answer (start), arrived, or legs fine after the journey."""
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    args = callback.args if callback is not None else ()
    try:
        step = _parse(args)
    except ValueError:
        step = None
    if step is None:
        await on_stale_button(update, context)
        return
    await query.answer()
    voice = await _voice(context, user.id, user.language_code)
    op, journey, answer = step
    if op == "l":
        journey = Journey.starting(context.services.clock.now(), int(answer))
    if op == "f":
        await _edit(query.message, voice.text("nudges.travel.fine"))
    elif op == "l" and journey is not None:
        rows = [
            [
                (
                    voice.text(f"nudges.travel.button_{name}"),
                    voice.codec.pack(
                        TRAVEL_ACTION, "r", str(journey.hours), journey.key, code, user_id=user.id
                    ),
                )
            ]
            for name, code in (("yes", "y"), ("no", "n"), ("unsure", "u"))
        ]
        await _edit(query.message, voice.text("nudges.travel.risk_question"), rows)
    elif op == "r" and journey is not None:
        await _start(context, voice, query.message, journey, answer)
    elif op == "a" and journey is not None:
        async with context.services.sessionmaker.begin() as db:
            await stop_journey(db, user.id, journey)
        await _edit(query.message, voice.text("nudges.travel.arrived"))


def _parse(args: tuple[str, ...]) -> tuple[str, Journey | None, str] | None:
    """(op, journey, risk answer) from a verified button; raises ValueError if malformed."""
    if args == ("f",):
        return "f", None, ""
    if len(args) == 2 and args[0] == "l":
        hours = int(args[1])
        return ("l", None, str(hours)) if hours in JOURNEY_HOURS else None
    if len(args) == 4 and args[0] == "r" and args[3] in _RISK_ANSWERS:
        return "r", Journey.from_key(args[2], int(args[1])), args[3]
    if len(args) == 3 and args[0] == "a":
        return "a", Journey.from_key(args[2], int(args[1])), ""
    return None


async def _start(
    context: LegCareContext, voice: Voice, message: object, journey: Journey, answer: str
) -> None:
    services = context.services
    defaults = defaults_of(context)
    async with services.sessionmaker.begin() as db:
        plan = await start_journey(
            db, voice.user_id, journey, now=services.clock.now(), default_zone=defaults.zone
        )
    current = await load_user_settings(context, voice.user_id, voice.lang)
    zone = ZoneInfo(current.timezone)
    until = local_moment(voice.pack, voice.lang, journey.end, zone)
    risk = "risk_higher" if answer in {"y", "u"} else "risk_usual"
    started = (
        voice.text("nudges.travel.started", until=until, count=len(plan.nudges))
        if plan.nudges
        else voice.text("nudges.travel.started_none", until=until)
    )
    emergency = emergency_number(voice.pack, voice.lang, current.country)
    lines = [
        voice.text(f"nudges.travel.{risk}"),
        "",
        started,
        voice.text("nudges.travel.warning_signs", emergency=emergency),
    ]
    await _edit(message, "\n".join(lines))


async def _edit(
    message: object, text: str, rows: list[list[tuple[str, str]]] | None = None
) -> None:
    if isinstance(message, Message):
        await message.edit_text(text, reply_markup=inline_keyboard(rows) if rows else None)
