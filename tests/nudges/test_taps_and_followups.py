"""Taps on reminders and the safety-net follow-ups, on a real database (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import CallbackCodec
from bot.db.nudge_models import CareFollowUp, NudgeTap
from bot.db.reminder_models import ReminderDelivery, ReminderRule
from content.triage_schema import Disposition
from scheduler import followups, nudges, preferences
from scheduler.followups import Answer
from scheduler.nudges import TapOp, TapStatus
from scheduler.planning import Interval, ReminderKind
from scheduler.preferences import Defaults
from scheduler.store import NewDelivery, ReminderStore
from tests.reminders.support import add_user, deliveries, set_schedule

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # Monday 12:00 in Istanbul
ISTANBUL = "Europe/Istanbul"
DEFAULTS = Defaults(zone=ZoneInfo("Europe/London"), country="GB")
ALICE, BOB = 501, 502


async def with_reminder(
    sessionmaker: async_sessionmaker[AsyncSession], kind: ReminderKind, schedule: Interval
) -> int:
    """Alice and Bob registered (Istanbul, 08-21); Alice has ``kind`` on and one delivery."""
    for user_id in (ALICE, BOB):
        await add_user(sessionmaker, user_id, now=NOW, zone=ISTANBUL, hours=(time(8), time(21)))
    await set_schedule(sessionmaker, ALICE, kind, schedule, now=NOW)
    async with sessionmaker.begin() as session:
        await ReminderStore(session).add_deliveries([NewDelivery(ALICE, kind.value, NOW)], now=NOW)
    (row,) = [r for r in await deliveries(sessionmaker, [ALICE]) if r.scheduled_at == NOW]
    return row.id


async def tap(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int, op: TapOp, delivery_id: int
) -> nudges.TapOutcome:
    async with sessionmaker.begin() as session:
        return await nudges.tap(session, user_id, op, delivery_id, now=NOW, defaults=DEFAULTS)


async def taps(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sessionmaker() as session:
        return [(t.user_id, t.action) for t in await session.scalars(select(NudgeTap))]


async def test_a_tap_counts_once_and_only_for_the_owner(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    delivery = await with_reminder(sessionmaker, ReminderKind.HYDRATION, Interval(60))
    assert (await tap(sessionmaker, BOB, TapOp.DONE, delivery)).status is TapStatus.GONE
    assert (await tap(sessionmaker, ALICE, TapOp.DONE, 999_999)).status is TapStatus.GONE
    assert (await tap(sessionmaker, ALICE, TapOp.DONE, delivery)).status is TapStatus.DONE
    assert (await tap(sessionmaker, ALICE, TapOp.DONE, delivery)).status is TapStatus.ALREADY
    assert (await tap(sessionmaker, ALICE, TapOp.SKIP, delivery)).status is TapStatus.ALREADY
    assert (await tap(sessionmaker, ALICE, TapOp.MOVED, delivery)).status is TapStatus.GONE
    assert await taps(sessionmaker) == [(ALICE, "done")]


def test_forged_and_other_user_button_data_is_refused() -> None:
    codec = CallbackCodec(b"k" * 32)
    data = codec.pack(nudges.TAP_ACTION, TapOp.DONE.value, "17", user_id=ALICE)
    assert codec.unpack(data, user_id=ALICE) is not None
    assert codec.unpack(data, user_id=BOB) is None  # another user's button
    forged = data.replace(":17:", ":18:")
    assert codec.unpack(forged, user_id=ALICE) is None  # the id was changed
    assert CallbackCodec(b"x" * 32).unpack(data, user_id=ALICE) is None  # another key


async def test_a_snooze_adds_one_reminder_and_never_moves_the_schedule(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    delivery = await with_reminder(sessionmaker, ReminderKind.HYDRATION, Interval(60))
    async with sessionmaker() as session:
        before = await session.get(ReminderRule, (ALICE, "hydration"))
        assert before is not None
        schedule, next_due, revision = before.schedule, before.next_due_at, before.revision
    outcome = await tap(sessionmaker, ALICE, TapOp.SNOOZE_15, delivery)
    assert (outcome.status, outcome.until) == (TapStatus.DONE, NOW + timedelta(minutes=15))
    assert (await tap(sessionmaker, ALICE, TapOp.SNOOZE_60, delivery)).status is TapStatus.ALREADY
    async with sessionmaker() as session:
        after = await session.get(ReminderRule, (ALICE, "hydration"))
        assert after is not None
        assert (after.schedule, after.next_due_at, after.revision) == (
            schedule,
            next_due,
            revision,
        )
    rows = await deliveries(sessionmaker, [ALICE])
    assert [(r.kind, r.scheduled_at) for r in rows] == [
        ("hydration", NOW),
        ("hydration", NOW + timedelta(minutes=15)),
    ]


async def test_i_just_moved_restarts_the_posture_timer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    delivery = await with_reminder(sessionmaker, ReminderKind.POSTURE, Interval(45))
    # A grid slot already materialised 20 minutes from now goes: it is too close.
    async with sessionmaker.begin() as session:
        await ReminderStore(session).add_deliveries(
            [NewDelivery(ALICE, "posture", NOW + timedelta(minutes=20))], now=NOW
        )
    outcome = await tap(sessionmaker, ALICE, TapOp.MOVED, delivery)
    assert (outcome.status, outcome.until) == (TapStatus.DONE, NOW + timedelta(minutes=45))
    rows = await deliveries(sessionmaker, [ALICE])
    assert [r.scheduled_at - NOW for r in rows] == [timedelta(0), timedelta(minutes=45)]
    async with sessionmaker() as session:
        rule = await session.get(ReminderRule, (ALICE, "posture"))
    assert rule is not None
    assert rule.next_due_at is not None
    assert rule.next_due_at >= NOW + timedelta(minutes=45) + timedelta(minutes=45) / 2
    assert await taps(sessionmaker) == [(ALICE, "done")]


async def note(
    sessionmaker: async_sessionmaker[AsyncSession], level: Disposition, check: str, now: datetime
) -> followups.Promise | None:
    async with sessionmaker.begin() as session:
        return await followups.note_result(
            session, ALICE, check, level, now=now, default_zone=DEFAULTS.zone
        )


async def test_one_follow_up_per_check_raised_never_doubled(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessionmaker, ALICE, now=NOW, zone=ISTANBUL, hours=(time(8), time(21)))
    soft = await note(sessionmaker, Disposition.SELF_CARE, "check-a", NOW)
    assert soft is not None
    assert (soft.due_at, soft.hold_started) == (NOW + timedelta(hours=48), False)
    assert await note(sessionmaker, Disposition.SELF_CARE, "check-a", NOW) is None  # shown again
    assert (
        await note(sessionmaker, Disposition.SELF_CARE, "check-b", NOW) is None
    )  # not more urgent
    urgent = await note(sessionmaker, Disposition.URGENT_SAME_DAY, "check-b", NOW)
    assert urgent is not None
    assert (urgent.due_at, urgent.hold_started) == (NOW + timedelta(hours=4), True)
    rows = [r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")]
    assert [(r.kind, r.scheduled_at) for r in rows] == [(f"fu:{urgent.token}", urgent.due_at)]
    async with sessionmaker() as session:
        assert await followups.hold_active(session, ALICE, NOW)
        assert not await followups.hold_active(session, ALICE, NOW + followups.HOLD_LIMIT)


async def test_follow_up_answers_apply_once_and_not_yet_asks_again(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessionmaker, ALICE, now=NOW, zone=ISTANBUL, hours=(time(8), time(21)))
    promise = await note(sessionmaker, Disposition.EMERGENCY_DEPARTMENT, "check-a", NOW)
    assert promise is not None

    async def reply(round_: int, given: Answer, now: datetime) -> followups.Answered | None:
        async with sessionmaker.begin() as session:
            return await followups.answer(
                session, ALICE, promise.token, round_, given, now=now, default_zone=DEFAULTS.zone
            )

    assert await reply(0, Answer.BETTER, NOW) is None  # not an answer this question offers
    later = NOW + timedelta(hours=3)
    again = await reply(0, Answer.NOT_YET, later)
    assert again is not None
    assert again.next_at == later + timedelta(hours=4)  # 19:00 in Istanbul, in hours
    assert await reply(0, Answer.NOT_YET, later) is None  # a replay of the old button
    rows = [r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")]
    assert [r.scheduled_at for r in rows] == [again.next_at]  # the first was dropped, not doubled
    seen = await reply(1, Answer.SEEN, later + timedelta(hours=4))
    assert seen is not None
    assert seen.hold_ended
    async with sessionmaker() as session:
        assert list(await session.scalars(select(CareFollowUp))) == []
        assert not await followups.hold_active(session, ALICE, later)
    assert [r for r in await deliveries(sessionmaker, [ALICE]) if r.status == "pending"] == []


async def test_a_follow_up_waits_for_the_morning_unless_the_person_agreed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessionmaker, ALICE, now=NOW, zone=ISTANBUL, hours=(time(8), time(21)))
    evening = datetime(2026, 6, 1, 20, 0, tzinfo=ZoneInfo(ISTANBUL))
    promise = await note(sessionmaker, Disposition.URGENT_SAME_DAY, "check-a", evening)
    assert promise is not None
    assert promise.moved_out_of_quiet
    assert promise.natural_due == evening + timedelta(hours=4)  # midnight
    assert promise.due_at == datetime(2026, 6, 2, 8, 0, tzinfo=ZoneInfo(ISTANBUL))
    async with sessionmaker.begin() as session:
        agreed = await followups.allow_quiet(session, ALICE, promise.token, now=evening)
    assert agreed == promise.natural_due
    async with sessionmaker.begin() as session:
        assert await followups.allow_quiet(session, ALICE, promise.token, now=evening) is None
    rows: list[ReminderDelivery] = [
        r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")
    ]
    assert [r.scheduled_at for r in rows] == [promise.natural_due]


async def test_a_settings_change_replans_reminders_but_keeps_the_follow_up(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await with_reminder(sessionmaker, ReminderKind.HYDRATION, Interval(60))
    promise = await note(sessionmaker, Disposition.SELF_CARE, "check-a", NOW)
    assert promise is not None
    async with sessionmaker.begin() as session:
        await preferences.pause(
            session, ALICE, preferences.PauseChoice.TODAY, now=NOW, defaults=DEFAULTS
        )
        await preferences.resume(session, ALICE, now=NOW, defaults=DEFAULTS)
    rows = [r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")]
    assert [(r.kind, r.scheduled_at) for r in rows] == [(f"fu:{promise.token}", promise.due_at)]


async def test_a_move_to_another_time_zone_keeps_the_follow_up_out_of_the_night(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await add_user(sessionmaker, ALICE, now=NOW, zone=ISTANBUL, hours=(time(8), time(21)))
    promise = await note(sessionmaker, Disposition.SELF_CARE, "check-a", NOW)
    assert promise is not None
    assert promise.due_at == NOW + timedelta(hours=48)  # 12:00 in Istanbul
    los_angeles = ZoneInfo("America/Los_Angeles")
    async with sessionmaker.begin() as session:
        await preferences.set_timezone(
            session, ALICE, "America/Los_Angeles", now=NOW, defaults=DEFAULTS
        )
    moved = datetime(2026, 6, 3, 8, 0, tzinfo=los_angeles)  # it would have been 02:00 there
    rows = [r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")]
    assert [(r.kind, r.scheduled_at) for r in rows] == [(f"fu:{promise.token}", moved)]
    async with sessionmaker() as session:
        follow_up = await followups.current(session, ALICE)
        assert follow_up is not None
        assert follow_up.due_at == moved
    # Back to Istanbul: 08:00 in Los Angeles is 18:00 there, inside the hours: it stays.
    async with sessionmaker.begin() as session:
        await preferences.set_timezone(session, ALICE, ISTANBUL, now=NOW, defaults=DEFAULTS)
    rows = [r for r in await deliveries(sessionmaker, [ALICE]) if r.kind.startswith("fu:")]
    assert [r.scheduled_at for r in rows] == [moved]
