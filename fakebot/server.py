"""A fake Telegram Bot API server on loopback HTTP, for end-to-end tests of a real bot.

``FakeBotApi`` speaks the Bot API's HTTP protocol (what PTB's ``HTTPXRequest`` sends and
expects back), validates like Telegram does, records every call, keeps each private
chat as the user would see it, and injects faults on demand. Users are driven with
:meth:`FakeBotApi.user` (see :mod:`fakebot.user`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from content.telegram_html import MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH, HtmlEntity, parse_html
from fakebot.control import ControlApi
from fakebot.faults import (
    SENDING_METHODS,
    ApiError,
    Fault,
    RandomErrors,
    RateLimits,
    RateLimitViolation,
    make_fault,
)
from fakebot.models import (
    ApiCall,
    CallbackAnswer,
    ChatMessage,
    JSONDict,
    StoredFile,
    Upload,
)
from fakebot.params import bool_param, int_param, read_params, str_param
from fakebot.user import FakeUser

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN"  # noqa: S105 - the fake server's made-up token

# Calls that are the bot's plumbing, not a reaction to a user.
NOISE_METHODS = frozenset(
    {"getupdates", "getme", "getwebhookinfo", "deletewebhook", "setwebhook", "logout", "close"}
)
# Telegram's default when allowed_updates was never given (or given as []).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_URL_RE = re.compile(r"(https?|tg)://\S+")
_MAX_CALLBACK_DATA = 64
_MAX_COMMANDS = 100
_MAX_UPDATES_PER_CALL = 100
_MAX_UPLOAD = 50 * 1024 * 1024

Handler = Callable[[JSONDict], Awaitable[Any]]
ScopeKey = tuple[str, int | None, int | None]


@dataclass(slots=True)
class Chat:
    """A private chat: the user, every message in it, and what the bot did there."""

    user: JSONDict
    messages: list[ChatMessage] = field(default_factory=list)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    started: bool = False
    blocked: bool = False
    revision: int = 0
    _next_message_id: int = 1

    @property
    def chat_id(self) -> int:
        """Return the chat id (the user id: this is a private chat)."""
        return int(self.user["id"])

    def next_message_id(self) -> int:
        """Return a fresh message id (private chats count messages per chat)."""
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def find(self, message_id: int | None) -> ChatMessage | None:
        """Return the message with this id, if it still exists."""
        return next((m for m in self.messages if m.message_id == message_id), None)

    def to_api(self) -> JSONDict:
        """Return the ``Chat`` object."""
        chat: JSONDict = {"id": self.chat_id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if self.user.get(key):
                chat[key] = self.user[key]
        return chat


@dataclass(slots=True)
class PendingUpdate:
    """An update queued for ``getUpdates`` and what became of it."""

    update_id: int
    kind: str
    payload: JSONDict
    chat_id: int | None
    fetched_seq: int | None = None
    fetched_at: float | None = None
    dropped: str | None = None
    processed_at: float | None = None
    """When the bot reported that it finished handling the update (see ``mark_processed``)."""


@dataclass(slots=True)
class CallbackQueryState:
    """A callback query sent by a user tap, until the bot answers it."""

    query_id: str
    user_id: int
    data: str | None
    message_id: int
    answer: CallbackAnswer | None = None


def _error_response(error: ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.status)


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 320, 320


class FakeBotApi:
    """A Telegram Bot API stand-in on 127.0.0.1, used as ``async with FakeBotApi() as api``.

    Point PTB at it with ``.base_url(api.base_url).base_file_url(api.base_file_url)``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "legcare_test_bot",
        bot_first_name: str = "LegCare",
        quiet_period: float = 0.1,
        reply_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.host = host
        self._requested_port = port
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.quiet_period = quiet_period
        self.reply_timeout = reply_timeout
        self.clock = clock
        bot_id = token.split(":", 1)[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 1
        self.calls: list[ApiCall] = []
        # Calls about one chat, and (key None) calls about no chat that are not polling.
        self._calls_by_chat: dict[int | None, list[ApiCall]] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, FakeUser] = {}
        self._updates: list[PendingUpdate] = []
        self._updates_by_id: dict[int, PendingUpdate] = {}
        self._update_ids = itertools.count(100_001)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._queries: dict[str, CallbackQueryState] = {}
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._commands: dict[tuple[ScopeKey, str], list[JSONDict]] = {}
        self._faults: list[Fault] = []
        self._slow: dict[str, float] = {}
        self.reports_processing = False
        """True once a bot reports finished updates (``fakebot.ptb.ReportingUpdateProcessor``):
        users then wait for that report instead of trusting a quiet period alone."""
        self._blocked: set[int] = set()
        self._rate_limits: RateLimits | None = None
        self._random_errors: RandomErrors | None = None
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "logout": self._true,
            "close": self._true,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._true,
            "setmyshortdescription": self._true,
            "setmyname": self._true,
            "setchatmenubutton": self._true,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start listening (on a free port unless one was given)."""
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._on_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._on_file)
        ControlApi(self).register(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        logger.debug("Fake Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Wake every long poll and waiting user, then stop the server."""
        self._closing = True
        self._bump()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """Return the TCP port the server listens on."""
        if self._port is None:
            msg = "FakeBotApi is not started; use 'async with FakeBotApi() as api'"
            raise RuntimeError(msg)
        return self._port

    @property
    def url(self) -> str:
        """Return the server root, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return PTB's ``base_url`` (PTB appends the token and the method)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Return PTB's ``base_file_url`` (PTB appends the token and the file path)."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """Return the bot's ``User`` object (what ``getMe`` answers)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ----------------------------------------------------------------- users and state

    def user(
        self,
        user_id: int = 1001,
        *,
        first_name: str = "Ada",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """Return the user with this id (created on first use) to act as them."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._chats[user_id] = Chat(user=user)
        fake = FakeUser(self, user_id)
        self._users[user_id] = fake
        return fake

    def chat(self, chat_id: int) -> Chat:
        """Return the private chat with this user (see :meth:`user`)."""
        try:
            return self._chats[chat_id]
        except KeyError:
            msg = f"no user {chat_id}; create one with api.user(user_id={chat_id})"
            raise KeyError(msg) from None

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """Return the bot's messages in a chat, as the user sees them now."""
        return [m for m in self.chat(chat_id).messages if m.from_bot]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return the recorded calls of one method (case-insensitive)."""
        key = method.lower()
        return [c for c in self.calls if c.method.lower() == key]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Return the commands stored for exactly this scope and language (no fallback)."""
        key = self._scope_key(scope, check_chat=False)
        return list(self._commands.get((key, language_code), []))

    def commands_for(self, chat_id: int, language_code: str | None = None) -> list[str]:
        """Return the commands (names) a private chat's user sees in the menu.

        Resolves like Telegram: chat scope, then all private chats, then default, each
        first with the user's language and then without.
        """
        chat = self.chat(chat_id)
        lang = language_code if language_code is not None else chat.user.get("language_code")
        languages = [lang, ""] if lang else [""]
        scopes: list[ScopeKey] = [
            ("chat", chat_id, None),
            ("all_private_chats", None, None),
            ("default", None, None),
        ]
        for scope in scopes:
            for language in languages:
                commands = self._commands.get((scope, language))
                if commands:
                    return [str(c["command"]) for c in commands]
        return []

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (about ``chat_id``) with an error.

        429 gets ``parameters.retry_after`` (default 1); other statuses get Telegram's
        usual description (403: "Forbidden: bot was blocked by the user").
        """
        self._faults.append(
            make_fault(
                method,
                status=status,
                retry_after=retry_after,
                description=description,
                times=times,
                chat_id=chat_id,
            )
        )

    def block_user(self, user_id: int) -> None:
        """Act as if the user blocked the bot: every call about their chat gets 403."""
        chat = self.chat(user_id)
        chat.blocked = True
        self._blocked.add(user_id)
        if chat.started:
            self._enqueue_member_update(chat, old="member", new="kicked")

    def unblock_user(self, user_id: int) -> None:
        """Undo :meth:`block_user`."""
        chat = self.chat(user_id)
        chat.blocked = False
        self._blocked.discard(user_id)
        if chat.started:
            self._enqueue_member_update(chat, old="kicked", new="member")

    def slow(self, method: str, seconds: float) -> None:
        """Delay every call of ``method`` by ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._slow[method.lower()] = seconds
        else:
            self._slow.pop(method.lower(), None)

    def enforce_rate_limits(
        self,
        global_per_second: float = 30,
        per_chat_per_second: float = 1,
        *,
        per_chat_burst: int = 1,
        tolerance: float = 0.05,
    ) -> None:
        """Answer message sends beyond Telegram's flood limits with 429 + ``retry_after``.

        Limits are leaky buckets (as PTB's ``AIORateLimiter`` paces them): at most
        ``global_per_second`` sends in a burst, refilled at that rate, and likewise
        per chat (burst ``per_chat_burst``). Only methods that create messages count
        (``sendMessage``, ``sendPhoto``, ``sendDocument``, ``copyMessage``...).
        """
        self._rate_limits = RateLimits(
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
            per_chat_burst=per_chat_burst,
            tolerance=tolerance,
        )

    @property
    def rate_limit_violations(self) -> int:
        """Return how many sends were refused for exceeding the flood limits."""
        return len(self.rate_limit_log)

    @property
    def rate_limit_log(self) -> list[RateLimitViolation]:
        """Return each refused send (time, method, chat, which limit, retry_after)."""
        return [] if self._rate_limits is None else list(self._rate_limits.violations)

    def random_server_errors(
        self,
        rate: float = 0.05,
        *,
        seed: int | None = None,
        methods: Iterable[str] | None = None,
        statuses: tuple[int, ...] = (500, 502),
    ) -> None:
        """Answer a share ``rate`` of calls with a 5xx error (0 turns it off).

        By default only message sends are hit (polling keeps working).
        """
        if rate <= 0:
            self._random_errors = None
            return
        self._random_errors = RandomErrors(
            rate=rate,
            methods=frozenset(m.lower() for m in methods) if methods else SENDING_METHODS,
            statuses=statuses,
            rng=random.Random(seed),  # noqa: S311 - fault injection, not security
        )

    @property
    def random_errors_injected(self) -> int:
        """Return how many calls :meth:`random_server_errors` has failed."""
        return 0 if self._random_errors is None else self._random_errors.injected

    # ----------------------------------------------------------------- change tracking

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return after the next call, update or message change, or after ``timeout``."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await event.wait()

    @property
    def closing(self) -> bool:
        """Whether the server is shutting down."""
        return self._closing

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ----------------------------------------------------------------- HTTP

    async def _on_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        params = await read_params(request)
        return await self.call(request.match_info["method"], params)

    async def _on_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        call = self._record("downloadFile", {"file_path": path}, None)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            stored = self._files_by_path.get(path)
            if stored is None:
                raise ApiError(404, "Not Found")
        except ApiError as error:
            self._finish(call, error)
            return _error_response(error)
        self._finish(call, None)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def call(self, method: str, params: JSONDict) -> web.Response:
        """Handle one Bot API method call (also usable without HTTP)."""
        key = method.lower()
        call = self._record(method, params, self._chat_of(key, params))
        try:
            result = await self._dispatch(key, params, call)
        except ApiError as error:
            self._finish(call, error)
            return _error_response(error)
        self._finish(call, None)
        return web.json_response({"ok": True, "result": result})

    def _record(self, method: str, params: JSONDict, chat_id: int | None) -> ApiCall:
        call = ApiCall(len(self.calls), method, params, self._now(), chat_id)
        self.calls.append(call)
        if chat_id is not None or method.lower() not in NOISE_METHODS:
            self._calls_by_chat.setdefault(chat_id, []).append(call)
        self._bump()
        return call

    def calls_about(self, chat_id: int | None, *, since: int = 0) -> list[ApiCall]:
        """Return calls about a chat (None: about no chat, polling excluded) from ``since``.

        ``since`` is a call sequence number (:attr:`ApiCall.seq`).
        """
        calls = self._calls_by_chat.get(chat_id, [])
        return calls[bisect.bisect_left(calls, since, key=lambda c: c.seq) :]

    def _finish(self, call: ApiCall, error: ApiError | None) -> None:
        call.finished_at = self._now()
        if error is None:
            call.status = 200
        else:
            call.status = error.status
            call.description = error.description
            call.retry_after = error.retry_after
        self._bump()

    def _chat_of(self, key: str, params: JSONDict) -> int | None:
        chat_id = int_param(params, "chat_id")
        if chat_id is not None:
            return chat_id
        scope = params.get("scope")
        if isinstance(scope, dict):
            return int_param(scope, "chat_id")
        if key == "answercallbackquery":
            query = self._queries.get(str_param(params, "callback_query_id") or "")
            return None if query is None else query.user_id
        return None

    async def _dispatch(self, key: str, params: JSONDict, call: ApiCall) -> Any:
        handler = self._handlers.get(key)
        if handler is None:
            raise ApiError(404, "Not Found")
        delay = self._slow.get(key)
        if delay:
            await asyncio.sleep(delay)
        for fault in self._faults:
            if fault.matches(key, call.chat_id):
                error = fault.error()
                self._faults = [f for f in self._faults if f.times > 0]
                raise error
        if self._random_errors is not None:
            random_error = self._random_errors.maybe_fail(key)
            if random_error is not None:
                raise random_error
        if self._rate_limits is not None and key in SENDING_METHODS:
            self._rate_limits.check(call.method, call.chat_id, self._now())
        return await handler(params)

    # ----------------------------------------------------------------- validation helpers

    def _chat_for(self, params: JSONDict) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int_param(params, "chat_id")
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None or not chat.started:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    @staticmethod
    def _parse_text(
        text: str, parse_mode: str | None, entities: Any, *, caption: bool
    ) -> tuple[str, tuple[HtmlEntity, ...] | list[JSONDict]]:
        mode = (parse_mode or "").lower()
        plain: str
        parsed_entities: tuple[HtmlEntity, ...] | list[JSONDict]
        if mode == "html":
            parsed = parse_html(text)
            if parsed.problem is not None:
                raise ApiError(400, f"Bad Request: can't parse entities: {parsed.problem.reason}")
            plain, parsed_entities = parsed.text, parsed.entities
        elif mode in {"", "markdown", "markdownv2"}:
            # Markdown is passed through unparsed: LegCare formats with HTML only.
            plain = text
            parsed_entities = entities if isinstance(entities, list) and not mode else []
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if caption:
            if len(plain) > MAX_CAPTION_LENGTH:
                raise ApiError(400, "Bad Request: message caption is too long")
        elif not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        elif len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, parsed_entities

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        bad_json = ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if not isinstance(markup, dict):
            raise bad_json
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(
                    400,
                    'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
                    "must be an Array of Arrays",
                )
            for row in rows:
                for button in row:
                    FakeBotApi._check_inline_button(button)
            return markup
        if "keyboard" in markup:
            if not isinstance(markup["keyboard"], list):
                raise bad_json
            return markup
        if "remove_keyboard" in markup or "force_reply" in markup:
            return markup
        raise bad_json

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text is missing")
        if not button["text"].strip():
            raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= _MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        elif "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not _URL_RE.fullmatch(url):
                raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid")
        elif not any(
            k in button
            for k in (
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            )
        ):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )

    def _message_to_edit(self, params: JSONDict) -> tuple[Chat, ChatMessage]:
        if params.get("inline_message_id") is not None:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat_for(params)
        message = chat.find(int_param(params, "message_id"))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _changed_message(self, chat: Chat, message: ChatMessage) -> JSONDict:
        message.edit_date = int(self.clock())
        message.edits += 1
        chat.revision += 1
        self._bump()
        return self.message_to_api(message)

    # ----------------------------------------------------------------- JSON shapes

    def message_to_api(self, message: ChatMessage) -> JSONDict:
        """Return the Bot API ``Message`` object for a stored message."""
        chat = self._chats[message.chat_id]
        result: JSONDict = {
            "message_id": message.message_id,
            "from": self.bot_user if message.from_bot else chat.user,
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        entities = message.entities_api()
        if message.kind == "text":
            result["text"] = message.text
            if entities:
                result["entities"] = entities
        elif message.raw_text is not None:
            result["caption"] = message.text
            if entities:
                result["caption_entities"] = entities
        stored = message.file
        if message.kind == "document" and stored is not None:
            document: JSONDict = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
            }
            if stored.file_name:
                document["file_name"] = stored.file_name
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            result["document"] = document
        if message.kind == "photo" and stored is not None:
            width, height = _png_size(stored.data)
            result["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(stored.data),
                    "width": width,
                    "height": height,
                }
            ]
        original = chat.find(message.reply_to_message_id)
        if original is not None:
            # As in Telegram: the replied-to message, without its own reply_to_message.
            result["reply_to_message"] = self.message_to_api(
                replace(original, reply_to_message_id=None)
            )
        if message.location is not None:
            result["location"] = {
                "latitude": message.location[0],
                "longitude": message.location[1],
            }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    def store_file(
        self, data: bytes, *, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep a file so ``getFile`` and the file URL serve it."""
        number = next(self._file_ids)
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            suffix = ".jpg"
        stored = StoredFile(
            file_id=f"fake-{kind}-{number}",
            file_unique_id=f"u{number}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # ----------------------------------------------------------------- updates

    def enqueue_update(self, kind: str, payload: JSONDict, *, chat_id: int | None) -> int:
        """Queue an update for ``getUpdates`` and return its ``update_id``."""
        update_id = next(self._update_ids)
        pending = PendingUpdate(update_id, kind, payload, chat_id)
        self._updates.append(pending)
        self._updates_by_id[update_id] = pending
        self._bump()
        return update_id

    def update_state(self, update_id: int) -> PendingUpdate:
        """Return what became of a queued update (fetched, dropped, processed)."""
        return self._updates_by_id[update_id]

    def mark_processed(self, update_id: int) -> None:
        """Record that the bot finished handling ``update_id`` (unknown ids are ignored)."""
        pending = self._updates_by_id.get(update_id)
        if pending is not None and pending.processed_at is None:
            pending.processed_at = self._now()
            self._bump()

    def add_user_message(self, chat: Chat, message: ChatMessage) -> int:
        """Store a message the user sent and queue its update; return the update id."""
        chat.started = True
        chat.messages.append(message)
        return self.enqueue_update("message", self.message_to_api(message), chat_id=chat.chat_id)

    def add_callback_query(self, chat: Chat, message: ChatMessage, data: str) -> tuple[str, int]:
        """Queue the callback query of a tap on ``message``; return (query id, update id)."""
        query_id = f"{chat.chat_id}-{next(self._query_ids)}"
        self._queries[query_id] = CallbackQueryState(
            query_id, chat.chat_id, data, message.message_id
        )
        payload: JSONDict = {
            "id": query_id,
            "from": chat.user,
            "message": self.message_to_api(message),
            "chat_instance": f"ci-{chat.chat_id}",
            "data": data,
        }
        update_id = self.enqueue_update("callback_query", payload, chat_id=chat.chat_id)
        return query_id, update_id

    def _enqueue_member_update(self, chat: Chat, *, old: str, new: str) -> None:
        payload = {
            "chat": chat.to_api(),
            "from": chat.user,
            "date": int(self.clock()),
            "old_chat_member": self._member(old),
            "new_chat_member": self._member(new),
        }
        self.enqueue_update("my_chat_member", payload, chat_id=chat.chat_id)

    def _member(self, status: str) -> JSONDict:
        member: JSONDict = {"status": status, "user": self.bot_user}
        if status == "kicked":
            member["until_date"] = 0
        return member

    # ----------------------------------------------------------------- methods

    async def _true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _delete_webhook(self, params: JSONDict) -> bool:
        if bool_param(params, "drop_pending_updates"):
            for pending in self._updates:
                pending.dropped = "dropped by deleteWebhook(drop_pending_updates=True)"
            self._updates.clear()
            self._bump()
        return True

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int_param(params, "offset")
        limit = int_param(params, "limit") or _MAX_UPDATES_PER_CALL
        limit = max(1, min(limit, _MAX_UPDATES_PER_CALL))
        timeout = max(0, int_param(params, "timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        self._poll_generation += 1
        generation = self._poll_generation
        if offset is not None and offset > 0:
            self._updates = [u for u in self._updates if u.update_id >= offset]
        deadline = self._now() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            ready: list[PendingUpdate] = []
            for pending in list(self._updates):
                if pending.kind in self._allowed_updates:
                    ready.append(pending)
                else:
                    pending.dropped = f"update type {pending.kind!r} is not in allowed_updates"
                    self._updates.remove(pending)
            remaining = deadline - self._now()
            if ready or self._closing or remaining <= 0:
                break
            await self.wait_for_change(remaining)
        batch = ready[:limit]
        now = self._now()
        for pending in batch:
            if pending.fetched_seq is None:
                pending.fetched_seq = len(self.calls)
                pending.fetched_at = now
        if batch:
            self._bump()
        return [{"update_id": p.update_id, p.kind: p.payload} for p in batch]

    def _scope_key(self, scope: Any, *, check_chat: bool = True) -> ScopeKey:
        if scope is None:
            return ("default", None, None)
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        chat_id = int_param(scope, "chat_id")
        user_id = int_param(scope, "user_id")
        if kind in {"chat", "chat_administrators", "chat_member"}:
            if chat_id is None:
                raise ApiError(400, "Bad Request: chat_id is empty")
            known = self._chats.get(chat_id)
            if check_chat and (known is None or not known.started):
                raise ApiError(400, "Bad Request: chat not found")
        if kind == "chat_member" and user_id is None:
            raise ApiError(400, "Bad Request: user_id is empty")
        return (kind, chat_id, user_id)

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > _MAX_COMMANDS:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(params.get("scope")), str_param(params, "language_code") or "")
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self._scope_key(params.get("scope")), str_param(params, "language_code") or "")
        return list(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope_key(params.get("scope")), str_param(params, "language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat_for(params)
        text = str_param(params, "text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = str_param(params, "parse_mode")
        plain, entities = self._parse_text(text, parse_mode, params.get("entities"), caption=False)
        self._check_reply_target(chat, params)
        message = ChatMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.chat_id,
            from_bot=True,
            date=int(self.clock()),
            raw_text=text,
            parse_mode=parse_mode,
            text=plain,
            entities=entities,
            reply_markup=self._check_markup(params.get("reply_markup")),
        )
        return self._add_bot_message(chat, message)

    @staticmethod
    def _check_reply_target(chat: Chat, params: JSONDict) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            return
        target = int_param(reply, "message_id")
        if chat.find(target) is None and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")

    def _add_bot_message(self, chat: Chat, message: ChatMessage) -> JSONDict:
        chat.messages.append(message)
        chat.revision += 1
        self._bump()
        return self.message_to_api(message)

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str_param(params, "text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = str_param(params, "parse_mode")
        plain, entities = self._parse_text(text, parse_mode, params.get("entities"), caption=False)
        markup = self._check_markup(params.get("reply_markup"))
        if (
            plain == message.text
            and message.entities_api() == [_entity_dict(e) for e in entities]
            and markup == message.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.raw_text, message.parse_mode = text, parse_mode
        message.text, message.entities, message.reply_markup = plain, entities, markup
        return self._changed_message(chat, message)

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        if message.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = str_param(params, "caption") or ""
        parse_mode = str_param(params, "parse_mode")
        plain, entities = self._parse_text(
            caption, parse_mode, params.get("caption_entities"), caption=True
        )
        markup = self._check_markup(params.get("reply_markup"))
        if plain == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.raw_text, message.parse_mode = caption, parse_mode
        message.text, message.entities, message.reply_markup = plain, entities, markup
        return self._changed_message(chat, message)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if markup == message.reply_markup or (not markup and not message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        return self._changed_message(chat, message)

    async def _delete_message(self, params: JSONDict) -> bool:
        chat = self._chat_for(params)
        message = chat.find(int_param(params, "message_id"))
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        chat.messages.remove(message)
        chat.revision += 1
        self._bump()
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query = self._queries.get(str_param(params, "callback_query_id") or "")
        if query is None or query.answer is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid",
            )
        text = str_param(params, "text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query.query_id,
            data=query.data,
            message_id=query.message_id,
            text=text,
            show_alert=bool_param(params, "show_alert"),
            url=str_param(params, "url"),
        )
        chat = self._chats[query.user_id]
        chat.callback_answers.append(query.answer)
        chat.revision += 1
        self._bump()
        return True

    async def _send_file(self, params: JSONDict, kind: str) -> JSONDict:
        chat = self._chat_for(params)
        value = params.get(kind)
        if isinstance(value, Upload):
            stored = self.store_file(
                value.data, kind=kind, file_name=value.file_name, mime_type=value.mime_type
            )
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = params.get(value.removeprefix("attach://"))
            if not isinstance(upload, Upload):
                raise ApiError(
                    400, f"Bad Request: wrong file identifier/HTTP URL specified: {value}"
                )
            stored = self.store_file(
                upload.data, kind=kind, file_name=upload.file_name, mime_type=upload.mime_type
            )
        elif isinstance(value, str) and value in self.files:
            stored = self.files[value]
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        elif value is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        self._check_reply_target(chat, params)
        caption = str_param(params, "caption")
        parse_mode = str_param(params, "parse_mode")
        plain = ""
        entities: tuple[HtmlEntity, ...] | list[JSONDict] = ()
        if caption is not None:
            plain, entities = self._parse_text(
                caption, parse_mode, params.get("caption_entities"), caption=True
            )
        message = ChatMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.chat_id,
            from_bot=True,
            date=int(self.clock()),
            kind=kind,
            raw_text=caption,
            parse_mode=parse_mode,
            text=plain,
            entities=entities,
            reply_markup=self._check_markup(params.get("reply_markup")),
            file=stored,
        )
        return self._add_bot_message(chat, message)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: JSONDict) -> JSONDict:
        return await self._send_file(params, "document")

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_for(params)
        if str_param(params, "action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self.files.get(str_param(params, "file_id") or "")
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.to_api()


def _entity_dict(entity: HtmlEntity | JSONDict) -> JSONDict:
    return entity.to_dict() if isinstance(entity, HtmlEntity) else entity
