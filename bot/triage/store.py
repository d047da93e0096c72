"""Repositories for the symptom-check tables; they take a session and never commit.

Writes to the active check are optimistic: an update names the token and revision it
read, and changes nothing (returns None) if another update got there first, so a double
tap or a second bot process can never apply one answer twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Result, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.triage_models import TriageCheck, TriageRecord
from bot.triage.engine import Session
from content.triage_schema import Disposition

__all__ = ["ActiveCheck", "CheckRepository", "KeptCheck", "RecordRepository"]


@dataclass(frozen=True, slots=True)
class ActiveCheck:
    """The check a user is taking: its buttons' token, content version and answers."""

    token: str
    content_label: str
    session: Session
    revision: int
    started_at: datetime


@dataclass(frozen=True, slots=True)
class KeptCheck:
    """A finished check the user chose to keep."""

    id: int
    finished_at: datetime
    disposition: Disposition
    content_label: str
    session: Session


def _rowcount(result: Result[Any]) -> int:
    return max(result.rowcount, 0) if isinstance(result, CursorResult) else 0


def _insert(db: AsyncSession) -> Any:
    """The dialect's INSERT, which supports ON CONFLICT on both of our backends."""
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


class CheckRepository:
    """The active check of each user (at most one)."""

    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def get(self, user_id: int) -> ActiveCheck | None:
        """The user's active check; None if there is none or its state is unreadable."""
        row = await self._db.scalar(select(TriageCheck).where(TriageCheck.user_id == user_id))
        if row is None:
            return None
        session = Session.from_dict(row.state)
        if session is None:
            return None
        return ActiveCheck(row.token, row.content_label, session, row.revision, row.started_at)

    async def start(
        self, user_id: int, *, token: str, content_label: str, session: Session, now: datetime
    ) -> ActiveCheck:
        """Make ``session`` the user's active check, replacing any other."""
        values = {
            "token": token,
            "content_label": content_label,
            "state": session.to_dict(),
            "revision": 0,
            "started_at": now,
            "updated_at": now,
        }
        statement = (
            _insert(self._db)(TriageCheck)
            .values(user_id=user_id, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )
        await self._db.execute(statement)
        return ActiveCheck(token, content_label, session, 0, now)

    async def save(
        self,
        user_id: int,
        read: ActiveCheck,
        session: Session,
        *,
        now: datetime,
        content_label: str | None = None,
        token: str | None = None,
    ) -> ActiveCheck | None:
        """Store the next state of the check ``read``; None if it changed meanwhile."""
        label = read.content_label if content_label is None else content_label
        new_token = read.token if token is None else token
        result = await self._db.execute(
            update(TriageCheck)
            .where(
                TriageCheck.user_id == user_id,
                TriageCheck.token == read.token,
                TriageCheck.revision == read.revision,
            )
            .values(
                token=new_token,
                content_label=label,
                state=session.to_dict(),
                revision=read.revision + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return None
        return ActiveCheck(new_token, label, session, read.revision + 1, read.started_at)

    async def delete(self, user_id: int, *, token: str | None = None) -> bool:
        """Forget the user's active check (only if it is ``token``, when given)."""
        conditions = [TriageCheck.user_id == user_id]
        if token is not None:
            conditions.append(TriageCheck.token == token)
        result = await self._db.execute(
            delete(TriageCheck).where(*conditions).execution_options(synchronize_session=False)
        )
        return _rowcount(result) > 0

    async def purge_idle(self, before: datetime) -> int:
        """Delete every active check untouched since ``before``; return how many."""
        result = await self._db.execute(
            delete(TriageCheck)
            .where(TriageCheck.updated_at < before)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)


class RecordRepository:
    """Finished checks kept with the user's consent."""

    def __init__(self, session: AsyncSession) -> None:
        self._db = session

    async def keep(
        self,
        user_id: int,
        *,
        token: str,
        content_label: str,
        disposition: Disposition,
        session: Session,
        now: datetime,
    ) -> None:
        """Keep the result of check ``token`` (a later result of the same check replaces it)."""
        values = {
            "content_label": content_label,
            "disposition": disposition.value,
            "state": session.to_dict(),
            "finished_at": now,
        }
        statement = (
            _insert(self._db)(TriageRecord)
            .values(user_id=user_id, token=token, **values)
            .on_conflict_do_update(index_elements=["user_id", "token"], set_=values)
        )
        await self._db.execute(statement)

    async def recent(self, user_id: int, *, limit: int) -> list[KeptCheck]:
        """The user's kept checks, newest first."""
        rows = await self._db.scalars(
            select(TriageRecord)
            .where(TriageRecord.user_id == user_id)
            .order_by(TriageRecord.finished_at.desc(), TriageRecord.id.desc())
            .limit(limit)
        )
        return [kept for row in rows if (kept := _kept(row)) is not None]

    async def count(self, user_id: int) -> int:
        """How many checks the user has kept."""
        found = await self._db.scalar(
            select(func.count()).select_from(TriageRecord).where(TriageRecord.user_id == user_id)
        )
        return int(found or 0)

    async def get(self, user_id: int, record_id: int) -> KeptCheck | None:
        """One kept check of this user (never another user's)."""
        row = await self._db.scalar(
            select(TriageRecord).where(
                TriageRecord.id == record_id, TriageRecord.user_id == user_id
            )
        )
        return None if row is None else _kept(row)

    async def delete(self, user_id: int, record_id: int) -> bool:
        """Delete one kept check of this user; False if there was none."""
        result = await self._db.execute(
            delete(TriageRecord)
            .where(TriageRecord.id == record_id, TriageRecord.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) > 0

    async def delete_all(self, user_id: int) -> int:
        """Delete every kept check of this user; return how many."""
        result = await self._db.execute(
            delete(TriageRecord)
            .where(TriageRecord.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)


def _kept(row: TriageRecord) -> KeptCheck | None:
    session = Session.from_dict(row.state)
    if session is None:
        return None
    return KeptCheck(
        row.id, row.finished_at, Disposition(row.disposition), row.content_label, session
    )
