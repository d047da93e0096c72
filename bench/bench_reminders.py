"""How fast the reminder engine plans and delivers, on SQLite or PostgreSQL.

Run: ``uv run python bench/bench_reminders.py [--users 5000] [--database URL]
[--dispatchers 1]``. Without ``--database`` a temporary SQLite file is used; for
PostgreSQL pass a URL to an empty database you can throw away (it is migrated, filled and
left as it is). The script stores ``--users`` users with one to three reminder kinds,
then times, on a manual clock:

1. *planning*: pure ``next_due`` calls (what a settings change costs);
2. *materialise*: one pass that creates every delivery due in the next hour;
3. *deliver*: one reminder per user, all due at once, drained by ``--dispatchers``
   dispatchers through the real sender to the fake Bot API on loopback (rate limits
   lifted, so this is the engine's ceiling in one process, not Telegram's 25/s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.clock import ManualClock  # noqa: E402
from bot.db.engine import create_engine, create_sessionmaker  # noqa: E402
from bot.db.migrate import upgrade_to_head  # noqa: E402
from bot.db.reminder_models import ReminderDelivery  # noqa: E402
from fakebot import FakeBotApi  # noqa: E402
from scheduler.dispatcher import DispatchConfig, Dispatcher  # noqa: E402
from scheduler.materialise import MaterialiseConfig, materialise_due  # noqa: E402
from scheduler.planning import next_due  # noqa: E402
from scheduler.rate_limit import RateLimiter, RateLimits  # noqa: E402
from scheduler.store import ReminderStore  # noqa: E402
from scheduler.telegram_sender import TelegramSender  # noqa: E402
from tests.reminders.fleet import fake_bot, make_fleet, open_chats, store_fleet  # noqa: E402
from tests.reminders.support import render_for_tests  # noqa: E402

START = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
UNLIMITED = RateLimits(overall_max=100_000, per_chat_max=100)


async def run(users: int, database_url: str, dispatchers: int) -> None:
    """Fill, materialise, deliver; print timings."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    sessionmaker = create_sessionmaker(engine)
    fleet = make_fleet(users, seed=1)
    clock = ManualClock(START)

    began = time.perf_counter()
    rules = [(rule, user.prefs) for user in fleet for rule in user.rules]
    for rule, prefs in rules:
        next_due(rule, prefs, START)
    planning = time.perf_counter() - began
    print(f"planning: {len(rules)} next_due calls, {planning / len(rules) * 1e6:.0f} µs each")

    await store_fleet(sessionmaker, fleet, now=START)
    clock.set(START + timedelta(minutes=1))
    began = time.perf_counter()
    report = await materialise_due(
        sessionmaker,
        clock,
        default_zone=ZoneInfo("UTC"),
        config=MaterialiseConfig(lookahead=timedelta(hours=1)),
    )
    elapsed = time.perf_counter() - began
    print(
        f"materialise: {report.created} deliveries from {report.rules} rules in "
        f"{elapsed:.2f} s ({report.rules / elapsed:.0f} rules/s)"
    )

    # Deliver: one hydration reminder per user, all due now (every user has hydration on).
    due = clock.now()
    async with sessionmaker.begin() as session:
        await session.execute(delete(ReminderDelivery))
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
                    "updated_at": due,
                }
                for user in fleet
            ],
        )
    async with FakeBotApi("100:bench") as api:
        open_chats(api, [user.user_id for user in fleet])
        bots = [fake_bot(api) for _ in range(dispatchers)]
        clients = [await bot.__aenter__() for bot in bots]
        workers = [
            Dispatcher(
                sessionmaker=sessionmaker,
                clock=clock,
                sender=TelegramSender(client, RateLimiter(clock, UNLIMITED)),
                renderer=render_for_tests,
                default_zone=ZoneInfo("UTC"),
                owner=f"bench-{index}",
                config=DispatchConfig(claim_batch=200, max_in_flight=200),
            )
            for index, client in enumerate(clients)
        ]
        began = time.perf_counter()
        await asyncio.gather(*(worker.drain() for worker in workers))
        elapsed = time.perf_counter() - began
        for bot in bots:
            await bot.__aexit__(None, None, None)
    sent = sum(worker.report.sent for worker in workers)
    expired = sum(sum(worker.report.expired.values()) for worker in workers)
    async with sessionmaker() as session:
        counts = await ReminderStore(session).counts()
    await engine.dispose()
    print(
        f"deliver: {sent} sent and {expired} expired by {dispatchers} dispatcher(s) in "
        f"{elapsed:.2f} s ({sent / elapsed:.0f} messages/s over loopback HTTP); rows {counts}"
    )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--database", help="SQLAlchemy async URL of a scratch database")
    parser.add_argument("--dispatchers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.sqlite3'}"
        print(f"{args.users} users on {url.split('://')[0]}")
        asyncio.run(run(args.users, url, args.dispatchers))


if __name__ == "__main__":
    main()
