"""What a due reminder says: the seam between the delivery engine and reminder content.

The dispatcher hands every delivery it is about to send to a :data:`Renderer` and sends
whatever comes back. Today that is one plain text per kind from the content pack
(``reminders.message.<kind>``). Rotating texts and Done / Snooze buttons plug in here by
passing another renderer: ``buttons`` are rows of (label, callback data) that the sender
turns into an inline keyboard, so this module stays free of Telegram types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from content.live import LiveContent

Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class DueReminder:
    """A delivery about to be sent, with what a renderer may need to word it."""

    delivery_id: int
    user_id: int
    kind: str
    scheduled_at: datetime
    language: str


@dataclass(frozen=True)
class ReminderMessage:
    """The text (Telegram HTML) and optional inline buttons of one reminder."""

    text: str
    buttons: Buttons = ()
    skip: str | None = None
    """Set (to a short reason) when the delivery must not be sent after all: it is recorded
    as expired with that reason (a stretch held while a check says "get seen", a follow-up
    already answered, a journey nudge too late to help)."""

    @classmethod
    def skipped(cls, reason: str) -> ReminderMessage:
        """A delivery the renderer declines to send."""
        return cls("", skip=reason)


Renderer = Callable[[DueReminder], ReminderMessage | Awaitable[ReminderMessage]]
"""Sync, or async for a renderer that must look something up (an announcement's text)."""

ANNOUNCEMENT_KIND_PREFIX = "news:"
"""Deliveries of kind ``news:<id>`` are an owner's announcement (see bot.admin.announcements),
queued for users who opted in and sent once each, without a reminder rule."""


def is_announcement(kind: str) -> bool:
    """Whether a delivery is an announcement rather than a reminder."""
    return kind.startswith(ANNOUNCEMENT_KIND_PREFIX)


def is_one_off(kind: str) -> bool:
    """Whether a delivery is a one-off message (``<prefix>:<id>``: an announcement, a
    follow-up, a journey nudge) rather than a slot of a reminder rule. One-offs are planned
    into the user's hours when queued and sent when due, without a rule."""
    return ":" in kind


def plain_renderer(content: LiveContent) -> Renderer:
    """One fixed text per kind, in the user's language, from the live content pack."""

    def render(reminder: DueReminder) -> ReminderMessage:
        pack = content.pack
        return ReminderMessage(pack.text(reminder.language, f"reminders.message.{reminder.kind}"))

    return render
