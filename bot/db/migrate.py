"""Apply Alembic migrations from inside the running program."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at our migrations, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# Any constant shared by every LegCare process; it names the lock, nothing else.
_MIGRATION_LOCK_KEY = 0x1E6CA7E


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the database schema up to the newest migration.

    On PostgreSQL several processes may start at once (a poller and its workers): a
    transaction-scoped advisory lock lets one migrate while the others wait, then find the
    schema at head. SQLite allows one process per file anyway.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
