"""Flood-limit arithmetic, with explicit times (no sleeping)."""

from __future__ import annotations

import pytest

from fakebot.faults import ApiError, LeakyBucket, RateLimits, make_fault


def limits(*, burst: int = 1, tolerance: float = 0.0) -> RateLimits:
    return RateLimits(
        global_per_second=30, per_chat_per_second=1, per_chat_burst=burst, tolerance=tolerance
    )


def test_one_send_per_chat_per_second() -> None:
    rate = limits()
    rate.check("sendMessage", 1, now=0.0)
    with pytest.raises(ApiError) as caught:
        rate.check("sendMessage", 1, now=0.5)
    assert (caught.value.status, caught.value.retry_after) == (429, 1)
    assert caught.value.description == "Too Many Requests: retry after 1"
    rate.check("sendMessage", 2, now=0.5)
    rate.check("sendMessage", 1, now=1.0)
    assert [(v.chat_id, v.scope) for v in rate.violations] == [(1, "chat")]


def test_refused_sends_do_not_fill_the_bucket() -> None:
    rate = limits()
    rate.check("sendMessage", 1, now=0.0)
    for now in (0.2, 0.4, 0.6, 0.8):
        with pytest.raises(ApiError):
            rate.check("sendMessage", 1, now=now)
    rate.check("sendMessage", 1, now=1.0)


def test_global_limit_is_a_burst_of_30_refilled_at_30_per_second() -> None:
    rate = limits()
    for chat_id in range(30):
        rate.check("sendMessage", chat_id, now=0.0)
    with pytest.raises(ApiError):
        rate.check("sendMessage", 100, now=0.0)
    rate.check("sendMessage", 101, now=1 / 30)
    assert rate.violations[0].scope == "global"


def test_paced_sends_never_violate_even_with_a_little_jitter() -> None:
    rate = limits(tolerance=0.05)
    for index in range(300):
        jitter = 0.03 if index % 2 else -0.03
        rate.check("sendMessage", None, now=index / 30 + jitter)
    assert rate.violations == []


def test_per_chat_burst() -> None:
    rate = limits(burst=3)
    for _ in range(3):
        rate.check("sendMessage", 1, now=0.0)
    with pytest.raises(ApiError):
        rate.check("sendMessage", 1, now=0.0)


def test_bucket_reports_the_wait() -> None:
    bucket = LeakyBucket(rate=2, capacity=2)
    bucket.take()
    bucket.take()
    assert bucket.wait_needed(0.0, tolerance=0) == pytest.approx(0.5)
    assert bucket.wait_needed(0.5, tolerance=0) == 0


def test_faults_default_to_telegram_descriptions() -> None:
    fault = make_fault(
        "sendMessage", status=429, retry_after=None, description=None, times=2, chat_id=None
    )
    assert fault.matches("SENDMESSAGE", 5)
    assert fault.error().retry_after == 1
    assert fault.error().description == "Too Many Requests: retry after 1"
    assert not fault.matches("sendMessage", 5), "used up"
    blocked = make_fault(
        "sendMessage", status=403, retry_after=None, description=None, times=1, chat_id=7
    )
    assert not blocked.matches("sendMessage", 8)
    assert blocked.error().description == "Forbidden: bot was blocked by the user"
