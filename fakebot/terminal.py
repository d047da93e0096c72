"""Chatting with the bot from a terminal, as a :class:`FakeUser`.

Output is line-based so it is easy to drive with pexpect::

    LegCare: Hello Ada! What would you like to do?
      [1] Symptom check
      [2] Reminders
    > 1
    LegCare (edited): Where is the pain?
      [1] Calf
      ...

* every bot message is shown once as plain text (HTML removed), prefixed with the bot's
  name; an edited message is shown again with ``(edited)``; a deleted one is not shown;
* inline buttons of the message just shown are numbered ``[1]``, ``[2]``... (row by
  row); typing a number taps that button of the latest numbered keyboard;
* a callback answer with text is shown as ``LegCare (notice): ...``; files as
  ``LegCare sent a document: name (N bytes)``;
* ``/quit`` or end of input ends the chat; anything else is sent as a message;
* the prompt is ``> ``; messages the bot sends by itself (reminders) are shown as they
  arrive, followed by a new prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

from fakebot.models import BotTimeoutError, ChatMessage, NoSuchButtonError
from fakebot.user import FakeUser

PROMPT = "> "
QUIT = "/quit"


class _View:
    """What has been shown so far, and which button each number means."""

    def __init__(self, user: FakeUser, write: Callable[[str], None]) -> None:
        self.user = user
        self.write = write
        self.shown: dict[int, int] = {}
        self.answers_shown = 0
        self.choices: list[tuple[int, str]] = []
        self.revision = -1
        self.prompt_open = False

    def render(self) -> None:
        """Write every new or edited bot message and new callback notice."""
        self.revision = self.user.revision
        lines: list[str] = []
        name = self.user.bot_name
        for message in self.user.messages:
            seen = self.shown.get(message.message_id)
            if seen == message.edits:
                continue
            self.shown[message.message_id] = message.edits
            lines.extend(self._message_lines(name, message, edited=seen is not None))
        answers = self.user.callback_answers
        for answer in answers[self.answers_shown :]:
            if answer.text:
                kind = "alert" if answer.show_alert else "notice"
                lines.append(f"{name} ({kind}): {answer.text}")
        self.answers_shown = len(answers)
        if not lines:
            return
        if self.prompt_open:
            lines.insert(0, "")
        self.write("\n".join(lines) + "\n")
        if self.prompt_open:
            self.write(PROMPT)

    def _message_lines(self, name: str, message: ChatMessage, *, edited: bool) -> list[str]:
        label = f"{name} (edited)" if edited else name
        lines: list[str] = []
        if message.file is not None:
            size = len(message.file.data)
            file_name = message.file.file_name or message.file.file_path
            lines.append(f"{label} sent a {message.kind}: {file_name} ({size} bytes)")
            if message.text:
                lines.extend(message.text.splitlines())
        else:
            text_lines = message.text.splitlines() or [""]
            lines.append(f"{label}: {text_lines[0]}")
            lines.extend(text_lines[1:])
        labels = message.button_labels
        if labels:
            self.choices = [(message.message_id, text) for text in labels]
            lines.extend(f"  [{number}] {text}" for number, text in enumerate(labels, 1))
        return lines

    async def act(self, line: str) -> None:
        """Tap a numbered button or send the line as a message."""
        try:
            if line.isdigit():
                number = int(line)
                if not 1 <= number <= len(self.choices):
                    self.write(f"There is no choice {number}.\n")
                    return
                message_id, label = self.choices[number - 1]
                await self.user.tap(label, message=message_id)
            else:
                await self.user.send(line)
        except (BotTimeoutError, NoSuchButtonError) as error:
            self.write(f"(no answer: {error})\n")


async def chat_in_terminal(
    user: FakeUser,
    *,
    read_line: Callable[[], Awaitable[str | None]],
    write: Callable[[str], None],
) -> None:
    """Let a person chat with the bot as ``user`` until ``/quit`` or end of input.

    ``read_line`` returns the next line (None at end of input); ``write`` prints text
    (it is given whole lines, and the prompt). See :func:`read_stdin_line` and
    :func:`write_stdout` for a real terminal.
    """
    view = _View(user, write)
    reading: asyncio.Task[str | None] | None = None
    changed: asyncio.Task[int] | None = None
    try:
        while True:
            view.render()
            if reading is None:
                write(PROMPT)
                view.prompt_open = True
                reading = asyncio.ensure_future(read_line())
            changed = asyncio.ensure_future(user.next_change(view.revision))
            done, _ = await asyncio.wait({reading, changed}, return_when=asyncio.FIRST_COMPLETED)
            if reading not in done:
                if user.server_closed:
                    write("\n(the bot server stopped)\n")
                    return
                continue
            changed.cancel()
            line = reading.result()
            reading = None
            view.prompt_open = False
            if line is None or line.strip() == QUIT:
                return
            if line.strip():
                await view.act(line.strip())
    finally:
        for task in (reading, changed):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def read_stdin_line() -> str | None:
    """Read one line from standard input without blocking the event loop (None at EOF)."""
    line = await asyncio.to_thread(sys.stdin.readline)
    return line.rstrip("\n") if line else None


def write_stdout(text: str) -> None:
    """Write to standard output and flush (so pexpect sees it at once)."""
    sys.stdout.write(text)
    sys.stdout.flush()
