"""The migrations build exactly the models, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_engine
from bot.db.migrate import upgrade_to_head
from bot.db.models import Base, User
from bot.users import register, stored_language
from tests.conftest import admin_execute, postgres_server_url

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_upgrading_again_is_harmless(engine: AsyncEngine) -> None:
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert len(version) == 1


@pytest.mark.postgres
async def test_processes_starting_together_on_an_empty_database_migrate_it_once() -> None:
    server_url = postgres_server_url()
    name = f"legcare_empty_{uuid.uuid4().hex[:12]}"
    await admin_execute(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engines = [create_engine(url) for _ in range(3)]
    try:
        async with asyncio.timeout(60):  # without the lock they can wait on each other
            await asyncio.gather(*(upgrade_to_head(engine) for engine in engines))
        async with engines[0].connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        for engine in engines:
            await engine.dispose()
        await admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_first_start_registers_and_later_starts_do_not(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        first = await register(session, user_id=7, language="tr", now=NOW)
    async with sessionmaker.begin() as session:
        second = await register(session, user_id=7, language="en", now=NOW + timedelta(days=1))
    assert (first.is_new, second.is_new) == (True, False)
    assert second.user.language == "tr"
    assert second.user.created_at == NOW
    async with sessionmaker() as session:
        assert await stored_language(session, 7) == "tr"
        assert await stored_language(session, 8) is None


async def test_returning_after_a_block_clears_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        session.add(User(id=9, language="en", created_at=NOW, blocked_at=NOW))
    async with sessionmaker.begin() as session:
        registration = await register(session, user_id=9, language="en", now=NOW)
    assert registration.user.blocked_at is None


async def test_datetimes_come_back_aware_in_utc(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    istanbul_noon = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    async with sessionmaker.begin() as session:
        session.add(User(id=10, language="en", created_at=istanbul_noon))
    async with sessionmaker() as session:
        user = await session.get(User, 10)
    assert user is not None
    assert user.created_at == istanbul_noon
    assert user.created_at.tzinfo == UTC


async def test_naive_datetimes_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    naive = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetimes are not stored"):
        async with sessionmaker.begin() as session:
            session.add(User(id=11, language="en", created_at=naive))
