"""Two bot processes on one PostgreSQL database: a publish on one is served by the other.

Two `running_bot` contexts in one test stand for two processes: each has its own
engine, Application, LiveContent and content sync job, and its own fake Bot API (as two
replicas behind one Telegram would each talk to it). Only the second process
dispatches reminders here, so the reminder the user gets is rendered by that process
from the content it serves.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.admin.checking import CheckCache
from bot.clock import ManualClock
from bot.runner import running_bot
from fakebot import FakeBotApi
from fakebot.ptb import ReportingUpdateProcessor
from scheduler.jobs import DISPATCH_JOB
from tests.admin.support import (
    NEW_POSTURE,
    NEW_POSTURE_START,
    OLD_POSTURE_START,
    OWNER,
    POSTURE_KEY,
    next_posture_reminder,
    turn_on_posture,
)
from tests.conftest import TEST_TOKEN, settings_for

logger = logging.getLogger(__name__)

SWITCH_LIMIT = 5.0


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_publish_on_one_process_is_served_by_the_other_within_5_s(
    database_url: str, fake_api: FakeBotApi, clock: ManualClock, check_cache: CheckCache
) -> None:
    loop = asyncio.get_running_loop()
    async with (
        FakeBotApi(TEST_TOKEN) as other_api,
        running_bot(
            settings_for(fake_api, database_url),
            clock=clock,
            check_cache=check_cache,
            update_processor=ReportingUpdateProcessor(fake_api),
        ) as first,
        running_bot(
            settings_for(other_api, database_url),
            clock=clock,
            check_cache=check_cache,
            update_processor=ReportingUpdateProcessor(other_api),
        ) as second,
    ):
        assert first.job_queue is not None
        for job in first.job_queue.get_jobs_by_name(DISPATCH_JOB):
            job.enabled = False
        user = other_api.user(user_id=1001, first_name="Ada", language_code="en")
        await turn_on_posture(user)
        first_reminder = await next_posture_reminder(second, user, clock)
        assert first_reminder.text.startswith(OLD_POSTURE_START)

        switched: dict[str, float] = {}

        async def watch() -> None:
            while len(switched) < 2:
                for name, app in (("first", first), ("second", second)):
                    if name not in switched and app.services.content.current.label == "v2":
                        switched[name] = loop.time()
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        owner = fake_api.user(user_id=OWNER, first_name="Olivia", language_code="en")
        await owner.send("/start")
        await owner.send(f"/admin_edit {POSTURE_KEY} en")
        await owner.send(NEW_POSTURE, reply_to=owner.last_message)
        await owner.send("/admin_publish")
        await owner.wait_for(lambda m: "Published as v2" in m.text, timeout=240)
        await asyncio.wait_for(watcher, timeout=SWITCH_LIMIT + 1)
        latency = switched["second"] - switched["first"]
        logger.info("the second process served v2 %.3f s after the first", latency)
        assert 0 <= latency < SWITCH_LIMIT
        reminder = await next_posture_reminder(second, user, clock)
        assert reminder.text.startswith(NEW_POSTURE_START)
