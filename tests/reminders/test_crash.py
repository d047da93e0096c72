"""`kill -9` the real bot process at random moments while 5,000 reminders are due.

The bot runs as `python -m bot.cli run` against a fake Telegram in this process (over
loopback HTTP). It is killed several times mid-delivery and restarted each time; at the
end every reminder must have reached its chat, and any chat that got one twice must have
been mid-send at a kill (its delivery was claimed and marked in flight when the process
died): the duplicate window the README describes, counted and printed here. One SIGTERM
mid-delivery checks the graceful stop: it exits 0 within seconds and leaves no lease.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time as wallclock
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.reminder_models import DeliveryStatus, ReminderDelivery
from fakebot import FakeBotApi
from scheduler.planning import ActiveHours, FixedTimes, ReminderKind
from scheduler.planning import ReminderRule as PlannedRule
from scheduler.store import IN_FLIGHT, ReminderStore
from tests.conftest import FIGURES
from tests.reminders.fleet import FleetUser, open_chats, store_fleet

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "777000:crash-test"
DUE = 5000
KILLS = 4
SEND_RATE = 250  # messages/s for this test: 5,000 at Telegram's 25/s would take 200 s
LEASE_SECONDS = 8


def bot_environment(api: FakeBotApi, database_url: str) -> dict[str, str]:
    """The process environment of `legcare run` against the fake API."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "DATABASE_", "ADMIN_", "LOG_", "REMINDER_"))
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        REMINDER_SEND_RATE=str(SEND_RATE),
        REMINDER_LEASE_SECONDS=str(LEASE_SECONDS),
        PYTHONPATH=str(ROOT),
    )
    return environment


def accepted_sends(api: FakeBotApi) -> int:
    return sum(1 for call in api.calls_to("sendMessage") if call.ok)


async def start_bot(
    api: FakeBotApi, database_url: str, log: Path, cwd: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=cwd,
            env=bot_environment(api, database_url),
            stdout=stderr,
            stderr=stderr,
        )


async def wait_for_sends(api: FakeBotApi, process: asyncio.subprocess.Process, count: int) -> None:
    """Until the fake API accepted ``count`` messages in all (or the process ended)."""
    async with asyncio.timeout(120):
        while accepted_sends(api) < count and process.returncode is None:
            await api.wait_for_change(0.5)


async def test_kill_9_mid_delivery_loses_nothing_and_duplicates_only_in_flight_sends(
    database_url: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    rng = random.Random(4)  # noqa: S311 - reproducible kill moments
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    now = datetime.now(UTC)
    all_day = ActiveHours(time(0), time(0))
    hydration = PlannedRule(ReminderKind.HYDRATION, FixedTimes((time(0),)))
    fleet = [FleetUser(100_000 + n, "UTC", all_day, (hydration,)) for n in range(DUE)]
    await store_fleet(sessionmaker, fleet, now=now)
    due = now - timedelta(seconds=5)
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(ReminderDelivery),
            [
                {
                    "user_id": user.user_id,
                    "kind": "hydration",
                    "scheduled_at": due,
                    "status": "pending",
                    "available_at": due,
                    "attempts": 0,
                    "sends": 0,
                    "updated_at": now,
                }
                for user in fleet
            ],
        )
    log = tmp_path / "bot.log"
    in_flight_at_kills: set[int] = set()
    killed_at: list[int] = []
    started = wallclock.perf_counter()
    async with FakeBotApi(TOKEN) as api:
        open_chats(api, [user.user_id for user in fleet])
        for _ in range(KILLS):
            process = await start_bot(api, database_url, log, tmp_path)
            target = accepted_sends(api) + rng.randrange(200, DUE // (KILLS + 1))
            await wait_for_sends(api, process, target)
            assert process.returncode is None, log.read_text()
            process.send_signal(signal.SIGKILL)
            await process.wait()
            killed_at.append(accepted_sends(api))
            async with sessionmaker() as session:
                claimed = await session.execute(
                    select(ReminderDelivery.user_id).where(
                        ReminderDelivery.status == DeliveryStatus.CLAIMED.value,
                        ReminderDelivery.reason == IN_FLIGHT,
                    )
                )
                in_flight_at_kills.update(claimed.scalars())
        # A graceful stop mid-delivery: stop claiming, finish what is in flight, give back
        # every lease, exit 0 within seconds; it adds no duplicate.
        process = await start_bot(api, database_url, log, tmp_path)
        await wait_for_sends(api, process, accepted_sends(api) + 300)
        sigterm_started = wallclock.perf_counter()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
        sigterm_stop = wallclock.perf_counter() - sigterm_started
        assert process.returncode == 0, log.read_text()[-3000:]
        async with sessionmaker() as session:
            left_claimed = await session.scalar(
                select(func.count()).where(
                    ReminderDelivery.status == DeliveryStatus.CLAIMED.value,
                    ReminderDelivery.lease_owner.like(f"%:{process.pid}:%"),
                )
            )
        assert left_claimed == 0  # (killed processes' leases run out on their own)
        process = await start_bot(api, database_url, log, tmp_path)
        async with asyncio.timeout(180):
            while True:
                async with sessionmaker() as session:
                    counts = await ReminderStore(session).counts()
                if counts.get("sent", 0) == DUE or process.returncode is not None:
                    break
                await asyncio.sleep(0.25)
        stop_started = wallclock.perf_counter()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
        stopped_after = wallclock.perf_counter() - stop_started
        per_chat = Counter(
            int(call.params["chat_id"]) for call in api.calls_to("sendMessage") if call.ok
        )
    await engine.dispose()
    elapsed = wallclock.perf_counter() - started

    logs = log.read_text()
    lost = [user.user_id for user in fleet if per_chat[user.user_id] == 0]
    duplicated = {chat for chat, count in per_chat.items() if count > 1}
    duplicates = sum(count - 1 for count in per_chat.values())
    backend = database_url.split(":", maxsplit=1)[0]
    record_property(
        FIGURES,
        f"[kill -9 x{KILLS}, {backend}] {DUE} due, {sum(per_chat.values())} delivered, "
        f"lost {len(lost)}, duplicates {duplicates} (all among {len(in_flight_at_kills)} "
        f"sends in flight at the kills), killed after {killed_at} sends, "
        f"SIGTERM mid-delivery stop {sigterm_stop:.1f} s (0 leases left), "
        f"SIGTERM when idle {stopped_after:.1f} s, {elapsed:.1f} s",
    )
    assert lost == []
    assert sigterm_stop < 8
    assert duplicated <= in_flight_at_kills, "a duplicate that was not in flight at a kill"
    assert counts == {"sent": DUE}, logs[-3000:]
    assert process.returncode == 0, logs[-3000:]
    assert "Traceback" not in logs
