"""One process per SQLite database: the second one is refused with one clear line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from fakebot import FakeBotApi
from scheduler import guard
from tests.reminders.test_crash import bot_environment

TOKEN = "777000:crash-test"


def test_a_second_lock_on_the_same_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    first = guard.acquire(url)
    assert first is not None
    with pytest.raises(guard.DatabaseInUseError, match=r"already running on .*bot\.sqlite3"):
        guard.acquire(url)
    first.release()
    again = guard.acquire(url)
    assert again is not None
    again.release()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@localhost/legcare",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
    ],
)
def test_only_file_backed_sqlite_needs_the_lock(url: str) -> None:
    assert guard.lock_path_for(url) is None


async def test_a_second_bot_process_on_one_sqlite_file_stops_with_one_line(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    async with FakeBotApi(TOKEN) as api:
        first = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=bot_environment(api, url),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with asyncio.timeout(30):
                while not api.calls_to("getUpdates"):
                    await api.wait_for_change(0.5)
            second = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=tmp_path,
                env=bot_environment(api, url),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            first.terminate()
            await first.wait()
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 2
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("legcare: another LegCare process is already running on ")
    assert "use PostgreSQL to run several" in lines[0]
    assert first.returncode == 0
