"""Short, versioned, HMAC-signed callback data for inline buttons.

Every button the bot sends carries ``<action><version>:<arg>:...:<tag>``. The tag binds
the payload to the Telegram user it was sent to, so a forged, edited or other-user tap
is refused without touching any state. Telegram limits callback data to 64 bytes, which
is checked when a button is built, not when a user taps it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

CALLBACK_DATA_LIMIT = 64
CODEC_VERSION = "1"
_SEPARATOR = ":"
_TAG_LENGTH = 10
_ACTION = re.compile(r"[a-z]{1,3}")
_ARG = re.compile(r"[A-Za-z0-9_.\-]*")


class CallbackDataTooLongError(ValueError):
    """Raised when a button's payload would not fit Telegram's 64-byte limit."""


@dataclass(frozen=True)
class Callback:
    """A verified button payload: which feature it belongs to and its arguments."""

    action: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class CallbackCodec:
    """Packs and verifies callback data with a secret that outlives restarts."""

    secret: bytes

    def pack(self, action: str, *args: str, user_id: int) -> str:
        """Build signed callback data for a button shown to ``user_id``."""
        if not _ACTION.fullmatch(action):
            raise ValueError(f"callback action must be 1-3 lowercase letters: {action!r}")
        for arg in args:
            if not _ARG.fullmatch(arg):
                raise ValueError(f"callback argument has characters we do not allow: {arg!r}")
        body = _SEPARATOR.join((action + CODEC_VERSION, *args))
        data = f"{body}{_SEPARATOR}{self._tag(body, user_id)}"
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise CallbackDataTooLongError(f"{len(data.encode())} bytes: {body!r}")
        return data

    def unpack(self, data: str, *, user_id: int) -> Callback | None:
        """Return the payload if it is well formed, current and signed for this user."""
        body, separator, tag = data.rpartition(_SEPARATOR)
        if not separator:
            return None
        head, *args = body.split(_SEPARATOR)
        action, version = head[:-1], head[-1:]
        if version != CODEC_VERSION or not _ACTION.fullmatch(action):
            return None
        if not hmac.compare_digest(tag, self._tag(body, user_id)):
            return None
        return Callback(action=action, args=tuple(args))

    @staticmethod
    def action_pattern(action: str) -> str:
        """Regex that routes a feature's buttons to its handler before verification."""
        return f"^{re.escape(action + CODEC_VERSION)}(:|$)"

    def _tag(self, body: str, user_id: int) -> str:
        digest = hmac.new(self.secret, f"{user_id}|{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_TAG_LENGTH]
