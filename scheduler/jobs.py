"""Wiring the reminder engine into a running Application: sender, engine, three jobs.

Called by :func:`bot.runner.running_bot` after the Application started and stopped
before it stops. Two JobQueue jobs only *kick* the engine (see :mod:`scheduler.engine`),
so they return at once and APScheduler never overlaps or skips them; their names are
``reminders-materialise`` and ``reminders-dispatch``. The third, ``reminders-check-in``,
keeps this process's share of the send rate (see :mod:`scheduler.fleet_share`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.admin.announcements import AnnouncementRenderer
from bot.context import LegCareApplication, LegCareContext
from bot.db.engine import is_sqlite
from scheduler.dispatcher import DispatchConfig, process_owner_id, release_all_leases
from scheduler.engine import EngineConfig, ReminderEngine
from scheduler.fleet_share import CHECK_IN_EVERY, FleetShare
from scheduler.nudges import NudgeRenderer
from scheduler.preferences import Defaults
from scheduler.rate_limit import RateLimiter
from scheduler.telegram_sender import TelegramSender, reminder_rate_limits

logger = logging.getLogger(__name__)

MATERIALISE_JOB = "reminders-materialise"
DISPATCH_JOB = "reminders-dispatch"
CHECK_IN_JOB = "reminders-check-in"
# Run however late the event loop gets to it; never queue up missed runs.
_JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


def engine_config(application: LegCareApplication) -> EngineConfig:
    """The engine's tunables from the operator's settings."""
    settings = application.services.settings
    return EngineConfig(
        dispatch=DispatchConfig(
            lease=timedelta(seconds=settings.reminder_lease_seconds),
            # About a second of sending in flight (what the limiter lets out meanwhile),
            # topped up when half of it is done, in batches small enough that a claim never
            # holds SQLite's write lock long while finished sends wait to be recorded.
            claim_batch=min(100, max(5, settings.reminder_send_rate // 2)),
            max_in_flight=max(10, settings.reminder_send_rate),
        )
    )


async def start_reminders(application: LegCareApplication) -> ReminderEngine:
    """Build the engine for this process and schedule its jobs."""
    services = application.services
    settings = services.settings
    limiter = RateLimiter(services.clock, reminder_rate_limits(settings.reminder_send_rate))
    owner = process_owner_id()
    fleet = FleetShare(
        services.sessionmaker,
        services.clock,
        limiter,
        owner=owner,
        total_rate=settings.reminder_send_rate,
    )
    engine = ReminderEngine(
        sessionmaker=services.sessionmaker,
        clock=services.clock,
        sender=TelegramSender(application.bot, limiter),
        # Announcements (kind news:<id>) are queued here too and rendered from the database;
        # reminders (rotating content, buttons), follow-ups and journey nudges by NudgeRenderer.
        renderer=AnnouncementRenderer(
            services.sessionmaker,
            NudgeRenderer(
                sessionmaker=services.sessionmaker,
                content=services.content,
                codec=services.codec,
                clock=services.clock,
                defaults=Defaults(
                    zone=ZoneInfo(settings.default_timezone), country=settings.default_country
                ),
            ),
        ),
        default_zone=ZoneInfo(settings.default_timezone),
        config=engine_config(application),
        owner=owner,
        fleet=fleet,
    )
    if is_sqlite(settings.database_url):
        # The single-process lock is ours, so every lease left in the file is a dead run's.
        await release_all_leases(services.sessionmaker, services.clock)
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the Application was built without a JobQueue")

    async def materialise(_context: LegCareContext) -> None:
        engine.kick_materialise()

    async def dispatch(_context: LegCareContext) -> None:
        engine.kick_dispatch()

    async def check_in(_context: LegCareContext) -> None:
        await engine.check_in()

    # Before the first send, so a process joining a fleet never starts at the full rate.
    await fleet.check_in()

    config = engine.config
    job_queue.run_repeating(
        materialise,
        interval=config.materialise_every,
        first=0,
        name=MATERIALISE_JOB,
        job_kwargs=_JOB_KWARGS,
    )
    job_queue.run_repeating(
        dispatch,
        interval=config.dispatch_every,
        first=config.dispatch_every / 2,
        name=DISPATCH_JOB,
        job_kwargs=_JOB_KWARGS,
    )
    job_queue.run_repeating(
        check_in,
        interval=CHECK_IN_EVERY,
        first=CHECK_IN_EVERY,
        name=CHECK_IN_JOB,
        job_kwargs=_JOB_KWARGS,
    )
    logger.info(
        "reminders: up to %d messages/s (shared by %d dispatchers), lease %ss, owner %s",
        settings.reminder_send_rate,
        fleet.live,
        settings.reminder_lease_seconds,
        engine.dispatcher.owner,
    )
    return engine
