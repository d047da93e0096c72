"""Fixtures for the symptom-check bot tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakebot import FakeBotApi
from tests.conftest import TEST_TOKEN

QUIET_PERIOD = 0.2
"""A tap is answered at once, then the check is read and written before the next call;
on a busy machine that write can outlast the default 0.1 s the fake user waits for."""


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, waiting a little longer for the bot to fall quiet."""
    async with FakeBotApi(TEST_TOKEN, quiet_period=QUIET_PERIOD) as api:
        yield api
