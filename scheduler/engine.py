"""The reminder engine of one process: what the periodic jobs start, and how it stops.

PTB's JobQueue (APScheduler in the bot's event loop) calls :meth:`ReminderEngine.kick_materialise`
and :meth:`ReminderEngine.kick_dispatch` on a fixed interval; both return at once and run
the work as a background task unless the previous run is still going, so a slow pass is
never run twice at the same time and APScheduler never has to skip a run. The work itself
is :func:`scheduler.materialise.materialise_due` and :meth:`Dispatcher.drain`, plain async
functions of the sessionmaker, the clock and the sender that tests call directly.

No per-user job and no job store: everything that must survive a restart is in the
database, so the jobs are the same two in every process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from scheduler.dispatcher import DispatchConfig, Dispatcher
from scheduler.fleet_share import FleetShare
from scheduler.materialise import MaterialiseConfig, MaterialiseReport, materialise_due
from scheduler.render import Renderer
from scheduler.sending import Sender
from scheduler.store import ReminderStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """How often the jobs run and how long delivery history is kept."""

    materialise_every: timedelta = timedelta(seconds=30)
    dispatch_every: timedelta = timedelta(seconds=2)
    keep_history: timedelta = timedelta(days=30)
    purge_every: timedelta = timedelta(hours=6)
    purge_batch: int = 5000
    materialise: MaterialiseConfig = field(default_factory=MaterialiseConfig)
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)


class ReminderEngine:
    """Materialiser and dispatcher of one process, started by jobs, stopped at shutdown."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: Sender,
        renderer: Renderer,
        default_zone: ZoneInfo,
        config: EngineConfig | None = None,
        owner: str | None = None,
        fleet: FleetShare | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self._fleet = fleet
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._default_zone = default_zone
        self.dispatcher = Dispatcher(
            sessionmaker=sessionmaker,
            clock=clock,
            sender=sender,
            renderer=renderer,
            default_zone=default_zone,
            owner=owner,
            config=self.config.dispatch,
        )
        self._materialise_task: asyncio.Task[None] | None = None
        self._last_purge: datetime | None = None
        self._stopped = False

    async def materialise(self) -> MaterialiseReport:
        """One materialise pass (and, now and then, a purge of old history)."""
        report = await materialise_due(
            self._sessionmaker,
            self._clock,
            default_zone=self._default_zone,
            config=self.config.materialise,
        )
        await self._purge_if_due()
        return report

    def kick_materialise(self) -> bool:
        """Start a materialise pass in the background unless one is running."""
        if self._stopped or _running(self._materialise_task):
            return False
        self._materialise_task = asyncio.create_task(
            _logged(self.materialise, "materialise"), name="reminder-materialise"
        )
        return True

    async def check_in(self) -> None:
        """Renew this dispatcher's presence and its share of the send rate (if it shares)."""
        if self._fleet is not None and not self._stopped:
            await _logged(self._fleet.check_in, "check-in")

    def kick_dispatch(self) -> bool:
        """Start a dispatch pass in the background unless one is running."""
        if self._stopped:
            return False
        return self.dispatcher.kick()

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish briefly, release leases."""
        self._stopped = True
        task = self._materialise_task
        if _running(task) and task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.dispatcher.stop()
        if self._fleet is not None:
            await _logged(self._fleet.check_out, "check-out")

    async def _purge_if_due(self) -> None:
        now = self._clock.now()
        if self._last_purge is not None and now - self._last_purge < self.config.purge_every:
            return
        self._last_purge = now
        async with self._sessionmaker.begin() as session:
            purged = await ReminderStore(session).purge(
                before=now - self.config.keep_history, limit=self.config.purge_batch
            )
        if purged:
            logger.info("purged %d reminder deliveries older than the history kept", purged)


def _running(task: asyncio.Task[None] | None) -> bool:
    return task is not None and not task.done()


async def _logged(work: Callable[[], Awaitable[object]], name: str) -> None:
    try:
        await work()
    except Exception:
        logger.exception("reminder %s pass failed; the next tick tries again", name)
