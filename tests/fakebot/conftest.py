"""Fixtures for the fake Bot API tests: a server per test, a plain PTB bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from fakebot import FakeBotApi
from fakebot.ptb import loopback_request

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """Return a fresh fake Bot API server on a free loopback port."""
    async with FakeBotApi(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """Return an initialised PTB ``Bot`` talking to the fake server."""
    client = Bot(
        TOKEN,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        request=loopback_request(),
        get_updates_request=loopback_request(),
    )
    async with client:
        yield client


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations.

    Without ``PTB_TIMEDELTA``, PTB 22.x warns (PTBDeprecationWarning) every time it
    *constructs* a ``RetryAfter``, so under ``filterwarnings = error`` a 429 would
    surface as that warning instead of ``RetryAfter``.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
