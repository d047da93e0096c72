"""`legcare demo`: the real bot against a fake Bot API on loopback, chatted with in a terminal."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.clock import SystemClock
from bot.runner import running_bot
from bot.settings import Settings
from fakebot import FakeBotApi, chat_in_terminal
from fakebot.terminal import read_stdin_line, write_stdout

# Not a secret: the demo talks only to its own fake Bot API on loopback.
DEMO_TOKEN = "100000:LEGCARE-DEMO"  # noqa: S105
DEMO_USER_ID = 424242
DEFAULT_DEMO_DATABASE = Path("legcare-demo.sqlite3")


async def run_demo(settings: Settings, *, database: Path, language: str) -> None:
    """Start a fake Telegram on 127.0.0.1, run the bot on it and chat as one user."""
    async with FakeBotApi(DEMO_TOKEN) as api:
        demo_settings = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(DEMO_TOKEN),
                "telegram_api_base_url": api.base_url,
                "database_url": f"sqlite+aiosqlite:///{database}",
            }
        )
        async with running_bot(demo_settings, clock=SystemClock()):
            write_stdout(
                "LegCare demo: a local fake Telegram, no token, data in "
                f"{database}. Type a number to tap a button, any text to send it, "
                "/quit to leave.\n"
            )
            user = api.user(user_id=DEMO_USER_ID, first_name="Demo", language_code=language)
            await user.send("/start")
            await chat_in_terminal(user, read_line=read_stdin_line, write=write_stdout)
