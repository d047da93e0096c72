"""Telegram handlers only: parse the update, call the domain, render the answer."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import CallbackCodec
from bot.context import LegCareApplication
from handlers import (
    admin,
    care,
    errors,
    fallback,
    history,
    nudges,
    reminders,
    settings,
    start,
    stats,
    travel,
    triage,
)
from scheduler.nudges import FOLLOW_UP_ACTION, TAP_ACTION, TRAVEL_ACTION


def register(app: LegCareApplication) -> None:
    """Attach every handler; feature handlers first, catch-alls last."""
    private = filters.ChatType.PRIVATE
    # First of all (group -2): admin commands, buttons, replies and uploads. Only admins'
    # updates stop there; everyone else's go on unchanged to the handlers below.
    admin.register(app)
    # Before every other handler (group -1): typed words that name a red flag get the
    # emergency card in any state; other messages go on to the handlers below.
    app.add_handler(
        MessageHandler(
            private
            & ~filters.UpdateType.EDITED
            & (filters.TEXT | filters.CAPTION)
            & ~filters.COMMAND,
            triage.on_typed_red_flag,
        ),
        group=-1,
    )
    app.add_handler(CommandHandler("start", start.start, filters=private))
    app.add_handler(CommandHandler("menu", start.show_menu, filters=private))
    app.add_handler(CommandHandler("help", start.show_help, filters=private))
    app.add_handler(
        CallbackQueryHandler(start.on_menu_button, pattern=CallbackCodec.action_pattern("m"))
    )
    app.add_handler(CommandHandler("settings", settings.show_settings, filters=private))
    app.add_handler(
        CallbackQueryHandler(
            settings.on_settings_button, pattern=CallbackCodec.action_pattern(settings.ACTION)
        )
    )
    app.add_handler(
        CallbackQueryHandler(
            reminders.on_reminders_button, pattern=CallbackCodec.action_pattern(reminders.ACTION)
        )
    )
    app.add_handler(MessageHandler(private & filters.LOCATION, settings.on_location_shared))
    app.add_handler(
        CallbackQueryHandler(
            triage.on_triage_button, pattern=CallbackCodec.action_pattern(triage.ACTION)
        )
    )
    app.add_handler(CommandHandler("history", history.show_history, filters=private))
    app.add_handler(CommandHandler("privacy", history.show_privacy, filters=private))
    app.add_handler(
        CallbackQueryHandler(
            history.on_privacy_button, pattern=CallbackCodec.action_pattern(history.ACTION)
        )
    )
    # The reminder experience: buttons on reminders and follow-ups, matching reminders
    # offered by a result, /stats and journey mode.
    for action, callback in (
        (TAP_ACTION, nudges.on_nudge_button),
        (FOLLOW_UP_ACTION, nudges.on_followup_button),
        (care.OFFER_ACTION, care.on_offer_button),
        (TRAVEL_ACTION, travel.on_travel_button),
    ):
        app.add_handler(
            CallbackQueryHandler(callback, pattern=CallbackCodec.action_pattern(action))
        )
    app.add_handler(CommandHandler("stats", stats.show_stats, filters=private))
    app.add_handler(CommandHandler("travel", travel.show_travel, filters=private))

    app.add_handler(MessageHandler(private & ~filters.UpdateType.EDITED, fallback.on_unknown_text))
    app.add_handler(CallbackQueryHandler(fallback.on_stale_button))
    app.add_error_handler(errors.on_error)
