"""Running python-telegram-bot against :class:`FakeBotApi`."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from fakebot.server import FakeBotApi

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@functools.cache
def _shared_tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def loopback_request(**kwargs: Any) -> HTTPXRequest:
    """Return an ``HTTPXRequest`` for the fake server (keyword arguments are passed on).

    Every ``HTTPXRequest`` normally builds its own TLS context (tens of milliseconds,
    twice per ``Bot``); loopback HTTP needs none, so one shared context is reused. This
    keeps a suite that builds a bot per test fast.
    """
    httpx_kwargs = {"verify": _shared_tls_context(), **kwargs.pop("httpx_kwargs", {})}
    return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)


def application_builder(api: FakeBotApi) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """Return ``Application.builder()`` set up for the fake server (token, URLs, requests)."""
    return (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .request(loopback_request())
        .get_updates_request(loopback_request())
    )


@contextlib.asynccontextmanager
async def polling(
    application: AnyApplication, *, drop_pending_updates: bool = False
) -> AsyncIterator[AnyApplication]:
    """Initialise, start and poll ``application`` for the duration of the block.

    The same steps as ``run_polling`` but inside the caller's event loop, so a test can
    act as a user meanwhile. Everything is stopped and shut down on exit.
    """
    updater = application.updater
    if updater is None:
        msg = "the application has no updater; do not build it with .updater(None)"
        raise ValueError(msg)
    async with application:
        await application.start()
        await updater.start_polling(poll_interval=0.0, drop_pending_updates=drop_pending_updates)
        try:
            yield application
        finally:
            try:
                if updater.running:
                    await updater.stop()
            finally:
                if application.running:
                    await application.stop()
