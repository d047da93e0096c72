"""Materialise and dispatch on a real database with a manual clock: no sleeping."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import User
from bot.db.reminder_models import ReminderDelivery, ReminderRule
from bot.users import register
from scheduler import preferences
from scheduler.dispatcher import DispatchConfig
from scheduler.engine import ReminderEngine
from scheduler.lateness import DEFAULT_MAX_LATENESS
from scheduler.materialise import MaterialiseConfig, materialise_due
from scheduler.planning import (
    ActiveHours,
    FixedTimes,
    Interval,
    ReminderKind,
    TimesPerDay,
    UserPrefs,
    due_between,
    user_offset,
)
from scheduler.planning import ReminderRule as PlannedRule
from scheduler.render import ReminderMessage
from scheduler.sending import SendResult, SendStatus
from scheduler.store import IN_FLIGHT, ReminderStore
from tests.conftest import FIGURES
from tests.reminders.support import (
    DEFAULTS,
    UTC_ZONE,
    RecordingSender,
    add_user,
    deliveries,
    dispatcher,
    render_for_tests,
    set_schedule,
    statuses,
)

MORNING = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # a Monday
HYDRATION = ReminderKind.HYDRATION
POSTURE = ReminderKind.POSTURE
STRETCH = ReminderKind.STRETCH

Sessions = async_sessionmaker[AsyncSession]


async def materialise(sessionmaker: Sessions, clock: ManualClock) -> int:
    report = await materialise_due(sessionmaker, clock, default_zone=UTC_ZONE)
    return report.created


async def run_until(
    sessionmaker: Sessions, clock: ManualClock, sender: RecordingSender, end: datetime
) -> None:
    """What the jobs do, every 30 s of simulated time until ``end``."""
    engine = dispatcher(sessionmaker, clock, sender)
    while clock.now() < end:
        await materialise(sessionmaker, clock)
        await engine.drain()
        clock.set(min(end, clock.now() + timedelta(seconds=30)))


async def test_each_slot_is_materialised_once_however_often_it_runs(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, Interval(60), now=clock.now())
    for _ in range(3):
        await materialise(sessionmaker, clock)
    # All day, hourly: 07:00 plus the user's offset is within the 10-minute lookahead.
    rows = await deliveries(sessionmaker)
    assert [row.scheduled_at for row in rows] == [MORNING + user_offset(1)]
    clock.set(MORNING + timedelta(hours=3))
    first = await materialise(sessionmaker, clock)
    again = await materialise(sessionmaker, clock)
    rows = await deliveries(sessionmaker)
    assert again == 0
    assert first >= 2
    assert len({row.scheduled_at for row in rows}) == len(rows)
    assert all(row.status == "pending" for row in rows)


async def test_a_due_reminder_is_sent_once_and_recorded(sessionmaker: Sessions) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, Interval(120), now=clock.now())
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(hours=5, minutes=5))
    rows = await deliveries(sessionmaker)
    sent = [row for row in rows if row.status == "sent"]
    # Every two hours from midnight: 08:00, 10:00 and 12:00 (+ the user's offset).
    assert len(sent) == 3
    assert [text for _, text in sender.sent] == [
        f"hydration {row.scheduled_at.isoformat()}" for row in sent
    ]
    assert all(row.sends == 1 and row.attempts == 0 for row in sent)
    assert all(
        row.sent_at is not None and row.sent_at - row.scheduled_at < timedelta(seconds=31)
        for row in sent
    )


async def test_after_a_two_hour_outage_there_is_no_burst_and_expiries_are_recorded(
    sessionmaker: Sessions, record_property: Callable[[str, object], None]
) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    users = range(1, 101)
    schedules = {HYDRATION: Interval(60), POSTURE: Interval(30), STRETCH: TimesPerDay(4)}
    for user_id in users:
        await add_user(sessionmaker, user_id, now=clock.now(), hours=(time(8), time(21)))
        for kind, schedule in schedules.items():
            await set_schedule(sessionmaker, user_id, kind, schedule, now=clock.now())
    down, up = datetime(2026, 6, 1, 9, 45, tzinfo=UTC), datetime(2026, 6, 1, 11, 45, tzinfo=UTC)
    await run_until(sessionmaker, clock, sender, down)
    before = len(sender.sent)
    # The bot is down from 09:45 to 11:45 and comes back: one materialise, one dispatch.
    clock.set(up)
    await materialise(sessionmaker, clock)
    engine = dispatcher(sessionmaker, clock, sender)
    await engine.drain()
    burst = sender.sent[before:]
    per_user_kind = Counter((chat, text.split()[0]) for chat, text in burst)
    rows = await deliveries(sessionmaker)
    missed = [row for row in rows if down <= row.scheduled_at < up]
    expected_missed = sum(
        len(
            list(
                due_between(
                    PlannedRule(kind, schedule),
                    UserPrefs(user_id, UTC_ZONE, ActiveHours(time(8), time(21))),
                    down,
                    up,
                )
            )
        )
        for user_id in users
        for kind, schedule in schedules.items()
    )
    counts = statuses(missed)
    record_property(
        FIGURES,
        f"[2 h outage, {len(users)} users x 3 kinds] {expected_missed} slots missed, "
        f"{len(burst)} sent on restart (at most {max(per_user_kind.values(), default=0)} "
        f"per user and kind), recorded {dict(counts)}",
    )
    assert max(per_user_kind.values()) == 1, "at most one late reminder per user and kind"
    # Every missed slot has its row: sent late once per kind at most, or expired with why.
    assert len(missed) == expected_missed
    assert {status for status, _ in counts} == {"sent", "expired"}
    assert counts[("expired", "too_late")] + counts[("expired", "superseded")] >= 100 * (1 + 3)
    # What is sent is the newest missed slot of its kind, still within its lateness.
    sent_late = {row.id: row for row in missed if row.status == "sent"}
    for row in sent_late.values():
        newer = [m for m in missed if (m.user_id, m.kind) == (row.user_id, row.kind)]
        assert row.scheduled_at == max(m.scheduled_at for m in newer)
        assert up - row.scheduled_at < DEFAULT_MAX_LATENESS[ReminderKind(row.kind)]
    assert len(sent_late) == len(burst)


async def test_a_rate_limited_send_is_requeued_without_counting_an_attempt(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, FixedTimes((time(7, 30),)), now=clock.now())
    resume = MORNING + timedelta(minutes=35)
    sender.script(1, SendResult(SendStatus.RATE_LIMITED, resume_at=resume))
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(minutes=34, seconds=30))
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.reason, row.attempts, row.available_at) == (
        "pending",
        "rate_limited",
        0,
        resume,
    )
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(minutes=36))
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.attempts, row.sends) == ("sent", 0, 1)


async def test_a_blocked_user_gets_nothing_until_they_start_again(sessionmaker: Sessions) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, POSTURE, Interval(30), now=clock.now())
    sender.script(1, SendResult(SendStatus.BLOCKED, error="Forbidden: bot was blocked"))
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(hours=3))
    rows = await deliveries(sessionmaker)
    assert statuses(rows)[("dead", "blocked")] == 1
    assert sender.sent == []
    async with sessionmaker() as session:
        user = await session.get(User, 1)
    assert user is not None
    assert user.blocked_at is not None
    # /start again: reminders resume, without a backlog.
    async with sessionmaker.begin() as session:
        await register(session, user_id=1, language="en", now=clock.now())
    await run_until(sessionmaker, clock, sender, clock.now() + timedelta(hours=1, seconds=30))
    assert 1 <= len(sender.sent) <= 3


async def test_a_bad_request_is_dead_lettered(sessionmaker: Sessions) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, FixedTimes((time(7, 30),)), now=clock.now())
    sender.script(1, SendResult(SendStatus.REJECTED, error="BadRequest: Chat not found"))
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(hours=1))
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.reason, row.last_error, row.sends) == (
        "dead",
        "rejected",
        "BadRequest: Chat not found",
        0,
    )


async def test_server_errors_are_retried_with_growing_backoff_then_given_up(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, STRETCH, FixedTimes((time(7, 30),)), now=clock.now())
    failure = SendResult(SendStatus.FAILED, error="NetworkError: Bad Gateway")
    sender.script(1, *[failure] * 10)
    engine = dispatcher(sessionmaker, clock, sender, config=DispatchConfig(max_attempts=4))
    waits: list[timedelta] = []
    clock.set(datetime(2026, 6, 1, 7, 40, tzinfo=UTC))
    await materialise(sessionmaker, clock)
    for _ in range(6):
        await engine.drain()
        (row,) = await deliveries(sessionmaker)
        if row.status != "pending":
            break
        waits.append(row.available_at - clock.now())
        clock.set(row.available_at)
    assert (row.status, row.reason, row.attempts) == ("failed", "gave_up", 4)
    assert len(waits) == 3
    assert waits[0] < waits[1] < waits[2]
    assert timedelta(seconds=2.5) <= waits[0] <= timedelta(seconds=5)
    assert sender.calls == 4


async def test_a_pause_holds_back_what_is_due_and_drops_what_was_planned(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, STRETCH, FixedTimes((time(7, 30),)), now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, FixedTimes((time(7, 35),)), now=clock.now())
    due = datetime(2026, 6, 1, 7, 30, tzinfo=UTC) + user_offset(1)
    clock.set(due + timedelta(seconds=5))
    await materialise(sessionmaker, clock)
    assert len(await deliveries(sessionmaker)) == 2  # stretch is due, hydration planned
    async with sessionmaker.begin() as session:
        until = await preferences.pause(
            session, 1, preferences.PauseChoice.HOUR, now=clock.now(), defaults=DEFAULTS
        )
    assert until == clock.now() + timedelta(hours=1)
    (row,) = await deliveries(sessionmaker)  # the planned hydration is gone
    assert row.kind == "stretch"
    # Stretch may be 90 minutes late: it waits for the pause to end instead of expiring.
    await run_until(sessionmaker, clock, sender, until - timedelta(seconds=1))
    assert sender.sent == []
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.reason, row.available_at) == ("pending", "quiet", until)
    await run_until(sessionmaker, clock, sender, until + timedelta(seconds=31))
    assert [text.split()[0] for _, text in sender.sent] == ["stretch"]
    async with sessionmaker() as session:
        rule = await session.get(ReminderRule, (1, "hydration"))
    assert rule is not None
    assert rule.next_due_at == datetime(2026, 6, 2, 7, 35, tzinfo=UTC) + user_offset(1)


async def test_a_due_delivery_waits_for_active_hours_or_expires(sessionmaker: Sessions) -> None:
    clock = ManualClock(datetime(2026, 6, 1, 20, 0, tzinfo=UTC))
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now(), hours=(time(8), time(21)))
    await set_schedule(sessionmaker, 1, STRETCH, FixedTimes((time(20, 50),)), now=clock.now())
    clock.set(datetime(2026, 6, 1, 20, 55, tzinfo=UTC))
    await materialise(sessionmaker, clock)
    # The user narrows their hours to end at 20:30 while the 20:50 slot is already due.
    async with sessionmaker.begin() as session:
        await preferences.set_active_hours(
            session, 1, time(8), time(20, 30), now=clock.now(), defaults=DEFAULTS
        )
    clock.set(datetime(2026, 6, 1, 20, 56, tzinfo=UTC))
    await dispatcher(sessionmaker, clock, sender).drain()
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.reason) == ("expired", "quiet")
    assert sender.sent == []


async def test_a_lease_that_ran_out_mid_send_is_taken_over_and_counted(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, FixedTimes((time(7, 30),)), now=clock.now())
    clock.set(datetime(2026, 6, 1, 7, 35, tzinfo=UTC))
    await materialise(sessionmaker, clock)
    # A process claims it, starts sending and dies before recording anything.
    async with sessionmaker.begin() as session:
        store = ReminderStore(session)
        (claimed,) = await store.claim(
            owner="dead-process", now=clock.now(), lease=timedelta(minutes=2), limit=10
        )
        await store.settle([{"id": claimed.id, "reason": IN_FLIGHT}])
    sender = RecordingSender()
    engine = dispatcher(sessionmaker, clock, sender)
    await engine.drain()
    assert sender.sent == []  # the lease still holds
    clock.set(clock.now() + timedelta(minutes=2))
    await engine.drain()
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.sends) == ("sent", 1)
    assert engine.report.maybe_duplicates == 1
    assert len(sender.sent) == 1


async def test_stopping_finishes_quick_sends_and_releases_the_rest(
    sessionmaker: Sessions,
) -> None:
    clock = ManualClock(MORNING)
    for user_id in (1, 2):
        await add_user(sessionmaker, user_id, now=clock.now())
        await set_schedule(
            sessionmaker, user_id, HYDRATION, FixedTimes((time(7, 30),)), now=clock.now()
        )
    clock.set(datetime(2026, 6, 1, 7, 40, tzinfo=UTC))
    await materialise(sessionmaker, clock)
    stuck = asyncio.Event()

    class HangingSender(RecordingSender):
        async def send(self, chat_id: int, message: ReminderMessage) -> SendResult:
            if chat_id == 2:
                await stuck.wait()  # a request that never comes back
            return await super().send(chat_id, message)

    sender = HangingSender()
    engine = dispatcher(
        sessionmaker,
        clock,
        sender,
        config=DispatchConfig(shutdown_grace=timedelta(milliseconds=200)),
    )
    assert engine.kick()
    for _ in range(200):
        if sender.sent:
            break
        await asyncio.sleep(0.01)
    await engine.stop()
    assert not engine.kick(), "a stopped dispatcher claims nothing"
    rows = {row.user_id: row for row in await deliveries(sessionmaker)}
    assert (rows[1].status, rows[1].sends) == ("sent", 1)
    assert (rows[2].status, rows[2].lease_owner, rows[2].reason) == ("pending", None, IN_FLIGHT)


async def test_changing_preferences_replans_at_once(sessionmaker: Sessions) -> None:
    clock = ManualClock(MORNING)
    await add_user(sessionmaker, 1, now=clock.now(), hours=(time(8), time(21)))
    await set_schedule(sessionmaker, 1, HYDRATION, Interval(60), now=clock.now())
    lookahead = MaterialiseConfig(lookahead=timedelta(hours=3))
    await materialise_due(sessionmaker, clock, default_zone=UTC_ZONE, config=lookahead)
    assert len(await deliveries(sessionmaker)) == 2  # 08:00 and 09:00 are within 3 hours
    async with sessionmaker.begin() as session:
        await preferences.set_timezone(
            session, 1, "Europe/Istanbul", now=clock.now(), defaults=DEFAULTS
        )
    async with sessionmaker() as session:
        rule = await session.get(ReminderRule, (1, "hydration"))
        planned = list(await session.scalars(select(ReminderDelivery)))
    assert planned == []
    # 07:00 UTC is 10:00 in Istanbul, inside 08:00-21:00 there: the next slot is 10:00
    # local plus the user's offset, where in London it was not before 08:00 UTC.
    assert rule is not None
    assert rule.next_due_at == MORNING + user_offset(1)
    async with sessionmaker.begin() as session:
        await preferences.set_kind_enabled(
            session, 1, HYDRATION, False, now=clock.now(), defaults=DEFAULTS
        )
    async with sessionmaker() as session:
        rule = await session.get(ReminderRule, (1, "hydration"))
    assert rule is not None
    assert (rule.enabled, rule.next_due_at) == (False, None)


@pytest.mark.parametrize("kind", list(ReminderKind))
async def test_a_switched_off_kind_is_not_sent_even_if_already_due(
    sessionmaker: Sessions, kind: ReminderKind
) -> None:
    clock = ManualClock(MORNING)
    sender = RecordingSender()
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, kind, FixedTimes((time(7, 30),)), now=clock.now())
    clock.set(datetime(2026, 6, 1, 7, 35, tzinfo=UTC))
    await materialise(sessionmaker, clock)
    async with sessionmaker.begin() as session:
        await preferences.set_kind_enabled(
            session, 1, kind, False, now=clock.now(), defaults=DEFAULTS
        )
    await dispatcher(sessionmaker, clock, sender).drain()
    (row,) = await deliveries(sessionmaker)
    assert (row.status, row.reason) == ("expired", "disabled")


@pytest.mark.parametrize(
    ("zone", "night", "wall", "expected"),
    [
        # Fall back: 01:30 happens twice in London; the reminder fires once, the first time.
        (
            "Europe/London",
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
            time(1, 30),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        # Spring forward: 02:30 does not exist in New York; it fires at 03:00 EDT.
        (
            "America/New_York",
            datetime(2026, 3, 8, 4, 0, tzinfo=UTC),
            time(2, 30),
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        ),
        # Sydney falls back on 5 April 2026: 02:30 AEDT, once.
        (
            "Australia/Sydney",
            datetime(2026, 4, 4, 12, 0, tzinfo=UTC),
            time(2, 30),
            datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
        ),
    ],
)
async def test_a_fixed_time_on_a_dst_night_is_delivered_once(
    sessionmaker: Sessions, zone: str, night: datetime, wall: time, expected: datetime
) -> None:
    clock = ManualClock(night)
    sender = RecordingSender()
    user_id = 299  # no per-user offset, so the table reads as wall-clock times
    await add_user(sessionmaker, user_id, now=clock.now(), zone=zone)
    await set_schedule(sessionmaker, user_id, STRETCH, FixedTimes((wall,)), now=clock.now())
    await run_until(sessionmaker, clock, sender, night + timedelta(hours=10))
    rows = await deliveries(sessionmaker)
    assert [(row.scheduled_at, row.status) for row in rows] == [(expected, "sent")]
    assert sender.sent == [(user_id, f"stretch {expected.isoformat()}")]


async def test_the_engine_purges_history_older_than_it_keeps(sessionmaker: Sessions) -> None:
    clock = ManualClock(MORNING)
    await add_user(sessionmaker, 1, now=clock.now())
    await set_schedule(sessionmaker, 1, HYDRATION, Interval(60), now=clock.now())
    sender = RecordingSender()
    await run_until(sessionmaker, clock, sender, MORNING + timedelta(hours=3))
    engine = ReminderEngine(
        sessionmaker=sessionmaker,
        clock=clock,
        sender=sender,
        renderer=render_for_tests,
        default_zone=UTC_ZONE,
    )
    await engine.materialise()  # history is young: nothing to purge
    kept = len(await deliveries(sessionmaker))
    assert kept >= 3
    clock.set(MORNING + timedelta(days=31))
    await engine.materialise()  # a purge is due; the month-old sent rows go
    left = await deliveries(sessionmaker)
    month_ago = clock.now() - timedelta(days=30)
    assert [row for row in left if row.scheduled_at < month_ago and row.status == "sent"] == []
    # Only unfinished rows outlive the purge (the dispatcher decides about them first).
    assert {row.status for row in left} == {"pending"}
    await engine.stop()
