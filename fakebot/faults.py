"""Faults on demand: injected errors, Telegram-like rate limits, random 5xx."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# Methods that create a message in a chat: what Telegram's flood limits are about and
# what ``random_server_errors`` hits by default. Edits, chat actions and callback
# answers are not counted.
SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendaudio",
        "sendvideo",
        "sendanimation",
        "sendvoice",
        "sendvideonote",
        "sendmediagroup",
        "sendlocation",
        "sendvenue",
        "sendcontact",
        "sendpoll",
        "senddice",
        "sendsticker",
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
    }
)


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description and optional ``retry_after``."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def too_many_requests(retry_after: int) -> ApiError:
    """Return Telegram's flood-control error."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(slots=True)
class Fault:
    """An error to answer the next ``times`` calls of ``method`` (optionally one chat) with."""

    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault applies to a call of ``method`` about ``chat_id``."""
        if self.times <= 0 or self.method != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError:
        """Consume one use and return the error to answer with."""
        self.times -= 1
        return ApiError(self.status, self.description, retry_after=self.retry_after)


def make_fault(
    method: str,
    *,
    status: int,
    retry_after: int | None,
    description: str | None,
    times: int,
    chat_id: int | None,
) -> Fault:
    """Build a :class:`Fault` with Telegram's usual description for ``status``."""
    if status == 429:
        retry_after = 1 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
    elif description is None:
        description = DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    return Fault(method.lower(), status, description, retry_after, times, chat_id)


@dataclass(slots=True)
class LeakyBucket:
    """``capacity`` requests at once, refilled at ``rate`` per second (like aiolimiter)."""

    rate: float
    capacity: float
    level: float = 0.0
    updated: float = 0.0

    def wait_needed(self, now: float, tolerance: float) -> float:
        """Return 0 if one more request fits now, else the seconds until it would."""
        self.level = max(0.0, self.level - (now - self.updated) * self.rate)
        self.updated = now
        excess = self.level + 1 - self.capacity - tolerance * self.rate
        return 0.0 if excess <= 0 else excess / self.rate

    def take(self) -> None:
        """Count one request (after :meth:`wait_needed` said it fits)."""
        self.level += 1


@dataclass(frozen=True, slots=True)
class RateLimitViolation:
    """A request refused with 429 because it exceeded a flood limit."""

    at: float
    method: str
    chat_id: int | None
    scope: str
    retry_after: int


@dataclass(slots=True)
class RateLimits:
    """Telegram's flood limits: a global and a per-chat leaky bucket.

    A request fits when both buckets have room; ``tolerance`` seconds of jitter are
    forgiven (requests paced exactly at the limit by a client arrive a little uneven).
    """

    global_per_second: float
    per_chat_per_second: float
    per_chat_burst: int
    tolerance: float
    global_bucket: LeakyBucket = field(init=False)
    chats: dict[int, LeakyBucket] = field(default_factory=dict)
    violations: list[RateLimitViolation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.global_bucket = LeakyBucket(self.global_per_second, self.global_per_second)

    def check(self, method: str, chat_id: int | None, now: float) -> None:
        """Count the request, or raise a 429 :class:`ApiError` and record the violation."""
        chat_bucket = None
        if chat_id is not None:
            chat_bucket = self.chats.get(chat_id)
            if chat_bucket is None:
                capacity = max(float(self.per_chat_burst), self.per_chat_per_second)
                chat_bucket = LeakyBucket(self.per_chat_per_second, capacity, updated=now)
                self.chats[chat_id] = chat_bucket
        global_wait = self.global_bucket.wait_needed(now, self.tolerance)
        chat_wait = chat_bucket.wait_needed(now, self.tolerance) if chat_bucket else 0.0
        if global_wait <= 0 and chat_wait <= 0:
            self.global_bucket.take()
            if chat_bucket is not None:
                chat_bucket.take()
            return
        retry_after = max(1, math.ceil(max(global_wait, chat_wait)))
        scope = "chat" if chat_wait >= global_wait else "global"
        self.violations.append(RateLimitViolation(now, method, chat_id, scope, retry_after))
        raise too_many_requests(retry_after)


@dataclass(slots=True)
class RandomErrors:
    """Answer a share of calls with a 5xx error, reproducibly from ``seed``."""

    rate: float
    methods: frozenset[str]
    statuses: tuple[int, ...]
    rng: random.Random
    injected: int = 0

    def maybe_fail(self, method: str) -> ApiError | None:
        """Return an error for this call with probability ``rate``."""
        if method.lower() not in self.methods or self.rng.random() >= self.rate:
            return None
        self.injected += 1
        status = self.rng.choice(self.statuses)
        return ApiError(status, DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))
