"""Working on a draft: edit one text, replace it with an upload, start a rollback,
approve, and the status the admin menu shows.

Each admin has at most one draft. It starts as a copy of the live content the first time
the admin changes something, and remembers which published version it started from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.diff import PackDiff, diff_packs, safety_changes
from bot.admin.versions import ContentStore, Draft, version_label
from content.pack import ContentPack
from content.pack_io import check_text, pack_from_json
from content.problems import ContentProblem


@dataclass(frozen=True)
class DraftStatus:
    """An admin's draft against live content."""

    draft: Draft
    diff: PackDiff
    safety: list[str]
    """Red-flag changes: non-empty means a second admin must approve."""
    stale: bool
    """Another version was published after the draft started: it cannot be published."""

    @property
    def needs_approval(self) -> bool:
        """Whether publishing waits for a second admin."""
        return bool(self.safety) and self.draft.approver is None


def status_of(draft: Draft, live: ContentPack, newest: int | None) -> DraftStatus:
    """Compare a draft with live content (pure)."""
    diff = diff_packs(live, draft.pack)
    return DraftStatus(
        draft=draft,
        diff=diff,
        safety=safety_changes(diff, live, draft.pack),
        stale=draft.base_number != newest,
    )


def with_text(pack: ContentPack, lang: str, key: str, value: str) -> ContentPack:
    """A copy of ``pack`` with one text replaced."""
    texts = {language: dict(table) for language, table in pack.texts.items()}
    texts[lang][key] = value
    # A copy keeps every other part of the pack (flow, countries, reminder items...).
    return pack.model_copy(update={"texts": texts})


async def edit_text(
    session: AsyncSession,
    *,
    author_id: int,
    lang: str,
    key: str,
    value: str,
    live: ContentPack,
    newest: int | None,
    reference: ContentPack,
    now: datetime,
) -> list[ContentProblem]:
    """Put one new text into the admin's draft; return problems (nothing saved) or []."""
    store = ContentStore(session)
    draft = await store.draft(author_id)
    pack = live if draft is None else draft.pack
    if key not in pack.texts.get(lang, {}):
        return [ContentProblem(f"{lang}:{key}", "no such text")]
    problems = check_text(lang, key, value, reference)
    if problems:
        return problems
    await store.save_draft(
        author_id,
        with_text(pack, lang, key, value),
        base_number=newest,
        keep_base=draft is not None,
        now=now,
    )
    return []


async def save_upload(
    session: AsyncSession, *, author_id: int, pack: ContentPack, newest: int | None, now: datetime
) -> str:
    """Make an uploaded (and checked) pack the admin's draft; return its digest."""
    return await ContentStore(session).save_draft(
        author_id, pack, base_number=newest, note="", restores=None, now=now
    )


async def start_rollback(
    session: AsyncSession, *, author_id: int, number: int, newest: int | None, now: datetime
) -> Draft | None:
    """Replace the admin's draft with version ``number``'s content; None if no such one."""
    store = ContentStore(session)
    document = await store.document(number)
    if document is None or number == newest:
        return None
    await store.save_draft(
        author_id,
        pack_from_json(document),
        base_number=newest,
        note=f"rollback to {version_label(number)}",
        restores=number,
        now=now,
    )
    return await store.draft(author_id)


class Approval(StrEnum):
    """What became of an approval."""

    APPROVED = "approved"
    OWN_DRAFT = "own_draft"
    NO_DRAFT = "no_draft"
    CHANGED = "changed"
    """The draft changed after the approver saw it: they must look again."""


async def approve(
    session: AsyncSession, *, approver_id: int, author_id: int, digest_prefix: str, now: datetime
) -> Approval:
    """Approve exactly the draft content the approver was shown."""
    if approver_id == author_id:
        return Approval.OWN_DRAFT
    store = ContentStore(session)
    digest = await store.draft_digest(author_id)
    if digest is None:
        return Approval.NO_DRAFT
    if not digest.startswith(digest_prefix):
        return Approval.CHANGED
    await store.approve(author_id, digest, approver_id=approver_id, now=now)
    return Approval.APPROVED
