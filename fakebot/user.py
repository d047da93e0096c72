"""Acting as a Telegram user against :class:`fakebot.server.FakeBotApi`.

Every action (``send``, ``tap``, ``send_document``...) queues an update and then (unless
``wait=False``: fire and forget) waits
until the bot has finished reacting to it:

1. the bot fetched the update with ``getUpdates``;
2. (unless ``expect_reply=False``) the bot made at least one call about this chat
   after fetching it (a message, an edit, a chat action, the callback answer);
3. if the bot reports finished updates (:class:`fakebot.ptb.ReportingUpdateProcessor`),
   it reported this one;
4. then nothing happened for ``api.quiet_period`` seconds: no call about this chat and
   no call about no chat in particular (``getFile``, a file download) is in flight or
   finished within the period. After a 429 answer the period is extended by its
   ``retry_after``, so a bot that retries is waited for.

If a stage does not complete within ``timeout`` (default ``api.reply_timeout``),
:class:`BotTimeoutError` is raised, saying which stage and what the bot did last.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fakebot.models import (
    ApiCall,
    BotTimeoutError,
    CallbackAnswer,
    ChatMessage,
    JSONDict,
    NoSuchButtonError,
    SentFile,
)

if TYPE_CHECKING:
    from fakebot.server import Chat, FakeBotApi

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")

MessageRef = ChatMessage | int | None


@dataclass(frozen=True, slots=True)
class _Wait:
    expect_reply: bool
    wait: bool
    timeout: float | None


class FakeUser:
    """One Telegram user in a private chat with the bot (chat id = user id)."""

    def __init__(self, api: FakeBotApi, user_id: int) -> None:
        self._api = api
        self.user_id = user_id

    def __repr__(self) -> str:
        return f"FakeUser(user_id={self.user_id}, first_name={self.first_name!r})"

    # ----------------------------------------------------------------- identity

    @property
    def _chat(self) -> Chat:
        return self._api.chat(self.user_id)

    @property
    def chat_id(self) -> int:
        """Return the private chat id (equal to the user id)."""
        return self.user_id

    @property
    def first_name(self) -> str:
        """Return the user's first name."""
        return str(self._chat.user["first_name"])

    @property
    def language_code(self) -> str | None:
        """Return the user's Telegram language (what ``from.language_code`` says)."""
        value = self._chat.user.get("language_code")
        return None if value is None else str(value)

    @property
    def bot_name(self) -> str:
        """Return the bot's display name (its first name)."""
        return self._api.bot_first_name

    @property
    def server_closed(self) -> bool:
        """Whether the fake server is shutting down (no more messages will come)."""
        return self._api.closing

    # ----------------------------------------------------------------- actions

    async def send(
        self,
        text: str,
        *,
        reply_to: MessageRef = None,
        expect_reply: bool = True,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Send a text message and return the bot messages it sent or edited in reaction.

        A leading ``/command`` gets a ``bot_command`` entity, as in Telegram. ``reply_to``
        (a message or its id) makes it a reply, carrying ``reply_to_message``.
        """
        chat = self._chat
        entities: list[JSONDict] = []
        command = _COMMAND_RE.match(text)
        if command is not None:
            entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
        reply_id = reply_to.message_id if isinstance(reply_to, ChatMessage) else reply_to
        message = self._new_message(
            chat, raw_text=text, text=text, entities=entities, reply_to_message_id=reply_id
        )
        before = self._snapshot()
        update_id = self._api.add_user_message(chat, message)
        return await self._react(
            update_id, before, f"the message {text!r}", _Wait(expect_reply, wait, timeout)
        )

    async def tap(
        self,
        label: str,
        *,
        message: MessageRef = None,
        expect_reply: bool = True,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Tap the inline button labelled exactly ``label``.

        The button is looked up in ``message`` (a message or its id), by default the
        newest bot message with an inline keyboard.
        """
        target = self._keyboard_message(message)
        buttons = [b for row in target.inline_keyboard for b in row]
        button = next((b for b in buttons if b.text == label), None)
        if button is None:
            msg = (
                f"no button {label!r} in message {target.message_id} "
                f"({_preview(target.text)}); buttons: {[b.text for b in buttons]}"
            )
            raise NoSuchButtonError(msg)
        if button.callback_data is None:
            msg = f"button {label!r} is not a callback button: {button.raw}"
            raise NoSuchButtonError(msg)
        return await self._tap(
            target, button.callback_data, label, _Wait(expect_reply, wait, timeout)
        )

    async def tap_data(
        self,
        data: str,
        *,
        message: MessageRef = None,
        expect_reply: bool = True,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Send a callback query with arbitrary (e.g. forged or stale) ``data``.

        ``message`` defaults to the newest bot message with an inline keyboard (or the
        newest bot message if none has one).
        """
        if message is None and self.keyboard_message is None:
            target = self.last_message
        else:
            target = self._keyboard_message(message)
        return await self._tap(target, data, f"data {data!r}", _Wait(expect_reply, wait, timeout))

    async def send_document(
        self,
        file_name: str,
        data: bytes,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        expect_reply: bool = True,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Send a file; the bot can fetch it with ``getFile`` and download it."""
        chat = self._chat
        stored = self._api.store_file(
            data, kind="document", file_name=file_name, mime_type=mime_type
        )
        message = self._new_message(
            chat, kind="document", raw_text=caption, text=caption or "", file=stored
        )
        before = self._snapshot()
        update_id = self._api.add_user_message(chat, message)
        return await self._react(
            update_id, before, f"the document {file_name!r}", _Wait(expect_reply, wait, timeout)
        )

    async def send_location(
        self,
        latitude: float,
        longitude: float,
        *,
        expect_reply: bool = True,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Share a location."""
        chat = self._chat
        message = self._new_message(chat, kind="location", location=(latitude, longitude))
        before = self._snapshot()
        update_id = self._api.add_user_message(chat, message)
        return await self._react(
            update_id,
            before,
            f"the location {latitude},{longitude}",
            _Wait(expect_reply, wait, timeout),
        )

    async def wait_for(
        self,
        predicate: Callable[[ChatMessage], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        after: MessageRef = None,
    ) -> ChatMessage:
        """Wait for a bot message (e.g. a reminder) matching ``predicate`` and return it.

        Messages already in the chat count, unless ``after`` (a message or message id)
        restricts the search to newer ones. The newest match is returned.
        """
        api = self._api
        limit = api.reply_timeout if timeout is None else timeout
        after_id = after.message_id if isinstance(after, ChatMessage) else after
        deadline = _now() + limit
        while True:
            for candidate in reversed(self.messages):
                newer = after_id is None or candidate.message_id > after_id
                if newer and predicate(candidate):
                    return candidate
            remaining = deadline - _now()
            if remaining <= 0 or api.closing:
                msg = (
                    f"no bot message to {self.first_name} matched within {limit}s; "
                    f"last messages: {[_preview(m.text) for m in self.messages[-3:]]}"
                )
                raise BotTimeoutError(msg)
            await api.wait_for_change(remaining)

    async def next_change(self, revision: int, *, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until the chat's :attr:`revision` differs from ``revision``; return it.

        Returns the current revision after ``timeout`` (None: wait until the server stops).
        """
        api = self._api
        deadline = None if timeout is None else _now() + timeout
        while self.revision == revision and not api.closing:
            remaining = 3600.0 if deadline is None else deadline - _now()
            if remaining <= 0:
                break
            await api.wait_for_change(remaining)
        return self.revision

    # ----------------------------------------------------------------- what the user sees

    @property
    def revision(self) -> int:
        """Return a counter that grows whenever a bot message appears, changes or goes."""
        return self._chat.revision

    @property
    def messages(self) -> list[ChatMessage]:
        """Return the bot's messages in this chat, as they look now (edits applied)."""
        return self._api.messages(self.user_id)

    @property
    def history(self) -> list[ChatMessage]:
        """Return every message in the chat (the user's and the bot's), oldest first."""
        return list(self._chat.messages)

    @property
    def last_message(self) -> ChatMessage:
        """Return the newest bot message (raises if the bot has sent none)."""
        messages = self.messages
        if not messages:
            msg = f"the bot has sent no message to {self.first_name} ({self.user_id})"
            raise BotTimeoutError(msg)
        return messages[-1]

    @property
    def last_text(self) -> str:
        """Return the newest bot message as a person reads it (HTML removed)."""
        return self.last_message.text

    @property
    def last_html(self) -> str:
        """Return the newest bot message exactly as sent (with HTML tags)."""
        return self.last_message.html

    @property
    def texts(self) -> list[str]:
        """Return every bot message as a person reads it, oldest first."""
        return [m.text for m in self.messages]

    @property
    def keyboard_message(self) -> ChatMessage | None:
        """Return the newest bot message that has an inline keyboard."""
        return next((m for m in reversed(self.messages) if m.inline_keyboard), None)

    @property
    def buttons(self) -> list[list[str]]:
        """Return the labels of the newest inline keyboard, row by row (``[]`` if none)."""
        message = self.keyboard_message
        return [] if message is None else message.buttons

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Return the reply (custom) keyboard currently shown under the input field."""
        for message in reversed(self.messages):
            markup = message.reply_markup or {}
            if "keyboard" in markup:
                return message.reply_keyboard
            if "remove_keyboard" in markup:
                return []
        return []

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Return the bot's answers to this user's taps, oldest first."""
        return list(self._chat.callback_answers)

    @property
    def documents(self) -> list[SentFile]:
        """Return the documents the bot sent (with their bytes), oldest first."""
        return self._files("document")

    @property
    def photos(self) -> list[SentFile]:
        """Return the photos the bot sent (with their bytes), oldest first."""
        return self._files("photo")

    @property
    def commands(self) -> list[str]:
        """Return the command names this user sees in the bot's menu."""
        return self._api.commands_for(self.user_id)

    @property
    def calls(self) -> list[ApiCall]:
        """Return the bot's API calls about this chat."""
        return self._api.calls_about(self.user_id)

    # ----------------------------------------------------------------- internals

    def _files(self, kind: str) -> list[SentFile]:
        return [
            SentFile(
                kind=kind,
                message_id=m.message_id,
                data=m.file.data,
                file_name=m.file.file_name,
                mime_type=m.file.mime_type,
                caption=m.text,
            )
            for m in self.messages
            if m.kind == kind and m.file is not None
        ]

    def _new_message(self, chat: Chat, **fields: object) -> ChatMessage:
        return ChatMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.chat_id,
            from_bot=False,
            date=int(self._api.clock()),
            **fields,  # type: ignore[arg-type]
        )

    def _keyboard_message(self, message: MessageRef) -> ChatMessage:
        if isinstance(message, ChatMessage):
            message = message.message_id
        if message is None:
            found = self.keyboard_message
            if found is None:
                texts = [_preview(m.text) for m in self.messages[-3:]]
                msg = f"no bot message to {self.first_name} has an inline keyboard; last: {texts}"
                raise NoSuchButtonError(msg)
            return found
        current = self._chat.find(message)
        if current is None or not current.from_bot:
            msg = f"message {message} is not a bot message in chat {self.user_id}"
            raise NoSuchButtonError(msg)
        return current

    async def _tap(
        self,
        message: ChatMessage,
        data: str,
        what: str,
        options: _Wait,
    ) -> list[ChatMessage]:
        before = self._snapshot()
        _, update_id = self._api.add_callback_query(self._chat, message, data)
        return await self._react(update_id, before, f"the tap on {what}", options)

    def _snapshot(self) -> dict[int, int]:
        return {m.message_id: m.edits for m in self.messages}

    async def _react(
        self,
        update_id: int,
        before: dict[int, int],
        what: str,
        options: _Wait,
    ) -> list[ChatMessage]:
        if not options.wait:
            return []
        api = self._api
        limit = api.reply_timeout if options.timeout is None else options.timeout
        deadline = _now() + limit
        state = api.update_state(update_id)
        while state.fetched_seq is None:
            if state.dropped is not None:
                msg = f"{what} from {self.first_name} never reached the bot: {state.dropped}"
                raise BotTimeoutError(msg)
            self._check_deadline(
                deadline,
                f"the bot did not fetch {what} (update {update_id}) within {limit}s; "
                f"is it polling getUpdates at {api.base_url}?",
            )
            await api.wait_for_change(deadline - _now())
        first = state.fetched_seq
        while api.reports_processing and state.processed_at is None:
            self._check_deadline(
                deadline, f"the bot fetched {what} but did not finish handling it within {limit}s"
            )
            await api.wait_for_change(deadline - _now())
        if options.expect_reply:
            while not api.calls_about(self.user_id, since=first):
                self._check_deadline(
                    deadline,
                    f"the bot fetched {what} but made no call about chat {self.user_id} "
                    f"within {limit}s (no handler matched, or it raised: see the log; "
                    "pass expect_reply=False if silence is right)",
                )
                await api.wait_for_change(deadline - _now())
        while True:
            related = sorted(
                api.calls_about(self.user_id, since=first) + api.calls_about(None, since=first),
                key=lambda c: c.seq,
            )
            busy = any(c.finished_at is None for c in related)
            last = max(
                [c.finished_at or c.at for c in related]
                + [t for t in (state.fetched_at, state.processed_at) if t is not None]
            )
            extra = (related[-1].retry_after or 0) if related else 0
            quiet_until = last + api.quiet_period + extra
            now = _now()
            if not busy and now >= quiet_until:
                break
            self._check_deadline(deadline, f"the bot was still busy with {what} after {limit}s")
            wake = deadline if busy else min(deadline, quiet_until)
            await api.wait_for_change(wake - now)
        return [m for m in self.messages if before.get(m.message_id, -1) != m.edits]

    def _check_deadline(self, deadline: float, problem: str) -> None:
        if _now() < deadline and not self._api.closing:
            return
        recent = [
            f"{c.method}->{c.status}{': ' + c.description if c.description else ''}"
            for c in self.calls[-5:]
        ]
        msg = f"{problem}. Recent calls about this chat: {recent or 'none'}"
        raise BotTimeoutError(msg)


def _preview(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _now() -> float:
    return asyncio.get_running_loop().time()
