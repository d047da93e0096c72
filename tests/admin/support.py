"""Helpers for the admin tests: pack documents, database state, reminders on demand."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin import roles
from bot.admin.roles import Role
from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.admin_models import AdminAudit, AdminMember, ContentDraft, ContentVersionRow
from bot.db.reminder_models import ReminderRule
from content.pack import ContentPack
from content.pack_io import pack_document
from fakebot import FakeUser
from fakebot.models import ChatMessage
from scheduler.materialise import materialise_due

POSTURE_KEY = "nudges.heading.posture"
"""The first line of every posture reminder, whichever exercise the rotation picks."""
NEW_POSTURE = "🧍 <b>Time to move</b> · {title}"
OLD_POSTURE_START = "🧍 Posture · "
NEW_POSTURE_START = "🧍 Time to move · "
NEW_DVT_BODY = (
    "One painful leg that is swollen, warm or red can be a blood clot (DVT). "
    "It must be checked today, usually with an ultrasound scan."
)


def pack_upload(pack: ContentPack, change: Any = None) -> bytes:
    """The pack as an uploaded YAML file, after ``change(document)`` if given."""
    document = copy.deepcopy(pack_document(pack))
    if change is not None:
        change(document)
    return yaml.dump(
        document, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False
    ).encode()


def with_posture_text(pack: ContentPack, text: str = NEW_POSTURE) -> ContentPack:
    """The pack with the posture reminder reworded, as the e2e edit makes it."""
    texts = {lang: dict(table) for lang, table in pack.texts.items()}
    texts["en"][POSTURE_KEY] = text
    # A copy keeps every other part of the pack (flow, countries, reminder items...).
    return pack.model_copy(update={"texts": texts})


@dataclass(frozen=True)
class AdminState:
    """Everything an admin action can change, to compare before and after."""

    versions: int
    drafts: int
    members: int
    live: str


async def admin_state(bot: LegCareApplication) -> AdminState:
    """Counts of the admin tables and the label being served."""
    async with bot.services.sessionmaker() as session:
        versions = await session.scalar(select(func.count()).select_from(ContentVersionRow))
        drafts = await session.scalar(select(func.count()).select_from(ContentDraft))
        members = await session.scalar(select(func.count()).select_from(AdminMember))
    return AdminState(
        versions=int(versions or 0),
        drafts=int(drafts or 0),
        members=int(members or 0),
        live=bot.services.content.current.label,
    )


async def audit_rows(bot: LegCareApplication, actor_id: int) -> list[AdminAudit]:
    """Audit entries of one actor, oldest first."""
    async with bot.services.sessionmaker() as session:
        rows = await session.scalars(
            select(AdminAudit).where(AdminAudit.actor_id == actor_id).order_by(AdminAudit.id)
        )
        return list(rows)


async def add_admin(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int, role: Role, *, clock: ManualClock
) -> None:
    """Store an editor or reviewer directly (the e2e tests use /admin_add)."""
    async with sessionmaker.begin() as session:
        await roles.set_member(
            session, user_id, role, by=9001, owners=frozenset(), now=clock.now()
        )


async def turn_on_posture(user: FakeUser) -> None:
    """The user switches the posture reminder on through the Reminders screen."""
    await user.send("/start")
    await user.tap("⏰ Reminders")
    await user.tap("🧍 Posture")
    await user.tap("✅ Turn on")


async def next_posture_reminder(
    bot: LegCareApplication, user: FakeUser, clock: ManualClock
) -> ChatMessage:
    """Move the clock to the user's next posture reminder and wait until it arrives."""
    services = bot.services
    async with services.sessionmaker() as session:
        rule = await session.get(ReminderRule, (user.user_id, "posture"))
    assert rule is not None
    assert rule.next_due_at is not None
    clock.set(max(clock.now(), rule.next_due_at) + timedelta(seconds=1))
    before = user.messages[-1].message_id if user.messages else 0
    await materialise_due(services.sessionmaker, clock, default_zone=ZoneInfo("Europe/London"))
    return await user.wait_for(lambda m: m.text.startswith("🧍 "), after=before, timeout=15)


async def wait_until(predicate: Any, timeout: float = 5.0) -> float:  # noqa: ASYNC109
    """Poll ``predicate()`` until true; return the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.02)
    return loop.time() - start


OWNER = 9001
REVIEWER = 9002
EDITOR = 9003
