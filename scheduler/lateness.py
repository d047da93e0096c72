"""What to do with reminders that are due, late, or very late: pure.

After downtime (or a slow dispatcher) a user can have several due deliveries. The rule,
enforced here and only here, over one user's batch:

- a delivery older than its kind's ``max_lateness`` is expired (``TOO_LATE``), never sent;
- of the rest, only the newest of each kind may be sent; older ones are expired
  (``SUPERSEDED``), so there is never a burst of the same reminder;
- a delivery may be sent only while :func:`~scheduler.planning.is_active` holds (active
  hours, allowed weekday, not paused). Otherwise it is deferred to the next active instant
  if that comes before its deadline, and expired (``QUIET``) if not;
- a delivery not yet due is deferred to its scheduled instant and affects nothing else.

``DEFER`` carries ``retry_at``; the dispatcher should leave the row pending until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from bot.clock import ensure_utc
from scheduler.planning import ReminderKind, UserPrefs, is_active, next_active_instant

Key = TypeVar("Key")

# How late a reminder may still be useful. Data, not scattered constants: a "drink water"
# nudge 45 minutes late still helps, a "sit up straight" one 20 minutes late does not,
# stretches done an hour and a half late still count.
DEFAULT_MAX_LATENESS: Mapping[ReminderKind, timedelta] = {
    ReminderKind.HYDRATION: timedelta(minutes=45),
    ReminderKind.POSTURE: timedelta(minutes=20),
    ReminderKind.STRETCH: timedelta(minutes=90),
}


class Verdict(StrEnum):
    """What the dispatcher does with a delivery now."""

    SEND = "send"
    EXPIRE = "expire"
    DEFER = "defer"


class Reason(StrEnum):
    """Why a delivery got its verdict; recorded on the delivery row."""

    ON_TIME = "on_time"  # SEND: within its lateness allowance
    NOT_YET_DUE = "not_yet_due"  # DEFER until scheduled
    QUIET = "quiet"  # DEFER until active again, or EXPIRE if that is too late
    TOO_LATE = "too_late"  # EXPIRE: older than max_lateness
    SUPERSEDED = "superseded"  # EXPIRE: a newer one of the same kind is still valid


@dataclass(frozen=True)
class DueItem(Generic[Key]):
    """A pending delivery: the caller's key (row id), its kind and scheduled instant."""

    key: Key
    kind: ReminderKind
    scheduled: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheduled", ensure_utc(self.scheduled))


@dataclass(frozen=True)
class Decision(Generic[Key]):
    """The verdict on one item; ``retry_at`` is set exactly when the verdict is DEFER."""

    item: DueItem[Key]
    verdict: Verdict
    reason: Reason
    retry_at: datetime | None = None


def decide_batch(
    items: Iterable[DueItem[Key]],
    *,
    prefs: UserPrefs,
    now: datetime,
    max_lateness: Mapping[ReminderKind, timedelta] = DEFAULT_MAX_LATENESS,
) -> list[Decision[Key]]:
    """Decide every pending delivery of one user; at most one SEND per kind.

    Decisions come back in the order of ``items``. Pass all of the user's pending items
    at once: the one-per-kind rule only holds within a batch.
    """
    now = ensure_utc(now)
    batch = list(items)
    decisions: dict[int, Decision[Key]] = {}
    newest_valid: dict[ReminderKind, int] = {}
    for index, item in enumerate(batch):
        if item.scheduled > now:
            decisions[index] = Decision(item, Verdict.DEFER, Reason.NOT_YET_DUE, item.scheduled)
        elif now >= item.scheduled + max_lateness[item.kind]:
            decisions[index] = Decision(item, Verdict.EXPIRE, Reason.TOO_LATE)
        else:
            current = newest_valid.get(item.kind)
            if current is not None and batch[current].scheduled >= item.scheduled:
                decisions[index] = Decision(item, Verdict.EXPIRE, Reason.SUPERSEDED)
                continue
            if current is not None:
                decisions[current] = Decision(batch[current], Verdict.EXPIRE, Reason.SUPERSEDED)
            newest_valid[item.kind] = index
    active_now = is_active(now, prefs)
    for kind, index in newest_valid.items():
        item = batch[index]
        deadline = item.scheduled + max_lateness[kind]
        if active_now:
            decisions[index] = Decision(item, Verdict.SEND, Reason.ON_TIME)
            continue
        resume = next_active_instant(now, prefs)
        if resume is not None and resume < deadline:
            decisions[index] = Decision(item, Verdict.DEFER, Reason.QUIET, resume)
        else:
            decisions[index] = Decision(item, Verdict.EXPIRE, Reason.QUIET)
    return [decisions[index] for index in range(len(batch))]
