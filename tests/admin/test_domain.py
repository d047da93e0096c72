"""The admin domain on a real database (SQLite, and PostgreSQL when configured): roles,
drafts, approval, atomic publishing, content sync between processes, stats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin import drafts, roles, stats
from bot.admin.drafts import Approval, status_of
from bot.admin.roles import Capability, OwnerRoleError, Role, may
from bot.admin.sync import ContentSync
from bot.admin.versions import (
    ContentStore,
    Draft,
    DraftChangedError,
    PublishConflictError,
    publish_draft,
)
from bot.db.models import User
from content.pack import ContentPack, load_pack
from content.pack_io import pack_digest, pack_json
from tests.admin.support import NEW_POSTURE, POSTURE_KEY, with_posture_text

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
OWNERS = frozenset({9001})

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
def shipped() -> ContentPack:
    return load_pack()


async def draft_of(sessionmaker: Sessions, author: int) -> Draft:
    async with sessionmaker() as session:
        draft = await ContentStore(session).draft(author)
    assert draft is not None
    return draft


async def edit(
    sessionmaker: Sessions, shipped: ContentPack, author: int, key: str, value: str, **kw: object
) -> list[object]:
    async with sessionmaker.begin() as session:
        newest = await ContentStore(session).newest_number()
        return list(
            await drafts.edit_text(
                session,
                author_id=author,
                lang="en",
                key=key,
                value=value,
                live=shipped,
                newest=newest,
                reference=shipped,
                now=NOW,
            )
        )


async def test_roles_owners_from_settings_others_stored(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        assert await roles.role_of(session, 9001, OWNERS) is Role.OWNER
        assert await roles.role_of(session, 9002, OWNERS) is None
        assert (
            await roles.set_member(session, 9002, Role.REVIEWER, by=9001, owners=OWNERS, now=NOW)
            is None
        )
        previous = await roles.set_member(
            session, 9002, Role.EDITOR, by=9001, owners=OWNERS, now=NOW
        )
        assert previous is Role.REVIEWER
        with pytest.raises(OwnerRoleError):
            await roles.set_member(session, 9001, Role.EDITOR, by=9001, owners=OWNERS, now=NOW)
    async with sessionmaker.begin() as session:
        assert await roles.admins(session, OWNERS) == {9001: Role.OWNER, 9002: Role.EDITOR}
        assert await roles.remove_member(session, 9002, owners=OWNERS)
        assert not await roles.remove_member(session, 9002, owners=OWNERS)
        assert await roles.role_of(session, 9002, OWNERS) is None
    assert may(Role.REVIEWER, Capability.APPROVE)
    assert not may(Role.REVIEWER, Capability.PUBLISH)
    assert not may(Role.EDITOR, Capability.APPROVE)
    assert not may(None, Capability.VIEW)


async def test_a_text_edit_starts_a_draft_and_only_passes_with_its_checks(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    assert await edit(sessionmaker, shipped, 9001, "core.menu.nope", "x") != []
    problems = await edit(sessionmaker, shipped, 9001, POSTURE_KEY, "<b>broken")
    assert problems != []
    async with sessionmaker() as session:
        assert await ContentStore(session).draft(9001) is None
    assert await edit(sessionmaker, shipped, 9001, POSTURE_KEY, NEW_POSTURE) == []
    draft = await draft_of(sessionmaker, 9001)
    assert draft.base_number is None
    assert draft.pack.texts["en"][POSTURE_KEY] == NEW_POSTURE
    status = status_of(draft, shipped, None)
    assert [c.name for c in status.diff.texts] == [f"en:{POSTURE_KEY}"]
    assert status.safety == []
    assert not status.stale


async def test_publishing_is_atomic_and_refuses_a_stale_or_changed_draft(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    await edit(sessionmaker, shipped, 9001, POSTURE_KEY, NEW_POSTURE)
    await edit(sessionmaker, shipped, 9003, "core.menu.title", "What now?")
    first = await draft_of(sessionmaker, 9001)
    second = await draft_of(sessionmaker, 9003)

    async with sessionmaker.begin() as session:
        version = await publish_draft(
            session, first, shipped=shipped, approver_id=None, note="posture", now=NOW
        )
    assert (version.number, version.kind, version.note) == (2, "publish", "posture")
    async with sessionmaker() as session:
        store = ContentStore(session)
        history = await store.history()
        assert [(v.number, v.kind) for v in history] == [(2, "publish"), (1, "baseline")]
        assert history[1].sha256 == pack_digest(shipped)
        assert await store.draft(9001) is None

    # The second draft started from the shipped pack, which is no longer live.
    with pytest.raises(PublishConflictError):
        async with sessionmaker.begin() as session:
            await publish_draft(
                session, second, shipped=shipped, approver_id=None, note="", now=NOW
            )
    # A draft that changed after it was checked is not published either.
    await edit(sessionmaker, shipped, 9003, "core.menu.title", "What next?")
    async with sessionmaker.begin() as session:
        await ContentStore(session).save_draft(9003, second.pack, base_number=2, now=NOW)
    stale = await draft_of(sessionmaker, 9003)
    await edit(sessionmaker, shipped, 9003, "core.menu.title", "And now?")
    with pytest.raises(DraftChangedError):
        async with sessionmaker.begin() as session:
            await publish_draft(
                session, stale, shipped=shipped, approver_id=None, note="", now=NOW
            )
    async with sessionmaker() as session:
        assert await ContentStore(session).newest_number() == 2


async def test_two_publishes_of_the_same_number_cannot_both_win(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    async with sessionmaker.begin() as session:
        await ContentStore(session).insert_version(
            number=1,
            kind="baseline",
            pack=shipped,
            author_id=None,
            approver_id=None,
            note="",
            restores=None,
            now=NOW,
        )
    with pytest.raises(PublishConflictError):
        async with sessionmaker.begin() as session:
            await ContentStore(session).insert_version(
                number=1,
                kind="publish",
                pack=shipped,
                author_id=9001,
                approver_id=None,
                note="",
                restores=None,
                now=NOW,
            )


async def test_approval_needs_another_admin_and_is_bound_to_the_content(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    body = "triage.rf.possible_dvt.body"
    await edit(sessionmaker, shipped, 9001, body, "A clot can be dangerous. Get seen today.")
    draft = await draft_of(sessionmaker, 9001)
    status = status_of(draft, shipped, None)
    assert status.safety == [f"en:{body}"]
    assert status.needs_approval

    async def approve(approver: int, prefix: str) -> Approval:
        async with sessionmaker.begin() as session:
            return await drafts.approve(
                session, approver_id=approver, author_id=9001, digest_prefix=prefix, now=NOW
            )

    assert await approve(9001, draft.sha256[:12]) is Approval.OWN_DRAFT
    assert await approve(9002, "0" * 12) is Approval.CHANGED
    assert await approve(9002, draft.sha256[:12]) is Approval.APPROVED
    approved = await draft_of(sessionmaker, 9001)
    assert approved.approver == 9002
    assert not status_of(approved, shipped, None).needs_approval
    await edit(sessionmaker, shipped, 9001, body, "Changed again after the approval.")
    changed = await draft_of(sessionmaker, 9001)
    assert changed.approver is None
    assert status_of(changed, shipped, None).needs_approval
    async with sessionmaker.begin() as session:
        assert (
            await drafts.approve(
                session, approver_id=9002, author_id=4242, digest_prefix="x", now=NOW
            )
            is Approval.NO_DRAFT
        )


async def test_a_rollback_draft_restores_an_earlier_version(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    await edit(sessionmaker, shipped, 9001, POSTURE_KEY, NEW_POSTURE)
    async with sessionmaker.begin() as session:
        await publish_draft(
            session,
            await ContentStore(session).draft(9001) or _fail(),
            shipped=shipped,
            approver_id=None,
            note="",
            now=NOW,
        )
    async with sessionmaker.begin() as session:
        assert (
            await drafts.start_rollback(session, author_id=9001, number=2, newest=2, now=NOW)
            is None
        )
        assert (
            await drafts.start_rollback(session, author_id=9001, number=7, newest=2, now=NOW)
            is None
        )
        draft = await drafts.start_rollback(session, author_id=9001, number=1, newest=2, now=NOW)
    assert draft is not None
    assert (draft.restores, draft.base_number, draft.note) == (1, 2, "rollback to v1")
    assert draft.pack == shipped
    async with sessionmaker.begin() as session:
        version = await publish_draft(
            session, draft, shipped=shipped, approver_id=None, note=draft.note, now=NOW
        )
    assert (version.number, version.kind, version.restores) == (3, "rollback", 1)


def _fail() -> Draft:
    raise AssertionError("no draft")


async def test_content_sync_serves_the_newest_version_and_follows_previews(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    sync = ContentSync(sessionmaker, shipped=shipped)
    content = await sync.load()
    assert content.current.label == "shipped"
    assert not await sync.poll()
    edited = with_posture_text(shipped)
    async with sessionmaker.begin() as session:
        store = ContentStore(session)
        for number, pack in ((1, shipped), (2, edited)):
            await store.insert_version(
                number=number,
                kind="publish",
                pack=pack,
                author_id=9001,
                approver_id=None,
                note="",
                restores=None,
                now=NOW,
            )
        await store.save_draft(9003, shipped, base_number=2, now=NOW)
        await store.set_previewing(9003, True)
    assert await sync.poll()
    assert content.current.label == "v2"
    assert content.pack == edited
    assert content.for_user(9003).label == "draft-9003"
    assert content.for_user(9003).pack == shipped
    assert content.for_user(1001).label == "v2"
    async with sessionmaker.begin() as session:
        await ContentStore(session).set_previewing(9003, False)
    assert await sync.poll()
    assert content.for_user(9003).label == "v2"


async def test_a_version_that_does_not_fit_the_code_is_not_served(
    sessionmaker: Sessions, shipped: ContentPack
) -> None:
    document = json.loads(pack_json(shipped))
    del document["texts"]["en"]["core.menu.home"]
    async with sessionmaker.begin() as session:
        store = ContentStore(session)
        await store.insert_version(
            number=1,
            kind="publish",
            pack=shipped,
            author_id=9001,
            approver_id=None,
            note="",
            restores=None,
            now=NOW,
        )
    async with sessionmaker.begin() as session:
        from bot.db.admin_models import ContentVersionRow

        row = await session.get(ContentVersionRow, 1)
        assert row is not None
        row.document = json.dumps(document)
    sync = ContentSync(sessionmaker, shipped=shipped)
    content = await sync.load()
    assert content.current.label == "shipped"
    assert sync.state.newest == 1
    assert sync.state.refused is not None
    assert "en:core.menu.home" in sync.state.refused


async def test_stats_count_what_exists(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        session.add(User(id=1, language="en", created_at=NOW))
        session.add(User(id=2, language="tr", created_at=NOW, blocked_at=NOW))
    async with sessionmaker() as session:
        figures = {f.name: f.values for f in await stats.collect(session, NOW + timedelta(days=1))}
    assert figures["users"] == {"total": 2, "blocked": 1}
    assert figures["subscriptions"] == {"rules": 0, "users": 0}
    assert figures["checks"] == {}
    assert figures["announcements"] == {"total": 0}
    missing = stats.Metric("future", ("no_such_table",), stats.METRICS[0].query)
    async with sessionmaker() as session:
        [figure] = await stats.collect(session, NOW, (missing,))
    assert figure.values is None
