"""The symptom check in Telegram: the flow's buttons, and red-flag words typed anywhere.

State lives in the database (:mod:`bot.triage.service`), never in this process, so a
restart or a second bot process continues the same check. Buttons carry ``t1:...`` (see
:mod:`bot.triage.buttons`). A tap is verified, answered at once, applied in one unit of
work, and then shown: the tapped question keeps its text with the chosen answer and
loses its buttons, and what comes next is sent below it. When an answer (or typed text)
meets a red-flag rule, the emergency card is sent first, with the number for the user's
country and a button that copies what to tell the call handler; then the next question
or the result. Stale, replayed or forged taps change nothing and get a polite answer.

Nothing here logs answers, symptoms or typed text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import (
    CallbackQuery,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram import User as TelegramUser
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from bot.context import LegCareContext
from bot.triage.buttons import (
    CALLBACK_ACTION,
    AnswerTap,
    ControlTap,
    NewCheck,
    Op,
    TriageButton,
    parse,
)
from bot.triage.clipboard import clip_lines
from bot.triage.engine import Ask, EmergencyCard, Result, Step
from bot.triage.render import (
    answer_buttons,
    doctor_summary,
    handler_summary,
    render_question,
    render_step,
    render_why,
)
from bot.triage.service import Checks, Progress
from content.telegram_html import MAX_MESSAGE_LENGTH
from content.triage_schema import Disposition
from handlers import care
from handlers.common import (
    require_callback,
    require_message,
    require_user,
    send_main_menu,
)
from handlers.history import consent_prompt, refuse
from handlers.turn import Row, Turn, load_turn, markup

logger = logging.getLogger(__name__)

ACTION = CALLBACK_ACTION
_SHORT_LABEL = 14
"""Answers this short (and at most three) share one row; longer ones get a row each."""
_ASK_CONSENT_UP_TO = Disposition.URGENT_SAME_DAY
"""After an emergency result the person has better things to do than privacy settings."""

Reply = Callable[[Turn, CallbackQuery], Awaitable[None]]


# ---------------------------------------------------------------------- handlers


async def on_triage_button(update: Update, context: LegCareContext) -> None:
    """Apply a symptom-check button: open, answer, why, back, restart, summary, leave."""
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    button = None if callback is None else parse(callback)
    if button is None:
        await refuse(update, context)
        return
    await query.answer()
    chat_id = update.effective_chat.id if update.effective_chat else user.id
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, chat_id)
        reply = await _apply(turn, turn.checks(db), button)
    await reply(turn, query)


async def on_typed_red_flag(update: Update, context: LegCareContext) -> None:
    """Answer typed words that name a red flag with its card, as the answer button would.

    Runs before every other handler; a message that names no red flag goes on to them.
    """
    user = require_user(update)
    message = require_message(update)
    typed = message.text or message.caption
    if not typed or not _may_name_a_red_flag(context, user.id, typed):
        return
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, message.chat_id)
        languages = (turn.lang, *(lang for lang in turn.pack.languages if lang != turn.lang))
        progress = await turn.checks(db).note_text(typed, languages, keep=_keeps(turn))
    if progress is None:
        return
    await _send_step(turn, progress, offer_consent=True)
    raise ApplicationHandlerStop


def _may_name_a_red_flag(context: LegCareContext, user_id: int, typed: str) -> bool:
    """A quick look in every language (microseconds, no database) before the real match."""
    services = context.services
    pack = services.content.for_user(user_id).pack
    engine = services.engines.engine_for(pack.triage)
    return any(engine.match_text(typed, lang) for lang in pack.languages)


async def start_fresh_check(context: LegCareContext, user: TelegramUser, chat_id: int) -> None:
    """Open a new check at its first question, the emergency screen ("my leg feels worse")."""
    async with context.services.sessionmaker.begin() as db:
        turn = await load_turn(context, db, user, chat_id)
        progress = await turn.checks(db).start()
    await context.bot.send_message(
        chat_id, turn.text("symptom_check.intro", emergency=turn.emergency_number)
    )
    await _send_step(turn, progress)


# ---------------------------------------------------------------------- applying a tap


def _keeps(turn: Turn) -> bool:
    return turn.profile.consent is True


async def _apply(turn: Turn, checks: Checks, button: TriageButton) -> Reply:
    match button:
        case NewCheck(fresh=fresh):
            in_progress = None if fresh else await checks.in_progress()
            if in_progress is not None:
                return _offer_to_continue(in_progress)
            return _started(await checks.start())
        case AnswerTap():
            answered = await checks.answer(button, keep=_keeps(turn))
            if answered is None:
                return _stale(await checks.progress())
            return _answered(button, answered)
        case ControlTap(op=op):
            progress = await checks.control(button, keep=_keeps(turn))
            if progress is None:
                return _stale(await checks.progress())
            return _CONTROLS[op](progress)


def _started(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        await _edit(query, turn.text("symptom_check.intro", emergency=turn.emergency_number))
        await _send_step(turn, progress)

    return reply


def _offer_to_continue(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        token, index = progress.check.token, progress.index
        rows: list[Row] = [
            [
                turn.button(
                    turn.text("symptom_check.buttons.continue"),
                    ControlTap(token, index, Op.CONTINUE),
                )
            ],
            [turn.button(turn.text("symptom_check.buttons.start_again"), NewCheck(fresh=True))],
            [turn.home()],
        ]
        await _edit(query, turn.text("symptom_check.in_progress"), markup(rows))

    return reply


def _answered(tap: AnswerTap, progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        question = next(q for q in turn.engine.flow.questions if q.id == tap.question)
        label = dict(answer_buttons(question, turn.texts, turn.lang))[tap.answer]
        asked = render_question(turn.engine.flow, Ask(question, tap.index), turn.texts, turn.lang)
        chosen = turn.text("symptom_check.answered", answer=label)
        # What comes next first (an emergency card before anything else), then the
        # tapped question keeps the chosen answer and loses its buttons.
        await _send_step(turn, progress, offer_consent=True)
        await _edit(query, f"{asked}\n\n<b>{chosen}</b>")

    return reply


def _stale(current: Progress | None) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        logger.info("refused a symptom-check button from an earlier step")
        lead = turn.text("symptom_check.stale")
        if current is None:
            await send_main_menu(turn.context, turn.chat_id, turn.lang, turn.user_id, lead=lead)
            return
        token, index = current.check.token, current.index
        rows: list[Row] = [
            [
                turn.button(
                    turn.text("symptom_check.buttons.continue"),
                    ControlTap(token, index, Op.CONTINUE),
                )
            ],
            [turn.home()],
        ]
        await turn.context.bot.send_message(turn.chat_id, lead, reply_markup=markup(rows))

    return reply


def _why(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        step = progress.step
        ask = step.then if isinstance(step, EmergencyCard) else step
        if not isinstance(ask, Ask):  # pragma: no cover - Checks.control refuses this
            return
        flow = turn.engine.flow
        asked = render_question(flow, ask, turn.texts, turn.lang)
        why = render_why(flow, ask.question, turn.texts, turn.lang)
        rows = _question_rows(turn, progress, ask, why=False)
        await _edit(query, f"{asked}\n\n{why}", markup(rows))

    return reply


def _moved(progress: Progress) -> Reply:
    """Back, restart or continue: the tapped buttons go, the step is shown anew below."""

    async def reply(turn: Turn, query: CallbackQuery) -> None:
        await _strip(query)
        await _send_step(turn, progress)

    return reply


def _summary(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        summary = doctor_summary(turn.engine, progress.check.session, turn.texts, turn.lang)
        await turn.context.bot.send_message(
            turn.chat_id, summary[:MAX_MESSAGE_LENGTH], parse_mode=None
        )

    return reply


def _to_menu(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        await _strip(query)
        await send_main_menu(turn.context, turn.chat_id, turn.lang, turn.user_id)

    return reply


def _to_reminders(progress: Progress) -> Reply:
    async def reply(turn: Turn, query: CallbackQuery) -> None:
        await _strip(query)
        # The reminders that fit what the check found, switched on with one tap.
        await care.offer_reminders(turn, progress.result)

    return reply


_CONTROLS: dict[Op, Callable[[Progress], Reply]] = {
    Op.WHY: _why,
    Op.BACK: _moved,
    Op.RESTART: _moved,
    Op.CONTINUE: _moved,
    Op.SUMMARY: _summary,
    Op.MENU: _to_menu,
    Op.REMINDERS: _to_reminders,
}


# ---------------------------------------------------------------------- showing a step


async def _send_step(turn: Turn, progress: Progress, *, offer_consent: bool = False) -> None:
    """Send every message of the step: an emergency card first, then question or result."""
    step = progress.step
    messages = render_step(
        turn.engine, progress.check.session, step, turn.texts, turn.lang, country=turn.country
    )
    parts: tuple[Step, ...] = (step, step.then) if isinstance(step, EmergencyCard) else (step,)
    for message, part in zip(messages, parts, strict=True):
        text, keyboard = message, _keyboard(turn, progress, part)
        if isinstance(part, Result):
            # A result promises a follow-up (and may pause stretches): said under it, once
            # per check. Worked out here, after an emergency card has already gone out.
            promise = await care.promise_for(turn, progress)
            if promise is not None:
                text, keyboard = promise.attach(text, keyboard)
        await turn.context.bot.send_message(turn.chat_id, text, reply_markup=keyboard)
    result = progress.result
    if (
        offer_consent
        and result is not None
        and turn.profile.consent is None
        and result.disposition.rank <= _ASK_CONSENT_UP_TO.rank
        # Not after an exclusion (the under-16 result): a child is not asked to agree.
        and not any(rule.kind == "exclusion" for rule in result.flags)
    ):
        prompt = consent_prompt(turn, progress.check.token)
        await turn.context.bot.send_message(turn.chat_id, prompt.text, reply_markup=prompt.markup)


def _keyboard(turn: Turn, progress: Progress, part: Step) -> InlineKeyboardMarkup | None:
    if isinstance(part, Ask):
        return markup(_question_rows(turn, progress, part))
    if isinstance(part, Result):
        return markup(_result_rows(turn, progress, part))
    summary = handler_summary(turn.engine, progress.check.session, turn.texts, turn.lang)
    copy = InlineKeyboardButton(turn.label("copy"), copy_text=CopyTextButton(clip_lines(summary)))
    return markup([[copy]])


def _question_rows(turn: Turn, progress: Progress, ask: Ask, *, why: bool = True) -> list[Row]:
    token, index = progress.check.token, ask.index
    answers = [
        turn.button(label, AnswerTap(token, index, ask.question.id, answer_id))
        for answer_id, label in answer_buttons(ask.question, turn.texts, turn.lang)
    ]
    short = len(answers) <= 3 and all(len(button.text) <= _SHORT_LABEL for button in answers)
    rows: list[Row] = [answers] if short else [[button] for button in answers]
    if why:
        rows.append([turn.button(turn.label("why"), ControlTap(token, index, Op.WHY))])
    if index > 0:
        rows.append([turn.button(turn.label("back"), ControlTap(token, index, Op.BACK))])
    return rows


def _result_rows(turn: Turn, progress: Progress, result: Result) -> list[Row]:
    token, index = progress.check.token, progress.index

    def control(name: str, op: Op) -> InlineKeyboardButton:
        return turn.button(turn.label(name), ControlTap(token, index, op))

    first = [control("back", Op.BACK)] if index > 0 else []
    rows: list[Row] = [[*first, control("restart", Op.RESTART)], [control("summary", Op.SUMMARY)]]
    if result.disposition.rank <= turn.engine.flow.self_care_up_to.rank:
        rows.append([control("reminders", Op.REMINDERS)])
    rows.append([control("menu", Op.MENU)])
    return rows


# ---------------------------------------------------------------------- editing


async def _edit(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Rewrite the tapped message. If Telegram refuses (the message is too old, or
    unchanged), carry on: what comes next is sent as a new message anyway."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_text(text, reply_markup=reply_markup, parse_mode=ParseMode.HTML)
    except BadRequest as error:
        logger.info("could not edit a symptom-check message: %s", error.message)


async def _strip(query: CallbackQuery) -> None:
    """Remove the tapped message's buttons (they belong to a step that is over)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        logger.info("could not remove symptom-check buttons: %s", error.message)
