"""A fake Telegram Bot API server and a user-level client for end-to-end tests.

>>> async with FakeBotApi() as api:                       # doctest: +SKIP
...     app = build_application(..., base_url=api.base_url)
...     async with polling(app):
...         user = api.user(user_id=1001, first_name="Ada")
...         await user.send("/start")
...         await user.tap("Symptom check")
...         assert "Where" in user.last_text
"""

from content.telegram_html import find_html_error, html_to_text, visible_length
from fakebot.faults import RateLimitViolation
from fakebot.models import (
    ApiCall,
    BotTimeoutError,
    Button,
    CallbackAnswer,
    ChatMessage,
    NoSuchButtonError,
    SentFile,
    StoredFile,
    Upload,
)
from fakebot.server import DEFAULT_TOKEN, FakeBotApi
from fakebot.terminal import chat_in_terminal
from fakebot.user import FakeUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotTimeoutError",
    "Button",
    "CallbackAnswer",
    "ChatMessage",
    "FakeBotApi",
    "FakeUser",
    "NoSuchButtonError",
    "RateLimitViolation",
    "SentFile",
    "StoredFile",
    "Upload",
    "chat_in_terminal",
    "find_html_error",
    "html_to_text",
    "visible_length",
]
