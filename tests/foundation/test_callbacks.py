"""Callback data is short, versioned, and refuses anything we did not sign."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import CALLBACK_DATA_LIMIT, Callback, CallbackCodec, CallbackDataTooLongError

codec = CallbackCodec(b"k" * 32)
arg = st.from_regex(r"[A-Za-z0-9_.\-]{0,6}", fullmatch=True)


@given(action=st.from_regex(r"[a-z]{1,3}", fullmatch=True), args=st.lists(arg, max_size=4))
def test_round_trip(action: str, args: list[str]) -> None:
    data = codec.pack(action, *args, user_id=42)
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert codec.unpack(data, user_id=42) == Callback(action, tuple(args))


def test_another_users_tap_is_refused() -> None:
    assert codec.unpack(codec.pack("m", "help", user_id=1), user_id=2) is None


def test_another_deployments_buttons_are_refused() -> None:
    data = CallbackCodec(b"other-secret").pack("m", "help", user_id=1)
    assert codec.unpack(data, user_id=1) is None


def test_old_versions_are_refused() -> None:
    data = codec.pack("m", "help", user_id=1)
    assert codec.unpack(data.replace("m1:", "m0:", 1), user_id=1) is None


@given(st.text(max_size=80))
def test_arbitrary_data_never_crashes_and_is_refused(data: str) -> None:
    assert codec.unpack(data, user_id=1) is None


@given(st.integers(min_value=0, max_value=(1 << 63) - 1), st.data())
def test_tampering_with_any_character_is_refused(user_id: int, data: st.DataObject) -> None:
    packed = codec.pack("t", "abc", "12", user_id=user_id)
    position = data.draw(st.integers(min_value=0, max_value=len(packed) - 1))
    replacement = data.draw(st.sampled_from("aZ9_:-x").filter(lambda c: c != packed[position]))
    forged = packed[:position] + replacement + packed[position + 1 :]
    assert codec.unpack(forged, user_id=user_id) is None


def test_too_long_payloads_fail_when_the_button_is_built() -> None:
    with pytest.raises(CallbackDataTooLongError):
        codec.pack("t", "x" * 60, user_id=1)


@pytest.mark.parametrize("bad", ["a:b", "é", " "])
def test_arguments_cannot_smuggle_separators(bad: str) -> None:
    with pytest.raises(ValueError, match="characters"):
        codec.pack("m", bad, user_id=1)
