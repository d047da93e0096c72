"""Journey (long-sitting) mode: hourly nudges to move for the length of a journey.

Nothing of a journey is stored besides its deliveries. A journey is its start (a whole
minute, chosen when the person picked the length) and its length in hours; both are in
the delivery kinds, ``tn:<start>.<hours>`` for the nudges and ``tc:<start>`` for the offer
of a symptom check a day after arrival, so the renderer needs no table and a second tap
on the same button creates nothing new (the deliveries' unique key). Nudges fall on each
whole hour of the journey inside the person's reminder hours (not at night, not after
arrival) and stop by themselves; "I've arrived" deletes the ones left. No Telegram here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Preferences, User
from bot.db.reminder_models import DeliveryStatus, ReminderDelivery
from scheduler.planning import ALL_WEEKDAYS, UserPrefs, is_quiet, next_active_instant
from scheduler.rules import user_prefs
from scheduler.store import NewDelivery, ReminderStore

__all__ = [
    "JOURNEY_HOURS",
    "NUDGE_LATENESS",
    "Journey",
    "JourneyPlan",
    "parse_kind",
    "plan_journey",
    "start_journey",
    "stop_journey",
]

JOURNEY_HOURS = (2, 3, 4, 5, 6, 8, 10, 12)
"""The lengths the journey screen offers."""
NUDGE_PREFIX = "tn:"
OFFER_PREFIX = "tc:"
OFFER_AFTER = timedelta(hours=24)
NUDGE_LATENESS = timedelta(minutes=45)
"""A journey nudge later than this (after downtime) is not sent: the moment has passed."""
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


@dataclass(frozen=True)
class Journey:
    """A journey: its start (whole minute, UTC) and length in whole hours."""

    start: datetime
    hours: int

    @classmethod
    def starting(cls, now: datetime, hours: int) -> Journey:
        """A journey that starts at ``now`` (rounded down to the minute)."""
        if hours not in JOURNEY_HOURS:
            raise ValueError(f"not a journey length we offer: {hours}")
        return cls(now.astimezone(UTC).replace(second=0, microsecond=0), hours)

    @classmethod
    def from_key(cls, key: str, hours: int) -> Journey:
        """The journey a button or delivery kind names."""
        minutes = int(key, 36)
        if not 0 <= minutes < 10**8 or hours not in JOURNEY_HOURS:
            raise ValueError(f"not a journey: {key!r}, {hours}")
        return cls(_EPOCH + timedelta(minutes=minutes), hours)

    @property
    def key(self) -> str:
        """The start as a short base-36 count of minutes (fits callback data and kinds)."""
        return _base36(int((self.start - _EPOCH).total_seconds() // 60))

    @property
    def end(self) -> datetime:
        """When the journey ends."""
        return self.start + timedelta(hours=self.hours)

    @property
    def nudge_kind(self) -> str:
        """The delivery kind of this journey's nudges."""
        return f"{NUDGE_PREFIX}{self.key}.{self.hours}"

    @property
    def offer_kind(self) -> str:
        """The delivery kind of the symptom-check offer after it."""
        return f"{OFFER_PREFIX}{self.key}.{self.hours}"

    def hour_of(self, instant: datetime) -> int:
        """Which hour of the journey ``instant`` is (1 an hour after the start)."""
        return round((instant - self.start) / timedelta(hours=1))


def parse_kind(kind: str) -> tuple[str, Journey] | None:
    """``("nudge"|"offer", journey)`` for a journey delivery kind, else None."""
    for prefix, name in ((NUDGE_PREFIX, "nudge"), (OFFER_PREFIX, "offer")):
        if kind.startswith(prefix):
            key, _, hours = kind.removeprefix(prefix).partition(".")
            try:
                return name, Journey.from_key(key, int(hours))
            except ValueError:
                return None
    return None


def _hours_only(prefs: UserPrefs) -> UserPrefs:
    # The person asked for these nudges just now: weekdays and a reminder pause don't apply,
    # their night does.
    return dataclasses.replace(prefs, weekdays=ALL_WEEKDAYS, pause=None)


@dataclass(frozen=True)
class JourneyPlan:
    """The nudges planned for a journey and when the symptom check is offered."""

    journey: Journey
    nudges: tuple[datetime, ...]
    offer_at: datetime


def plan_journey(journey: Journey, prefs: UserPrefs) -> JourneyPlan:
    """Nudges on each whole hour before arrival, inside active hours; the offer of a
    check 24 hours after arrival, or when the active hours next begin."""
    hours = _hours_only(prefs)
    nudges = tuple(
        instant
        for k in range(1, journey.hours)
        if not is_quiet(instant := journey.start + timedelta(hours=k), hours)
    )
    after = journey.end + OFFER_AFTER
    return JourneyPlan(journey, nudges, next_active_instant(after, hours) or after)


async def start_journey(
    session: AsyncSession, user_id: int, journey: Journey, *, now: datetime, default_zone: ZoneInfo
) -> JourneyPlan:
    """Queue a journey's nudges and offer (replacing another journey's that are left)."""
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError(f"user {user_id} has not started the bot")
    prefs = user_prefs(user, await session.get(Preferences, user_id), default_zone)
    plan = plan_journey(journey, prefs)
    await session.execute(
        delete(ReminderDelivery)
        .where(
            ReminderDelivery.user_id == user_id,
            ReminderDelivery.status == DeliveryStatus.PENDING.value,
            ReminderDelivery.kind.startswith(NUDGE_PREFIX)
            | ReminderDelivery.kind.startswith(OFFER_PREFIX),
            ReminderDelivery.kind.not_in([journey.nudge_kind, journey.offer_kind]),
        )
        .execution_options(synchronize_session=False)
    )
    rows = [NewDelivery(user_id, journey.nudge_kind, instant) for instant in plan.nudges]
    rows.append(NewDelivery(user_id, journey.offer_kind, plan.offer_at))
    await ReminderStore(session).add_deliveries(rows, now=now)
    return plan


async def stop_journey(session: AsyncSession, user_id: int, journey: Journey) -> int:
    """Delete the journey's nudges not sent yet (the later check offer stays)."""
    result = await session.execute(
        delete(ReminderDelivery)
        .where(
            ReminderDelivery.user_id == user_id,
            ReminderDelivery.kind == journey.nudge_kind,
            ReminderDelivery.status == DeliveryStatus.PENDING.value,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
