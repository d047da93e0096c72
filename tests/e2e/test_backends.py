"""The same bot, end to end, on each database backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import User
from fakebot import FakeUser


@pytest.fixture
def bot_database_url(database_url: str) -> str:
    return database_url


async def test_start_registers_the_user_and_the_menu_works(
    user: FakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await user.send("/start")
    await user.tap("ℹ️ About / Help")
    assert "About LegCare" in user.last_text
    async with sessionmaker() as session:
        stored = await session.get(User, user.user_id)
    assert stored is not None
    assert (stored.language, stored.consent_store_answers) == ("en", None)
