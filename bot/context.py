"""Typed access to the application's collaborators from inside handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.admin.runtime import AdminRuntime
from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.settings import Settings
from bot.triage.engines import EngineCache
from content.live import LiveContent


@dataclass(frozen=True)
class Services:
    """Everything a handler may use besides the update itself."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    content: LiveContent
    codec: CallbackCodec
    clock: Clock
    admin: AdminRuntime
    engines: EngineCache = field(default_factory=EngineCache)
    """Symptom-check engines, compiled once per content pack."""


class LegCareContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """CallbackContext that exposes our Services without string keys."""

    @property
    def services(self) -> Services:
        """The Services of the application handling this update."""
        application = self.application
        if not isinstance(application, LegCareApplication):
            raise TypeError("LegCareContext used outside a LegCareApplication")
        return application.services


class LegCareApplication(
    Application[
        ExtBot[None],
        LegCareContext,
        dict[Any, Any],
        dict[Any, Any],
        dict[Any, Any],
        JobQueue[LegCareContext],
    ]
):
    """PTB Application that carries LegCare's Services."""

    def __init__(self, *, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
