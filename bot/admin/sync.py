"""Keeping every process's live content in step with the database.

At start the newest published version is served, or the shipped pack while none is
published. Then :meth:`ContentSync.poll` runs every second (a JobQueue job, see
``handlers/admin_setup.py``): one indexed ``max(number)`` query, and one for the drafts
being previewed; only when either changed does it load and swap content. So every
process serves a new version within about a second of its publish, without a restart,
and an admin's preview follows them to whichever process handles their next update.

A stored version that this code can no longer serve (its texts lack keys the code
needs, or it no longer validates) is not served: the shipped pack is, and the reason is
logged and shown to admins, so a deploy can never break the bot through old content.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin.versions import SHIPPED_LABEL, ContentStore, draft_label, version_label
from content.live import ContentVersion, LiveContent
from content.pack import ContentPack
from content.pack_io import check_upload, pack_from_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncState:
    """What this process serves and why."""

    newest: int | None
    """The newest published version in the database (None: nothing published yet)."""
    served: str
    """The label being served: ``v7`` or ``shipped``."""
    refused: str | None = None
    """Why the newest version is not served, if it is not."""


class ContentSync:
    """Loads the newest version and previews from the database into a LiveContent."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        shipped: ContentPack,
        content: LiveContent | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.shipped = shipped
        self.content = content or LiveContent(ContentVersion(SHIPPED_LABEL, shipped))
        self.state = SyncState(newest=None, served=SHIPPED_LABEL)
        self._previews: dict[int, str] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> LiveContent:
        """Serve the newest published version (call once at start)."""
        await self.poll()
        return self.content

    async def poll(self) -> bool:
        """Catch up with the database; True if anything changed."""
        async with self._lock:
            async with self._sessionmaker() as session:
                store = ContentStore(session)
                newest = await store.newest_number()
                previews = await store.previews()
                changed = False
                if newest != self.state.newest:
                    await self._serve(store, newest)
                    changed = True
                if previews != self._previews:
                    await self._follow_previews(store, previews)
                    changed = True
            return changed

    def served_locally(self, number: int, pack: ContentPack) -> None:
        """This process just published ``pack`` as ``number``: serve it at once."""
        if self.state.newest is not None and number <= self.state.newest:
            return
        self.content.replace(ContentVersion(version_label(number), pack))
        self.state = SyncState(newest=number, served=version_label(number))

    def preview_locally(
        self, author_id: int, digest: str | None, pack: ContentPack | None
    ) -> None:
        """This process just changed an admin's preview: apply it without waiting."""
        if digest is None or pack is None:
            self.content.end_preview(author_id)
            self._previews.pop(author_id, None)
            return
        self.content.start_preview(author_id, ContentVersion(draft_label(author_id), pack))
        self._previews[author_id] = digest

    async def _serve(self, store: ContentStore, newest: int | None) -> None:
        if newest is None:
            self.content.replace(ContentVersion(SHIPPED_LABEL, self.shipped))
            self.state = SyncState(newest=None, served=SHIPPED_LABEL)
            return
        label = version_label(newest)
        document = await store.document(newest)
        refused: str | None = None
        pack: ContentPack | None = None
        if document is not None:
            try:
                pack = await asyncio.to_thread(pack_from_json, document)
            except (ValidationError, ValueError, KeyError) as error:
                refused = f"{label} does not load with this code ({type(error).__name__})"
        if pack is not None:
            problems = check_upload(pack, self.shipped)
            if problems:
                refused = f"{label} does not fit this code: {problems[0]}"
                pack = None
        if pack is None:
            logger.warning("serving the shipped content: %s", refused)
            self.content.replace(ContentVersion(SHIPPED_LABEL, self.shipped))
            self.state = SyncState(newest=newest, served=SHIPPED_LABEL, refused=refused)
            return
        self.content.replace(ContentVersion(label, pack))
        self.state = SyncState(newest=newest, served=label)
        logger.info("now serving content %s", label)

    async def _follow_previews(self, store: ContentStore, previews: dict[int, str]) -> None:
        for author_id in set(self._previews) - set(previews):
            self.content.end_preview(author_id)
            del self._previews[author_id]
        for author_id, digest in previews.items():
            if self._previews.get(author_id) == digest:
                continue
            pack = await store.draft_pack(author_id)
            if pack is None:
                continue
            self.content.start_preview(author_id, ContentVersion(draft_label(author_id), pack))
            self._previews[author_id] = digest
