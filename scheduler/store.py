"""Reminder queries and writes on one session; the caller owns the transaction.

Every statement here is safe to run twice and safe to run in several processes at once:
inserts ignore rows that already exist (the unique key is user, kind, scheduled instant),
claims are a single ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` (on
SQLite, where one process is the supported mode, the row lock is simply not rendered and
the statement still takes the database's write lock at once), and rule updates only land
on the revision they were computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Preferences, User
from bot.db.reminder_models import (
    FINAL_STATUSES,
    DeliveryStatus,
    ReminderDelivery,
    ReminderRule,
)

# ``reason`` of a claimed row whose send is about to start. A claim that finds it still set
# takes over a send whose outcome was never recorded: the one window for a duplicate.
IN_FLIGHT = "in_flight"

# Statement parameter limits: SQLite allows 32766 bound values, asyncpg 32767.
_INSERT_CHUNK = 1000
_IN_CHUNK = 1000


@dataclass(frozen=True)
class NewDelivery:
    """A slot the materialiser found due for a rule."""

    user_id: int
    kind: str
    scheduled_at: datetime


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this dispatcher now holds a lease on."""

    id: int
    user_id: int
    kind: str
    scheduled_at: datetime
    attempts: int
    # A previous holder had started sending it and never recorded the outcome (crash,
    # or a lease that ran out mid-send): sending it now may duplicate the message.
    maybe_sent: bool


@dataclass(frozen=True)
class OpenDelivery:
    """Another delivery of the same user, for the one-per-kind rule."""

    id: int
    user_id: int
    kind: str
    scheduled_at: datetime


@dataclass(frozen=True)
class Recipient:
    """A user a claimed delivery is for, with what the dispatcher needs to decide."""

    user: User
    preferences: Preferences | None


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ReminderStore:
    """Reminder rules and deliveries."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # ---------------------------------------------------------------- rules

    async def rules_of(self, user_id: int) -> dict[str, ReminderRule]:
        """A user's rules by kind (switched on or off)."""
        rows = await self._session.scalars(
            select(ReminderRule).where(ReminderRule.user_id == user_id)
        )
        return {rule.kind: rule for rule in rows}

    def add_rule(self, rule: ReminderRule) -> None:
        """Stage a new rule."""
        self._session.add(rule)

    async def rules_for(self, user_ids: Iterable[int]) -> dict[tuple[int, str], ReminderRule]:
        """Rules of several users, by (user, kind)."""
        found: dict[tuple[int, str], ReminderRule] = {}
        for chunk in _chunks(sorted(set(user_ids)), _IN_CHUNK):
            rows = await self._session.scalars(
                select(ReminderRule).where(ReminderRule.user_id.in_(chunk))
            )
            found.update({(rule.user_id, rule.kind): rule for rule in rows})
        return found

    async def due_rules(
        self, before: datetime, limit: int
    ) -> list[tuple[ReminderRule, User, Preferences | None]]:
        """Switched-on rules of unblocked users due before ``before``, locked (PostgreSQL).

        Rows another transaction holds are skipped, so several materialisers share the
        work instead of queueing behind each other.
        """
        statement = (
            select(ReminderRule, User, Preferences)
            .join(User, User.id == ReminderRule.user_id)
            .outerjoin(Preferences, Preferences.user_id == ReminderRule.user_id)
            .where(
                ReminderRule.enabled.is_(True),
                ReminderRule.next_due_at.is_not(None),
                ReminderRule.next_due_at < before,
                User.blocked_at.is_(None),
            )
            .order_by(ReminderRule.next_due_at)
            .limit(limit)
            .with_for_update(of=ReminderRule, skip_locked=True)
        )
        rows = await self._session.execute(statement)
        return [(rule, user, prefs) for rule, user, prefs in rows]

    async def advance_rule(
        self, rule: ReminderRule, next_due_at: datetime | None, *, now: datetime
    ) -> bool:
        """Move the rule's next due time, only if nobody changed the rule since it was read."""
        result = await self._session.execute(
            update(ReminderRule)
            .where(
                ReminderRule.user_id == rule.user_id,
                ReminderRule.kind == rule.kind,
                ReminderRule.revision == rule.revision,
            )
            .values(next_due_at=next_due_at, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # ---------------------------------------------------------------- deliveries

    async def add_deliveries(self, rows: Sequence[NewDelivery], *, now: datetime) -> int:
        """Insert pending deliveries, ignoring any that already exist; return how many new."""
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        created = 0
        for chunk in _chunks(rows, _INSERT_CHUNK):
            statement = (
                insert(ReminderDelivery)
                .values(
                    [
                        {
                            "user_id": row.user_id,
                            "kind": row.kind,
                            "scheduled_at": row.scheduled_at,
                            "status": DeliveryStatus.PENDING.value,
                            "available_at": row.scheduled_at,
                            "attempts": 0,
                            "sends": 0,
                            "updated_at": now,
                        }
                        for row in chunk
                    ]
                )
                .on_conflict_do_nothing(index_elements=["user_id", "kind", "scheduled_at"])
            )
            result = await self._session.execute(statement)
            created += max(getattr(result, "rowcount", 0), 0)
        return created

    async def claim(
        self, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedDelivery]:
        """Take up to ``limit`` deliveries that are due, or whose lease ran out.

        One statement: the inner ``SELECT ... FOR UPDATE SKIP LOCKED`` picks rows no other
        transaction is claiming, the ``UPDATE`` makes them ours until ``now + lease``.
        """
        table = ReminderDelivery
        candidates = (
            select(table.id)
            .where(
                table.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value]),
                table.available_at <= now,
            )
            .order_by(table.available_at, table.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(table)
            .where(table.id.in_(candidates.scalar_subquery()))
            .values(
                status=DeliveryStatus.CLAIMED.value,
                lease_owner=owner,
                available_at=now + lease,
                updated_at=now,
            )
            .returning(
                table.id,
                table.user_id,
                table.kind,
                table.scheduled_at,
                table.attempts,
                table.reason,
            )
            .execution_options(synchronize_session=False)
        )
        rows = (await self._session.execute(statement)).all()
        return [
            ClaimedDelivery(
                id=row.id,
                user_id=row.user_id,
                kind=row.kind,
                scheduled_at=row.scheduled_at,
                attempts=row.attempts,
                maybe_sent=row.reason == IN_FLIGHT,
            )
            for row in sorted(rows, key=lambda row: (row.user_id, row.scheduled_at))
        ]

    async def recipients(self, user_ids: Iterable[int]) -> dict[int, Recipient]:
        """Users and their preferences, by id."""
        found: dict[int, Recipient] = {}
        for chunk in _chunks(sorted(set(user_ids)), _IN_CHUNK):
            rows = await self._session.execute(
                select(User, Preferences)
                .outerjoin(Preferences, Preferences.user_id == User.id)
                .where(User.id.in_(chunk))
            )
            for user, prefs in rows:
                found[user.id] = Recipient(user, prefs)
        return found

    async def open_deliveries(
        self, user_ids: Iterable[int], *, since: datetime, until: datetime
    ) -> list[OpenDelivery]:
        """Deliveries of these users scheduled in ``[since, until]`` that are or may be sent."""
        table = ReminderDelivery
        found: list[OpenDelivery] = []
        live = [DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value, DeliveryStatus.SENT]
        for chunk in _chunks(sorted(set(user_ids)), _IN_CHUNK):
            rows = await self._session.execute(
                select(table.id, table.user_id, table.kind, table.scheduled_at).where(
                    table.user_id.in_(chunk),
                    table.status.in_(live),
                    table.scheduled_at >= since,
                    table.scheduled_at <= until,
                )
            )
            found.extend(
                OpenDelivery(row.id, row.user_id, row.kind, row.scheduled_at) for row in rows
            )
        return found

    async def settle(self, changes: Sequence[dict[str, Any]]) -> None:
        """Apply per-row changes (each a dict with ``id`` and the columns to set)."""
        if changes:
            await self._session.execute(update(ReminderDelivery), list(changes))

    async def record_sent(self, delivery_id: int, *, now: datetime, message_id: int | None) -> int:
        """Mark a delivery sent and count the send; return how many times it was sent."""
        result = await self._session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.id == delivery_id)
            .values(
                status=DeliveryStatus.SENT.value,
                sends=ReminderDelivery.sends + 1,
                sent_at=now,
                message_id=message_id,
                lease_owner=None,
                reason=None,
                available_at=now,
                updated_at=now,
            )
            .returning(ReminderDelivery.sends)
            .execution_options(synchronize_session=False)
        )
        return int(result.scalar_one())

    async def record_sent_many(
        self, sent: Sequence[tuple[int, int | None]], *, now: datetime
    ) -> dict[int, int]:
        """Mark several deliveries sent: (id, message id) pairs; return id -> times sent.

        Two statements however many there are, so recording keeps up with sending.
        """
        table = ReminderDelivery
        counts: dict[int, int] = {}
        for chunk in _chunks(list(sent), _IN_CHUNK):
            result = await self._session.execute(
                update(table)
                .where(table.id.in_([delivery_id for delivery_id, _ in chunk]))
                .values(
                    status=DeliveryStatus.SENT.value,
                    sends=table.sends + 1,
                    sent_at=now,
                    lease_owner=None,
                    reason=None,
                    available_at=now,
                    updated_at=now,
                )
                .returning(table.id, table.sends)
                .execution_options(synchronize_session=False)
            )
            counts.update({row[0]: row[1] for row in result})
            with_ids = [{"id": i, "message_id": m} for i, m in chunk if m is not None]
            if with_ids:
                await self._session.execute(update(table), with_ids)
        return counts

    async def requeue(
        self,
        delivery_id: int,
        *,
        owner: str,
        now: datetime,
        available_at: datetime,
        reason: str,
        error: str | None = None,
        attempts: int | None = None,
    ) -> bool:
        """Put a delivery we hold back to pending until ``available_at``."""
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING.value,
            "available_at": available_at,
            "lease_owner": None,
            "reason": reason,
            "updated_at": now,
        }
        if error is not None:
            values["last_error"] = error[:200]
        if attempts is not None:
            values["attempts"] = attempts
        return await self._update_held(delivery_id, owner, values)

    async def finish(
        self,
        delivery_id: int,
        *,
        owner: str,
        now: datetime,
        status: DeliveryStatus,
        reason: str,
        error: str | None = None,
        attempts: int | None = None,
    ) -> bool:
        """Give a delivery we hold a final status other than sent."""
        values: dict[str, Any] = {
            "status": status.value,
            "lease_owner": None,
            "reason": reason,
            "updated_at": now,
        }
        if error is not None:
            values["last_error"] = error[:200]
        if attempts is not None:
            values["attempts"] = attempts
        return await self._update_held(delivery_id, owner, values)

    async def _update_held(self, delivery_id: int, owner: str, values: dict[str, Any]) -> bool:
        table = ReminderDelivery
        result = await self._session.execute(
            update(table)
            .where(
                table.id == delivery_id,
                table.status == DeliveryStatus.CLAIMED.value,
                table.lease_owner == owner,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release(self, *, owner: str | None, now: datetime, ids: Sequence[int] = ()) -> int:
        """Give claimed deliveries back (all of ``owner``'s, or just ``ids``); return count.

        ``owner=None`` releases every lease: only for a process that knows it is alone
        (SQLite, after taking the single-process lock).
        """
        table = ReminderDelivery
        conditions = [table.status == DeliveryStatus.CLAIMED.value]
        if owner is not None:
            conditions.append(table.lease_owner == owner)
        if ids:
            conditions.append(table.id.in_(list(ids)))
        result = await self._session.execute(
            update(table)
            .where(*conditions)
            .values(
                status=DeliveryStatus.PENDING.value,
                lease_owner=None,
                available_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def block_user(self, user_id: int, *, now: datetime) -> int:
        """Record that the user blocked the bot and expire their waiting reminders."""
        await self._session.execute(
            update(User)
            .where(User.id == user_id, User.blocked_at.is_(None))
            .values(blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self.expire_waiting(user_id, reason="blocked", now=now)

    async def expire_waiting(self, user_id: int, *, reason: str, now: datetime) -> int:
        """Expire the user's pending deliveries (claimed ones are settled by their holder)."""
        table = ReminderDelivery
        result = await self._session.execute(
            update(table)
            .where(table.user_id == user_id, table.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.EXPIRED.value, reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def drop_future(
        self, user_id: int, *, after: datetime, kinds: Iterable[str] | None = None
    ) -> int:
        """Delete the user's pending deliveries scheduled after ``after`` (plans changed)."""
        table = ReminderDelivery
        conditions = [
            table.user_id == user_id,
            table.status == DeliveryStatus.PENDING.value,
            table.scheduled_at > after,
        ]
        if kinds is not None:
            conditions.append(table.kind.in_(list(kinds)))
        result = await self._session.execute(
            delete(table).where(*conditions).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def counts(self) -> dict[str, int]:
        """How many deliveries are in each status (for reports and tests)."""
        rows = await self._session.execute(
            select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
        )
        return {row[0]: row[1] for row in rows}

    async def purge(self, *, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` final deliveries scheduled before ``before``."""
        table = ReminderDelivery
        old = (
            select(table.id)
            .where(
                table.scheduled_at < before,
                table.status.in_([status.value for status in FINAL_STATUSES]),
            )
            .limit(limit)
        )
        result = await self._session.execute(
            delete(table)
            .where(table.id.in_(old.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))
