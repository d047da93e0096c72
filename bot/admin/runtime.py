"""What the admin handlers need besides the database: content sync and the checker."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.checking import PackChecker
from bot.admin.sync import ContentSync
from content.pack import ContentPack


@dataclass(frozen=True)
class AdminRuntime:
    """The process's content sync (live content, previews) and its pack checker."""

    sync: ContentSync
    checker: PackChecker

    @property
    def shipped(self) -> ContentPack:
        """The pack shipped with the code: the reference for keys and placeholders."""
        return self.sync.shipped
