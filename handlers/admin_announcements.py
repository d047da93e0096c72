"""Announcements: the owner's screens (write per language by replying, preview, confirm)
and the user's News screen (opt in or out), reached from Settings.

Sending queues the announcement in the reminder engine (see
:mod:`bot.admin.announcements`); this module never sends to users itself.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import ForceReply, Update
from telegram.error import BadRequest

from bot.admin import announcements
from bot.callbacks import CallbackCodec
from bot.context import LegCareContext
from bot.db.admin_models import AdminPrompt
from bot.users import register
from content.pack import DEFAULT_LANGUAGE, ContentPack
from handlers.admin_common import AdminRequest, forget_old_prompts
from handlers.common import (
    ButtonRow,
    inline_keyboard,
    require_callback,
    require_message,
    require_user,
    user_language,
)
from handlers.fallback import on_stale_button

NEWS_ACTION = "n"


def language_name(request: AdminRequest, lang: str) -> str:
    """How a language calls itself (``Türkçe``)."""
    return request.pack.text(lang, "settings.language.name")


async def start_announcement(request: AdminRequest) -> None:
    """Begin a new announcement and ask for its default-language text."""
    async with request.services.sessionmaker.begin() as session:
        await announcements.start(session, request.user_id, now=request.now)
        count = await announcements.audience(session)
    await request.record("announce", "started")
    await request.show(request.t("announce.start", count=count))
    await ask_for_announcement_text(request, DEFAULT_LANGUAGE)


async def ask_for_announcement_text(request: AdminRequest, lang: str | None = None) -> None:
    """Send the prompt the owner replies to with one language's text."""
    lang = lang or (request.args[0] if request.args else DEFAULT_LANGUAGE)
    if lang not in request.pack.languages:
        await request.say(request.t("announce.none"))
        return
    prompt = await request.context.bot.send_message(
        request.chat_id,
        request.t("announce.prompt", language=language_name(request, lang)),
        reply_markup=ForceReply(selective=True),
    )
    async with request.services.sessionmaker.begin() as session:
        await forget_old_prompts(session, request)
        session.add(
            AdminPrompt(
                user_id=request.user_id,
                message_id=prompt.message_id,
                purpose="announce",
                lang=lang,
                key="",
                created_at=request.now,
            )
        )


async def save_announcement_text(request: AdminRequest) -> None:
    """Keep a replied announcement text, then show the preview."""
    lang = request.args[0]
    text = require_message(request.update).text or ""
    async with request.services.sessionmaker.begin() as session:
        problems = await announcements.set_text(session, request.user_id, lang, text)
    if problems:
        await request.say(request.t("announce.refused", reason=problems[0].reason))
        return
    await show_announcement(request)


async def show_announcement(request: AdminRequest) -> None:
    """The announcement as users will read it, per language, with what to do next."""
    async with request.services.sessionmaker() as session:
        found = await announcements.current(session, request.user_id)
        count = await announcements.audience(session)
    if found is None:
        await request.say(request.t("announce.none"))
        return
    lines = [request.t("announce.preview", count=count)]
    for lang in request.pack.languages:
        name = language_name(request, lang)
        if lang in found.texts:
            lines.append(request.t("announce.language", language=name) + found.texts[lang])
        else:
            default = language_name(request, DEFAULT_LANGUAGE)
            lines.append(request.t("announce.missing", language=name, default=default))
    rows: list[ButtonRow] = [
        [
            request.button("announce.edit", "ane", lang, language=language_name(request, lang))
            for lang in request.pack.languages
        ],
        [request.button("announce.cancel", "anx")],
    ]
    if DEFAULT_LANGUAGE in found.texts:
        rows.insert(1, [request.button("announce.send", "ans", count=count)])
    await request.say("\n".join(lines), rows)


async def confirm_announcement(request: AdminRequest) -> None:
    """Ask once more before queueing it for everyone."""
    async with request.services.sessionmaker() as session:
        count = await announcements.audience(session)
    rows = [[request.button("announce.yes", "ango")], [request.button("announce.cancel", "anx")]]
    await request.show(request.t("announce.confirm", count=count), rows)


async def send_announcement(request: AdminRequest) -> None:
    """Queue the announcement for every subscriber in the reminder engine."""
    zone = ZoneInfo(request.services.settings.default_timezone)
    async with request.services.sessionmaker.begin() as session:
        count = await announcements.send(
            session, request.user_id, now=request.now, default_zone=zone
        )
    if count is None:
        await request.show(request.t("announce.none"))
        return
    await request.record("announce", f"queued for {count}")
    await request.show(request.t("announce.sent", count=count))


async def cancel_announcement(request: AdminRequest) -> None:
    """Drop the announcement being prepared."""
    async with request.services.sessionmaker.begin() as session:
        cancelled = await announcements.cancel(session, request.user_id)
    if cancelled:
        await request.record("announce", "cancelled")
    await request.show(request.t("announce.cancelled" if cancelled else "announce.none"))


# ---------------------------------------------------------------------- the user's side


def news_screen(
    pack: ContentPack, codec: CallbackCodec, user_id: int, lang: str, *, on: bool
) -> tuple[str, list[ButtonRow]]:
    """The News screen: what it is, whether it is on, and the switch."""
    state = pack.text(lang, "announcements.state_on" if on else "announcements.state_off")
    title, about = pack.text(lang, "announcements.title"), pack.text(lang, "announcements.about")
    switch = ("announcements.turn_off", "off") if on else ("announcements.turn_on", "on")
    rows: list[ButtonRow] = [
        [(pack.text(lang, switch[0]), codec.pack(NEWS_ACTION, switch[1], user_id=user_id))],
        [(pack.text(lang, "settings.buttons.back"), codec.pack("s", "home", user_id=user_id))],
    ]
    return f"{title}\n\n{about}\n\n{state}", rows


async def on_news_button(update: Update, context: LegCareContext) -> None:
    """Show the News screen, or switch news on or off."""
    query = require_callback(update)
    user = require_user(update)
    services = context.services
    callback = services.codec.unpack(query.data or "", user_id=user.id)
    if (
        callback is None
        or len(callback.args) != 1
        or callback.args[0] not in {"home", "on", "off"}
    ):
        await on_stale_button(update, context)
        return
    await query.answer()
    lang = await user_language(context, user)
    async with services.sessionmaker.begin() as session:
        await register(session, user_id=user.id, language=lang, now=services.clock.now())
        await session.flush()
        if callback.args[0] != "home":
            await announcements.set_opt_in(
                session, user.id, callback.args[0] == "on", now=services.clock.now()
            )
        on = await announcements.opted_in(session, user.id)
    body, rows = news_screen(services.content.pack, services.codec, user.id, lang, on=on)
    try:
        await query.edit_message_text(body, reply_markup=inline_keyboard(rows))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
