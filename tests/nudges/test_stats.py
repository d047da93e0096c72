"""/stats figures: 7 and 30 days per kind, streaks by local day, and the chart PNG."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import matplotlib.image

from bot.charts import ChartLabels, week_chart_png
from bot.stats import KindCounts, TapRecord, summarise
from tests.nudges.support import ISTANBUL

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Istanbul


def days_ago(days: int, hour: int = 9) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=hour)


def test_counts_per_kind_over_7_and_30_days_and_streaks() -> None:
    taps = [
        TapRecord("hydration", "done", days_ago(0)),
        TapRecord("hydration", "done", days_ago(1)),
        TapRecord("stretch", "done", days_ago(2)),
        TapRecord("stretch", "skip", days_ago(2)),
        TapRecord("posture", "snooze", days_ago(3)),
        # a gap on day 3 (a snooze is not "done"), then a longer run further back
        *(TapRecord("hydration", "done", days_ago(day)) for day in range(10, 15)),
        TapRecord("hydration", "done", days_ago(40)),  # outside 30 days
    ]
    stats = summarise(taps, now=NOW, zone=ISTANBUL)
    assert stats.last7 == {
        "hydration": KindCounts(done=2),
        "posture": KindCounts(snoozed=1),
        "stretch": KindCounts(done=1, skipped=1),
    }
    assert stats.last30["hydration"] == KindCounts(done=7)
    assert (stats.streak, stats.best) == (3, 5)
    assert [day.counts.total for day in stats.week] == [0, 0, 0, 1, 2, 1, 1]
    assert stats.week[-1].day == NOW.astimezone(ISTANBUL).date()


def test_a_late_evening_tap_counts_on_the_local_day() -> None:
    late = datetime(2026, 6, 9, 22, 30, tzinfo=UTC)  # 01:30 on the 10th in Istanbul
    stats = summarise([TapRecord("posture", "done", late)], now=NOW, zone=ISTANBUL)
    assert stats.week[-1].counts.done == 1
    assert stats.streak == 1


def test_nothing_done_today_keeps_yesterdays_streak_and_empty_is_empty() -> None:
    stats = summarise([TapRecord("stretch", "done", days_ago(1))], now=NOW, zone=ISTANBUL)
    assert (stats.streak, stats.empty) == (1, False)
    assert summarise([], now=NOW, zone=ISTANBUL).empty


def test_the_week_chart_is_a_png_that_decodes() -> None:
    stats = summarise([TapRecord("stretch", "done", days_ago(1))], now=NOW, zone=ISTANBUL)
    labels = ChartLabels("Haftan", "Yapıldı", "Atlandı", "Ertelendi", ("a",) * 7)
    data = week_chart_png(stats.week, labels)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib.image.imread(io.BytesIO(data), format="png").shape[:2] == (360, 640)
