"""What a symptom-check result sets in motion: the promised follow-up, the stretch hold,
and the reminders it offers.

:func:`promise_for` runs before every step the symptom check shows. When the step shows
a result it promises the follow-up (:mod:`scheduler.followups`), and the result message
says when it will come; for URGENT_SAME_DAY and above also that stretch reminders pause,
and why. :func:`offer_reminders` answers the result's "Set
reminders for this" with a one-tap set that matches what the check found
(``ro1:<plan>`` buttons, :func:`on_offer_button`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import LegCareContext
from bot.triage.engine import Result
from bot.triage.service import Progress, suggested_reminders
from content.telegram_html import MAX_MESSAGE_LENGTH
from handlers.common import inline_keyboard, require_callback, require_user
from handlers.fallback import on_stale_button
from handlers.settings import defaults_of, load_user_settings
from handlers.turn import Turn
from scheduler import followups, preferences
from scheduler.nudges import FOLLOW_UP_ACTION, local_moment
from scheduler.planning import FixedTimes, Interval, ReminderKind, Schedule, TimesPerDay
from scheduler.preferences import UserSettings

logger = logging.getLogger(__name__)

OFFER_ACTION = "ro"
EVENING = time(20, 0)
_KIND_LETTERS: Mapping[str, ReminderKind] = {
    "h": ReminderKind.HYDRATION,
    "p": ReminderKind.POSTURE,
    "s": ReminderKind.STRETCH,
}


# ---------------------------------------------------------------------- follow-up promise


@dataclass(frozen=True)
class CarePromise:
    """What the result adds about its follow-up: lines of text and maybe a button."""

    text: str
    rows: list[list[InlineKeyboardButton]]

    def attach(
        self, message: str, keyboard: InlineKeyboardMarkup | None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The result message with the promise below it, and its button under the others."""
        rows = [list(row) for row in keyboard.inline_keyboard] if keyboard is not None else []
        rows += self.rows
        combined = f"{message}\n\n{self.text}"
        if len(combined) > MAX_MESSAGE_LENGTH:  # pragma: no cover - results are far shorter
            combined = message
        return combined, InlineKeyboardMarkup(rows) if rows else None


async def promise_for(turn: Turn, progress: Progress) -> CarePromise | None:
    """Promise the follow-up a result calls for (once per check) and word it.

    For URGENT_SAME_DAY and above it also says that stretch reminders pause, and why.
    """
    result = progress.result
    if result is None:
        return None
    level = result.disposition
    async with turn.context.services.sessionmaker.begin() as db:
        promise = await followups.note_result(
            db,
            turn.user_id,
            progress.check.token,
            level,
            now=turn.now,
            default_zone=defaults_of(turn.context).zone,
        )
    if promise is None:
        return None
    when = local_moment(turn.pack, turn.lang, promise.due_at, turn.zone)
    rows: list[list[InlineKeyboardButton]] = []
    if not followups.is_urgent(level):
        return CarePromise(turn.text("nudges.followup.promise_soft", when=when), rows)
    lines = [turn.text("nudges.followup.promise_urgent", when=when)]
    if promise.moved_out_of_quiet:
        night = local_moment(turn.pack, turn.lang, promise.natural_due, turn.zone)
        lines.append(turn.text("nudges.followup.promise_quiet", night=night))
        label = turn.text("nudges.followup.button_night", night=night)
        rows.append([turn.button(label, turn.signed(FOLLOW_UP_ACTION, promise.token, "q"))])
    if promise.hold_started:
        lines.append(turn.text("nudges.hold.started"))
    return CarePromise("\n".join(lines), rows)


# ---------------------------------------------------------------------- matching reminders


def offer_plan(result: Result | None) -> str | None:
    """Which set of reminders fits the result: ``sit``, ``cramp`` or ``k<kinds>``."""
    if result is None:
        return None
    for match in result.causes:
        if match.cause.id == "cramps":
            return "cramp"
        if match.cause.id in {"sitting", "piriformis"}:
            return "sit"
    kinds = suggested_reminders(result)
    if not kinds:
        return None
    return "k" + "".join(kind[0] for kind in kinds)


def evening_time(current: UserSettings) -> time:
    """20:00, or the last whole hour of the reminder hours if they end earlier."""
    start, end = current.active_from, current.active_until
    if end <= start or end > EVENING:
        return EVENING
    return max(start, time(max(end.hour - 1, 0)))


def plan_schedules(plan: str, current: UserSettings) -> dict[ReminderKind, Schedule]:
    """The schedules a plan switches on (raises ValueError for a plan we never offer)."""
    if plan == "sit":
        return {ReminderKind.POSTURE: Interval(45), ReminderKind.STRETCH: TimesPerDay(3)}
    if plan == "cramp":
        return {
            ReminderKind.HYDRATION: Interval(120),
            ReminderKind.STRETCH: FixedTimes((evening_time(current),)),
        }
    letters = plan.removeprefix("k")
    if not plan.startswith("k") or not letters or set(letters) - set(_KIND_LETTERS):
        raise ValueError(f"not a reminder plan: {plan!r}")
    defaults: dict[ReminderKind, Schedule] = {
        ReminderKind.HYDRATION: Interval(120),
        ReminderKind.POSTURE: Interval(45),
        ReminderKind.STRETCH: TimesPerDay(3),
    }
    return {_KIND_LETTERS[letter]: defaults[_KIND_LETTERS[letter]] for letter in letters}


def _kind_names(turn: Turn, kinds: Iterable[str]) -> str:
    return ", ".join(turn.text(f"reminders.kind.{kind}") for kind in kinds)


async def offer_reminders(turn: Turn, result: Result | None) -> None:
    """Answer "Set reminders for this": a one-tap set that fits the result, or choose."""
    plan = offer_plan(result)
    choose = (turn.text("nudges.offer.button_choose"), turn.signed("r", "home"))
    if plan is None:
        text = turn.text("nudges.offer.lead_general")
        rows = [[choose]]
    else:
        current = await load_user_settings(turn.context, turn.user_id, turn.lang)
        kinds = [kind.value for kind in plan_schedules(plan, current)]
        lead = {"sit": "lead_sitting", "cramp": "lead_cramps"}.get(plan, "lead_general")
        text = turn.text(f"nudges.offer.{lead}")
        label = turn.text("nudges.offer.button_set", kinds=_kind_names(turn, kinds))
        rows = [[(label, turn.signed(OFFER_ACTION, plan))], [choose]]
    await turn.context.bot.send_message(turn.chat_id, text, reply_markup=inline_keyboard(rows))


async def on_offer_button(update: Update, context: LegCareContext) -> None:
    """Switch on the reminders a result offered."""
    query = require_callback(update)
    user = require_user(update)
    services = context.services
    callback = services.codec.unpack(query.data or "", user_id=user.id)
    if callback is None or len(callback.args) != 1:
        await on_stale_button(update, context)
        return
    await query.answer()
    pack = services.content.for_user(user.id).pack
    current = await load_user_settings(context, user.id, pack.language_for(user.language_code))
    try:
        plan = plan_schedules(callback.args[0], current)
    except ValueError:
        await on_stale_button(update, context)
        return
    async with services.sessionmaker.begin() as db:
        for kind, schedule in plan.items():
            await preferences.set_schedule(
                db,
                user.id,
                kind,
                schedule,
                now=services.clock.now(),
                defaults=defaults_of(context),
            )
    lang = current.language
    names = ", ".join(pack.text(lang, f"reminders.kind.{kind.value}") for kind in plan)
    await query.edit_message_text(pack.text(lang, "nudges.offer.done", kinds=names))
