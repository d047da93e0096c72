"""The Reminders screens: each kind on or off, how often, fixed times, pause and resume.

Buttons carry ``r1:<screen>[:<kind>][:<choice>]``; routing is stateless like the settings
screens (see :mod:`handlers.settings`). Every change goes through
:mod:`scheduler.preferences`, which replans the user's reminders at once.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Update

from bot.callbacks import CallbackCodec
from bot.context import LegCareContext
from content.pack import ContentPack
from handlers.common import ButtonRow
from handlers.settings import (
    Route,
    Screen,
    Tap,
    apply_change,
    clock_time,
    current_settings,
    describe_days,
    describe_hours,
    edit_screen,
    load_user_settings,
    local_moment,
    main_menu_button,
    route_tap,
)
from scheduler import preferences
from scheduler.planning import (
    INTERVAL_PRESETS_MINUTES,
    TIMES_PER_DAY_PRESETS,
    FixedTimes,
    Interval,
    ReminderKind,
    Schedule,
    TimesPerDay,
)
from scheduler.preferences import PauseChoice, UnknownChoiceError, UserSettings

ACTION = "r"
_PAUSE_LABELS = {
    PauseChoice.HOUR: "hour",
    PauseChoice.TODAY: "today",
    PauseChoice.THREE_DAYS: "three_days",
    PauseChoice.WEEK: "week",
    PauseChoice.UNTIL_RESUMED: "indefinitely",
}


# ---------------------------------------------------------------------- wording


def describe_schedule(pack: ContentPack, lang: str, schedule: Schedule) -> str:
    """ "every 2 hours", "every 45 minutes", "3 times a day", "at 08:00, 12:00"."""
    match schedule:
        case Interval(minutes=60):
            return pack.text(lang, "reminders.schedule.hour")
        case Interval(minutes=minutes) if minutes % 60 == 0:
            return pack.text(lang, "reminders.schedule.hours", hours=minutes // 60)
        case Interval(minutes=minutes):
            return pack.text(lang, "reminders.schedule.minutes", minutes=minutes)
        case TimesPerDay(count=count):
            return pack.text(lang, "reminders.schedule.times", count=count)
        case FixedTimes(times=times):
            return pack.text(
                lang, "reminders.schedule.fixed", times=", ".join(clock_time(t) for t in times)
            )


def _preset_label(pack: ContentPack, lang: str, schedule: Schedule) -> str:
    match schedule:
        case Interval(minutes=60):
            return pack.text(lang, "reminders.preset.hour")
        case Interval(minutes=minutes) if minutes % 60 == 0:
            return pack.text(lang, "reminders.preset.hours", hours=minutes // 60)
        case Interval(minutes=minutes):
            return pack.text(lang, "reminders.preset.minutes", minutes=minutes)
        case TimesPerDay(count=count):
            return pack.text(lang, "reminders.preset.times", count=count)
        case FixedTimes():
            return pack.text(lang, "reminders.buttons.fixed")


def presets(kind: ReminderKind) -> list[Schedule]:
    """The schedules the kind screen offers as one-tap choices."""
    return [
        *(Interval(minutes) for minutes in INTERVAL_PRESETS_MINUTES.get(kind, ())),
        *(TimesPerDay(count) for count in TIMES_PER_DAY_PRESETS.get(kind, ())),
    ]


def _preset_args(schedule: Schedule) -> tuple[str, str]:
    if isinstance(schedule, Interval):
        return ("iv", str(schedule.minutes))
    if isinstance(schedule, TimesPerDay):
        return ("tpd", str(schedule.count))
    raise ValueError("fixed times are chosen on their own screen")


# ---------------------------------------------------------------------- screens


def reminders_screen(
    pack: ContentPack, codec: CallbackCodec, user_id: int, current: UserSettings, now: datetime
) -> Screen:
    """All kinds at a glance, with pause or resume."""
    lang = current.language
    zone = ZoneInfo(current.timezone)
    lines = [pack.text(lang, "reminders.title"), ""]
    any_on_never = False
    for kind, setting in current.kinds.items():
        name = pack.text(lang, f"reminders.kind.{kind.value}")
        if not setting.enabled:
            lines.append(pack.text(lang, "reminders.line.off", kind=name))
            continue
        schedule = describe_schedule(pack, lang, setting.schedule)
        if setting.next_due_at is None:
            any_on_never = not current.paused_at(now)
            lines.append(pack.text(lang, "reminders.line.on_never", kind=name, schedule=schedule))
        else:
            when = local_moment(pack, lang, setting.next_due_at, zone)
            lines.append(
                pack.text(lang, "reminders.line.on", kind=name, schedule=schedule, next=when)
            )
    lines.append("")
    lines.append(
        pack.text(
            lang,
            "reminders.window",
            days=describe_days(pack, lang, current.weekdays),
            hours=describe_hours(pack, lang, current.active_from, current.active_until),
            zone=current.timezone,
        )
    )
    if current.paused_indefinitely:
        lines.append(pack.text(lang, "reminders.paused_indefinitely"))
    elif current.paused_until is not None and current.paused_until > now:
        when = local_moment(pack, lang, current.paused_until, zone)
        lines.append(pack.text(lang, "reminders.paused_until", when=when))
    elif any_on_never:
        lines.append(pack.text(lang, "reminders.never"))

    def button(label: str, *args: str) -> tuple[str, str]:
        return (label, codec.pack(ACTION, *args, user_id=user_id))

    kinds = [
        button(pack.text(lang, f"reminders.kind.{kind.value}"), "k", kind.value)
        for kind in ReminderKind
    ]
    if current.paused_at(now):
        pause_row = [button(pack.text(lang, "reminders.buttons.resume"), "res")]
    else:
        pause_row = [button(pack.text(lang, "reminders.buttons.pause"), "p")]
    settings = (
        pack.text(lang, "reminders.buttons.settings"),
        codec.pack("s", "home", user_id=user_id),
    )
    rows: list[ButtonRow] = [
        kinds,
        pause_row,
        [settings, main_menu_button(pack, codec, lang, user_id)],
    ]
    return Screen("\n".join(lines), rows)


def kind_screen(
    pack: ContentPack,
    codec: CallbackCodec,
    user_id: int,
    current: UserSettings,
    kind: ReminderKind,
) -> Screen:
    """One kind: on/off, presets, fixed times."""
    lang = current.language
    setting = current.kinds[kind]
    name = pack.text(lang, f"reminders.kind.{kind.value}")
    schedule = describe_schedule(pack, lang, setting.schedule)
    if not setting.enabled:
        text = pack.text(lang, "reminders.detail.off", kind=name)
    elif setting.next_due_at is None:
        text = pack.text(lang, "reminders.detail.on_never", kind=name, schedule=schedule)
    else:
        when = local_moment(pack, lang, setting.next_due_at, ZoneInfo(current.timezone))
        text = pack.text(lang, "reminders.detail.on", kind=name, schedule=schedule, next=when)
    text = f"{text}\n\n{pack.text(lang, 'reminders.detail.choose')}"

    def button(label: str, *args: str) -> tuple[str, str]:
        return (label, codec.pack(ACTION, *args, user_id=user_id))

    toggle = (
        button(pack.text(lang, "reminders.buttons.turn_off"), "off", kind.value)
        if setting.enabled
        else button(pack.text(lang, "reminders.buttons.turn_on"), "on", kind.value)
    )
    choices = [
        button(
            ("✅ " if setting.enabled and setting.schedule == schedule_choice else "")
            + _preset_label(pack, lang, schedule_choice),
            *(_preset_args(schedule_choice)[0], kind.value, _preset_args(schedule_choice)[1]),
        )
        for schedule_choice in presets(kind)
    ]
    fixed_mark = "✅ " if setting.enabled and isinstance(setting.schedule, FixedTimes) else ""
    fixed = button(fixed_mark + pack.text(lang, "reminders.buttons.fixed"), "ft", kind.value)
    back = button(pack.text(lang, "reminders.buttons.back"), "home")
    return Screen(text, [[toggle], choices, [fixed], [back]])


def fixed_times_screen(
    pack: ContentPack,
    codec: CallbackCodec,
    user_id: int,
    current: UserSettings,
    kind: ReminderKind,
    *,
    note: str | None = None,
) -> Screen:
    """Tap whole hours on and off (``note``: a line explaining a refused tap)."""
    lang = current.language
    setting = current.kinds[kind]
    chosen = set(setting.schedule.times) if isinstance(setting.schedule, FixedTimes) else set()
    items = [
        (
            ("✅ " if time(hour) in chosen else "") + f"{hour:02d}",
            codec.pack(ACTION, "fx", kind.value, str(hour), user_id=user_id),
        )
        for hour in range(24)
    ]
    rows: list[ButtonRow] = [items[start : start + 6] for start in range(0, 24, 6)]
    rows.append(
        [
            (
                pack.text(lang, "reminders.buttons.done"),
                codec.pack(ACTION, "k", kind.value, user_id=user_id),
            )
        ]
    )
    text = pack.text(
        lang,
        "reminders.fixed.prompt",
        kind=pack.text(lang, f"reminders.kind.{kind.value}"),
        hours=describe_hours(pack, lang, current.active_from, current.active_until),
    )
    return Screen(f"{text}\n\n<i>{note}</i>" if note else text, rows)


def pause_screen(pack: ContentPack, codec: CallbackCodec, user_id: int, lang: str) -> Screen:
    """How long to pause for."""

    def button(choice: PauseChoice) -> tuple[str, str]:
        label = pack.text(lang, f"reminders.pause.{_PAUSE_LABELS[choice]}")
        return (label, codec.pack(ACTION, "pz", choice.value, user_id=user_id))

    rows: list[ButtonRow] = [
        [button(PauseChoice.HOUR), button(PauseChoice.TODAY)],
        [button(PauseChoice.THREE_DAYS), button(PauseChoice.WEEK)],
        [button(PauseChoice.UNTIL_RESUMED)],
        [(pack.text(lang, "reminders.buttons.back"), codec.pack(ACTION, "home", user_id=user_id))],
    ]
    return Screen(pack.text(lang, "reminders.pause.prompt"), rows)


# ---------------------------------------------------------------------- handlers


async def open_reminders(
    query: CallbackQuery, context: LegCareContext, user_id: int, lang: str
) -> None:
    """Show the Reminders screen in place of the tapped message (main menu entry)."""
    current = await load_user_settings(context, user_id, lang)
    services = context.services
    screen = reminders_screen(
        services.content.pack, services.codec, user_id, current, services.clock.now()
    )
    await edit_screen(query, screen)


async def on_reminders_button(update: Update, context: LegCareContext) -> None:
    """Route a Reminders button to its screen or change."""
    await route_tap(update, context, _ROUTES)


# ---------------------------------------------------------------------- routes


async def _home(tap: Tap) -> None:
    current = await current_settings(tap)
    await edit_screen(
        tap.query, reminders_screen(tap.pack, tap.codec, tap.user_id, current, tap.now)
    )


async def _kind(tap: Tap) -> None:
    current = await current_settings(tap)
    await edit_screen(
        tap.query,
        kind_screen(tap.pack, tap.codec, tap.user_id, current, ReminderKind(tap.args[0])),
    )


async def _switch(tap: Tap, enabled: bool) -> None:
    kind = ReminderKind(tap.args[0])
    current = await apply_change(tap, preferences.set_kind_enabled, kind, enabled)
    await edit_screen(tap.query, kind_screen(tap.pack, tap.codec, tap.user_id, current, kind))


async def _turn_on(tap: Tap) -> None:
    await _switch(tap, True)


async def _turn_off(tap: Tap) -> None:
    await _switch(tap, False)


async def _preset(tap: Tap, schedule: Schedule) -> None:
    kind = ReminderKind(tap.args[0])
    if schedule not in presets(kind):
        raise UnknownChoiceError(f"{kind}: {schedule}")
    current = await apply_change(tap, preferences.set_schedule, kind, schedule)
    await edit_screen(tap.query, kind_screen(tap.pack, tap.codec, tap.user_id, current, kind))


async def _interval(tap: Tap) -> None:
    await _preset(tap, Interval(int(tap.args[1])))


async def _times_per_day(tap: Tap) -> None:
    await _preset(tap, TimesPerDay(int(tap.args[1])))


async def _fixed(tap: Tap) -> None:
    kind = ReminderKind(tap.args[0])
    before = await current_settings(tap)
    if len(tap.args) < 2:
        await edit_screen(
            tap.query, fixed_times_screen(tap.pack, tap.codec, tap.user_id, before, kind)
        )
        return
    current = await apply_change(tap, preferences.toggle_fixed_hour, kind, int(tap.args[1]))
    kept = isinstance(before.kinds[kind].schedule, FixedTimes) and current == before
    note = tap.pack.text(current.language, "reminders.fixed.keep_one") if kept else None
    screen = fixed_times_screen(tap.pack, tap.codec, tap.user_id, current, kind, note=note)
    await edit_screen(tap.query, screen)


async def _pause_menu(tap: Tap) -> None:
    current = await current_settings(tap)
    await edit_screen(tap.query, pause_screen(tap.pack, tap.codec, tap.user_id, current.language))


async def _pause(tap: Tap) -> None:
    current = await apply_change(tap, preferences.pause, PauseChoice(tap.args[0]))
    await edit_screen(
        tap.query, reminders_screen(tap.pack, tap.codec, tap.user_id, current, tap.now)
    )


async def _resume(tap: Tap) -> None:
    current = await apply_change(tap, preferences.resume)
    await edit_screen(
        tap.query, reminders_screen(tap.pack, tap.codec, tap.user_id, current, tap.now)
    )


_ROUTES: dict[str, Route] = {
    "home": _home,
    "k": _kind,
    "on": _turn_on,
    "off": _turn_off,
    "iv": _interval,
    "tpd": _times_per_day,
    "ft": _fixed,
    "fx": _fixed,
    "p": _pause_menu,
    "pz": _pause,
    "res": _resume,
}
