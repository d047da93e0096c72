"""Running python-telegram-bot against :class:`FakeBotApi`."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, SimpleUpdateProcessor
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


class ReportingUpdateProcessor(SimpleUpdateProcessor):
    """PTB's one-at-a-time update processing that tells the fake server when each update is done.

    Without it, a :class:`fakebot.FakeUser` decides the bot has finished reacting from a
    quiet period alone, which a loaded machine can stretch between two calls of one
    handler. Pass it to ``ApplicationBuilder.concurrent_updates``.
    """

    __slots__ = ("_api",)

    def __init__(self, api: FakeBotApi) -> None:
        super().__init__(max_concurrent_updates=1)
        self._api = api
        api.reports_processing = True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle ``update`` as PTB would, then report it to the fake server, even on error."""
        try:
            await coroutine
        finally:
            if isinstance(update, Update):
                self._api.mark_processed(update.update_id)


def application_builder(api: FakeBotApi) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """Return ``Application.builder()`` set up for the fake server (token, URLs, requests)."""
    return (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .request(loopback_request())
        .get_updates_request(loopback_request())
        .concurrent_updates(ReportingUpdateProcessor(api))
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
