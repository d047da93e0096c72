"""Runtime configuration, read once from the environment and an optional `.env` file."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///legcare.sqlite3"


class Settings(BaseSettings):
    """Everything an operator can set; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    admin_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    default_timezone: str = "Europe/London"
    default_country: str = Field(default="GB", min_length=2, max_length=2)
    callback_secret: SecretStr | None = None
    # Reminder messages per second this process may send; with several processes on one
    # PostgreSQL, split Telegram's ~30/s between them.
    reminder_send_rate: int = Field(default=25, ge=1, le=1000)
    # How long a claimed reminder stays with its dispatcher before another may take it.
    reminder_lease_seconds: int = Field(default=120, ge=5, le=3600)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("default_country")
    @classmethod
    def _upper_country(cls, value: str) -> str:
        return value.upper()

    @property
    def telegram_file_base_url(self) -> str:
        """Telegram serves files under ``/file/bot<token>`` next to ``/bot<token>``."""
        base = self.telegram_api_base_url.rstrip("/")
        head, _, tail = base.rpartition("/")
        return f"{head}/file/{tail}"

    def require_token(self) -> str:
        """The bot token, or a MissingTokenError that the CLI turns into one clear line."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise MissingTokenError
        return self.telegram_bot_token.get_secret_value()

    def callback_signing_key(self) -> bytes:
        """A key that survives restarts so buttons sent before a restart still work."""
        if self.callback_secret is not None:
            return self.callback_secret.get_secret_value().encode()
        return hashlib.sha256(b"legcare-callbacks|" + self.require_token().encode()).digest()


class MissingTokenError(RuntimeError):
    """The bot cannot talk to Telegram without TELEGRAM_BOT_TOKEN."""

    def __str__(self) -> str:
        return (
            "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment "
            "or in .env (or try `legcare demo`, which needs no token)."
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read on first use."""
    return Settings()
