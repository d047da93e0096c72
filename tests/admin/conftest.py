"""Fixtures for the admin tests: the running bot with a shared check cache, admins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.admin.checking import CheckCache
from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.runner import running_bot
from bot.settings import Settings
from fakebot import FakeBotApi, FakeUser
from fakebot.ptb import ReportingUpdateProcessor
from tests.admin.support import OWNER


@pytest.fixture(scope="session")
def check_cache() -> CheckCache:
    """Results of the full content check, shared by every test in the session.

    ``check_pack`` is deterministic: the same pack checked on the same date gives the
    same answer, so a test that publishes content another test already checked reuses
    that real result instead of walking every path again (about 40 s each).
    """
    return CheckCache()


@pytest.fixture
async def bot(
    fake_api: FakeBotApi, bot_settings: Settings, clock: ManualClock, check_cache: CheckCache
) -> AsyncIterator[LegCareApplication]:
    """The real bot, as in the root conftest, with the session's check cache."""
    async with running_bot(
        bot_settings,
        clock=clock,
        check_cache=check_cache,
        update_processor=ReportingUpdateProcessor(fake_api),
    ) as application:
        yield application


@pytest.fixture
def owner(fake_api: FakeBotApi, bot: LegCareApplication) -> FakeUser:
    """The owner from ADMIN_USER_IDS (the root conftest's OWNER_ID)."""
    return fake_api.user(user_id=OWNER, first_name="Olivia", language_code="en")
