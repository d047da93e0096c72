"""Published content versions and admins' drafts in the database.

The live version is the one with the highest ``number``. Publishing is one transaction
that inserts version ``base + 1`` (and, the first time, the shipped pack as version 1,
the baseline a rollback can return to) and deletes the draft. If another admin published
since the draft was started, the draft's base is no longer the newest version and the
insert is refused; if two publishes race, the primary key on ``number`` refuses the
second. Either way nothing changes and the admin is told why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.admin_models import ContentDraft, ContentVersionRow
from content.live import ContentVersion
from content.pack import ContentPack
from content.pack_io import pack_digest, pack_from_json, pack_json

SHIPPED_LABEL = "shipped"
NOTE_LIMIT = 300


def version_label(number: int) -> str:
    """How a version is named to admins and in ``ContentVersion.label``: ``v7``."""
    return f"v{number}"


def draft_label(author_id: int) -> str:
    """The label of an admin's draft while they preview it."""
    return f"draft-{author_id}"


@dataclass(frozen=True)
class VersionInfo:
    """A published version without its content."""

    number: int
    kind: str
    sha256: str
    author_id: int | None
    approver_id: int | None
    published_at: datetime
    note: str
    restores: int | None

    @property
    def label(self) -> str:
        """``v7``."""
        return version_label(self.number)


@dataclass(frozen=True)
class Draft:
    """An admin's draft, with its pack parsed."""

    author_id: int
    base_number: int | None
    pack: ContentPack
    sha256: str
    note: str
    restores: int | None
    previewing: bool
    approved_by: int | None
    approved_sha256: str | None
    updated_at: datetime

    @property
    def approver(self) -> int | None:
        """Who approved this exact content, if anyone did."""
        if self.approved_sha256 == self.sha256 and self.approved_by != self.author_id:
            return self.approved_by
        return None


class PublishConflictError(RuntimeError):
    """Someone published since the draft was started, or at the same moment."""


class DraftChangedError(RuntimeError):
    """The draft changed (or went) while it was being checked."""


def _info(row: ContentVersionRow) -> VersionInfo:
    return VersionInfo(
        number=row.number,
        kind=row.kind,
        sha256=row.sha256,
        author_id=row.author_id,
        approver_id=row.approver_id,
        published_at=row.published_at,
        note=row.note,
        restores=row.restores,
    )


_INFO_COLUMNS = (
    ContentVersionRow.number,
    ContentVersionRow.kind,
    ContentVersionRow.sha256,
    ContentVersionRow.author_id,
    ContentVersionRow.approver_id,
    ContentVersionRow.published_at,
    ContentVersionRow.note,
    ContentVersionRow.restores,
)


class ContentStore:
    """Versions and drafts on one session; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # ---------------------------------------------------------------- versions

    async def newest_number(self) -> int | None:
        """The live version's number, or None while the shipped pack is live."""
        number: int | None = await self._session.scalar(select(func.max(ContentVersionRow.number)))
        return number

    async def history(self, limit: int = 20) -> list[VersionInfo]:
        """The newest versions first, without their content."""
        rows = await self._session.execute(
            select(*_INFO_COLUMNS).order_by(ContentVersionRow.number.desc()).limit(limit)
        )
        return [VersionInfo(*row) for row in rows]

    async def info(self, number: int) -> VersionInfo | None:
        """One version without its content."""
        row = (
            await self._session.execute(
                select(*_INFO_COLUMNS).where(ContentVersionRow.number == number)
            )
        ).first()
        return None if row is None else VersionInfo(*row)

    async def document(self, number: int) -> str | None:
        """A version's stored canonical JSON."""
        found: str | None = await self._session.scalar(
            select(ContentVersionRow.document).where(ContentVersionRow.number == number)
        )
        return found

    async def insert_version(
        self,
        *,
        number: int,
        kind: str,
        pack: ContentPack,
        author_id: int | None,
        approver_id: int | None,
        note: str,
        restores: int | None,
        now: datetime,
    ) -> VersionInfo:
        """Add a version; raises PublishConflictError if the number is taken."""
        row = ContentVersionRow(
            number=number,
            kind=kind,
            document=pack_json(pack),
            sha256=pack_digest(pack),
            author_id=author_id,
            approver_id=approver_id,
            published_at=now,
            note=note[:NOTE_LIMIT],
            restores=restores,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as error:
            raise PublishConflictError(version_label(number)) from error
        return _info(row)

    # ---------------------------------------------------------------- drafts

    async def draft(self, author_id: int) -> Draft | None:
        """An admin's draft, parsed."""
        row = await self._session.get(ContentDraft, author_id)
        if row is None:
            return None
        return Draft(
            author_id=row.author_id,
            base_number=row.base_number,
            pack=pack_from_json(row.document),
            sha256=row.sha256,
            note=row.note,
            restores=row.restores,
            previewing=row.previewing,
            approved_by=row.approved_by,
            approved_sha256=row.approved_sha256,
            updated_at=row.updated_at,
        )

    async def draft_digest(self, author_id: int) -> str | None:
        """The digest of an admin's draft (without loading it)."""
        found: str | None = await self._session.scalar(
            select(ContentDraft.sha256).where(ContentDraft.author_id == author_id)
        )
        return found

    async def save_draft(
        self,
        author_id: int,
        pack: ContentPack,
        *,
        base_number: int | None,
        now: datetime,
        note: str | None = None,
        restores: int | None = None,
        keep_base: bool = False,
    ) -> str:
        """Create or replace an admin's draft; return its digest. Approval is kept only
        for identical content (it is bound to the digest)."""
        digest = pack_digest(pack)
        row = await self._session.get(ContentDraft, author_id)
        if row is None:
            row = ContentDraft(
                author_id=author_id,
                base_number=base_number,
                previewing=False,
                note="",
                created_at=now,
            )
            self._session.add(row)
        elif not keep_base:
            row.base_number = base_number
        row.document = pack_json(pack)
        row.sha256 = digest
        row.updated_at = now
        if note is not None:
            row.note = note[:NOTE_LIMIT]
        if not keep_base or restores is not None:
            row.restores = restores
        return digest

    async def set_note(self, author_id: int, note: str) -> bool:
        """Set the note a publish will carry."""
        result = await self._session.execute(
            update(ContentDraft)
            .where(ContentDraft.author_id == author_id)
            .values(note=note[:NOTE_LIMIT])
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_previewing(self, author_id: int, on: bool) -> bool:
        """Start or stop previewing the draft; False if there is no draft."""
        result = await self._session.execute(
            update(ContentDraft).where(ContentDraft.author_id == author_id).values(previewing=on)
        )
        return bool(getattr(result, "rowcount", 0))

    async def approve(
        self, author_id: int, sha256: str, *, approver_id: int, now: datetime
    ) -> bool:
        """Record approval of exactly this content; False if the draft changed."""
        result = await self._session.execute(
            update(ContentDraft)
            .where(ContentDraft.author_id == author_id, ContentDraft.sha256 == sha256)
            .values(approved_by=approver_id, approved_sha256=sha256, approved_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_draft(self, author_id: int, sha256: str | None = None) -> bool:
        """Remove a draft (only if it still has ``sha256``, when given)."""
        statement = delete(ContentDraft).where(ContentDraft.author_id == author_id)
        if sha256 is not None:
            statement = statement.where(ContentDraft.sha256 == sha256)
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def previews(self) -> dict[int, str]:
        """Admins previewing their drafts: author -> draft digest."""
        rows = await self._session.execute(
            select(ContentDraft.author_id, ContentDraft.sha256).where(
                ContentDraft.previewing.is_(True)
            )
        )
        return {row.author_id: row.sha256 for row in rows}

    async def draft_pack(self, author_id: int) -> ContentPack | None:
        """Just the pack of a draft."""
        document = await self._session.scalar(
            select(ContentDraft.document).where(ContentDraft.author_id == author_id)
        )
        return None if document is None else pack_from_json(document)


async def publish_draft(
    session: AsyncSession,
    draft: Draft,
    *,
    shipped: ContentPack,
    approver_id: int | None,
    note: str,
    now: datetime,
) -> VersionInfo:
    """Make a checked draft the live version, atomically, in the caller's transaction.

    Raises PublishConflictError if the live version is no longer the draft's base and
    DraftChangedError if the draft is not exactly what was checked.
    """
    store = ContentStore(session)
    newest = await store.newest_number()
    if newest != draft.base_number:
        raise PublishConflictError(
            f"live is {SHIPPED_LABEL if newest is None else version_label(newest)}"
        )
    if not await store.delete_draft(draft.author_id, draft.sha256):
        raise DraftChangedError(str(draft.author_id))
    number = 1 if newest is None else newest + 1
    if newest is None:
        await store.insert_version(
            number=number,
            kind="baseline",
            pack=shipped,
            author_id=None,
            approver_id=None,
            note="the pack shipped with the code",
            restores=None,
            now=now,
        )
        number += 1
    return await store.insert_version(
        number=number,
        kind="publish" if draft.restores is None else "rollback",
        pack=draft.pack,
        author_id=draft.author_id,
        approver_id=approver_id,
        note=note,
        restores=draft.restores,
        now=now,
    )


async def load_version(session: AsyncSession, number: int) -> ContentVersion | None:
    """A stored version as served content (raises pydantic.ValidationError if stale)."""
    document = await ContentStore(session).document(number)
    if document is None:
        return None
    return ContentVersion(version_label(number), pack_from_json(document))
