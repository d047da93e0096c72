"""Claim due deliveries, apply the lateness policy, send, record: at least once, boundedly.

One :meth:`Dispatcher.drain` call claims due deliveries in small batches and sends them
until nothing due is left (or :meth:`Dispatcher.stop` is called). Each batch is one short
transaction:

1. **Claim.** ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)``
   makes up to ``n`` due rows ours: ``status = claimed``, ``lease_owner`` = this process,
   ``available_at`` = now + lease. Rows that other dispatchers are claiming are skipped, not
   waited for. A row whose lease ran out (its holder died) is due again and is taken over.
2. **Decide** with :func:`scheduler.lateness.decide_batch` per user, over the claimed rows
   plus that user's other live deliveries of the last ``max_lateness``, so the
   one-late-reminder-per-kind rule holds even when two dispatchers hold rows of the same
   user: too late or superseded -> ``expired``; outside active hours -> back to
   ``pending`` until they start, or ``expired`` if that is too late; blocked user or kind
   switched off -> ``expired``; the rest are marked ``in_flight`` and sent.

Each send runs outside any transaction; its outcome is recorded right after Telegram
answers, in a short transaction apart from any claim (outcomes that finish together share
one commit, the sent ones one statement): ``sent`` (counting ``sends``), re-queued after
a 429 without counting an attempt, ``dead`` for 400/403 (403 also blocks the user),
re-queued with exponential backoff and jitter for 5xx/network errors until
``max_attempts``, then ``failed``. Outcome writes other than ``sent`` only land while we
still hold the lease.

Why a lease and not a held row lock: the transaction, and its database connection, would
stay open for the whole send; with a lease the row is free in milliseconds, a crashed
process's rows come back when the lease runs out, and a process restarting on SQLite (the
only one, by the file lock) releases all leases at once. The price is the duplicate
window: a message Telegram accepted whose ``sent`` was not recorded (crash in between,
or the lease ran out first) is sent again by the next holder. Such takeovers are counted
(``maybe_duplicates``) because the row still says ``in_flight``; recorded double sends are
counted in ``sends``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import random
import secrets
import socket
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.reminder_models import DeliveryStatus
from scheduler.lateness import DEFAULT_MAX_LATENESS, Decision, DueItem, Verdict, decide_batch
from scheduler.planning import ReminderKind
from scheduler.render import DueReminder, ReminderMessage, Renderer, is_one_off
from scheduler.rules import user_prefs
from scheduler.sending import Sender, SendResult, SendStatus
from scheduler.store import IN_FLIGHT, ClaimedDelivery, OpenDelivery, Recipient, ReminderStore

logger = logging.getLogger(__name__)

_KINDS = frozenset(kind.value for kind in ReminderKind)


@dataclass(frozen=True)
class DispatchConfig:
    """Tunables of the dispatcher; the defaults suit one process sending 25 messages/s."""

    lease: timedelta = timedelta(minutes=2)
    claim_batch: int = 50
    max_in_flight: int = 50
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_cap: timedelta = timedelta(minutes=5)
    shutdown_grace: timedelta = timedelta(seconds=5)


@dataclass
class DispatchReport:
    """Counters since the dispatcher was created."""

    claimed: int = 0
    sent: int = 0
    expired: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    blocked_users: int = 0
    skipped: int = 0  # declined by the renderer (ReminderMessage.skip): expired, not sent
    maybe_duplicates: int = 0  # sends of rows whose earlier send had an unknown outcome
    recorded_duplicates: int = 0  # rows Telegram accepted more than once
    errors: int = 0  # unexpected exceptions while sending or recording (logged)


@dataclass(frozen=True)
class _Outcome:
    delivery: ClaimedDelivery
    result: SendResult
    done: asyncio.Future[None]


@dataclass(frozen=True)
class _Send:
    delivery: ClaimedDelivery
    reminder: DueReminder


def process_owner_id() -> str:
    """A lease owner name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Dispatcher:
    """Sends due reminders for one process; see the module docs for the protocol."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: Sender,
        renderer: Renderer,
        default_zone: ZoneInfo,
        owner: str | None = None,
        config: DispatchConfig | None = None,
        max_lateness: Mapping[ReminderKind, timedelta] = DEFAULT_MAX_LATENESS,
        rng: random.Random | None = None,
    ) -> None:
        self.owner = owner or process_owner_id()
        self.config = config or DispatchConfig()
        self.report = DispatchReport()
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._sender = sender
        self._renderer = renderer
        self._default_zone = default_zone
        self._max_lateness = max_lateness
        self._context_window = max(max_lateness.values())
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter, not security
        self._in_flight: set[asyncio.Task[None]] = set()
        self._outcomes: list[_Outcome] = []
        self._writer: asyncio.Task[None] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called; no new claims are made after that."""
        return self._stopping

    def kick(self) -> bool:
        """Start :meth:`drain` in the background unless it is running; False if it was."""
        if self._stopping or (self._drain_task is not None and not self._drain_task.done()):
            return False
        self._drain_task = asyncio.create_task(self._drain_logged(), name="reminder-drain")
        return True

    async def drain(self) -> None:
        """Claim and send until nothing is due, then wait for the last sends to finish."""
        while not self._stopping:
            room = self.config.max_in_flight - len(self._in_flight)
            if room < min(self.config.claim_batch, self.config.max_in_flight):
                # Claim in whole batches: a claim per finished send would keep the
                # database busy (on SQLite, its one writer) when outcomes need recording.
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            claimed, sends = await self._claim_and_decide(min(room, self.config.claim_batch))
            for send in sends:
                task = asyncio.create_task(self._deliver(send), name="reminder-send")
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if claimed == 0:
                break
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def stop(self) -> None:
        """Stop claiming, give in-flight sends ``shutdown_grace``, then release our leases."""
        self._stopping = True
        grace = self.config.shutdown_grace.total_seconds()
        waiting: set[asyncio.Task[None]] = set(self._in_flight)
        if self._drain_task is not None:
            waiting.add(self._drain_task)
        if waiting:
            _, unfinished = await asyncio.wait(waiting, timeout=grace)
            for task in unfinished:
                task.cancel()
            if unfinished:
                logger.warning("cancelled %d unfinished sends at shutdown", len(unfinished))
                await asyncio.gather(*unfinished, return_exceptions=True)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)  # sends that finished
        async with self._sessionmaker.begin() as session:
            released = await ReminderStore(session).release(
                owner=self.owner, now=self._clock.now()
            )
        if released:
            logger.info("released %d reminder leases at shutdown", released)

    # ---------------------------------------------------------------- claim and decide

    async def _claim_and_decide(self, limit: int) -> tuple[int, list[_Send]]:
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            store = ReminderStore(session)
            claimed = await store.claim(
                owner=self.owner, now=now, lease=self.config.lease, limit=limit
            )
            if not claimed:
                return 0, []
            users = {row.user_id for row in claimed}
            recipients = await store.recipients(users)
            rules = await store.rules_for(users)
            others = await store.open_deliveries(
                users, since=now - self._context_window, until=now
            )
            changes: list[dict[str, Any]] = []
            sends: list[_Send] = []
            by_user: dict[int, list[ClaimedDelivery]] = defaultdict(list)
            for row in claimed:
                by_user[row.user_id].append(row)
            context: dict[int, list[OpenDelivery]] = defaultdict(list)
            mine = {row.id for row in claimed}
            for other in others:
                if other.id not in mine and other.kind in _KINDS:
                    context[other.user_id].append(other)
            for user_id, rows in by_user.items():
                self._decide_user(
                    rows,
                    recipient=recipients.get(user_id),
                    rules=rules,
                    context=context[user_id],
                    now=now,
                    changes=changes,
                    sends=sends,
                )
            await store.settle(changes)
        self.report.claimed += len(claimed)
        return len(claimed), sends

    def _decide_user(
        self,
        rows: list[ClaimedDelivery],
        *,
        recipient: Recipient | None,
        rules: Mapping[tuple[int, str], Any],
        context: list[OpenDelivery],
        now: datetime,
        changes: list[dict[str, Any]],
        sends: list[_Send],
    ) -> None:
        if recipient is None or recipient.user.blocked_at is not None:
            for row in rows:
                changes.append(self._expire(row, "blocked", now))
            return
        live: list[ClaimedDelivery] = []
        for row in rows:
            if is_one_off(row.kind):
                # A one-off message (an announcement, a follow-up, a journey nudge): no rule,
                # no lateness policy; its send time was planned into the user's hours when it
                # was queued (the renderer may still decline it: ReminderMessage.skip).
                self._send_now(row, recipient, now=now, changes=changes, sends=sends)
                continue
            rule = rules.get((row.user_id, row.kind))
            if row.kind not in _KINDS or rule is None or not rule.enabled:
                changes.append(self._expire(row, "disabled", now))
            else:
                live.append(row)
        if not live:
            return
        prefs = user_prefs(recipient.user, recipient.preferences, self._default_zone)
        items = [DueItem(row.id, ReminderKind(row.kind), row.scheduled_at) for row in live]
        items += [DueItem(o.id, ReminderKind(o.kind), o.scheduled_at) for o in context]
        decisions = decide_batch(items, prefs=prefs, now=now, max_lateness=self._max_lateness)
        by_id = {row.id: row for row in live}
        for decision in decisions:
            held = by_id.get(decision.item.key)
            if held is None:
                continue  # context only: someone else's row
            self._apply(held, decision, recipient, now=now, changes=changes, sends=sends)

    def _apply(
        self,
        row: ClaimedDelivery,
        decision: Decision[int],
        recipient: Recipient,
        *,
        now: datetime,
        changes: list[dict[str, Any]],
        sends: list[_Send],
    ) -> None:
        if decision.verdict is Verdict.SEND:
            self._send_now(row, recipient, now=now, changes=changes, sends=sends)
        elif decision.verdict is Verdict.EXPIRE:
            changes.append(self._expire(row, decision.reason.value, now))
        else:
            self.report.deferred += 1
            changes.append(
                {
                    "id": row.id,
                    "status": DeliveryStatus.PENDING.value,
                    "available_at": decision.retry_at or now,
                    "lease_owner": None,
                    "reason": decision.reason.value,
                    "updated_at": now,
                }
            )

    def _send_now(
        self,
        row: ClaimedDelivery,
        recipient: Recipient,
        *,
        now: datetime,
        changes: list[dict[str, Any]],
        sends: list[_Send],
    ) -> None:
        if row.maybe_sent:
            self.report.maybe_duplicates += 1
            logger.warning(
                "reminder %d is sent again: an earlier send's outcome is unknown", row.id
            )
        changes.append({"id": row.id, "reason": IN_FLIGHT, "updated_at": now})
        reminder = DueReminder(
            delivery_id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            scheduled_at=row.scheduled_at,
            language=recipient.user.language,
        )
        sends.append(_Send(row, reminder))

    def _expire(self, row: ClaimedDelivery, reason: str, now: datetime) -> dict[str, Any]:
        self.report.expired[reason] += 1
        return {
            "id": row.id,
            "status": DeliveryStatus.EXPIRED.value,
            "lease_owner": None,
            "reason": reason,
            "updated_at": now,
        }

    # ---------------------------------------------------------------- send and record

    async def _drain_logged(self) -> None:
        try:
            await self.drain()
        except Exception:
            self.report.errors += 1
            logger.exception("reminder dispatch pass failed; the next tick tries again")

    async def _deliver(self, send: _Send) -> None:
        try:
            rendered = self._renderer(send.reminder)
            message = await rendered if inspect.isawaitable(rendered) else rendered
        except Exception:
            self.report.errors += 1
            logger.exception("could not render reminder %d", send.delivery.id)
            result = SendResult(SendStatus.REJECTED, error="render failed")
        else:
            if message.skip is not None:
                result = SendResult(SendStatus.SKIPPED, error=message.skip)
            else:
                result = await self._send(send, message)
        done = asyncio.get_running_loop().create_future()
        self._outcomes.append(_Outcome(send.delivery, result, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_outcomes(), name="reminder-outcomes")
        await done

    async def _write_outcomes(self) -> None:
        """Record finished sends right away; those finishing together share a transaction.

        One commit per batch instead of per message keeps recording ahead of sending
        (SQLite syncs every commit to disk), which is what keeps the window between
        "Telegram accepted it" and "we know it was sent" at milliseconds.
        """
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                async with self._sessionmaker.begin() as session:
                    tallies = await self._record_batch(ReminderStore(session), batch)
            except Exception:
                logger.warning("recording %d outcomes together failed; one by one", len(batch))
                for outcome in batch:
                    await self._write_one(outcome)
                continue
            else:
                for tally in tallies:
                    self._count(tally)
            for outcome in batch:
                if not outcome.done.done():
                    outcome.done.set_result(None)

    async def _record_batch(
        self, store: ReminderStore, batch: list[_Outcome]
    ) -> list[Counter[str]]:
        """Sent ones in one statement, the (rare) others one by one."""
        sent = [o for o in batch if o.result.status is SendStatus.SENT]
        tallies = [await self._record(store, o.delivery, o.result) for o in batch if o not in sent]
        if sent:
            pairs = [(o.delivery.id, o.result.message_id) for o in sent]
            times = await store.record_sent_many(pairs, now=self._clock.now())
            tallies.append(Counter(sent=len(sent)))
            for delivery_id, count in times.items():
                if count > 1:
                    tallies.append(Counter(recorded_duplicates=1))
                    logger.warning("reminder %d was accepted %d times", delivery_id, count)
        return tallies

    async def _write_one(self, outcome: _Outcome) -> None:
        try:
            async with self._sessionmaker.begin() as session:
                store = ReminderStore(session)
                tally = await self._record(store, outcome.delivery, outcome.result)
        except Exception:
            self.report.errors += 1
            logger.exception(
                "could not record the outcome of reminder %d (%s); its lease will run out",
                outcome.delivery.id,
                outcome.result.status,
            )
        else:
            self._count(tally)
        if not outcome.done.done():
            outcome.done.set_result(None)

    async def _send(self, send: _Send, message: ReminderMessage) -> SendResult:
        try:
            return await self._sender.send(send.delivery.user_id, message)
        except Exception as error:
            self.report.errors += 1
            logger.exception("unexpected error sending reminder %d", send.delivery.id)
            return SendResult(SendStatus.FAILED, error=type(error).__name__)

    async def _record(
        self, store: ReminderStore, delivery: ClaimedDelivery, result: SendResult
    ) -> Counter[str]:
        """Write one outcome; return the report counters it moves (applied after commit)."""
        now = self._clock.now()
        tally: Counter[str] = Counter()
        match result.status:
            case SendStatus.SENT:
                sends = await store.record_sent(delivery.id, now=now, message_id=result.message_id)
                tally["sent"] += 1
                if sends > 1:
                    tally["recorded_duplicates"] += 1
                    logger.warning("reminder %d was accepted %d times", delivery.id, sends)
            case SendStatus.RATE_LIMITED:
                tally["rate_limited"] += 1
                await store.requeue(
                    delivery.id,
                    owner=self.owner,
                    now=now,
                    available_at=result.resume_at or now,
                    reason="rate_limited",
                )
            case SendStatus.BLOCKED:
                tally.update(dead=1, blocked_users=1)
                await store.finish(
                    delivery.id,
                    owner=self.owner,
                    now=now,
                    status=DeliveryStatus.DEAD,
                    reason="blocked",
                    error=result.error,
                )
                await store.block_user(delivery.user_id, now=now)
                logger.info("a user blocked the bot; their reminders stop until /start")
            case SendStatus.REJECTED:
                tally["dead"] += 1
                await store.finish(
                    delivery.id,
                    owner=self.owner,
                    now=now,
                    status=DeliveryStatus.DEAD,
                    reason="rejected",
                    error=result.error,
                )
                logger.warning("reminder %d dead-lettered: %s", delivery.id, result.error)
            case SendStatus.FAILED:
                tally.update(await self._retry_or_give_up(store, delivery, result, now))
            case SendStatus.SKIPPED:
                tally["skipped"] += 1
                await store.finish(
                    delivery.id,
                    owner=self.owner,
                    now=now,
                    status=DeliveryStatus.EXPIRED,
                    reason=(result.error or "skipped")[:32],
                )
        return tally

    async def _retry_or_give_up(
        self, store: ReminderStore, delivery: ClaimedDelivery, result: SendResult, now: datetime
    ) -> Counter[str]:
        attempts = delivery.attempts + 1
        if attempts >= self.config.max_attempts:
            await store.finish(
                delivery.id,
                owner=self.owner,
                now=now,
                status=DeliveryStatus.FAILED,
                reason="gave_up",
                error=result.error,
                attempts=attempts,
            )
            logger.warning(
                "reminder %d failed after %d attempts: %s", delivery.id, attempts, result.error
            )
            return Counter(failed=1)
        await store.requeue(
            delivery.id,
            owner=self.owner,
            now=now,
            available_at=now + self.backoff(attempts),
            reason="retry",
            error=result.error,
            attempts=attempts,
        )
        return Counter(retried=1)

    def _count(self, tally: Counter[str]) -> None:
        for name, amount in tally.items():
            setattr(self.report, name, getattr(self.report, name) + amount)

    def backoff(self, attempts: int) -> timedelta:
        """Delay before retry number ``attempts``: doubling from the base, capped, with
        jitter (between half and all of it), so a failing Telegram is not hit in step."""
        doubled: timedelta = self.config.backoff_base * 2 ** (attempts - 1)
        delay = min(self.config.backoff_cap, doubled)
        return delay * (0.5 + self._rng.random() / 2)


async def release_all_leases(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Give back every claimed delivery; only for a process that knows it is alone."""
    async with sessionmaker.begin() as session:
        released = await ReminderStore(session).release(owner=None, now=clock.now())
    if released:
        logger.info("took back %d reminder leases left by a previous run", released)
    return released
