"""Settings come from the environment, with safe defaults and clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import TELEGRAM_API_BASE_URL, MissingTokenError, Settings


@pytest.fixture(autouse=True)
def _no_ambient_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "DATABASE_URL", "ADMIN_USER_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))


def test_defaults_point_at_telegram_and_a_local_sqlite_file() -> None:
    settings = Settings()
    assert settings.telegram_api_base_url == TELEGRAM_API_BASE_URL
    assert settings.telegram_file_base_url == "https://api.telegram.org/file/bot"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.admin_user_ids == frozenset()


def test_file_url_follows_a_local_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    assert Settings().telegram_file_base_url == "http://127.0.0.1:8081/file/bot"


def test_admin_ids_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", "11, 22,33")
    assert Settings().admin_user_ids == frozenset({11, 22, 33})


def test_missing_token_has_a_one_line_explanation() -> None:
    with pytest.raises(MissingTokenError) as raised:
        Settings().require_token()
    assert "TELEGRAM_BOT_TOKEN" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_token_is_secret_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret")
    settings = Settings()
    assert "very-secret" not in repr(settings)
    assert settings.require_token() == "123:very-secret"


def test_callback_key_survives_restarts_and_differs_per_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:a")
    first, again = Settings().callback_signing_key(), Settings().callback_signing_key()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:b")
    assert first == again != Settings().callback_signing_key()


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEFAULT_TIMEZONE", "Mars/Olympus"), ("LOG_LEVEL", "LOUD"), ("ADMIN_USER_IDS", "x")],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
