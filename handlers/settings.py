"""The settings screens: country, time zone, reminder hours and days, language.

Stateless routing: every button carries ``s1:<screen>[:<choice>...]`` signed for the user
(see :mod:`bot.callbacks`); a tap reads the current state from the database, applies the
choice through :mod:`scheduler.preferences` (which replans reminders at once) and
redraws the screen. Screens are built by pure ``*_screen`` functions (text plus rows of
(label, callback data)) so the handlers stay a few lines each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from telegram import (
    CallbackQuery,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot.callbacks import CallbackCodec
from bot.context import LegCareContext
from bot.users import register, stored_language
from content.pack import ContentPack
from content.triage_schema import Countries, load_countries
from handlers.common import (
    ButtonRow,
    inline_keyboard,
    require_callback,
    require_message,
    require_user,
    send_main_menu,
)
from handlers.fallback import on_stale_button
from scheduler import preferences
from scheduler.preferences import CITY_ZONES, Defaults, UnknownChoiceError, UserSettings

ACTION = "s"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORK_DAYS = frozenset(range(5))
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class Screen:
    """A message to show: Telegram HTML text and rows of (label, callback data)."""

    text: str
    rows: list[ButtonRow]


@dataclass(frozen=True)
class Tap:
    """One verified button tap on a settings or reminders screen."""

    query: CallbackQuery
    context: LegCareContext
    user_id: int
    args: tuple[str, ...]

    @property
    def pack(self) -> ContentPack:
        """The content pack serving this tap."""
        return self.context.services.content.pack

    @property
    def codec(self) -> CallbackCodec:
        """The callback codec."""
        return self.context.services.codec

    @property
    def now(self) -> datetime:
        """The current instant from the bot's clock."""
        return self.context.services.clock.now()


# ---------------------------------------------------------------------- shared helpers


def defaults_of(context: LegCareContext) -> Defaults:
    """The operator's default zone and country."""
    settings = context.services.settings
    return Defaults(zone=ZoneInfo(settings.default_timezone), country=settings.default_country)


@cache
def _countries_blocking() -> Countries:
    return load_countries()


async def countries() -> Countries:
    """The countries LegCare knows an emergency number for (read once, off the loop)."""
    return await asyncio.to_thread(_countries_blocking)


async def load_user_settings(context: LegCareContext, user_id: int, lang: str) -> UserSettings:
    """The user's settings; registers them first if they somehow never sent /start."""
    services = context.services
    async with services.sessionmaker.begin() as session:
        await register(session, user_id=user_id, language=lang, now=services.clock.now())
        return await preferences.load_settings(session, user_id, defaults_of(context))


async def edit_screen(query: CallbackQuery, screen: Screen) -> None:
    """Redraw the tapped message; tapping an unchanged choice again is not an error."""
    try:
        await query.edit_message_text(screen.text, reply_markup=inline_keyboard(screen.rows))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


def clock_time(moment: time) -> str:
    """``08:00``."""
    return moment.strftime("%H:%M")


def describe_hours(pack: ContentPack, lang: str, start: time, end: time) -> str:
    """``08:00–21:00``, or "all day"."""
    if start == end:
        return pack.text(lang, "settings.hours.all_day")
    return pack.text(lang, "settings.hours.range", start=clock_time(start), end=clock_time(end))


def describe_days(pack: ContentPack, lang: str, days: frozenset[int]) -> str:
    """ "every day", "Monday to Friday", "no days" or ``Mon, Wed, Fri``."""
    if days == ALL_DAYS:
        return pack.text(lang, "settings.days.every_day")
    if days == WORK_DAYS:
        return pack.text(lang, "settings.days.weekdays")
    if not days:
        return pack.text(lang, "settings.days.none")
    return ", ".join(
        pack.text(lang, f"settings.weekday.{WEEKDAY_KEYS[day]}") for day in sorted(days)
    )


def local_moment(pack: ContentPack, lang: str, instant: datetime, zone: ZoneInfo) -> str:
    """``Tue 14:03`` in the user's zone."""
    local = instant.astimezone(zone)
    day = pack.text(lang, f"settings.weekday.{WEEKDAY_KEYS[local.weekday()]}")
    return f"{day} {local.strftime('%H:%M')}"


def main_menu_button(
    pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int
) -> tuple[str, str]:
    """The "Main menu" button (handled by handlers.start)."""
    return (pack.text(lang, "core.menu.home"), codec.pack("m", "home", user_id=user_id))


def _grid(items: list[tuple[str, str]], width: int) -> list[ButtonRow]:
    return [items[start : start + width] for start in range(0, len(items), width)]


# ---------------------------------------------------------------------- screens


def settings_screen(
    pack: ContentPack,
    codec: CallbackCodec,
    user_id: int,
    current: UserSettings,
    *,
    known: Countries,
    now: datetime,
) -> Screen:
    """The settings overview."""
    lang = current.language
    country = known.countries.get(current.country)
    zone = ZoneInfo(current.timezone)
    summary = pack.text(
        lang,
        "settings.summary",
        country=pack.text(lang, country.name) if country else current.country,
        emergency=country.emergency if country else "—",
        zone=current.timezone,
        local_time=now.astimezone(zone).strftime("%H:%M"),
        hours=describe_hours(pack, lang, current.active_from, current.active_until),
        days=describe_days(pack, lang, current.weekdays),
        language=pack.text(lang, "settings.language.name"),
    )

    def button(key: str, *args: str) -> tuple[str, str]:
        return (
            pack.text(lang, f"settings.buttons.{key}"),
            codec.pack(ACTION, *args, user_id=user_id),
        )

    rows: list[ButtonRow] = [
        [button("country", "cty"), button("timezone", "tz")],
        [button("hours", "hrs"), button("days", "wd")],
        [
            button("language", "lng"),
            # The privacy screen (keeping symptom checks, /history, delete my data).
            (
                pack.text(lang, "symptom_check.privacy.button"),
                codec.pack("p", "home", user_id=user_id),
            ),
        ],
        [
            (
                pack.text(lang, "settings.buttons.reminders"),
                codec.pack("r", "home", user_id=user_id),
            ),
            # The News screen (opt in to announcements; handlers/admin_announcements.py).
            (pack.text(lang, "announcements.button"), codec.pack("n", "home", user_id=user_id)),
        ],
        [main_menu_button(pack, codec, lang, user_id)],
    ]
    return Screen(f"{pack.text(lang, 'settings.title')}\n\n{summary}", rows)


def _back(pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int) -> tuple[str, str]:
    return (pack.text(lang, "settings.buttons.back"), codec.pack(ACTION, "home", user_id=user_id))


def country_screen(
    pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int, known: Countries
) -> Screen:
    """Pick a country."""
    items = [
        (pack.text(lang, country.name), codec.pack(ACTION, "cty", code, user_id=user_id))
        for code, country in known.countries.items()
    ]
    rows = [*_grid(items, 2), [_back(pack, codec, lang, user_id)]]
    return Screen(pack.text(lang, "settings.country.prompt"), rows)


def timezone_screen(pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int) -> Screen:
    """Pick a city, or share a location."""
    items = [
        (pack.text(lang, f"settings.city.{city}"), codec.pack(ACTION, "tz", city, user_id=user_id))
        for city in CITY_ZONES
    ]
    share = (
        pack.text(lang, "settings.timezone.share"),
        codec.pack(ACTION, "loc", user_id=user_id),
    )
    rows = [*_grid(items, 3), [share], [_back(pack, codec, lang, user_id)]]
    return Screen(pack.text(lang, "settings.timezone.prompt"), rows)


def start_hour_screen(pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int) -> Screen:
    """Pick the hour reminders may start at."""
    items = [
        (f"{hour:02d}:00", codec.pack(ACTION, "hf", str(hour), user_id=user_id))
        for hour in range(24)
    ]
    rows = [*_grid(items, 6), [_back(pack, codec, lang, user_id)]]
    return Screen(pack.text(lang, "settings.hours.start_prompt"), rows)


def end_hour_screen(
    pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int, start: int
) -> Screen:
    """Pick the hour reminders stop at (after start, or past midnight)."""
    items = [
        (f"{hour:02d}:00", codec.pack(ACTION, "hu", str(start), str(hour), user_id=user_id))
        for hour in [*range(start + 1, 24), *range(start + 1)]
    ]
    rows = [*_grid(items, 6), [_back(pack, codec, lang, user_id)]]
    text = pack.text(lang, "settings.hours.end_prompt", start=f"{start:02d}:00")
    return Screen(text, rows)


def days_screen(
    pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int, days: frozenset[int]
) -> Screen:
    """Switch weekdays on and off."""
    toggles = [
        (
            ("✅ " if day in days else "▫️ ") + pack.text(lang, f"settings.weekday.{key}"),
            codec.pack(ACTION, "wd", str(day), user_id=user_id),
        )
        for day, key in enumerate(WEEKDAY_KEYS)
    ]
    presets = [
        (
            pack.text(lang, "settings.days.set_every_day"),
            codec.pack(ACTION, "wds", "all", user_id=user_id),
        ),
        (
            pack.text(lang, "settings.days.set_weekdays"),
            codec.pack(ACTION, "wds", "work", user_id=user_id),
        ),
    ]
    done = (pack.text(lang, "settings.buttons.done"), codec.pack(ACTION, "home", user_id=user_id))
    rows: list[ButtonRow] = [toggles[:4], toggles[4:], presets, [done]]
    text = f"{pack.text(lang, 'settings.days.prompt')}\n\n{describe_days(pack, lang, days)}"
    return Screen(text, rows)


def language_screen(pack: ContentPack, codec: CallbackCodec, lang: str, user_id: int) -> Screen:
    """Pick a language (each button in its own language)."""
    items = [
        (
            pack.text(code, "settings.language.name"),
            codec.pack(ACTION, "lng", code, user_id=user_id),
        )
        for code in pack.languages
    ]
    return Screen(
        pack.text(lang, "settings.language.prompt"), [items, [_back(pack, codec, lang, user_id)]]
    )


# ---------------------------------------------------------------------- handlers


async def show_settings(update: Update, context: LegCareContext) -> None:
    """Send the settings screen (the /settings command)."""
    user = require_user(update)
    lang = context.services.content.pack.language_for(user.language_code)
    current = await load_user_settings(context, user.id, lang)
    screen = settings_screen(
        context.services.content.pack,
        context.services.codec,
        user.id,
        current,
        known=await countries(),
        now=context.services.clock.now(),
    )
    await require_message(update).reply_text(
        screen.text, reply_markup=inline_keyboard(screen.rows)
    )


async def open_settings(
    query: CallbackQuery, context: LegCareContext, user_id: int, lang: str
) -> None:
    """Show the settings screen in place of the tapped message (main menu entry)."""
    tap = Tap(query, context, user_id, ())
    await _redraw_settings(tap, await load_user_settings(context, user_id, lang))


async def on_settings_button(update: Update, context: LegCareContext) -> None:
    """Route a settings button to its screen or change."""
    await route_tap(update, context, _ROUTES)


Route = Callable[[Tap], Awaitable[None]]


async def route_tap(update: Update, context: LegCareContext, routes: Mapping[str, Route]) -> None:
    """Verify a button, answer it, and run the screen or change its first argument names.

    Unsigned, unknown or outdated buttons change nothing and get a fresh menu.
    """
    query = require_callback(update)
    user = require_user(update)
    callback = context.services.codec.unpack(query.data or "", user_id=user.id)
    route = routes.get(callback.args[0]) if callback and callback.args else None
    if callback is None or route is None:
        await on_stale_button(update, context)
        return
    await query.answer()
    try:
        await route(Tap(query, context, user.id, callback.args[1:]))
    except (UnknownChoiceError, ValueError, IndexError):
        await menu_expired(context, user.id)


async def menu_expired(context: LegCareContext, user_id: int) -> None:
    """Say a (signed but outdated) button no longer applies, after its tap was answered."""
    async with context.services.sessionmaker() as session:
        lang = context.services.content.pack.language_for(await stored_language(session, user_id))
    lead = context.services.content.pack.text(lang, "core.fallback.stale_button")
    await send_main_menu(context, user_id, lang, user_id, lead=lead)


async def on_location_shared(update: Update, context: LegCareContext) -> None:
    """Set the time zone from a shared location (resolved offline; the location is not kept)."""
    user = require_user(update)
    message = require_message(update)
    services = context.services
    pack = services.content.pack
    lang = (
        await load_user_settings(context, user.id, pack.language_for(user.language_code))
    ).language
    zone = None
    if message.location is not None:
        async with services.sessionmaker.begin() as session:
            zone = await preferences.set_timezone_at(
                session,
                user.id,
                message.location.latitude,
                message.location.longitude,
                now=services.clock.now(),
                defaults=defaults_of(context),
            )
    key = "settings.timezone.not_found" if zone is None else "settings.timezone.from_location"
    await message.reply_text(
        pack.text(lang, key, zone=zone or ""), reply_markup=ReplyKeyboardRemove()
    )
    if zone is not None:
        current = await load_user_settings(context, user.id, lang)
        screen = settings_screen(
            pack,
            services.codec,
            user.id,
            current,
            known=await countries(),
            now=services.clock.now(),
        )
        await message.reply_text(screen.text, reply_markup=inline_keyboard(screen.rows))


# ---------------------------------------------------------------------- routes


async def _redraw_settings(tap: Tap, current: UserSettings) -> None:
    screen = settings_screen(
        tap.pack, tap.codec, tap.user_id, current, known=await countries(), now=tap.now
    )
    await edit_screen(tap.query, screen)


async def apply_change(
    tap: Tap, change: Callable[..., Awaitable[object]], *args: object
) -> UserSettings:
    """Apply one preferences change in its own transaction; return the new settings."""
    services = tap.context.services
    defaults = defaults_of(tap.context)
    async with services.sessionmaker.begin() as session:
        await change(session, tap.user_id, *args, now=tap.now, defaults=defaults)
        return await preferences.load_settings(session, tap.user_id, defaults)


async def current_settings(tap: Tap) -> UserSettings:
    """The tapping user's settings as they are now."""
    lang = tap.pack.language_for(tap.query.from_user.language_code)
    return await load_user_settings(tap.context, tap.user_id, lang)


async def _home(tap: Tap) -> None:
    await _redraw_settings(tap, await current_settings(tap))


async def _country(tap: Tap) -> None:
    current = await current_settings(tap)
    known = await countries()
    if not tap.args:
        await edit_screen(
            tap.query, country_screen(tap.pack, tap.codec, current.language, tap.user_id, known)
        )
        return
    code = tap.args[0]
    if code not in known.countries:
        raise UnknownChoiceError(code)
    async with tap.context.services.sessionmaker.begin() as session:
        await preferences.set_country(session, tap.user_id, code)
    await _redraw_settings(tap, await current_settings(tap))


async def _timezone(tap: Tap) -> None:
    current = await current_settings(tap)
    if not tap.args:
        await edit_screen(
            tap.query, timezone_screen(tap.pack, tap.codec, current.language, tap.user_id)
        )
        return
    zone = CITY_ZONES.get(tap.args[0])
    if zone is None:
        raise UnknownChoiceError(tap.args[0])
    await _redraw_settings(tap, await apply_change(tap, preferences.set_timezone, zone))


async def _ask_location(tap: Tap) -> None:
    current = await current_settings(tap)
    pack, lang = tap.pack, current.language
    keyboard = ReplyKeyboardMarkup(
        [
            [
                KeyboardButton(
                    pack.text(lang, "settings.timezone.send_location"), request_location=True
                )
            ]
        ],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    await tap.context.bot.send_message(
        tap.user_id, pack.text(lang, "settings.timezone.share_prompt"), reply_markup=keyboard
    )


async def _start_hour(tap: Tap) -> None:
    lang = (await current_settings(tap)).language
    if not tap.args:
        await edit_screen(tap.query, start_hour_screen(tap.pack, tap.codec, lang, tap.user_id))
        return
    start = _hour(tap.args[0])
    await edit_screen(tap.query, end_hour_screen(tap.pack, tap.codec, lang, tap.user_id, start))


async def _hours(tap: Tap) -> None:
    start, end = _hour(tap.args[0]), _hour(tap.args[1])
    await _redraw_settings(
        tap, await apply_change(tap, preferences.set_active_hours, time(start), time(end))
    )


async def _days(tap: Tap) -> None:
    current = await current_settings(tap)
    if tap.args:
        current = await apply_change(tap, preferences.toggle_weekday, _weekday(tap.args[0]))
    await edit_screen(
        tap.query,
        days_screen(tap.pack, tap.codec, current.language, tap.user_id, current.weekdays),
    )


async def _days_preset(tap: Tap) -> None:
    days = {"all": ALL_DAYS, "work": WORK_DAYS}.get(tap.args[0])
    if days is None:
        raise UnknownChoiceError(tap.args[0])
    current = await apply_change(tap, preferences.set_weekdays, days)
    await edit_screen(
        tap.query,
        days_screen(tap.pack, tap.codec, current.language, tap.user_id, current.weekdays),
    )


async def _language(tap: Tap) -> None:
    current = await current_settings(tap)
    if not tap.args:
        await edit_screen(
            tap.query, language_screen(tap.pack, tap.codec, current.language, tap.user_id)
        )
        return
    if tap.args[0] not in tap.pack.languages:
        raise UnknownChoiceError(tap.args[0])
    async with tap.context.services.sessionmaker.begin() as session:
        await preferences.set_language(session, tap.user_id, tap.args[0])
    await _redraw_settings(tap, await current_settings(tap))


def _hour(text: str) -> int:
    hour = int(text)
    if hour not in range(24):
        raise UnknownChoiceError(text)
    return hour


def _weekday(text: str) -> int:
    day = int(text)
    if day not in range(7):
        raise UnknownChoiceError(text)
    return day


_ROUTES: dict[str, Route] = {
    "home": _home,
    "cty": _country,
    "tz": _timezone,
    "loc": _ask_location,
    "hrs": _start_hour,
    "hf": _start_hour,
    "hu": _hours,
    "wd": _days,
    "wds": _days_preset,
    "lng": _language,
}
