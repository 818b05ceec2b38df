"""Geometry of the KPI pages' charts: tickets over time, load by hour, and drift of a series.

Like :mod:`supportflow.report.charts`, this module only computes positions, sizes and the
text of axis labels and tooltips; ``templates/kpi_charts.html.j2`` draws the SVG and escapes
every text. Three charts:

- the **flow chart**: tickets arriving and resolved per day, week or month (bars side by side)
  and the backlog at the end of each day (a step line), on one count axis;
- the **column chart**: two counts per slot (arrivals and resolutions per hour of the day or per
  weekday);
- the **drift chart**: one series' median per period with its 10th–90th percentile band, the
  dates where the series changed, and the median of each stretch between changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

AXIS_LEFT = 52
AXIS_BOTTOM = 22
PLOT_TOP = 10
PLOT_RIGHT = 12


@dataclass(frozen=True)
class Plot:
    """The drawing area inside a chart's axes, in pixels from the chart's top left corner."""

    left: int
    top: int
    width: int
    height: int

    @property
    def bottom(self) -> int:
        """The y of the horizontal axis."""
        return self.top + self.height


@dataclass(frozen=True)
class Tick:
    """One axis label at position ``at`` (x for a time axis, y for a value axis)."""

    at: float
    label: str


@dataclass(frozen=True)
class Rect:
    """One bar: position, size, CSS class (its colour) and tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    tooltip: str


@dataclass(frozen=True)
class FlowChart:
    """Arrivals and resolutions per bucket, backlog per day (``backlog_path`` is SVG path data)."""

    width: int
    height: int
    plot: Plot
    bars: list[Rect]
    backlog_path: str
    peak: tuple[float, float] | None
    y_ticks: list[Tick]
    x_ticks: list[Tick]


@dataclass(frozen=True)
class ColumnChart:
    """Pairs of columns per slot (an hour, a weekday) with the slot names under them."""

    width: int
    height: int
    plot: Plot
    bars: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


@dataclass(frozen=True)
class ChangeMark:
    """A vertical line at the date a series changed."""

    x: float
    label: str


@dataclass(frozen=True)
class DriftChart:
    """Median line, p10–p90 band, change marks and stretch medians of one series."""

    width: int
    height: int
    plot: Plot
    band_points: str
    median_points: str
    stretch_path: str
    changes: list[ChangeMark]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def nice_ticks(largest: float, *, count: int = 4) -> list[float]:
    """Round axis values from 0 covering ``largest``: steps of 1, 2, 2.5 or 5 × 10^k."""
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(largest / step - 1e-9) * step
    return [i * step for i in range(round(top / step) + 1)]


def duration_ticks(largest_s: float, *, count: int = 4) -> list[float]:
    """Round axis values in seconds, stepping in the unit a reader would use for ``largest_s``."""
    unit = next((size for size in (86400.0, 3600.0, 60.0) if largest_s >= 2 * size), 1.0)
    return [value * unit for value in nice_ticks(largest_s / unit, count=count)]


def _scale(low: float, high: float, start: float, length: float) -> Callable[[float], float]:
    span = high - low or 1.0
    return lambda value: round(start + (value - low) / span * length, 1)


def bucket_start(day: date, unit: str) -> date:
    """The first day of the ``day``, ``week`` (from Monday) or ``month`` holding ``day``."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, unit: str) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def flow_bucket_unit(first: date, last: date) -> str:
    """``day`` for up to 100 days, ``week`` for up to 100 weeks, else ``month``."""
    days = (last - first).days + 1
    return "day" if days <= 100 else "week" if days <= 700 else "month"


def _time_ticks(first: date, end: date, x_of: Callable[[float], float], *, most: int) -> list[Tick]:
    """Labels along a time axis from ``first`` to ``end`` (exclusive): years over two years,
    months over two months, else days (each day up to two weeks, Mondays above), at most
    ``most`` of them."""
    span = (end - first).days
    if span > 62:
        yearly = span > 730
        ticks, day = [], bucket_start(first, "month")
        while day < end:
            if day >= first and (not yearly or day.month == 1):
                label = day.strftime("%Y" if yearly else "%Y-%m")
                ticks.append(Tick(x_of(day.toordinal()), label))
            day = next_bucket(day, "month")
    else:
        days = [first + timedelta(days=offset) for offset in range(span)]
        ticks = [
            Tick(x_of(day.toordinal() + 0.5), day.isoformat())
            for day in days
            if span <= 14 or day.weekday() == 0
        ]
    step = max(1, math.ceil(len(ticks) / most))
    return ticks[::step]


def flow_buckets(days: list[tuple[date, dict[str, Any]]], *, unit: str) -> dict[date, list[int]]:
    """Per bucket start: ``[arrivals, resolutions, backlog at the end of its last day]``."""
    buckets: dict[date, list[int]] = {}
    for day, row in days:
        totals = buckets.setdefault(bucket_start(day, unit), [0, 0, 0])
        totals[0] += int(row["arrivals"])
        totals[1] += int(row["resolutions"])
        totals[2] = int(row["backlog"])  # days are in order
    return buckets


def flow_chart(
    daily: Sequence[dict[str, Any]],
    *,
    bucket_tooltip: Callable[[str, int, int, int], str],
    width: int = 1000,
    height: int = 240,
) -> FlowChart:
    """The flow chart of ``flow.daily`` rows (``date``, ``arrivals``, ``resolutions``, ``backlog``).

    ``bucket_tooltip(period, arrivals, resolutions, backlog)`` words a bucket's tooltip; the
    period is ``2012-08-20`` (a day or the Monday of a week) or ``2012-08`` (a month).
    """
    plot = Plot(
        AXIS_LEFT, PLOT_TOP, width - AXIS_LEFT - PLOT_RIGHT, height - PLOT_TOP - AXIS_BOTTOM
    )
    days = [(date.fromisoformat(str(row["date"])), row) for row in daily]
    if not days:
        return FlowChart(width, height, plot, [], "", None, [], [])
    unit = flow_bucket_unit(days[0][0], days[-1][0])
    buckets = flow_buckets(days, unit=unit)
    first = min(buckets)
    end = next_bucket(max(buckets), unit)
    largest = max(
        max(max(t[0], t[1]) for t in buckets.values()), max(t[2] for t in buckets.values())
    )
    values = nice_ticks(float(largest))
    x_of = _scale(first.toordinal(), end.toordinal(), plot.left, plot.width)
    y_of = _scale(0.0, values[-1], plot.bottom, -plot.height)
    bars = []
    for start, (arrived, resolved, backlog) in sorted(buckets.items()):
        x0, x1 = x_of(start.toordinal()), x_of(next_bucket(start, unit).toordinal())
        half = max((x1 - x0) / 2 - 0.5, 0.5)
        period = start.strftime("%Y-%m") if unit == "month" else start.isoformat()
        tooltip = bucket_tooltip(period, arrived, resolved, backlog)
        for offset, count, css in ((0.0, arrived, "arrivals"), (half, resolved, "resolutions")):
            top = y_of(count)
            bars.append(Rect(x0 + offset, top, half, round(plot.bottom - top, 1), css, tooltip))
    path = [f"M{x_of(days[0][0].toordinal())},{y_of(0)}"]
    for day, row in days:
        path.append(f"H{x_of(day.toordinal() + 1)}V{y_of(float(row['backlog']))}")
    peak_day, peak_row = max(days, key=lambda item: int(item[1]["backlog"]))
    peak = (x_of(peak_day.toordinal() + 1), y_of(float(peak_row["backlog"])))
    return FlowChart(
        width=width,
        height=height,
        plot=plot,
        bars=bars,
        backlog_path="".join(path),
        peak=peak,
        y_ticks=[Tick(y_of(v), f"{round(v):,}") for v in values],
        x_ticks=_time_ticks(first, end, x_of, most=12),
    )


def column_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], Callable[[int, int], str]]],
    *,
    label_every: int = 1,
    slot_width: int = 26,
    height: int = 160,
) -> ColumnChart:
    """Columns side by side per slot, one per ``series`` item ``(css class, counts, tooltip)``.

    ``tooltip(slot, count)`` words a column's tooltip; every ``label_every``-th slot is named.
    """
    plot = Plot(AXIS_LEFT, PLOT_TOP, len(labels) * slot_width, height - PLOT_TOP - AXIS_BOTTOM)
    largest = max((count for _, counts, _ in series for count in counts), default=0)
    values = nice_ticks(float(largest))
    y_of = _scale(0.0, values[-1], plot.bottom, -plot.height)
    column = (slot_width - 4) / max(len(series), 1)
    bars = []
    for slot in range(len(labels)):
        for index, (css, counts, tooltip) in enumerate(series):
            top = y_of(counts[slot])
            x = plot.left + slot * slot_width + 2 + index * column
            bars.append(
                Rect(x, top, column, round(plot.bottom - top, 1), css, tooltip(slot, counts[slot]))
            )
    return ColumnChart(
        width=plot.left + plot.width + PLOT_RIGHT,
        height=height,
        plot=plot,
        bars=bars,
        y_ticks=[Tick(y_of(v), f"{round(v):,}") for v in values],
        x_ticks=[
            Tick(plot.left + slot * slot_width + slot_width / 2, label)
            for slot, label in enumerate(labels)
            if slot % label_every == 0
        ],
    )


def drift_chart(
    series: dict[str, Any],
    *,
    period: str,
    duration: Callable[[float], str],
    width: int = 500,
    height: int = 170,
) -> DriftChart:
    """The drift chart of one ``drift.series`` item (``periods`` and ``change_points``).

    ``period`` is the document's ``week`` or ``month``; each period's point sits in its middle.
    ``duration`` formats the axis labels.
    """
    plot = Plot(
        AXIS_LEFT, PLOT_TOP, width - AXIS_LEFT - PLOT_RIGHT, height - PLOT_TOP - AXIS_BOTTOM
    )
    periods: list[dict[str, Any]] = series["periods"]
    changes: list[dict[str, Any]] = series["change_points"]
    if not periods:
        return DriftChart(width, height, plot, "", "", "", [], [], [])
    starts = [date.fromisoformat(str(p["start"])) for p in periods]
    first, end = starts[0], next_bucket(starts[-1], period)
    largest = max(float(p["p90_s"]) for p in periods)
    values = duration_ticks(largest)
    x_of = _scale(first.toordinal(), end.toordinal(), plot.left, plot.width)
    y_of = _scale(0.0, values[-1], plot.bottom, -plot.height)
    middles = [
        x_of((start.toordinal() + next_bucket(start, period).toordinal()) / 2) for start in starts
    ]
    upper = [f"{x},{y_of(float(p['p90_s']))}" for x, p in zip(middles, periods, strict=True)]
    lower = [f"{x},{y_of(float(p['p10_s']))}" for x, p in zip(middles, periods, strict=True)]
    median = [f"{x},{y_of(float(p['median_s']))}" for x, p in zip(middles, periods, strict=True)]
    return DriftChart(
        width=width,
        height=height,
        plot=plot,
        band_points=" ".join(upper + lower[::-1]),
        median_points=" ".join(median),
        stretch_path=_stretch_path(changes, x_of=x_of, y_of=y_of),
        changes=[
            ChangeMark(x_of(date.fromisoformat(str(change["at"])).toordinal()), str(change["at"]))
            for change in changes
        ],
        y_ticks=[Tick(y_of(v), duration(v) if v else "0") for v in values],
        x_ticks=_time_ticks(first, end, x_of, most=6),
    )


def _stretch_path(
    changes: list[dict[str, Any]],
    *,
    x_of: Callable[[float], float],
    y_of: Callable[[float], float],
) -> str:
    """Horizontal segments at the median of each stretch between changes (before the first
    change, between changes, after the last), from its first to its last observation."""
    if not changes:
        return ""
    stretches = [changes[0]["before"]] + [change["after"] for change in changes]
    parts = []
    for stretch in stretches:
        x0 = x_of(date.fromisoformat(str(stretch["start"])).toordinal())
        x1 = x_of(date.fromisoformat(str(stretch["end"])).toordinal() + 1)
        parts.append(f"M{x0},{y_of(float(stretch['median_s']))}H{x1}")
    return "".join(parts)
