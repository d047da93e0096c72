"""docker-compose.yml and .env.example agree with the settings the bot reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from bot.cli import build_parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_the_bot_after_a_healthy_postgres() -> None:
    services = _compose()["services"]
    assert set(services) == {"bot", "db", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert "healthcheck" in services["db"]
    for name in ("bot", "worker"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert services[name]["env_file"] == ".env"


def test_compose_workers_are_opt_in_and_never_poll() -> None:
    worker = _compose()["services"]["worker"]
    assert worker["profiles"] == ["workers"]
    program, *arguments = worker["command"]
    assert program == "legcare"
    assert build_parser().parse_args(arguments).worker is True


def test_compose_keeps_the_database_in_a_named_volume() -> None:
    compose = _compose()
    volume, _, mount = compose["services"]["db"]["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert mount == "/var/lib/postgresql/data"


def test_compose_sets_only_real_settings_and_a_postgres_url() -> None:
    services = _compose()["services"]
    for name in ("bot", "worker"):
        environment = services[name]["environment"]
        assert set(environment) <= SETTING_NAMES
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert services["bot"]["environment"] == services["worker"]["environment"]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert set(dotenv_values(ROOT / ".env.example")) == SETTING_NAMES


def test_dockerfile_installs_from_the_lock_file_and_drops_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "\nUSER legcare" in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["legcare", "run"]')
