"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and the
real bot running against the fake Bot API over loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head
from bot.runner import running_bot
from bot.settings import Settings
from fakebot import FakeBotApi, FakeUser
from fakebot.ptb import ReportingUpdateProcessor

POSTGRES_ENV = "TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "LEGCARE_REQUIRE_POSTGRES"
POSTGRES_SKIP_REASON = (
    f"PostgreSQL tests need {POSTGRES_ENV}, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

TEST_TOKEN = "123456:TEST-TOKEN-never-logged"
OWNER_ID = 9001
START_OF_TEST = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

FIGURES = "figures"
"""``record_property(FIGURES, line)`` puts a measured figure in the run's summary."""

_skipped_postgres_tests: list[str] = []
_figures: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # PTB 22 warns on every RetryAfter unless durations are opted in to timedelta;
    # the bot's CLI sets the same.
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs where the reports arrive: in the one process, or the xdist controller.
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres_tests.append(report.nodeid)
    if report.when == "call":
        _figures.extend(str(value) for name, value in report.user_properties if name == FIGURES)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _figures:
        terminalreporter.section("measured figures")
        for line in _figures:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(REQUIRE_POSTGRES_ENV) and _skipped_postgres_tests:
        print(  # noqa: T201 - the reason CI fails must be visible in its log
            f"\n{len(_skipped_postgres_tests)} PostgreSQL tests were skipped but "
            f"{REQUIRE_POSTGRES_ENV} is set; failing the run."
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def postgres_server_url() -> str:
    """The configured PostgreSQL URL, or skip (fail under CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not")
        pytest.skip(POSTGRES_SKIP_REASON)
    return url


async def admin_execute(server_url: str, *statements: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are cloned from."""
    server_url = postgres_server_url()
    name = f"legcare_template_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(_migrate(make_url(server_url).set(database=name).render_as_string(False)))
        yield name
    finally:
        asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, fully migrated database of each backend, private to one test."""
    if request.param == "sqlite":
        path = tmp_path / "legcare.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server_url = postgres_server_url()
    template = request.getfixturevalue("postgres_template")
    name = f"legcare_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh migrated SQLite database, for tests that are about the bot, not the backend."""
    path = tmp_path / "legcare.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's own database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's own database."""
    return create_sessionmaker(engine)


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API server on a free loopback port.

    The reply timeout only decides how long a failing test waits; it is generous so
    that a busy CI machine does not turn a slow reply into a failure.
    """
    async with FakeBotApi(TEST_TOKEN, reply_timeout=20.0) as api:
        yield api


@pytest.fixture
def clock() -> ManualClock:
    """The bot's clock; moves only when the test moves it."""
    return ManualClock(START_OF_TEST)


@pytest.fixture
def bot_database_url(sqlite_url: str) -> str:
    """The database the running bot uses; override to run end-to-end on PostgreSQL."""
    return sqlite_url


def settings_for(api: FakeBotApi, database_url: str) -> Settings:
    """Settings pointing a bot at ``api`` and ``database_url``, ignoring .env."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TEST_TOKEN,
        telegram_api_base_url=api.base_url,
        database_url=database_url,
        admin_user_ids=frozenset({OWNER_ID}),
    )


@pytest.fixture
def bot_settings(fake_api: FakeBotApi, bot_database_url: str) -> Settings:
    """Settings pointing the bot at the fake API and the test database, ignoring .env."""
    return settings_for(fake_api, bot_database_url)


@pytest.fixture
async def bot(
    fake_api: FakeBotApi, bot_settings: Settings, clock: ManualClock
) -> AsyncIterator[LegCareApplication]:
    """The real bot, migrated and polling the fake API, for the length of a test."""
    async with running_bot(
        bot_settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
    ) as application:
        yield application


@pytest.fixture
def user(fake_api: FakeBotApi, bot: LegCareApplication) -> FakeUser:
    """An English-speaking user in a private chat with the running bot."""
    return fake_api.user(user_id=1001, first_name="Ada", language_code="en")
