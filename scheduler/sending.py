"""What the dispatcher asks of a sender, and what a send can come back with.

Telegram-free, so the dispatcher and its tests do not depend on PTB; the real sender is
:class:`scheduler.telegram_sender.TelegramSender`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from scheduler.render import ReminderMessage


class SendStatus(StrEnum):
    """How a send ended, from the delivery's point of view."""

    SENT = "sent"  # Telegram accepted the message
    RATE_LIMITED = "rate_limited"  # 429 beyond the inline retries: re-queue, no attempt
    BLOCKED = "blocked"  # 403: the user blocked the bot
    REJECTED = "rejected"  # 400: chat not found, unparsable text...: dead letter
    FAILED = "failed"  # 5xx, timeout, network: retry with backoff, boundedly
    SKIPPED = "skipped"  # the renderer declined it (ReminderMessage.skip): expired, not sent


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send."""

    status: SendStatus
    message_id: int | None = None
    resume_at: datetime | None = None  # RATE_LIMITED: when the scope may send again
    error: str | None = None  # Telegram's description or the exception's name; no user data


class Sender(Protocol):
    """Sends one reminder to one private chat and classifies the outcome; never raises
    for Telegram or network errors."""

    async def send(self, chat_id: int, message: ReminderMessage) -> SendResult:
        """Send ``message`` to ``chat_id``."""
        ...
