"""Who the user is to LegCare: registration and the language we talk to them in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.repositories import UserRepository


@dataclass(frozen=True)
class Registration:
    """Outcome of /start: the user row and whether they are new."""

    user: User
    is_new: bool


async def register(
    session: AsyncSession, *, user_id: int, language: str, now: datetime
) -> Registration:
    """Create the user on first contact; on return from a block, clear the block."""
    users = UserRepository(session)
    user = await users.get(user_id)
    if user is None:
        user = User(id=user_id, language=language, created_at=now)
        users.add(user)
        return Registration(user=user, is_new=True)
    if user.blocked_at is not None:
        user.blocked_at = None
    return Registration(user=user, is_new=False)


async def stored_language(session: AsyncSession, user_id: int) -> str | None:
    """The language the user chose, if they have talked to us before."""
    user = await UserRepository(session).get(user_id)
    return None if user is None else user.language
