"""What the fake Bot API remembers: calls, files, chat messages and callback answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from content.telegram_html import HtmlEntity

JSONDict = dict[str, Any]


class BotTimeoutError(AssertionError):
    """The bot did not fetch an update, react to it, or send a message in time."""


class NoSuchButtonError(LookupError):
    """A tap named a button that the message does not have."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request (``InputFile`` on the PTB side)."""

    field: str
    file_name: str
    mime_type: str
    data: bytes


@dataclass(slots=True)
class ApiCall:
    """One HTTP request the bot made: method, decoded parameters, timing and outcome.

    ``at``/``finished_at`` are event-loop times (monotonic seconds). ``params`` holds
    JSON-decoded values (``reply_markup`` is a dict, ``chat_id`` an int) and
    :class:`Upload` objects for file parts. ``chat_id`` is the private chat the call is
    about (from ``chat_id``, a command ``scope`` or the callback query it answers).
    """

    seq: int
    method: str
    params: JSONDict
    at: float
    chat_id: int | None = None
    finished_at: float | None = None
    status: int | None = None
    description: str | None = None
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        """Whether Telegram answered ``ok: true``."""
        return self.status == 200


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the server holds (sent by the bot or by a user), served at ``file_path``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None

    def to_api(self) -> JSONDict:
        """Return the ``File`` object of ``getFile``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's ``answerCallbackQuery`` for one tap."""

    query_id: str
    data: str | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True, slots=True)
class SentFile:
    """A photo or document the bot sent, with its bytes."""

    kind: str
    message_id: int
    data: bytes
    file_name: str | None
    mime_type: str | None
    caption: str


@dataclass(slots=True)
class ChatMessage:
    """A message in a private chat, in its current state (edits applied).

    ``text`` is what a person reads (tags removed, entities decoded; the caption for
    media); ``raw_text`` is exactly what was sent, e.g. with HTML tags.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    kind: str = "text"
    raw_text: str | None = None
    parse_mode: str | None = None
    text: str = ""
    entities: tuple[HtmlEntity, ...] | list[JSONDict] = ()
    reply_markup: JSONDict | None = None
    file: StoredFile | None = None
    location: tuple[float, float] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edits: int = 0

    @property
    def html(self) -> str:
        """Return the text as sent (with tags if it was sent with ``parse_mode=HTML``)."""
        return self.raw_text or ""

    @property
    def inline_keyboard(self) -> list[list[Button]]:
        """Return the inline keyboard rows (empty without one)."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [
            [
                Button(
                    text=str(b.get("text", "")),
                    callback_data=b.get("callback_data"),
                    url=b.get("url"),
                    raw=b,
                )
                for b in row
            ]
            for row in rows
        ]

    @property
    def buttons(self) -> list[list[str]]:
        """Return the inline button labels, row by row."""
        return [[b.text for b in row] for row in self.inline_keyboard]

    @property
    def button_labels(self) -> list[str]:
        """Return the inline button labels, flattened in reading order."""
        return [label for row in self.buttons for label in row]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Return the labels of a reply (custom) keyboard attached to this message."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("keyboard") or []
        return [[b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows]

    def entities_api(self) -> list[JSONDict]:
        """Return the entities in Bot API JSON form."""
        return [e.to_dict() if isinstance(e, HtmlEntity) else e for e in self.entities]
