"""Repositories: queries and writes on one session; the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User


class UserRepository:
    """Users by Telegram id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        """The user, or None if they never started the bot."""
        return await self._session.get(User, user_id)

    def add(self, user: User) -> None:
        """Stage a new user for insertion."""
        self._session.add(user)
