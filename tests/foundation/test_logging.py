"""Secrets never reach the log output, not even inside tracebacks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import REDACTED, configure_logging

TOKEN = "123456:AAH-super-secret"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_token_is_redacted_from_messages_arguments_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", secrets=[TOKEN])
    logger = logging.getLogger("legcare.test")
    logger.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed to reach /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("request failed")
    logging.getLogger("httpx").info("HTTP Request: POST /bot%s/getUpdates", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert err.count(REDACTED) == 2
    assert "HTTP Request" not in err, "httpx request lines must stay below the log level"
