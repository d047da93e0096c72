"""Turn due reminder rules into delivery rows, a little ahead of time.

:func:`materialise_due` is one pass: every switched-on rule of an unblocked user whose
``next_due_at`` falls before ``now + lookahead`` gets a pending delivery for each slot up
to that horizon, and its ``next_due_at`` moves to the first slot after it. Deliveries are
unique per (user, kind, slot), so a second pass, a crash half-way or a second process
creates nothing twice. Rows are locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so
that concurrent materialisers split the work; a rule changed by the user while a pass was
computing it is left alone (its revision moved) and done again on the next pass.

After downtime every slot missed within ``catch_up`` is materialised as pending: the
dispatcher's lateness policy then expires them (recorded, not sent) and sends at most the
newest of each kind. Slots older than ``catch_up`` (a long outage, a user back from a
block) are skipped without a row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from scheduler.planning import ReminderKind, ReminderRule, UserPrefs, due_between, next_due
from scheduler.rules import ScheduleFormatError, decode_schedule, user_prefs
from scheduler.store import NewDelivery, ReminderStore

logger = logging.getLogger(__name__)

_MAX_PASSES = 10_000  # a pass is one batch; this only guards against a logic error


@dataclass(frozen=True)
class MaterialiseConfig:
    """How far ahead and how far back a pass looks, and how much it does per transaction."""

    lookahead: timedelta = timedelta(minutes=10)
    catch_up: timedelta = timedelta(hours=24)
    batch_size: int = 500


@dataclass
class MaterialiseReport:
    """What one call did."""

    rules: int = 0
    created: int = 0
    stale_rules: int = 0  # rules whose next_due_at was older than catch_up
    conflicts: int = 0  # rules changed by the user meanwhile; retried next time
    broken: int = 0  # rules with a schedule we cannot read; switched off


def first_due_from(rule: ReminderRule, prefs: UserPrefs, start: datetime) -> datetime | None:
    """The first due instant at or after ``start``."""
    return next_due(rule, prefs, start - timedelta(microseconds=1))


async def materialise_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    default_zone: ZoneInfo,
    config: MaterialiseConfig | None = None,
) -> MaterialiseReport:
    """Create the deliveries of every rule due before ``now + lookahead``; idempotent."""
    config = config or MaterialiseConfig()
    report = MaterialiseReport()
    now = clock.now()
    horizon = now + config.lookahead
    for _ in range(_MAX_PASSES):
        async with sessionmaker.begin() as session:
            done = await _one_batch(
                session, report, now=now, horizon=horizon, default_zone=default_zone, config=config
            )
        if done < config.batch_size:
            break
    if report.created or report.stale_rules or report.conflicts or report.broken:
        logger.info(
            "materialised %d deliveries from %d rules (%d stale, %d changed meanwhile, "
            "%d unreadable)",
            report.created,
            report.rules,
            report.stale_rules,
            report.conflicts,
            report.broken,
        )
    return report


async def _one_batch(
    session: AsyncSession,
    report: MaterialiseReport,
    *,
    now: datetime,
    horizon: datetime,
    default_zone: ZoneInfo,
    config: MaterialiseConfig,
) -> int:
    store = ReminderStore(session)
    due = await store.due_rules(horizon, config.batch_size)
    slots: list[NewDelivery] = []
    for row, user, preferences in due:
        report.rules += 1
        try:
            rule = ReminderRule(ReminderKind(row.kind), decode_schedule(row.schedule))
        except (ScheduleFormatError, ValueError):
            logger.exception("a %s rule has an unreadable schedule; switching it off", row.kind)
            row.enabled = False
            row.next_due_at = None
            report.broken += 1
            continue
        prefs = user_prefs(user, preferences, default_zone)
        start = row.next_due_at or now
        if start < now - config.catch_up:
            report.stale_rules += 1
            start = now - config.catch_up
        found = list(due_between(rule, prefs, start, horizon))
        following = first_due_from(rule, prefs, horizon)
        if await store.advance_rule(row, following, now=now):
            slots.extend(NewDelivery(row.user_id, row.kind, instant) for instant in found)
        else:
            report.conflicts += 1
    report.created += await store.add_deliveries(slots, now=now)
    return len(due)
