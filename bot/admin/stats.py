"""Operator numbers for ``/admin_stats``, read-only over other features' tables.

Each figure is a :class:`Metric`: the tables it reads (looked up by name in the models'
metadata, so this module imports no other feature's code) and a query. A metric whose
tables do not exist is reported as "not recorded" instead of failing, so adding a figure
is one more entry in :data:`METRICS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Base
from scheduler.render import ANNOUNCEMENT_KIND_PREFIX

WINDOWS = (7, 30)
"""Days looked back for the figures that have a time."""

Query = Callable[[AsyncSession, Mapping[str, Table], datetime], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class Metric:
    """One figure (or a breakdown) on the stats screen."""

    name: str
    tables: tuple[str, ...]
    query: Query


@dataclass(frozen=True)
class Figure:
    """A metric's values (label -> count), or None when its tables do not exist yet."""

    name: str
    values: dict[str, int] | None


async def _users(session: AsyncSession, t: Mapping[str, Table], now: datetime) -> dict[str, int]:
    users = t["users"]
    total = await session.scalar(select(func.count()).select_from(users))
    blocked = await session.scalar(
        select(func.count()).select_from(users).where(users.c.blocked_at.is_not(None))
    )
    return {"total": int(total or 0), "blocked": int(blocked or 0)}


async def _subscriptions(
    session: AsyncSession, t: Mapping[str, Table], now: datetime
) -> dict[str, int]:
    rules = t["reminder_rules"]
    enabled = rules.c.enabled.is_(True)
    count = await session.scalar(select(func.count()).select_from(rules).where(enabled))
    people = await session.scalar(
        select(func.count(func.distinct(rules.c.user_id))).where(enabled)
    )
    return {"rules": int(count or 0), "users": int(people or 0)}


def _by_column_over_windows(
    table: str, column: str, time_column: str, *, news: bool | None = None
) -> Query:
    """Counts per value of ``column`` over each window; for deliveries, ``news`` picks
    reminders (False) or announcements (True)."""

    async def query(
        session: AsyncSession, t: Mapping[str, Table], now: datetime
    ) -> dict[str, int]:
        rows = t[table]
        found: dict[str, int] = {}
        for days in WINDOWS:
            statement = select(rows.c[column], func.count()).where(
                rows.c[time_column] >= now - timedelta(days=days)
            )
            if news is not None:
                is_news = rows.c.kind.startswith(ANNOUNCEMENT_KIND_PREFIX)
                statement = statement.where(is_news if news else ~is_news)
            result = await session.execute(statement.group_by(rows.c[column]))
            for value, count in result:
                found[f"{value}|{days}"] = int(count)
        return found

    return query


async def _announcement_subscribers(
    session: AsyncSession, t: Mapping[str, Table], now: datetime
) -> dict[str, int]:
    count = await session.scalar(select(func.count()).select_from(t["announcement_subscribers"]))
    return {"total": int(count or 0)}


METRICS: tuple[Metric, ...] = (
    Metric("users", ("users",), _users),
    Metric("subscriptions", ("reminder_rules",), _subscriptions),
    Metric(
        "checks",
        ("triage_records",),
        _by_column_over_windows("triage_records", "disposition", "finished_at"),
    ),
    Metric(
        "reminders",
        ("reminder_deliveries",),
        _by_column_over_windows("reminder_deliveries", "status", "scheduled_at", news=False),
    ),
    Metric(
        "news",
        ("reminder_deliveries",),
        _by_column_over_windows("reminder_deliveries", "status", "scheduled_at", news=True),
    ),
    Metric("announcements", ("announcement_subscribers",), _announcement_subscribers),
)


async def collect(
    session: AsyncSession, now: datetime, metrics: tuple[Metric, ...] = METRICS
) -> list[Figure]:
    """Every metric whose tables exist; the others as not recorded."""
    tables = Base.metadata.tables
    figures: list[Figure] = []
    for metric in metrics:
        if not all(name in tables for name in metric.tables):
            figures.append(Figure(metric.name, None))
            continue
        figures.append(Figure(metric.name, await metric.query(session, tables, now)))
    return figures
