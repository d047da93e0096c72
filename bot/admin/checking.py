"""Running the safety checks on a draft, off the event loop, at most one at a time.

A draft may go live only when :func:`content.pack_io.check_upload` (the code's keys,
placeholders and links) and :func:`content.pack.check_pack` (every symptom-check path,
every message, the golden cases) find nothing. ``check_pack`` takes tens of seconds, so
it runs in a worker thread. Results are remembered by the pack's digest, the reference
pack's digest and the date (the date matters for review-by checks): the checks are
deterministic, so checking the same content again on the same day in the same program
cannot give another answer, and an admin who uploads a pack (checked on upload) and
then publishes it does not wait twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from content.pack import ContentPack, check_pack
from content.pack_io import check_upload, pack_digest
from content.problems import ContentProblem

logger = logging.getLogger(__name__)

CheckFunction = Callable[[ContentPack, dt.date], list[ContentProblem]]
_CacheKey = tuple[str, str, dt.date]


def full_check(pack: ContentPack, today: dt.date) -> list[ContentProblem]:
    """`check_pack`: the one function tests, CI and publishing all call."""
    return check_pack(pack, today=today)


@dataclass
class CheckCache:
    """Results of finished checks (plain data, safe to share between Applications)."""

    size: int = 32
    results: OrderedDict[_CacheKey, tuple[ContentProblem, ...]] = field(
        default_factory=OrderedDict
    )
    runs: int = 0
    """How many times the full check actually ran (for tests and logs)."""

    def get(self, key: _CacheKey) -> tuple[ContentProblem, ...] | None:
        """A remembered result, or None."""
        found = self.results.get(key)
        if found is not None:
            self.results.move_to_end(key)
        return found

    def put(self, key: _CacheKey, problems: tuple[ContentProblem, ...]) -> None:
        """Remember a result, forgetting the oldest beyond ``size``."""
        self.results[key] = problems
        self.results.move_to_end(key)
        while len(self.results) > self.size:
            self.results.popitem(last=False)


class PackChecker:
    """Checks packs against the shipped reference; one full check at a time."""

    def __init__(
        self,
        reference: ContentPack,
        *,
        cache: CheckCache | None = None,
        check: CheckFunction = full_check,
    ) -> None:
        self.reference = reference
        self.cache = cache if cache is not None else CheckCache()
        self._reference_digest = pack_digest(reference)
        self._check = check
        self._lock: asyncio.Lock | None = None

    def quick(self, pack: ContentPack) -> list[ContentProblem]:
        """The upload-level checks alone (milliseconds)."""
        return check_upload(pack, self.reference)

    def remembered(self, pack: ContentPack, today: dt.date) -> tuple[ContentProblem, ...] | None:
        """The result of an earlier full check of this content today, if any."""
        return self.cache.get((pack_digest(pack), self._reference_digest, today))

    async def check(self, pack: ContentPack, today: dt.date) -> list[ContentProblem]:
        """Every check a pack must pass to go live; an empty list means it may."""
        quick = self.quick(pack)
        if quick:
            return quick
        key = (pack_digest(pack), self._reference_digest, today)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            found = self.cache.get(key)
            if found is None:
                loop = asyncio.get_running_loop()
                started = loop.time()
                found = tuple(await asyncio.to_thread(self._check, pack, today))
                self.cache.runs += 1
                self.cache.put(key, found)
                logger.info(
                    "content check: %d problems in %.1f s", len(found), loop.time() - started
                )
        return list(found)
