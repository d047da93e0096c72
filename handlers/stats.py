"""/stats: reminder taps over 7 and 30 days, streaks, and a chart of the week (a PNG).

The chart is drawn by matplotlib's Agg canvas in a worker thread (``asyncio.to_thread``),
never on the event loop, and sent with ``sendPhoto``.
"""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from telegram import InputFile, Update

from bot.charts import ChartLabels, week_chart_png
from bot.context import LegCareContext
from bot.stats import KINDS, Stats, load_stats
from handlers.common import require_message, require_user
from handlers.settings import WEEKDAY_KEYS, load_user_settings
from scheduler.nudges import Voice

logger = logging.getLogger(__name__)


def stats_text(voice: Voice, stats: Stats) -> str:
    """The figures as one message."""
    lines = [voice.text("nudges.stats.title"), ""]
    if stats.empty:
        lines.append(voice.text("nudges.stats.nothing"))
        return "\n".join(lines)
    for heading, figures in (("period7", stats.last7), ("period30", stats.last30)):
        lines.append(voice.text(f"nudges.stats.{heading}"))
        for kind in KINDS:
            counts = figures[kind]
            lines.append(
                voice.text(
                    "nudges.stats.line",
                    kind=voice.text(f"reminders.kind.{kind}"),
                    done=counts.done,
                    skipped=counts.skipped,
                    snoozed=counts.snoozed,
                )
            )
        lines.append("")
    lines.append(voice.text("nudges.stats.streak", days=stats.streak, best=stats.best))
    return "\n".join(lines)


def chart_labels(voice: Voice, stats: Stats) -> ChartLabels:
    """The chart's words in the user's language."""
    return ChartLabels(
        title=voice.text("nudges.stats.chart_title"),
        done=voice.text("nudges.stats.chart_done"),
        skipped=voice.text("nudges.stats.chart_skipped"),
        snoozed=voice.text("nudges.stats.chart_snoozed"),
        days=tuple(
            voice.text(f"settings.weekday.{WEEKDAY_KEYS[day.day.weekday()]}") for day in stats.week
        ),
    )


async def show_stats(update: Update, context: LegCareContext) -> None:
    """Send the figures, then the week's chart."""
    user = require_user(update)
    message = require_message(update)
    services = context.services
    current = await load_user_settings(context, user.id, user.language_code or "")
    pack = services.content.for_user(user.id).pack
    voice = Voice(pack, pack.language_for(current.language), services.codec, user.id)
    async with services.sessionmaker.begin() as db:
        stats = await load_stats(
            db, user.id, now=services.clock.now(), zone=ZoneInfo(current.timezone)
        )
    await message.reply_text(stats_text(voice, stats))
    if stats.empty:
        return
    png = await asyncio.to_thread(week_chart_png, stats.week, chart_labels(voice, stats))
    await message.reply_photo(
        InputFile(png, filename="week.png"), caption=voice.text("nudges.stats.chart_caption")
    )
