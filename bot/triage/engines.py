"""One compiled engine per content pack, shared by every user of that pack."""

from __future__ import annotations

from collections import OrderedDict

from bot.triage.engine import TriageEngine
from content.triage_schema import TriageFlow

__all__ = ["EngineCache"]


class EngineCache:
    """Compiles a flow once and hands out the same engine for it.

    Keyed by the flow object itself (packs are immutable), holding a reference so an id
    is never reused while cached. The live pack and the few drafts admins preview fit
    in ``size``; the least recently used flow is dropped first.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._engines: OrderedDict[int, tuple[TriageFlow, TriageEngine]] = OrderedDict()

    def engine_for(self, flow: TriageFlow) -> TriageEngine:
        """The engine for ``flow``, compiling it on first use (a few milliseconds)."""
        key = id(flow)
        cached = self._engines.get(key)
        if cached is not None and cached[0] is flow:
            self._engines.move_to_end(key)
            return cached[1]
        engine = TriageEngine(flow)
        self._engines[key] = (flow, engine)
        while len(self._engines) > self._size:
            self._engines.popitem(last=False)
        return engine
