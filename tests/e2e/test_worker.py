"""`legcare run --worker`: a process that delivers reminders but leaves updates to another.

Telegram lets one client at a time call getUpdates, so several processes on one PostgreSQL
are one that polls and workers that only send. Both share one fake Bot API here, as they
would share Telegram.
"""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.runner import running_bot
from fakebot import FakeBotApi
from fakebot.ptb import ReportingUpdateProcessor
from scheduler.jobs import DISPATCH_JOB
from tests.admin.support import next_posture_reminder, turn_on_posture
from tests.conftest import settings_for


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_worker_sends_reminders_while_the_polling_process_answers_taps(
    database_url: str, fake_api: FakeBotApi, clock: ManualClock
) -> None:
    settings = settings_for(fake_api, database_url)
    async with running_bot(settings, clock=clock, receive_updates=False) as worker:
        assert worker.updater is not None
        assert not worker.updater.running
        assert [c.method for c in fake_api.calls if c.method != "getMe"] == []
        async with running_bot(
            settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
        ) as poller:
            assert poller.job_queue is not None
            for job in poller.job_queue.get_jobs_by_name(DISPATCH_JOB):
                job.enabled = False  # so the reminder below can only come from the worker
            ada = fake_api.user(user_id=1001, first_name="Ada", language_code="en")
            await turn_on_posture(ada)
            reminder = await next_posture_reminder(worker, ada, clock)
            assert "✅ Done" in reminder.button_labels
            await ada.tap("✅ Done", message=reminder)
            assert "✅ Done. Well done!" in ada.last_text
