"""Who is an admin and what each role may do.

Owners are the Telegram user ids in ``ADMIN_USER_IDS``; nobody can add or remove them
from inside Telegram. Owners add and remove editors and reviewers, which are stored.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.admin_models import AdminMember


class Role(StrEnum):
    """An admin's role; owners come from the settings, the others from the database."""

    OWNER = "owner"
    EDITOR = "editor"
    REVIEWER = "reviewer"


class Capability(StrEnum):
    """Something an admin command does."""

    VIEW = "view"  # list and show content, diff, preview, history, the pack file
    EDIT = "edit"  # change texts, upload packs, discard a draft
    PUBLISH = "publish"  # publish one's own draft
    APPROVE = "approve"  # approve another admin's red-flag change
    ROLLBACK = "rollback"
    AUDIT = "audit"  # /audit and /admin_stats
    MANAGE = "manage"  # add and remove editors and reviewers
    ANNOUNCE = "announce"


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.EDITOR: frozenset(
        {Capability.VIEW, Capability.EDIT, Capability.PUBLISH, Capability.AUDIT}
    ),
    Role.REVIEWER: frozenset({Capability.VIEW, Capability.APPROVE, Capability.AUDIT}),
}
STORED_ROLES = (Role.EDITOR, Role.REVIEWER)


def may(role: Role | None, capability: Capability) -> bool:
    """Whether ``role`` (None: not an admin) may do ``capability``."""
    return role is not None and capability in CAPABILITIES[role]


async def role_of(session: AsyncSession, user_id: int, owners: Set[int]) -> Role | None:
    """The user's admin role, or None for everyone else."""
    if user_id in owners:
        return Role.OWNER
    member = await session.get(AdminMember, user_id)
    return None if member is None else Role(member.role)


async def admins(session: AsyncSession, owners: Set[int]) -> dict[int, Role]:
    """Every admin and their role, owners included."""
    rows = await session.execute(select(AdminMember.user_id, AdminMember.role))
    found = {user_id: Role(role) for user_id, role in rows if user_id not in owners}
    found.update(dict.fromkeys(owners, Role.OWNER))
    return dict(sorted(found.items()))


class OwnerRoleError(ValueError):
    """Owners are configured with ADMIN_USER_IDS and cannot be changed from Telegram."""


async def set_member(
    session: AsyncSession,
    user_id: int,
    role: Role,
    *,
    by: int,
    owners: Set[int],
    now: datetime,
) -> Role | None:
    """Make ``user_id`` an editor or reviewer; return the role they had before."""
    if user_id in owners or role not in STORED_ROLES:
        raise OwnerRoleError(str(user_id))
    member = await session.get(AdminMember, user_id)
    if member is None:
        session.add(AdminMember(user_id=user_id, role=role.value, added_by=by, added_at=now))
        return None
    previous = Role(member.role)
    member.role, member.added_by, member.added_at = role.value, by, now
    return previous


async def remove_member(session: AsyncSession, user_id: int, *, owners: Set[int]) -> bool:
    """Take away an editor's or reviewer's role; False if they had none."""
    if user_id in owners:
        raise OwnerRoleError(str(user_id))
    result = await session.execute(delete(AdminMember).where(AdminMember.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))
