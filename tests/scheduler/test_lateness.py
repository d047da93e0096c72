"""Lateness policy: after downtime, at most one reminder per kind, none in quiet hours."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.lateness import (
    DEFAULT_MAX_LATENESS,
    Decision,
    DueItem,
    Reason,
    Verdict,
    decide_batch,
)
from scheduler.planning import (
    ActiveHours,
    Interval,
    Pause,
    ReminderKind,
    ReminderRule,
    TimesPerDay,
    UserPrefs,
    due_between,
    is_active,
    next_active_instant,
)

IST = ZoneInfo("Europe/Istanbul")
H, P, S = ReminderKind.HYDRATION, ReminderKind.POSTURE, ReminderKind.STRETCH
DAYTIME = ActiveHours(time(8), time(21))


def prefs(pause: Pause | None = None, hours: ActiveHours = DAYTIME) -> UserPrefs:
    return UserPrefs(user_id=299, zone=IST, active_hours=hours, pause=pause)


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=IST)


def verdicts(decisions: list[Decision[str]]) -> dict[str, tuple[Verdict, Reason]]:
    return {d.item.key: (d.verdict, d.reason) for d in decisions}


def test_defaults_are_data_for_every_kind() -> None:
    assert dict(DEFAULT_MAX_LATENESS) == {
        H: timedelta(minutes=45),
        P: timedelta(minutes=20),
        S: timedelta(minutes=90),
    }


def test_batch_after_downtime_sends_newest_valid_per_kind() -> None:
    items = [
        DueItem("h1", H, at(10)),
        DueItem("h2", H, at(11)),
        DueItem("h3", H, at(11, 40)),
        DueItem("p1", P, at(11, 30)),
        DueItem("p3", P, at(12, 5)),
        DueItem("p2", P, at(11, 55)),
        DueItem("s1", S, at(10, 50)),
        DueItem("s2", S, at(11, 40)),
        DueItem("later", P, at(12, 30)),
    ]
    decisions = decide_batch(items, prefs=prefs(), now=at(12, 10))
    assert [d.item.key for d in decisions] == [item.key for item in items]
    assert verdicts(decisions) == {
        "h1": (Verdict.EXPIRE, Reason.TOO_LATE),
        "h2": (Verdict.EXPIRE, Reason.TOO_LATE),
        "h3": (Verdict.SEND, Reason.ON_TIME),
        "p1": (Verdict.EXPIRE, Reason.TOO_LATE),
        "p2": (Verdict.EXPIRE, Reason.SUPERSEDED),
        "p3": (Verdict.SEND, Reason.ON_TIME),
        "s1": (Verdict.EXPIRE, Reason.SUPERSEDED),
        "s2": (Verdict.SEND, Reason.ON_TIME),
        "later": (Verdict.DEFER, Reason.NOT_YET_DUE),
    }
    assert decisions[-1].retry_at == at(12, 30)
    assert all(d.retry_at is None for d in decisions[:-1])


def test_boundaries_scheduled_is_sendable_deadline_is_not() -> None:
    item = DueItem("h", H, at(12))
    assert decide_batch([item], prefs=prefs(), now=at(12))[0].verdict is Verdict.SEND
    last_moment = at(12, 45) - timedelta(microseconds=1)
    assert decide_batch([item], prefs=prefs(), now=last_moment)[0].verdict is Verdict.SEND
    expired = decide_batch([item], prefs=prefs(), now=at(12, 45))[0]
    assert (expired.verdict, expired.reason) == (Verdict.EXPIRE, Reason.TOO_LATE)


def test_quiet_hours_expire_when_the_window_reopens_too_late() -> None:
    decision = decide_batch([DueItem("h", H, at(20, 50))], prefs=prefs(), now=at(21, 10))[0]
    assert (decision.verdict, decision.reason) == (Verdict.EXPIRE, Reason.QUIET)


def test_pause_ending_before_the_deadline_defers_then_sends() -> None:
    paused = prefs(Pause(at(12, 30)))
    item = DueItem("s", S, at(12))
    deferred = decide_batch([item], prefs=paused, now=at(12, 5))[0]
    assert (deferred.verdict, deferred.reason, deferred.retry_at) == (
        Verdict.DEFER,
        Reason.QUIET,
        at(12, 30),
    )
    assert decide_batch([item], prefs=paused, now=at(12, 30))[0].verdict is Verdict.SEND
    forever = decide_batch([item], prefs=prefs(Pause()), now=at(12, 5))[0]
    assert (forever.verdict, forever.reason) == (Verdict.EXPIRE, Reason.QUIET)


def test_custom_lateness_table() -> None:
    table = {H: timedelta(minutes=5), P: timedelta(minutes=5), S: timedelta(minutes=5)}
    decision = decide_batch(
        [DueItem(1, H, at(12))], prefs=prefs(), now=at(12, 6), max_lateness=table
    )
    assert decision[0].verdict is Verdict.EXPIRE


def test_two_hour_outage_yields_at_most_one_send_per_kind_and_records_the_rest() -> None:
    p = prefs()
    rules = [
        ReminderRule(H, Interval(60)),
        ReminderRule(P, Interval(30)),
        ReminderRule(S, TimesPerDay(4)),
    ]
    outage_start, restart = at(9, 15), at(11, 15)
    items = [
        DueItem(f"{r.kind}@{due.astimezone(IST):%H:%M}", r.kind, due)
        for r in rules
        for due in due_between(r, p, outage_start, restart + timedelta(seconds=1))
    ]
    # hydration 10:00, 11:00; posture every half hour; stretch 09:37 (98 min late)
    assert Counter(item.kind for item in items) == {H: 2, P: 4, S: 1}
    decisions = decide_batch(items, prefs=p, now=restart)
    sends = [d for d in decisions if d.verdict is Verdict.SEND]
    assert Counter(d.item.kind for d in sends) == {H: 1, P: 1}
    assert {d.item.key: d.reason for d in decisions if d.item.kind is S} == {
        "stretch@09:37": Reason.TOO_LATE
    }
    assert all(d.verdict is Verdict.EXPIRE for d in decisions if d not in sends)
    for d in sends:
        newest = max(i.scheduled for i in items if i.kind == d.item.kind)
        assert d.item.scheduled == newest


def test_outage_ending_in_quiet_hours_sends_nothing() -> None:
    p = prefs()
    rule = ReminderRule(H, Interval(60))
    items = [DueItem(i, H, due) for i, due in enumerate(due_between(rule, p, at(19), at(21)))]
    decisions = decide_batch(items, prefs=p, now=at(21, 30))
    assert {d.verdict for d in decisions} == {Verdict.EXPIRE}


kinds = st.sampled_from(ReminderKind)
offsets = st.integers(-4 * 3600, 3600).map(lambda s: timedelta(seconds=s))
pauses = st.one_of(
    st.none(), st.just(Pause()), offsets.map(lambda o: Pause(at(12) + o + timedelta(hours=1)))
)


@settings(deadline=None)
@given(
    st.lists(st.tuples(kinds, offsets), max_size=30),
    st.integers(0, 47).map(lambda half_hours: at(0) + timedelta(minutes=30 * half_hours)),
    pauses,
    st.booleans(),
)
def test_batch_properties(
    raw: list[tuple[ReminderKind, timedelta]],
    now: datetime,
    pause: Pause | None,
    crossing: bool,
) -> None:
    hours = ActiveHours(time(22), time(2)) if crossing else DAYTIME
    p = prefs(pause, hours)
    items = [DueItem(i, kind, now + offset) for i, (kind, offset) in enumerate(raw)]
    decisions = decide_batch(items, prefs=p, now=now)
    assert [d.item for d in decisions] == items

    sends = [d for d in decisions if d.verdict is Verdict.SEND]
    assert len({d.item.kind for d in sends}) == len(sends)  # at most one per kind
    if sends:
        assert is_active(now, p)  # never in quiet hours, on a day off, or paused
    for d in decisions:
        deadline = d.item.scheduled + DEFAULT_MAX_LATENESS[d.item.kind]
        assert (d.retry_at is not None) == (d.verdict is Verdict.DEFER)
        match d.verdict, d.reason:
            case Verdict.SEND, Reason.ON_TIME:
                assert d.item.scheduled <= now < deadline
            case Verdict.EXPIRE, Reason.TOO_LATE:
                assert now >= deadline
            case Verdict.EXPIRE, Reason.SUPERSEDED:
                assert any(
                    o.item.kind == d.item.kind
                    and o.item.scheduled >= d.item.scheduled
                    and o.reason is not Reason.SUPERSEDED
                    and o.reason is not Reason.TOO_LATE
                    and o.item.scheduled <= now
                    for o in decisions
                    if o is not d
                )
            case Verdict.EXPIRE, Reason.QUIET:
                resume = next_active_instant(now, p)
                assert resume is None or resume >= deadline
            case Verdict.DEFER, Reason.QUIET:
                assert d.retry_at is not None
                assert now < d.retry_at < deadline
                assert is_active(d.retry_at, p)
            case Verdict.DEFER, Reason.NOT_YET_DUE:
                assert d.retry_at == d.item.scheduled > now
            case other:
                raise AssertionError(f"unexpected decision {other}")
    # the survivors of each kind (sent or deferred for quiet) are one item at most
    survivors = [d for d in decisions if d.reason in {Reason.ON_TIME, Reason.QUIET}]
    for _, group in itertools.groupby(
        sorted(survivors, key=lambda d: d.item.kind), key=lambda d: d.item.kind
    ):
        assert len(list(group)) == 1


def test_items_must_be_aware() -> None:
    item = DueItem("x", H, datetime(2026, 6, 3, 9, tzinfo=UTC))
    assert item.scheduled.tzinfo is UTC
