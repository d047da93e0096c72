"""Safety-net follow-ups: the result of a symptom check promises one, and the bot keeps it.

A result (or an emergency card) calls :func:`note_result`. SELF_CARE and ROUTINE are asked
"How is your leg now?" after 48 hours; URGENT_SAME_DAY and above "Were you able to be
seen?" after a few hours. The question is a one-off delivery of kind ``fu:<token>`` in
``reminder_deliveries``, so the reminder engine's leases, retries and unique key make it
never lost and never doubled; it is planned into the user's reminder hours unless they
agreed to be asked at night (:func:`allow_quiet`).

One follow-up per user (``care_followups``, keyed by user): a later result of the same
check may only raise it; a new check replaces it unless the open one is more urgent. The
row keeps only the level and when to ask, and is deleted once the person answers.

While an URGENT_SAME_DAY-or-higher follow-up is open (for at most :data:`HOLD_LIMIT`),
:func:`hold_active` is true: stretch reminders are not sent and posture reminders leave
out walking. No Telegram here.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Preferences, User
from bot.db.nudge_models import CareFollowUp
from bot.db.reminder_models import DeliveryStatus, ReminderDelivery
from content.triage_schema import Disposition
from scheduler.planning import ALL_WEEKDAYS, UserPrefs, is_quiet, next_active_instant
from scheduler.rules import user_prefs
from scheduler.store import NewDelivery, ReminderStore

__all__ = [
    "FOLLOW_UP_PREFIX",
    "HOLD_LIMIT",
    "Answer",
    "Answered",
    "Promise",
    "allow_quiet",
    "answer",
    "current",
    "delay_for",
    "follow_up_kind",
    "hold_active",
    "is_urgent",
    "note_result",
    "token_of_kind",
]

FOLLOW_UP_PREFIX = "fu:"
SOFT_DELAY = timedelta(hours=48)
URGENT_DELAY = timedelta(hours=4)
EMERGENCY_DELAY = timedelta(hours=3)
REPEAT_DELAY = timedelta(hours=4)
HOLD_LIMIT = timedelta(days=7)
"""A hold nobody answered ends by itself after this long."""
KEEP_UNANSWERED = timedelta(days=14)
"""A follow-up nobody answered is deleted this long after it was promised."""
_TOKEN_LENGTH = 8


class Answer(StrEnum):
    """What a follow-up button says."""

    BETTER = "b"
    SAME = "s"
    WORSE = "w"
    SEEN = "y"
    NOT_YET = "n"


_SOFT_ANSWERS = frozenset({Answer.BETTER, Answer.SAME, Answer.WORSE})
_URGENT_ANSWERS = frozenset({Answer.SEEN, Answer.NOT_YET, Answer.WORSE})


def is_urgent(level: Disposition) -> bool:
    """Whether a level asks "were you seen?" and holds stretches."""
    return level.rank >= Disposition.URGENT_SAME_DAY.rank


def answers_for(level: Disposition) -> tuple[Answer, ...]:
    """The buttons the follow-up of ``level`` offers, in order."""
    if is_urgent(level):
        return (Answer.SEEN, Answer.NOT_YET, Answer.WORSE)
    return (Answer.BETTER, Answer.SAME, Answer.WORSE)


def delay_for(level: Disposition) -> timedelta:
    """How long after the result the follow-up is due."""
    if level.rank >= Disposition.EMERGENCY_DEPARTMENT.rank:
        return EMERGENCY_DELAY
    if is_urgent(level):
        return URGENT_DELAY
    return SOFT_DELAY


def follow_up_kind(token: str) -> str:
    """The delivery kind of a follow-up: ``fu:<token>``."""
    return f"{FOLLOW_UP_PREFIX}{token}"


def token_of_kind(kind: str) -> str | None:
    """The follow-up token a delivery kind names, or None if it is not a follow-up."""
    if not kind.startswith(FOLLOW_UP_PREFIX):
        return None
    return kind.removeprefix(FOLLOW_UP_PREFIX) or None


def hours_only(prefs: UserPrefs) -> UserPrefs:
    """The user's active hours without weekdays or pause: a safety net is not a reminder,
    but nobody should get it in the middle of their night."""
    return dataclasses.replace(prefs, weekdays=ALL_WEEKDAYS, pause=None)


def plan(natural: datetime, prefs: UserPrefs, *, quiet_ok: bool) -> datetime:
    """When to ask: ``natural``, or the start of the next active hours if it is quiet."""
    if quiet_ok:
        return natural
    hours = hours_only(prefs)
    if not is_quiet(natural, hours):
        return natural
    return next_active_instant(natural, hours) or natural


@dataclass(frozen=True)
class Promise:
    """A follow-up that was just planned (or re-planned): what to tell the person."""

    token: str
    level: Disposition
    due_at: datetime
    natural_due: datetime
    """When it would be without quiet hours; differs from ``due_at`` when it was moved."""
    hold_started: bool
    """An urgent follow-up replaced a non-urgent one or none: stretches pause now."""

    @property
    def moved_out_of_quiet(self) -> bool:
        """Whether quiet hours pushed the question later."""
        return self.due_at != self.natural_due


async def _prefs(session: AsyncSession, user_id: int, default_zone: ZoneInfo) -> UserPrefs:
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError(f"user {user_id} has not started the bot")
    return user_prefs(user, await session.get(Preferences, user_id), default_zone)


async def current(session: AsyncSession, user_id: int) -> CareFollowUp | None:
    """The user's open follow-up, if any."""
    return await session.get(CareFollowUp, user_id)


async def hold_active(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Whether stretches and walking are on hold for this user now."""
    level = await session.scalar(
        select(CareFollowUp.level).where(
            CareFollowUp.user_id == user_id, CareFollowUp.created_at > now - HOLD_LIMIT
        )
    )
    return level is not None and is_urgent(Disposition(level))


async def note_result(
    session: AsyncSession,
    user_id: int,
    check_token: str,
    level: Disposition,
    *,
    now: datetime,
    default_zone: ZoneInfo,
) -> Promise | None:
    """Promise a follow-up for a result of ``level``; None when nothing changed."""
    await session.execute(
        delete(CareFollowUp)
        .where(CareFollowUp.created_at < now - KEEP_UNANSWERED)
        .execution_options(synchronize_session=False)
    )
    existing = await current(session, user_id)
    if existing is not None:
        old = Disposition(existing.level)
        same_check = existing.check_token == check_token
        if level.rank <= old.rank and (same_check or existing.created_at > now - HOLD_LIMIT):
            return None  # already promised, or a more urgent one is still open
    prefs = await _prefs(session, user_id, default_zone)
    natural = now + delay_for(level)
    due = plan(natural, prefs, quiet_ok=False)
    token = secrets.token_urlsafe(6)[:_TOKEN_LENGTH]
    hold_before = existing is not None and is_urgent(Disposition(existing.level))
    values = {
        "token": token,
        "check_token": check_token,
        "level": level.value,
        "round": 0,
        "due_at": due,
        "allow_quiet": False,
        "created_at": now,
    }
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    await session.execute(
        insert(CareFollowUp)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    await _drop_pending(session, user_id)
    await ReminderStore(session).add_deliveries(
        [NewDelivery(user_id, follow_up_kind(token), due)], now=now
    )
    return Promise(token, level, due, natural, is_urgent(level) and not hold_before)


async def allow_quiet(
    session: AsyncSession, user_id: int, token: str, *, now: datetime
) -> datetime | None:
    """The person agreed to be asked outside their hours: ask at the natural time.

    Returns the new time, or None if the follow-up is no longer open (or already allowed).
    """
    row = await current(session, user_id)
    if row is None or row.token != token or row.allow_quiet:
        return None
    level = Disposition(row.level)
    natural = max(row.created_at + delay_for(level), now)
    row.allow_quiet = True
    row.due_at = natural
    await _drop_pending(session, user_id)
    await ReminderStore(session).add_deliveries(
        [NewDelivery(user_id, follow_up_kind(row.token), natural)], now=now
    )
    return natural


async def keep_out_of_quiet(
    session: AsyncSession, user_id: int, prefs: UserPrefs, *, now: datetime
) -> datetime | None:
    """After a change of time zone or hours: move a waiting follow-up out of the new quiet
    hours (unless the person agreed to be asked then). Returns the new time, or None."""
    row = await current(session, user_id)
    if row is None or row.allow_quiet or row.due_at <= now:
        return None
    due = plan(row.due_at, prefs, quiet_ok=False)
    if due == row.due_at:
        return None
    row.due_at = due
    await _drop_pending(session, user_id)
    await ReminderStore(session).add_deliveries(
        [NewDelivery(user_id, follow_up_kind(row.token), due)], now=now
    )
    return due


@dataclass(frozen=True)
class Answered:
    """What an answer did: ``next_at`` is set when the question will be asked again."""

    answer: Answer
    level: Disposition
    next_at: datetime | None = None
    hold_ended: bool = False


async def answer(
    session: AsyncSession,
    user_id: int,
    token: str,
    round_: int,
    given: Answer,
    *,
    now: datetime,
    default_zone: ZoneInfo,
) -> Answered | None:
    """Apply an answer from the follow-up ``token`` asked in ``round_``; None if stale.

    "Not yet" keeps an urgent follow-up open and asks again in a few hours; every other
    answer closes it (the row is deleted; nothing about the answer is kept).
    """
    row = await current(session, user_id)
    if row is None or row.token != token or row.round != round_:
        return None
    level = Disposition(row.level)
    allowed = _URGENT_ANSWERS if is_urgent(level) else _SOFT_ANSWERS
    if given not in allowed:
        return None
    if given is Answer.NOT_YET:
        prefs = await _prefs(session, user_id, default_zone)
        due = plan(now + REPEAT_DELAY, prefs, quiet_ok=row.allow_quiet)
        row.round += 1
        row.due_at = due
        await _drop_pending(session, user_id)
        await ReminderStore(session).add_deliveries(
            [NewDelivery(user_id, follow_up_kind(row.token), due)], now=now
        )
        return Answered(given, level, next_at=due)
    await session.delete(row)
    await _drop_pending(session, user_id)
    return Answered(given, level, hold_ended=is_urgent(level))


async def _drop_pending(session: AsyncSession, user_id: int) -> None:
    """Delete the user's follow-up deliveries not yet sent (claimed ones settle themselves:
    the renderer declines a follow-up that is no longer the open one)."""
    await session.execute(
        delete(ReminderDelivery)
        .where(
            ReminderDelivery.user_id == user_id,
            ReminderDelivery.kind.startswith(FOLLOW_UP_PREFIX),
            ReminderDelivery.status == DeliveryStatus.PENDING.value,
        )
        .execution_options(synchronize_session=False)
    )
    await session.flush()
