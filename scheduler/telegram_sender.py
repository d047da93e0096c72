"""The reminder sender: PTB's Bot, our rate limiter, Telegram's errors sorted into outcomes.

Reminders go out through the Application's own ``Bot``, so they use its HTTP stack, base
URL and defaults (HTML parse mode). Throttling is :class:`~scheduler.rate_limit.RateLimiter`
(25 messages/s overall, 1/s per chat): when the bot was built with
:class:`~scheduler.telegram_rate_limiter.TelegramRateLimiter` the bot itself throttles and
shares that limiter with the handlers; a bare bot is throttled here through the limiter
it is given. Either way a 429 pauses only its scope and comes back as ``RATE_LIMITED``.

How Telegram's answers map (``SendStatus``):

- 429 ``RetryAfter`` (after the limiter's bounded inline retries): ``RATE_LIMITED`` with
  the instant the scope may send again; not an attempt.
- 403 ``Forbidden``: ``BLOCKED``. 400 ``BadRequest`` (chat not found, can't parse
  entities, text too long): ``REJECTED``, a dead letter; retrying cannot help.
- Anything else from Telegram or the network (5xx arrive as ``NetworkError``, timeouts as
  ``TimedOut``): ``FAILED``, which the dispatcher retries with backoff a bounded number of
  times. A timed-out request may still have been delivered: that is part of the counted
  duplicate window described in README.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from scheduler.rate_limit import RateLimitedError, RateLimiter, RateLimits
from scheduler.render import ReminderMessage
from scheduler.sending import SendResult, SendStatus
from scheduler.telegram_rate_limiter import TelegramRateLimiter, retry_after_of

logger = logging.getLogger(__name__)

_ERROR_LIMIT = 200


class TelegramSender:
    """Sends reminders with a PTB bot; implements :class:`scheduler.sending.Sender`."""

    def __init__(self, bot: Bot, limiter: RateLimiter | None = None) -> None:
        adapter = bot.rate_limiter if isinstance(bot, ExtBot) else None
        if isinstance(adapter, TelegramRateLimiter):
            self._limiter = adapter.limiter
            self._bot_throttles = True
        elif limiter is not None:
            self._limiter = limiter
            self._bot_throttles = False
        else:
            raise ValueError("a bot without our TelegramRateLimiter needs a RateLimiter")
        self._bot = bot

    @property
    def limiter(self) -> RateLimiter:
        """The limiter every reminder send goes through."""
        return self._limiter

    async def send(self, chat_id: int, message: ReminderMessage) -> SendResult:
        """Send one reminder; Telegram and network errors become a result, never raise."""
        markup = _keyboard(message)

        async def call() -> Message:
            return await self._bot.send_message(chat_id, message.text, reply_markup=markup)

        try:
            if self._bot_throttles:
                sent = await call()
            else:
                sent = await self._limiter.run(chat_id, call, retry_after_of=retry_after_of)
        except RateLimitedError as error:
            return SendResult(SendStatus.RATE_LIMITED, resume_at=error.resume_at)
        except RetryAfter as error:
            wait = retry_after_of(error) or timedelta(0)
            resume = self._limiter.resume_at(chat_id) or self._limiter.clock.now() + wait
            return SendResult(SendStatus.RATE_LIMITED, resume_at=resume)
        except Forbidden as error:
            return SendResult(SendStatus.BLOCKED, error=_describe(error))
        except BadRequest as error:
            return SendResult(SendStatus.REJECTED, error=_describe(error))
        except TelegramError as error:
            return SendResult(SendStatus.FAILED, error=_describe(error))
        return SendResult(SendStatus.SENT, message_id=sent.message_id)


def reminder_rate_limits(per_second: int) -> RateLimits:
    """Limits for the reminder sender: ``per_second`` overall, spread evenly.

    One message every ``1/per_second`` seconds rather than ``per_second`` at once: the
    same rate, but a late wake-up of the event loop cannot stack two bursts into one
    second, which a real server would count against Telegram's ~30/s.
    """
    return RateLimits(overall_max=1, overall_period=timedelta(seconds=1) / per_second)


def _keyboard(message: ReminderMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in message.buttons
        ]
    )


def _describe(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"[:_ERROR_LIMIT]
