"""Decoding Bot API request parameters the way Telegram does.

PTB's ``HTTPXRequest`` sends every parameter as a form field (``x-www-form-urlencoded``,
or ``multipart/form-data`` when a file is uploaded): strings as they are, everything
else JSON-encoded (``chat_id=1001``, ``reply_markup={"inline_keyboard": ...}``,
``drop_pending_updates=true``). Other clients may send a JSON body or a query string.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakebot.models import JSONDict, Upload

# Parameters whose value is a string even when it looks like JSON (``text="123"``).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "caption_parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "action",
        "language_code",
        "url",
        "callback_data",
        "description",
        "short_description",
        "name",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
    }
)


def decode_value(name: str, value: str) -> Any:
    """Decode one form value: JSON unless it is a known string parameter."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> JSONDict:
    """Return the decoded parameters of a Bot API request (query, form, multipart or JSON)."""
    params: JSONDict = {key: decode_value(key, value) for key, value in request.query.items()}
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = Upload(
                field=key,
                file_name=value.filename,
                mime_type=value.content_type,
                data=value.file.read(),
            )
        elif isinstance(value, str):
            params[key] = decode_value(key, value)
        else:
            params[key] = decode_value(key, bytes(value).decode("utf-8", "replace"))
    return params


def int_param(params: JSONDict, name: str) -> int | None:
    """Return an integer parameter (Telegram accepts ``"42"`` as well as ``42``)."""
    value = params.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def bool_param(params: JSONDict, name: str) -> bool:
    """Return a boolean parameter (``true``/``"true"``/``1``)."""
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def str_param(params: JSONDict, name: str) -> str | None:
    """Return a string parameter, JSON-encoding anything else."""
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Upload):
        return None
    return json.dumps(value)
