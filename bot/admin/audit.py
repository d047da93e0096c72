"""The audit log: every admin action, and every attempt at one by someone who may not.

Entries hold ids, action names and short details (a text key, a version number, an
outcome), never free text a user typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.roles import Role
from bot.db.admin_models import AdminAudit

DETAIL_LIMIT = 300


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor_id: int
    role: Role | None
    action: str
    allowed: bool
    detail: str


def record(
    session: AsyncSession,
    *,
    actor_id: int,
    role: Role | None,
    action: str,
    allowed: bool,
    now: datetime,
    detail: str = "",
) -> None:
    """Stage one audit entry in the caller's transaction."""
    session.add(
        AdminAudit(
            at=now,
            actor_id=actor_id,
            role=None if role is None else role.value,
            action=action[:32],
            allowed=allowed,
            detail=detail[:DETAIL_LIMIT],
        )
    )


async def latest(session: AsyncSession, limit: int = 20) -> list[AuditEntry]:
    """The newest entries, newest first."""
    rows = await session.scalars(
        select(AdminAudit).order_by(AdminAudit.at.desc(), AdminAudit.id.desc()).limit(limit)
    )
    return [
        AuditEntry(
            at=row.at,
            actor_id=row.actor_id,
            role=None if row.role is None else Role(row.role),
            action=row.action,
            allowed=row.allowed,
            detail=row.detail,
        )
        for row in rows
    ]
