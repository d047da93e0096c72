"""What a due reminder says and what its buttons do: rotation, buttons, taps. No Telegram.

**Rotation.** Each kind's items (``content/data/reminders.yaml``) are shown in turn: the
n-th reminder of a kind a user is sent shows item ``n + start`` of that kind, where
``start`` is a stable per-user offset, so consecutive reminders differ and two users do not
see the same item at the same hour. Nothing is stored for this: ``n`` is the number of
that kind's deliveries already sent. In the evening (from 17:00 local) a stretch is chosen
among the items that suit the evening; while a symptom check's urgent result is open
(:func:`scheduler.followups.hold_active`), stretches are not sent and posture reminders
leave out the items that ask to walk.

**Buttons** on every reminder: Done, Skip, Snooze 15 min / 1 h, Pause today, "My leg
feels worse", and on posture "I just moved". Their callback data is signed for the user
by :class:`bot.callbacks.CallbackCodec` and names the delivery; :func:`tap` checks the
delivery belongs to the user and keeps the first of Done / Skip / Snooze per delivery
(``nudge_taps``' key), so a double tap or a replayed button changes nothing.

**Snooze** adds a one-time delivery of the same kind 15 or 60 minutes later; the rule's
schedule and ``next_due_at`` are untouched. **I just moved** restarts the posture timer:
the next posture reminder comes one interval from now, and grid slots closer than half an
interval after it are dropped.

:class:`NudgeRenderer` is the reminder engine's renderer for everything but
announcements: reminders, follow-ups (``fu:``) and journeys (``tn:``/``tc:``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.db.models import Preferences, User
from bot.db.nudge_models import NudgeTap
from bot.db.reminder_models import DeliveryStatus, ReminderDelivery, ReminderRule
from bot.travel import NUDGE_LATENESS, Journey, parse_kind
from content.live import LiveContent
from content.pack import ContentPack
from content.reminder_schema import NudgeItem
from content.triage_schema import Disposition
from scheduler import followups, preferences
from scheduler.materialise import first_due_from
from scheduler.planning import Interval, ReminderKind, UserPrefs, is_active
from scheduler.planning import ReminderRule as PlannedRule
from scheduler.preferences import Defaults, PauseChoice
from scheduler.render import Buttons, DueReminder, ReminderMessage
from scheduler.rules import ScheduleFormatError, decode_schedule, user_prefs
from scheduler.store import NewDelivery, ReminderStore

logger = logging.getLogger(__name__)

TAP_ACTION = "rn"
"""Reminder buttons: ``rn1:<op>:<delivery id>`` (``rn1:w`` for "My leg feels worse")."""
FOLLOW_UP_ACTION = "fu"
"""Follow-up buttons: ``fu1:<token>:<round>:<answer>``, ``fu1:<token>:q`` (ask at night)."""
TRAVEL_ACTION = "tv"
"""Journey buttons: ``tv1:l:<hours>``, ``tv1:r:<hours>:<start>:<y|n|u>``,
``tv1:a:<hours>:<start>`` (arrived), ``tv1:f`` (legs fine)."""
CHECK_ACTION = "t"
EVENING_FROM = time(17, 0)
DEFAULT_POSTURE_GAP = timedelta(minutes=45)
_ROTATION_SPREAD = 1000


class TapOp(StrEnum):
    """What a reminder button does."""

    DONE = "d"
    SKIP = "s"
    SNOOZE_15 = "z15"
    SNOOZE_60 = "z60"
    PAUSE_TODAY = "p"
    MOVED = "m"
    WORSE = "w"


SNOOZES: dict[TapOp, timedelta] = {
    TapOp.SNOOZE_15: timedelta(minutes=15),
    TapOp.SNOOZE_60: timedelta(hours=1),
}
_RECORDED: dict[TapOp, str] = {
    TapOp.DONE: "done",
    TapOp.MOVED: "done",
    TapOp.SKIP: "skip",
    TapOp.SNOOZE_15: "snooze",
    TapOp.SNOOZE_60: "snooze",
}


# ---------------------------------------------------------------------- rotation


def rotation_start(user_id: int) -> int:
    """A stable per-user starting point of the rotation (same in every process)."""
    digest = hashlib.blake2b(f"rotation:{user_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % _ROTATION_SPREAD


def pick_item(
    items: tuple[NudgeItem, ...], position: int, *, evening: bool = False, held: bool = False
) -> NudgeItem | None:
    """The item at ``position`` of the rotation, among those that may be shown now."""
    allowed = [item for item in items if not (held and item.walking)]
    if evening:
        allowed = [item for item in allowed if item.evening] or allowed
    if not allowed:
        return None
    return allowed[position % len(allowed)]


def is_evening(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether ``instant`` is evening where the user is."""
    return instant.astimezone(zone).time() >= EVENING_FROM


# ---------------------------------------------------------------------- wording


def local_moment(pack: ContentPack, lang: str, instant: datetime, zone: ZoneInfo) -> str:
    """``Tue 14:03`` in the user's zone."""
    local = instant.astimezone(zone)
    day = pack.text(lang, f"settings.weekday.{_WEEKDAYS[local.weekday()]}")
    return f"{day} {local:%H:%M}"


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def item_text(pack: ContentPack, lang: str, kind: str, item: NudgeItem) -> str:
    """Heading, what to do, how long and how often, and the "don't do this if" notes."""
    title = pack.text(lang, item.title)
    lines = [pack.text(lang, f"nudges.heading.{kind}", title=title), pack.text(lang, item.body)]
    side = "_side" if item.per_side else ""
    if item.hold_seconds is not None:
        lines.append(
            pack.text(
                lang,
                f"nudges.dose.hold{side}",
                seconds=item.hold_seconds,
                times=item.repetitions or 1,
            )
        )
    elif item.repetitions is not None:
        lines.append(pack.text(lang, f"nudges.dose.reps{side}", times=item.repetitions))
    if item.cautions:
        lines.append("")
        lines.append(pack.text(lang, "nudges.cautions"))
        lines.extend(f"• {pack.text(lang, key)}" for key in item.cautions)
    return "\n".join(lines)


@dataclass(frozen=True)
class Voice:
    """Who is addressed, in which language and pack, with buttons signed for them."""

    pack: ContentPack
    lang: str
    codec: CallbackCodec
    user_id: int

    def text(self, key: str, /, **params: object) -> str:
        """A text in the user's language."""
        return self.pack.text(self.lang, key, **params)

    def button(self, key: str, action: str, *args: str) -> tuple[str, str]:
        """(label, signed callback data) for a button labelled by text ``key``."""
        return (self.text(key), self.codec.pack(action, *args, user_id=self.user_id))


def reminder_buttons(voice: Voice, kind: str, delivery_id: int) -> Buttons:
    """The buttons under a reminder."""

    def button(name: str, op: TapOp) -> tuple[str, str]:
        return voice.button(f"nudges.button.{name}", TAP_ACTION, op.value, str(delivery_id))

    rows: list[tuple[tuple[str, str], ...]] = [
        (button("done", TapOp.DONE), button("skip", TapOp.SKIP)),
        (button("snooze15", TapOp.SNOOZE_15), button("snooze60", TapOp.SNOOZE_60)),
    ]
    if kind == ReminderKind.POSTURE.value:
        rows.append((button("moved", TapOp.MOVED),))
    rows.append((button("pause_today", TapOp.PAUSE_TODAY),))
    rows.append((worse_button(voice),))
    return tuple(rows)


def worse_button(voice: Voice) -> tuple[str, str]:
    """ "My leg feels worse": opens the symptom check's emergency screen."""
    return voice.button("nudges.button.worse", TAP_ACTION, TapOp.WORSE.value)


_ANSWER_NAMES = {
    followups.Answer.BETTER: "better",
    followups.Answer.SAME: "same",
    followups.Answer.WORSE: "worse",
    followups.Answer.SEEN: "seen",
    followups.Answer.NOT_YET: "not_yet",
}


def follow_up_buttons(voice: Voice, token: str, round_: int, level: Disposition) -> Buttons:
    """Better / same / worse, or seen / not yet / worse."""
    return tuple(
        (
            voice.button(
                f"nudges.followup.button_{_ANSWER_NAMES[answer]}",
                FOLLOW_UP_ACTION,
                token,
                str(round_),
                answer.value,
            ),
        )
        for answer in followups.answers_for(level)
    )


def where_to_go(pack: ContentPack, lang: str, level: Disposition, emergency: str) -> str:
    """The result's action text ("call 112 now", "get seen today"...), number filled in."""
    return pack.text(lang, pack.triage.dispositions[level].action, emergency=emergency)


def emergency_number(pack: ContentPack, lang: str, country: str) -> str:
    """The emergency number of the user's country, never from translated text."""
    found = pack.countries.countries.get(country)
    if found is not None:
        return found.emergency
    return pack.text(lang, pack.triage.texts.unknown_number)


# ---------------------------------------------------------------------- rendering


class NudgeRenderer:
    """Renders reminders, follow-ups and journey deliveries; see the module docs."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        content: LiveContent,
        codec: CallbackCodec,
        clock: Clock,
        defaults: Defaults,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._content = content
        self._codec = codec
        self._clock = clock
        self._defaults = defaults

    async def __call__(self, reminder: DueReminder) -> ReminderMessage:
        """Render one due delivery (or decline it: ``ReminderMessage.skip``)."""
        pack = self._content.for_user(reminder.user_id).pack
        voice = Voice(pack, pack.language_for(reminder.language), self._codec, reminder.user_id)
        async with self._sessionmaker() as session:
            user = await session.get(User, reminder.user_id)
            if user is None:
                return ReminderMessage.skipped("no_user")
            prefs = user_prefs(user, await session.get(Preferences, user.id), self._defaults.zone)
            held = await followups.hold_active(session, user.id, self._clock.now())
            if reminder.kind in _KINDS:
                return await self._reminder(session, voice, reminder, prefs, held=held)
            token = followups.token_of_kind(reminder.kind)
            if token is not None:
                country = user.country or self._defaults.country
                return await self._follow_up(session, voice, reminder, token, country)
        journey = parse_kind(reminder.kind)
        if journey is not None:
            return self._journey(voice, reminder, *journey, held=held)
        return ReminderMessage.skipped("unknown_kind")

    async def _reminder(
        self,
        session: AsyncSession,
        voice: Voice,
        reminder: DueReminder,
        prefs: UserPrefs,
        *,
        held: bool,
    ) -> ReminderMessage:
        kind = reminder.kind
        if held and kind == ReminderKind.STRETCH.value:
            return ReminderMessage.skipped("care_hold")
        buttons = reminder_buttons(voice, kind, reminder.delivery_id)
        items = voice.pack.reminders.items(kind)
        sent = await session.scalar(
            select(func.count())
            .select_from(ReminderDelivery)
            .where(
                ReminderDelivery.user_id == reminder.user_id,
                ReminderDelivery.kind == kind,
                ReminderDelivery.status == DeliveryStatus.SENT.value,
            )
        )
        position = int(sent or 0) + rotation_start(reminder.user_id)
        evening = is_evening(reminder.scheduled_at, prefs.zone)
        item = pick_item(items, position, evening=evening, held=held)
        if item is None:  # a stored pack from before reminder content
            return ReminderMessage(voice.text(f"reminders.message.{kind}"), buttons)
        return ReminderMessage(item_text(voice.pack, voice.lang, kind, item), buttons)

    async def _follow_up(
        self,
        session: AsyncSession,
        voice: Voice,
        reminder: DueReminder,
        token: str,
        country: str,
    ) -> ReminderMessage:
        row = await followups.current(session, reminder.user_id)
        if row is None or row.token != token or row.due_at != reminder.scheduled_at:
            return ReminderMessage.skipped("superseded")
        level = Disposition(row.level)
        buttons = follow_up_buttons(voice, token, row.round, level)
        if not followups.is_urgent(level):
            return ReminderMessage(voice.text("nudges.followup.soft_question"), buttons)
        pack, lang = voice.pack, voice.lang
        question = voice.text(
            "nudges.followup.urgent_question",
            level=pack.text(lang, pack.triage.dispositions[level].title),
        )
        action = where_to_go(pack, lang, level, emergency_number(pack, lang, country))
        return ReminderMessage(f"{question}\n{action}", buttons)

    def _journey(
        self, voice: Voice, reminder: DueReminder, part: str, journey: Journey, *, held: bool
    ) -> ReminderMessage:
        if part == "offer":
            check = voice.button("nudges.travel.button_check", CHECK_ACTION, "new")
            fine = voice.button("nudges.travel.button_fine", TRAVEL_ACTION, "f")
            return ReminderMessage(voice.text("nudges.travel.check_offer"), ((check,), (fine,)))
        if self._clock.now() - reminder.scheduled_at > NUDGE_LATENESS:
            return ReminderMessage.skipped("too_late")
        key = "nudges.travel.nudge_held" if held else "nudges.travel.nudge"
        arrived = voice.button(
            "nudges.travel.button_arrived", TRAVEL_ACTION, "a", str(journey.hours), journey.key
        )
        text = voice.text(key, hour=journey.hour_of(reminder.scheduled_at))
        return ReminderMessage(text, ((arrived,), (worse_button(voice),)))


_KINDS = frozenset(kind.value for kind in ReminderKind)


# ---------------------------------------------------------------------- taps


class TapStatus(StrEnum):
    """How a tap ended."""

    DONE = "done"  # applied
    ALREADY = "already"  # this reminder already had its answer
    GONE = "gone"  # not a reminder of this user (forged id, purged history)


@dataclass(frozen=True)
class TapOutcome:
    """What a tap did; ``until`` is the snooze time, the pause end or the next posture."""

    status: TapStatus
    kind: str = ""
    until: datetime | None = None


async def tap(
    session: AsyncSession,
    user_id: int,
    op: TapOp,
    delivery_id: int,
    *,
    now: datetime,
    defaults: Defaults,
) -> TapOutcome:
    """Apply a reminder button (all but "worse", which the handler routes to the check)."""
    row = await session.get(ReminderDelivery, delivery_id)
    action = _RECORDED.get(op)
    if row is None or row.user_id != user_id or row.kind not in _KINDS:
        return TapOutcome(TapStatus.GONE)
    if op is TapOp.PAUSE_TODAY:
        paused = await preferences.pause(
            session, user_id, PauseChoice.TODAY, now=now, defaults=defaults
        )
        return TapOutcome(TapStatus.DONE, row.kind, paused)
    if action is None or (op is TapOp.MOVED and row.kind != ReminderKind.POSTURE.value):
        return TapOutcome(TapStatus.GONE)
    if not await _record(session, row, action, now):
        return TapOutcome(TapStatus.ALREADY, row.kind)
    until: datetime | None = None
    if op in SNOOZES:
        until = now + SNOOZES[op]
        await ReminderStore(session).add_deliveries(
            [NewDelivery(user_id, row.kind, until)], now=now
        )
    elif op is TapOp.MOVED:
        until = await restart_posture(session, user_id, now=now, defaults=defaults)
    return TapOutcome(TapStatus.DONE, row.kind, until)


async def _record(
    session: AsyncSession, row: ReminderDelivery, action: str, now: datetime
) -> bool:
    """Keep the first answer to a delivery; False if it already had one."""
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    result = await session.execute(
        insert(NudgeTap)
        .values(delivery_id=row.id, user_id=row.user_id, kind=row.kind, action=action, at=now)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
    )
    return bool(getattr(result, "rowcount", 0))


async def restart_posture(
    session: AsyncSession, user_id: int, *, now: datetime, defaults: Defaults
) -> datetime | None:
    """Restart the posture timer from now; return when the next posture reminder is due."""
    rule = await session.scalar(
        select(ReminderRule)
        .where(ReminderRule.user_id == user_id, ReminderRule.kind == ReminderKind.POSTURE.value)
        .with_for_update()
    )
    user = await session.get(User, user_id)
    if rule is None or not rule.enabled or user is None:
        return None
    try:
        schedule = decode_schedule(rule.schedule)
    except ScheduleFormatError:
        return None
    gap = (
        timedelta(minutes=schedule.minutes)
        if isinstance(schedule, Interval)
        else DEFAULT_POSTURE_GAP
    )
    prefs = user_prefs(user, await session.get(Preferences, user_id), defaults.zone)
    target = now + gap
    await session.execute(
        delete(ReminderDelivery)
        .where(
            ReminderDelivery.user_id == user_id,
            ReminderDelivery.kind == ReminderKind.POSTURE.value,
            ReminderDelivery.status == DeliveryStatus.PENDING.value,
            ReminderDelivery.scheduled_at > now,
            ReminderDelivery.scheduled_at < target + gap / 2,
        )
        .execution_options(synchronize_session=False)
    )
    planned = PlannedRule(ReminderKind.POSTURE, schedule)
    rule.next_due_at = first_due_from(planned, prefs, target + gap / 2)
    rule.revision += 1
    rule.updated_at = now
    if is_active(target, prefs):
        await ReminderStore(session).add_deliveries(
            [NewDelivery(user_id, ReminderKind.POSTURE.value, target)], now=now
        )
        return target
    return rule.next_due_at
