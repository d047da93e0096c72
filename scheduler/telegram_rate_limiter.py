"""python-telegram-bot adapter for :class:`scheduler.rate_limit.RateLimiter`.

The only scheduler module that imports ``telegram``. Plug it in with
``ApplicationBuilder().rate_limiter(TelegramRateLimiter(limiter))`` and every request that
names a ``chat_id`` goes through the shared limiter, whether it comes from a handler or
from the reminder dispatcher. Requests without a chat (answering callback queries,
``setMyCommands`` ...) are not throttled but do wait out a global 429 pause.

Per PTB's contract (``BaseRateLimiter.process_request``) only ``RetryAfter`` is handled
here; it is retried a bounded number of times and then re-raised as the same
``RetryAfter``, so the dispatcher can re-queue the delivery without counting an attempt.
Every other exception propagates untouched.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from scheduler.rate_limit import ChatId, RateLimiter

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]


def retry_after_of(exc: Exception) -> timedelta | None:
    """The pause a ``RetryAfter`` asks for; ``None`` for any other error."""
    if not isinstance(exc, RetryAfter):
        return None
    with warnings.catch_warnings():
        # PTB 22.2+ warns on reading retry_after as a number unless PTB_TIMEDELTA is set.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def chat_of(data: dict[str, Any]) -> ChatId | None:
    """The chat a Bot API request addresses, with numeric strings made ints."""
    chat_id = data.get("chat_id")
    if isinstance(chat_id, str):
        with contextlib.suppress(ValueError):
            return int(chat_id)
    return chat_id if isinstance(chat_id, int | str) else None


class TelegramRateLimiter(BaseRateLimiter[int]):
    """PTB ``BaseRateLimiter`` backed by our clock-driven :class:`RateLimiter`.

    ``rate_limit_args``, when given, overrides the number of inline 429 retries.
    """

    __slots__ = ("limiter",)

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(  # noqa: PLR0917 - PTB's abstract signature
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Throttle a request, and retry a 429 a bounded number of times."""
        chat_id = chat_of(data)
        limits = self.limiter.limits
        max_retries = limits.max_retries if rate_limit_args is None else rate_limit_args
        retries = 0
        while True:
            if chat_id is None:
                await self.limiter.wait_unpaused()
            else:
                await self.limiter.acquire(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                retry_after = retry_after_of(exc) or timedelta(0)
                self.limiter.pause(retry_after, chat_id=chat_id)
                if retries >= max_retries or retry_after > limits.max_inline_wait:
                    raise
                retries += 1


__all__ = ["TelegramRateLimiter", "chat_of", "retry_after_of"]
