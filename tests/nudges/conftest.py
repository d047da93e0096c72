"""Fixtures for the reminder-experience tests: the bot with its engine driven by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import ManualClock
from bot.context import LegCareApplication
from fakebot import FakeBotApi
from tests.conftest import TEST_TOKEN
from tests.nudges.support import EngineDriver

QUIET_PERIOD = 0.2
"""A tap is answered, then read and written before the reply: give a busy machine time."""


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, waiting a little longer for the bot to fall quiet."""
    async with FakeBotApi(TEST_TOKEN, quiet_period=QUIET_PERIOD) as api:
        yield api


@pytest.fixture
def reminder_engine(bot: LegCareApplication, clock: ManualClock) -> EngineDriver:
    """The reminder engine, stepped by the test instead of by real-time jobs."""
    return EngineDriver.take_over(bot, clock)
