"""A small JSON control API under ``/_fake/`` for driving a standalone server.

When the bot runs as a separate process against ``python -m fakebot`` (benchmarks, manual
trials), another process acts as users over HTTP:

* ``POST /_fake/users/{user_id}/messages`` ``{"text": "/start", "wait": true,
  "first_name": "Ada", "language_code": "en"}`` sends a message; with ``wait`` (default)
  the answer lists the bot messages sent or edited in reaction;
* ``POST /_fake/users/{user_id}/taps`` ``{"label": "Calf"}`` or ``{"data": "t1:x"}``
  (optional ``"message_id"``) taps a button;
* ``GET /_fake/users/{user_id}/messages`` lists the bot's messages in that chat now;
* ``GET /_fake/stats`` counts calls per method, rate-limit violations and injected errors;
* ``POST /_fake/faults`` ``{"rate_limits": true, "random_errors": 0.05, "seed": 1}``.

Errors come back as ``{"error": "..."}`` with status 400 (bad input), 404 (no such
button) or 504 (the bot did not react in time).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from aiohttp import web

from fakebot.models import BotTimeoutError, ChatMessage, JSONDict, NoSuchButtonError

if TYPE_CHECKING:
    from fakebot.server import FakeBotApi
    from fakebot.user import FakeUser


def message_to_json(message: ChatMessage) -> JSONDict:
    """Return a bot message as the control API shows it."""
    return {
        "message_id": message.message_id,
        "kind": message.kind,
        "text": message.text,
        "html": message.html,
        "buttons": message.buttons,
        "edits": message.edits,
        "file_name": message.file.file_name if message.file else None,
    }


class ControlApi:
    """The ``/_fake/`` routes of one :class:`FakeBotApi`."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    def register(self, app: web.Application) -> None:
        """Add the control routes to the server's aiohttp application."""
        app.router.add_post("/_fake/users/{user_id}/messages", self.send)
        app.router.add_post("/_fake/users/{user_id}/taps", self.tap)
        app.router.add_get("/_fake/users/{user_id}/messages", self.messages)
        app.router.add_get("/_fake/stats", self.stats)
        app.router.add_post("/_fake/faults", self.faults)

    def _user(self, request: web.Request, body: JSONDict) -> FakeUser:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise _bad("user_id must be an integer") from None
        return self.api.user(
            user_id,
            first_name=str(body.get("first_name") or f"User{user_id}"),
            language_code=body.get("language_code", "en"),
        )

    async def send(self, request: web.Request) -> web.Response:
        """Send a message as a user."""
        body = await _body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise _bad("'text' is required")
        user = self._user(request, body)
        return await _react(user.send(text, wait=bool(body.get("wait", True))))

    async def tap(self, request: web.Request) -> web.Response:
        """Tap a button (by label) or send raw callback data as a user."""
        body = await _body(request)
        user = self._user(request, body)
        message_id = body.get("message_id")
        wait = bool(body.get("wait", True))
        if isinstance(body.get("label"), str):
            return await _react(user.tap(body["label"], message=message_id, wait=wait))
        if isinstance(body.get("data"), str):
            return await _react(user.tap_data(body["data"], message=message_id, wait=wait))
        raise _bad("'label' or 'data' is required")

    async def messages(self, request: web.Request) -> web.Response:
        """List the bot's messages in a user's chat."""
        user = self._user(request, {})
        return web.json_response({"messages": [message_to_json(m) for m in user.messages]})

    async def stats(self, request: web.Request) -> web.Response:
        """Count what the bot did."""
        api = self.api
        by_method = Counter(c.method for c in api.calls)
        failed = Counter(c.method for c in api.calls if c.status not in {None, 200})
        return web.json_response(
            {
                "calls": len(api.calls),
                "by_method": dict(by_method),
                "failed_by_method": dict(failed),
                "rate_limit_violations": api.rate_limit_violations,
                "random_errors_injected": api.random_errors_injected,
            }
        )

    async def faults(self, request: web.Request) -> web.Response:
        """Switch flood limits and random server errors on or off."""
        body = await _body(request)
        if body.get("rate_limits"):
            self.api.enforce_rate_limits()
        if "random_errors" in body:
            seed = body.get("seed")
            self.api.random_server_errors(
                float(body["random_errors"]), seed=int(seed) if seed is not None else None
            )
        return web.json_response({"ok": True})


async def _body(request: web.Request) -> JSONDict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise _bad("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _bad(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


async def _react(action: Awaitable[list[ChatMessage]]) -> web.Response:
    try:
        changed = await action
    except NoSuchButtonError as error:
        return web.json_response({"error": str(error)}, status=404)
    except BotTimeoutError as error:
        return web.json_response({"error": str(error)}, status=504)
    return web.json_response({"messages": [message_to_json(m) for m in changed]})
