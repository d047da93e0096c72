"""`legcare` as a real process: run, refuse without a token, stop on SIGTERM, demo."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pexpect
import pytest

from fakebot import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:process-test-SECRET-token"
TOKEN_SECRET_PART = TOKEN.split(":")[1]


def _environment(**overrides: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "DATABASE_", "ADMIN_", "LOG_"))
    }
    environment.update(overrides)
    return environment


@asynccontextmanager
async def legcare_run(
    api: FakeBotApi, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=_environment(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=api.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            LOG_LEVEL="DEBUG",
            PYTHONPATH=str(ROOT),
        ),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _wait_until_polling(api: FakeBotApi, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while not api.calls_to("getUpdates"):
        if process.returncode is not None or time.monotonic() > deadline:
            _, stderr = await process.communicate()
            pytest.fail(f"bot did not start polling:\n{stderr.decode()}")
        await asyncio.sleep(0.05)


def test_run_without_a_token_prints_one_line_and_fails(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=_environment(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in lines[0]
    assert "Traceback" not in completed.stderr


async def test_run_answers_start_and_stops_on_sigterm_without_logging_the_token(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(TOKEN) as api, legcare_run(api, tmp_path) as process:
        await _wait_until_polling(api, process)
        user = api.user(user_id=77, first_name="Ada", language_code="en")
        # Another process cannot report finished updates, so wait for what is asserted.
        await user.send("/start")
        await user.wait_for(lambda m: m.buttons[:1] == [["🩺 Symptom check"]])
        await user.tap("ℹ️ About / Help")
        await user.wait_for(lambda m: "About LegCare" in m.text)
        api.fail_next("sendMessage", status=500, description="Internal Server Error")
        await user.send("/menu", expect_reply=False)

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
        stopped_after = time.monotonic() - started

    logs = stderr.decode() + stdout.decode()
    assert process.returncode == 0, logs
    assert stopped_after < 5
    assert "LegCare is stopping" in logs
    assert " DEBUG " in logs, "the run should have produced verbose logs to search"
    assert TOKEN_SECRET_PART not in logs


def test_demo_shows_the_main_menu_and_answers_a_choice(tmp_path: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot.cli", "demo", "--database", str(tmp_path / "demo.sqlite3")],
        cwd=str(tmp_path),
        env=_environment(PYTHONPATH=str(ROOT), PTB_TIMEDELTA="true"),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect_exact("Hello, I'm LegCare")
        child.expect(r"\[4\] ℹ️ About / Help")
        child.expect_exact("> ")
        child.sendline("4")
        child.expect_exact("About LegCare")
        child.expect(r"\[1\] ⬅️ Main menu")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
