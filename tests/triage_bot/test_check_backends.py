"""The symptom check across a bot restart, on each database backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.runner import running_bot
from bot.settings import Settings
from fakebot import FakeBotApi
from fakebot.ptb import ReportingUpdateProcessor
from tests.triage_bot.support import answer, cards, open_check, records, stored_session
from tests.triage_bot.test_check_e2e import LONG_FLIGHT_CALF


@pytest.fixture
def bot_database_url(database_url: str) -> str:
    return database_url


async def test_a_check_continues_in_a_new_bot_process_and_is_kept_with_consent(
    fake_api: FakeBotApi,
    bot_settings: Settings,
    clock: ManualClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ada = fake_api.user(user_id=1001, first_name="Ada", language_code="en")
    async with running_bot(
        bot_settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
    ):
        await open_check(ada)
        await answer(ada, *LONG_FLIGHT_CALF)
    before = await stored_session(sessionmaker, ada.user_id)
    assert before is not None
    assert len(before.answers) == len(LONG_FLIGHT_CALF)

    async with running_bot(
        bot_settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
    ):
        await answer(ada, "Swollen, warm or tender")
        assert len(cards(ada)) == 1
        await answer(ada, "No", "No", "No")
        assert "⏱ Get seen today" in ada.texts[-2]
        await ada.tap("✅ Yes, keep my checks")
    (kept,) = await records(sessionmaker, ada.user_id)
    assert kept.disposition == "URGENT_SAME_DAY"
    assert kept.state["met"] == ["possible_dvt"]
