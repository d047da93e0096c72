"""Chatting with the bot in a terminal, and running the fake server standalone."""

from __future__ import annotations

import asyncio
import sys

import pexpect
import pytest
from telegram import Bot

from fakebot import FakeBotApi, chat_in_terminal
from fakebot.ptb import loopback_request, polling
from fakebot.sample_bot import build_sample_application


class Screen:
    """A terminal that remembers its output and can wait for text, like pexpect."""

    def __init__(self) -> None:
        self.output = ""
        self._seen = 0
        self._changed = asyncio.Event()

    def write(self, text: str) -> None:
        self.output += text
        self._changed.set()

    async def expect(self, needle: str, timeout: float = 3.0) -> None:  # noqa: ASYNC109
        """Wait until ``needle`` appears after the last match, and move past it."""
        async with asyncio.timeout(timeout):
            while (found := self.output.find(needle, self._seen)) < 0:
                self._changed.clear()
                await self._changed.wait()
        self._seen = found + len(needle)


async def test_a_terminal_conversation(api: FakeBotApi) -> None:
    application = build_sample_application(api)
    async with polling(application):
        screen = Screen()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        ada = api.user(first_name="Ada")
        chat = asyncio.create_task(chat_in_terminal(ada, read_line=lines.get, write=screen.write))
        await screen.expect("> ")
        await lines.put("/start")
        await screen.expect("LegCare: Hello Ada!\n")
        await screen.expect("  [1] Symptom check\n  [2] Reminders\n  [3] About\n> ")
        await lines.put("1")
        await screen.expect("LegCare (edited): Where is the pain?\n  [1] Calf\n  [2] Thigh\n")
        await lines.put("2")
        await screen.expect("LegCare (edited): Noted: thigh\n")
        await lines.put("7")
        await screen.expect("There is no choice 7.\n")
        await lines.put("my calf hurts")
        await screen.expect("LegCare: You said: my calf hurts\n> ")

        await application.bot.send_message(ada.chat_id, "Time for your <b>stretches</b>")
        await screen.expect("\nLegCare: Time for your stretches\n> ")
        await application.bot.send_document(ada.chat_id, b"a,b\n", filename="diary.csv")
        await screen.expect("LegCare sent a document: diary.csv (4 bytes)\n")

        await lines.put("/quit")
        async with asyncio.timeout(3):
            await chat
    assert "<b>" not in screen.output


async def test_callback_notices_and_end_of_input(api: FakeBotApi) -> None:
    application = build_sample_application(api)
    async with polling(application):
        screen = Screen()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        ada = api.user()
        chat = asyncio.create_task(chat_in_terminal(ada, read_line=lines.get, write=screen.write))
        await lines.put("/start")
        await screen.expect("[3] About")
        await lines.put("3")
        await screen.expect("(no answer: button 'About' is not a callback button")
        await ada.tap_data("stale:1")
        await screen.expect("LegCare (notice): This menu has expired\n")
        await lines.put(None)
        async with asyncio.timeout(3):
            await chat


async def test_a_silent_bot_does_not_hang_the_terminal(api: FakeBotApi) -> None:
    application = build_sample_application(api)
    api.reply_timeout = 0.3
    async with polling(application):
        screen = Screen()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        chat = asyncio.create_task(
            chat_in_terminal(api.user(), read_line=lines.get, write=screen.write)
        )
        await lines.put("/silent")
        await screen.expect("(no answer: the bot fetched the message '/silent'")
        await lines.put("/quit")
        async with asyncio.timeout(3):
            await chat


@pytest.mark.slow
async def test_standalone_server_prints_its_base_url() -> None:
    token = "42:STANDALONE"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fakebot",
        "--port",
        "0",
        "--token",
        token,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            base_url = (await process.stdout.readline()).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/bot")
        file_url = base_url.removesuffix("/bot") + "/file/bot"
        bot = Bot(
            token,
            base_url=base_url,
            base_file_url=file_url,
            request=loopback_request(),
            get_updates_request=loopback_request(),
        )
        async with bot:
            assert bot.id == 42
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            assert await process.wait() == 0


@pytest.mark.slow
def test_the_terminal_chat_can_be_driven_with_pexpect() -> None:
    child = pexpect.spawn(
        sys.executable, ["-m", "fakebot.sample_bot"], encoding="utf-8", timeout=20
    )
    try:
        child.expect_exact("> ")
        child.sendline("/start")
        child.expect_exact("LegCare: Hello Ada!")
        child.expect_exact("[1] Symptom check")
        child.expect_exact("> ")
        child.sendline("1")
        child.expect_exact("LegCare (edited): Where is the pain?")
        child.expect_exact("[2] Thigh")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
