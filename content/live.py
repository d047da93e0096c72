"""The content pack currently served, swappable at run time without a restart."""

from __future__ import annotations

from dataclasses import dataclass

from content.pack import ContentPack


@dataclass(frozen=True)
class ContentVersion:
    """A pack together with the version label it was published under."""

    label: str
    pack: ContentPack


class LiveContent:
    """Holds the pack in use, and drafts that individual admins are previewing.

    Handlers ask `for_user(user_id)` once per update, so a publish takes effect from the
    next update on and an admin previewing a draft sees the draft in their own chat only.
    The database is the source of truth for both: ``bot.admin.sync.ContentSync`` polls it
    every second and calls `replace` and `start_preview`/`end_preview` in every process.
    """

    def __init__(self, initial: ContentVersion) -> None:
        self._current = initial
        self._previews: dict[int, ContentVersion] = {}

    @property
    def current(self) -> ContentVersion:
        """The version being served now."""
        return self._current

    @property
    def pack(self) -> ContentPack:
        """Shortcut for the pack being served now."""
        return self._current.pack

    def for_user(self, user_id: int) -> ContentVersion:
        """What this user should see: their preview draft if any, else the live version."""
        return self._previews.get(user_id, self._current)

    def replace(self, version: ContentVersion) -> None:
        """Serve a new version from the next update on (a single reference swap)."""
        self._current = version

    def start_preview(self, user_id: int, draft: ContentVersion) -> None:
        """Show `draft` to this one user until `end_preview`."""
        self._previews[user_id] = draft

    def end_preview(self, user_id: int) -> None:
        """Return this user to the live version."""
        self._previews.pop(user_id, None)
