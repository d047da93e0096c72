"""Helpers for the symptom-check bot tests: walking the check by its button labels."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.triage_models import TriageCheck, TriageRecord
from bot.triage.engine import Session
from fakebot import FakeUser

NO_RED_FLAGS = ("No", "No", "No")
"""The three emergency-screen questions (breathless, cold pale leg, cauda equina)."""


async def open_check(user: FakeUser) -> None:
    """From nothing to the first question: /start, then the menu's Symptom check."""
    await user.send("/start")
    menu = user.last_message
    await user.tap(user.buttons[0][0])
    await user.wait_for(lambda m: bool(m.inline_keyboard), after=menu)


async def answer(user: FakeUser, *labels: str) -> None:
    """Tap these answers, each on the newest question, waiting for what comes next.

    Every answer is followed by a new message with buttons: the next question, an
    emergency card (its copy button) or the result.
    """
    for label in labels:
        question = user.keyboard_message
        await user.tap(label)
        await user.wait_for(lambda m: bool(m.inline_keyboard), after=question)


def cards(user: FakeUser) -> list[str]:
    """Emergency cards in the chat (the messages with a copy button), oldest first."""
    return [
        message.text
        for message in user.messages
        if any("copy_text" in button.raw for row in message.inline_keyboard for button in row)
    ]


async def stored_check(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int
) -> TriageCheck | None:
    """The user's active check row, as stored."""
    async with sessionmaker() as db:
        return await db.get(TriageCheck, user_id)


async def stored_session(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int
) -> Session | None:
    """The engine session of the user's active check."""
    row = await stored_check(sessionmaker, user_id)
    return None if row is None else Session.from_dict(row.state)


async def records(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int
) -> list[TriageRecord]:
    """The user's kept checks."""
    async with sessionmaker() as db:
        found = await db.scalars(select(TriageRecord).where(TriageRecord.user_id == user_id))
        return list(found)
