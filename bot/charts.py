"""The /stats chart: the user's week as a PNG, drawn with matplotlib's Agg canvas.

No display and no pyplot state: each call builds its own ``Figure`` on a
``FigureCanvasAgg``, so it is safe to run in a worker thread (the handler calls it with
``asyncio.to_thread``; drawing takes tens of milliseconds, too long for the event loop).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.stats import DayCounts

__all__ = ["ChartLabels", "week_chart_png"]

_COLOURS = {"done": "#2e7d32", "skipped": "#9e9e9e", "snoozed": "#f9a825"}


@dataclass(frozen=True)
class ChartLabels:
    """The words on the chart, in the user's language (plain text: no emoji glyphs)."""

    title: str
    done: str
    skipped: str
    snoozed: str
    days: tuple[str, ...]
    """One short label per day of ``week``, oldest first."""


def week_chart_png(week: tuple[DayCounts, ...], labels: ChartLabels) -> bytes:
    """A stacked bar chart of done / skipped / snoozed per day, as PNG bytes."""
    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(week)))
    done = [day.counts.done for day in week]
    skipped = [day.counts.skipped for day in week]
    snoozed = [day.counts.snoozed for day in week]
    axes.bar(positions, done, color=_COLOURS["done"], label=labels.done)
    axes.bar(positions, skipped, bottom=done, color=_COLOURS["skipped"], label=labels.skipped)
    stacked = [a + b for a, b in zip(done, skipped, strict=True)]
    axes.bar(positions, snoozed, bottom=stacked, color=_COLOURS["snoozed"], label=labels.snoozed)
    axes.set_xticks(positions, list(labels.days))
    axes.set_title(labels.title)
    top = max((a + b for a, b in zip(stacked, snoozed, strict=True)), default=0)
    axes.set_ylim(0, max(top, 1) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", frameon=False, ncols=3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
