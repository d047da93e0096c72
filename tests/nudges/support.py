"""Driving the real reminder engine with the injected clock, step by step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.admin.announcements import AnnouncementRenderer
from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.reminder_models import ReminderDelivery
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import DISPATCH_JOB, MATERIALISE_JOB
from scheduler.materialise import materialise_due
from scheduler.nudges import NudgeRenderer
from scheduler.preferences import Defaults
from scheduler.rate_limit import RateLimiter, RateLimits
from scheduler.telegram_sender import TelegramSender

ISTANBUL = ZoneInfo("Europe/Istanbul")


@dataclass
class EngineDriver:
    """The bot's materialiser and a dispatcher with the bot's renderer and sender, run by
    the test at each step of the clock (the real-time jobs are removed)."""

    bot: LegCareApplication
    clock: ManualClock
    dispatcher: Dispatcher
    default_zone: ZoneInfo

    @classmethod
    def take_over(cls, bot: LegCareApplication, clock: ManualClock) -> EngineDriver:
        """Stop the bot's own engine jobs and drive the same work from the test."""
        job_queue = bot.job_queue
        assert job_queue is not None
        for name in (MATERIALISE_JOB, DISPATCH_JOB):
            for job in job_queue.get_jobs_by_name(name):
                job.schedule_removal()
        services = bot.services
        settings = services.settings
        zone = ZoneInfo(settings.default_timezone)
        renderer = AnnouncementRenderer(
            services.sessionmaker,
            NudgeRenderer(
                sessionmaker=services.sessionmaker,
                content=services.content,
                codec=services.codec,
                clock=clock,
                defaults=Defaults(zone=zone, country=settings.default_country),
            ),
        )
        # Generous limits: the rate limiter is tested elsewhere; here a wait on the manual
        # clock would only stall the simulated day.
        limiter = RateLimiter(clock, RateLimits(overall_max=1000, per_chat_max=100))
        dispatcher = Dispatcher(
            sessionmaker=services.sessionmaker,
            clock=clock,
            sender=TelegramSender(bot.bot, limiter),
            renderer=renderer,
            default_zone=zone,
            owner="test-engine",
        )
        return cls(bot, clock, dispatcher, zone)

    async def step(self) -> None:
        """One materialise pass and one dispatch pass at the current instant."""
        await materialise_due(
            self.bot.services.sessionmaker, self.clock, default_zone=self.default_zone
        )
        await self.dispatcher.drain()

    async def run_until(self, when: datetime, *, step: timedelta = timedelta(minutes=1)) -> None:
        """Move the clock to ``when`` in steps, running the engine at each one."""
        await self.step()
        while self.clock.now() < when:
            self.clock.set(min(self.clock.now() + step, when))
            await self.step()

    async def run_for(self, span: timedelta, *, step: timedelta = timedelta(minutes=1)) -> None:
        """Run the engine for ``span`` of simulated time."""
        await self.run_until(self.clock.now() + span, step=step)

    async def deliveries(self, user_id: int) -> list[ReminderDelivery]:
        """The user's delivery rows, oldest slot first."""
        async with self.bot.services.sessionmaker() as session:
            rows = await session.scalars(
                select(ReminderDelivery)
                .where(ReminderDelivery.user_id == user_id)
                .order_by(ReminderDelivery.scheduled_at, ReminderDelivery.id)
            )
            return list(rows)
