"""Geometry of the simulation and staffing charts: panels over hours or intervals, and intervals.

Like :mod:`.charts` and :mod:`.kpi_charts`, this module only computes positions, sizes and
path data; ``templates/simulation.html.j2`` draws the SVG and escapes every text, and the words
of tooltips arrive already written. Two kinds of chart:

- the **stacked chart**: panels one above the other over the same slots (the hours of a
  simulation, the intervals of a staffing plan), each with its own value axis: arrivals as
  columns, agents as a step line, shares (first-response attainment, service level, occupancy)
  as lines with the target as a rule and the slots that miss it shaded or dotted;
- the **interval chart**: per KPI a bar to the mean and a whisker over the 95 % interval, one
  per side (baseline, what-if), each KPI on its own scale from zero, because a desk's KPIs go
  from seconds of wait to days of resolution.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from supportflow.report.charts import shorten
from supportflow.report.kpi_charts import (
    AXIS_BOTTOM,
    AXIS_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    Plot,
    Rect,
    Tick,
    nice_ticks,
)

CHART_WIDTH = 1000
DOTTED_HOURS = 120
"""Up to this many hours, every point below the attainment target is dotted."""


@dataclass(frozen=True)
class Trace:
    """A line or step line of one series, as SVG path data."""

    css: str
    path: str


@dataclass(frozen=True)
class Mark:
    """A dot on a line: a point that misses the target."""

    css: str
    x: float
    y: float
    tooltip: str


@dataclass(frozen=True)
class Rule:
    """A horizontal target line across a panel."""

    y: float
    x1: float
    x2: float
    tooltip: str


@dataclass(frozen=True)
class Panel:
    """One band of a stacked chart with its own value axis (``x_ticks`` on the lowest only)."""

    name: str
    title: str
    plot: Plot
    y_ticks: list[Tick]
    x_ticks: list[Tick] = dataclasses.field(default_factory=list)
    shades: list[Rect] = dataclasses.field(default_factory=list)
    bars: list[Rect] = dataclasses.field(default_factory=list)
    traces: list[Trace] = dataclasses.field(default_factory=list)
    marks: list[Mark] = dataclasses.field(default_factory=list)
    rule: Rule | None = None


@dataclass(frozen=True)
class StackedChart:
    """Panels one above the other over the same slots."""

    width: int
    height: int
    panels: list[Panel]


@dataclass(frozen=True)
class SlotAxis:
    """``count`` equal slots from x = ``left``, each ``slot`` pixels wide."""

    left: float
    slot: float
    count: int

    def x(self, index: float) -> float:
        """The x of the start of slot ``index`` (a fraction falls inside the slot)."""
        return round(self.left + index * self.slot, 1)


@dataclass(frozen=True)
class HourSeries:
    """One side of a simulation laid on the chart's hours (``None`` where it has no row)."""

    side: str
    arrivals: list[float | None]
    attainment: list[float | None]


def finite(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing or not a finite number (the JSON of
    a simulation may hold ``NaN`` for a KPI no ticket defined)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def hour_slots(
    sides: Sequence[tuple[str, Sequence[dict[str, Any]]]],
) -> tuple[float, list[HourSeries]]:
    """The first hour's start and each side's ``(name, hourly rows)`` on one axis of hours from
    it to the last hour any side has; ``(0.0, [])`` when no side has an hour."""
    starts = sorted({float(row["hour_start_s"]) for _, rows in sides for row in rows})
    if not starts:
        return 0.0, []
    first_s = starts[0]
    count = round((starts[-1] - first_s) / 3600) + 1
    series = []
    for side, rows in sides:
        arrivals: list[float | None] = [None] * count
        attainment: list[float | None] = [None] * count
        for row in rows:
            slot = round((float(row["hour_start_s"]) - first_s) / 3600)
            arrivals[slot] = finite(row.get("arrivals"))
            attainment[slot] = finite(row.get("first_response_within_target"))
        series.append(HourSeries(side, arrivals, attainment))
    return first_s, series


def _stack(heights: Sequence[int], *, width: int, gap: int = 26) -> tuple[int, list[Plot]]:
    # Each panel's title sits in the gap above it.
    plots, top = [], PLOT_TOP + 14
    for height in heights:
        plots.append(Plot(AXIS_LEFT, top, width - AXIS_LEFT - PLOT_RIGHT, height))
        top += height + gap
    return top - gap + AXIS_BOTTOM, plots


def _y_scale(plot: Plot, top: float) -> Callable[[float], float]:
    return lambda value: round(plot.bottom - min(max(value, 0.0), top) / top * plot.height, 1)


def _tick_number(value: float) -> str:
    return f"{value:,.0f}" if value == round(value) else f"{value:,.2f}".rstrip("0")


def _count_axis(plot: Plot, largest: float) -> tuple[Callable[[float], float], list[Tick]]:
    values = nice_ticks(largest)
    y_of = _y_scale(plot, values[-1])
    return y_of, [Tick(y_of(value), _tick_number(value)) for value in values]


def _share_axis(plot: Plot) -> tuple[Callable[[float], float], list[Tick]]:
    y_of = _y_scale(plot, 1.0)
    return y_of, [Tick(y_of(step / 4), f"{step * 25}%") for step in range(5)]


def _largest(*series: Sequence[float | None]) -> float:
    return max((value for values in series for value in values if value is not None), default=0.0)


def _bars(
    axis: SlotAxis,
    plot: Plot,
    y_of: Callable[[float], float],
    series: Sequence[tuple[str, Sequence[float | None]]],
    tooltips: Sequence[str],
) -> list[Rect]:
    """Columns side by side in each slot, one per series ``(css class, values)``."""
    pad = 1.0 if axis.slot >= 6 else 0.0
    width = (axis.slot - 2 * pad) / max(len(series), 1)
    bars = []
    for index in range(axis.count):
        for offset, (css, values) in enumerate(series):
            value = values[index]
            if value is None or value <= 0:
                continue
            top = y_of(value)
            x = round(axis.x(index) + pad + offset * width, 1)
            bars.append(Rect(x, top, width, round(plot.bottom - top, 1), css, tooltips[index]))
    return bars


def _line(axis: SlotAxis, y_of: Callable[[float], float], values: Sequence[float | None]) -> str:
    """Path data through the middle of each slot, lifting the pen over unknown values; a value
    alone between unknown ones is drawn as a dash across its slot, so that it shows."""
    parts = []
    for index, value in enumerate(values):
        if value is None:
            continue
        y = y_of(value)
        alone_before = index == 0 or values[index - 1] is None
        alone_after = index == len(values) - 1 or values[index + 1] is None
        if alone_before and alone_after:
            parts.append(f"M{axis.x(index + 0.15)},{y}H{axis.x(index + 0.85)}")
        else:
            parts.append(f"{'M' if alone_before else 'L'}{axis.x(index + 0.5)},{y}")
    return "".join(parts)


def _steps(axis: SlotAxis, y_of: Callable[[float], float], values: Sequence[float | None]) -> str:
    """Path data that holds each slot's value across the slot, as agents on a rota do."""
    parts, pen_up = [], True
    for index, value in enumerate(values):
        if value is None:
            pen_up = True
            continue
        y = y_of(value)
        parts.append(f"M{axis.x(index)},{y}" if pen_up else f"V{y}")
        parts.append(f"H{axis.x(index + 1)}")
        pen_up = False
    return "".join(parts)


def _misses(
    axis: SlotAxis,
    y_of: Callable[[float], float],
    css: str,
    values: Sequence[float | None],
    target: float,
    tooltips: Sequence[str],
) -> list[Mark]:
    return [
        Mark(css, axis.x(index + 0.5), y_of(value), tooltips[index])
        for index, value in enumerate(values)
        if value is not None and value < target
    ]


def _with_x_ticks(panels: list[Panel], ticks: list[Tick]) -> list[Panel]:
    return [*panels[:-1], dataclasses.replace(panels[-1], x_ticks=ticks)]


def hour_ticks(first_s: float, axis: SlotAxis, *, zone: tzinfo, most: int = 12) -> list[Tick]:
    """Labels along hours from ``first_s``: the hour (``06:00``, the date at midnight) over
    short runs, the date at local midnight over long ones; at most about ``most``."""
    step = next((hours for hours in (1, 2, 3, 6, 12) if axis.count / hours <= most), 0)
    days = max(1, math.ceil(axis.count / 24 / most))
    ticks = []
    for index in range(axis.count):
        moment = datetime.fromtimestamp(first_s + 3600 * index, tz=zone)
        if step and moment.hour % step == 0:
            label = moment.strftime("%m-%d" if moment.hour == 0 else "%H:%M")
        elif not step and moment.hour == 0 and moment.toordinal() % days == 0:
            label = moment.strftime("%m-%d")
        else:
            continue
        ticks.append(Tick(axis.x(index), label))
    return ticks


def hourly_chart(
    series: Sequence[HourSeries],
    *,
    first_s: float,
    attainment: float | None,
    zone: tzinfo,
    titles: tuple[str, str],
    tooltips: Sequence[str],
    target_tooltip: str,
    width: int = CHART_WIDTH,
) -> StackedChart:
    """Arrivals per hour of each side and, when ``attainment`` is given (the scenario has a
    first-response target), the share answered within the target, with the target as a rule,
    every point below it dotted and the hours where the last side (the what-if, when there is
    one) falls below it shaded. ``titles`` name the two panels; ``tooltips`` has one text per
    hour."""
    height, plots = _stack([110, 140] if attainment is not None else [150], width=width)
    count = len(series[0].arrivals) if series else 0
    axis = SlotAxis(plots[0].left, plots[0].width / max(count, 1), count)
    y_of, y_ticks = _count_axis(plots[0], _largest(*(one.arrivals for one in series)))
    columns = [(f"sim-{one.side}", one.arrivals) for one in series]
    panels = [
        Panel(
            "arrivals",
            titles[0],
            plots[0],
            y_ticks,
            bars=_bars(axis, plots[0], y_of, columns, tooltips),
        )
    ]
    if attainment is not None and series:
        panels.append(
            _attainment_panel(
                series,
                plots[1],
                axis,
                attainment=attainment,
                title=titles[1],
                tooltips=tooltips,
                target_tooltip=target_tooltip,
            )
        )
    return StackedChart(width, height, _with_x_ticks(panels, hour_ticks(first_s, axis, zone=zone)))


def _attainment_panel(
    series: Sequence[HourSeries],
    plot: Plot,
    axis: SlotAxis,
    *,
    attainment: float,
    title: str,
    tooltips: Sequence[str],
    target_tooltip: str,
) -> Panel:
    """Each side's first-response attainment per hour against the target; the last side's
    hours below it shaded, and (over a few days at most) every point below it dotted."""
    y_of, y_ticks = _share_axis(plot)
    shades = [
        Rect(axis.x(index), plot.top, axis.slot, plot.height, "broken", tooltips[index])
        for index, share in enumerate(series[-1].attainment)
        if share is not None and share < attainment
    ]
    marks: list[Mark] = []
    # Over weeks of hours the dots would hide the lines; the shading still shows.
    if axis.count <= DOTTED_HOURS:
        for one in series:
            css = f"miss {one.side}"
            marks += _misses(axis, y_of, css, one.attainment, attainment, tooltips)
    return Panel(
        "attainment",
        title,
        plot,
        y_ticks,
        shades=shades,
        traces=[Trace(f"line {one.side}", _line(axis, y_of, one.attainment)) for one in series],
        marks=marks,
        rule=Rule(y_of(attainment), plot.left, plot.left + plot.width, target_tooltip),
    )


@dataclass(frozen=True)
class PlanSeries:
    """A staffing plan's columns, one value per interval."""

    labels: list[str]
    arrivals: list[float | None]
    agents: list[float | None]
    on_queue: list[float | None]
    service_level: list[float | None]
    occupancy: list[float | None]


def plan_chart(
    plan: PlanSeries,
    *,
    target_share: float | None,
    titles: tuple[str, str, str],
    tooltips: Sequence[str],
    target_tooltip: str,
    width: int = CHART_WIDTH,
) -> StackedChart:
    """Arrivals (columns), agents scheduled and on the queue (step lines), and service level and
    occupancy (lines) per interval; a service-level target is drawn as a rule, and the intervals
    whose service level falls below it are dotted. ``titles`` name the three panels."""
    height, plots = _stack([100, 110, 110], width=width)
    count = len(plan.labels)
    axis = SlotAxis(plots[0].left, plots[0].width / max(count, 1), count)
    y_of, y_ticks = _count_axis(plots[0], _largest(plan.arrivals))
    arrivals = Panel(
        "arrivals",
        titles[0],
        plots[0],
        y_ticks,
        bars=_bars(axis, plots[0], y_of, [("arrivals", plan.arrivals)], tooltips),
    )
    y_of, y_ticks = _count_axis(plots[1], _largest(plan.agents, plan.on_queue))
    agents = Panel(
        "agents",
        titles[1],
        plots[1],
        y_ticks,
        traces=[
            Trace("step agents", _steps(axis, y_of, plan.agents)),
            Trace("step on-queue", _steps(axis, y_of, plan.on_queue)),
        ],
    )
    y_of, y_ticks = _share_axis(plots[2])
    shares = Panel(
        "service",
        titles[2],
        plots[2],
        y_ticks,
        traces=[
            # Steps, like the agents: each interval's figure holds for the whole interval.
            Trace("line service-level", _steps(axis, y_of, plan.service_level)),
            Trace("line occupancy", _steps(axis, y_of, plan.occupancy)),
        ],
    )
    if target_share is not None:
        rule = Rule(
            y_of(target_share), plots[2].left, plots[2].left + plots[2].width, target_tooltip
        )
        misses = _misses(axis, y_of, "miss", plan.service_level, target_share, tooltips)
        shares = dataclasses.replace(shares, rule=rule, marks=misses)
    ticks = interval_ticks(plan.labels, axis)
    return StackedChart(width, height, _with_x_ticks([arrivals, agents, shares], ticks))


def interval_ticks(labels: Sequence[str], axis: SlotAxis, *, spacing: float = 80) -> list[Tick]:
    """Every n-th interval's label, cut short, so that labels are ``spacing`` pixels apart."""
    every = max(1, math.ceil(spacing / axis.slot)) if axis.slot > 0 else 1
    return [
        Tick(axis.x(index + 0.5), shorten(label, max_units=12))
        for index, label in enumerate(labels)
        if index % every == 0
    ]


@dataclass(frozen=True)
class IntervalSide:
    """What the interval chart is given for one side of one KPI (texts already worded)."""

    css: str
    mean: float | None
    low: float | None
    high: float | None
    text: str
    tooltip: str


@dataclass(frozen=True)
class IntervalBar:
    """One side of one KPI: a bar from zero to the mean and a whisker over the interval."""

    css: str
    y: float
    width: float
    whisker: tuple[float, float] | None
    text: str
    tooltip: str


@dataclass(frozen=True)
class IntervalGroup:
    """One KPI of the interval chart: its label and a bar per side."""

    name: str
    label: str
    full_label: str
    label_y: float
    flag: str
    bars: list[IntervalBar]


@dataclass(frozen=True)
class IntervalChart:
    """KPI means with their 95 % intervals, each KPI on its own scale from zero."""

    width: int
    height: int
    label_width: int
    value_x: int
    bar_height: int
    groups: list[IntervalGroup]


LABEL_WIDTH, AREA_WIDTH, VALUE_WIDTH, BAR_HEIGHT, BAR_GAP, GROUP_GAP = 230, 380, 280, 12, 3, 12


def interval_chart(kpis: Sequence[tuple[str, str, str, Sequence[IntervalSide]]]) -> IntervalChart:
    """The chart of ``kpis``, each ``(name, label, flag, sides)``; ``flag`` is the CSS class of a
    KPI whose change is certain (empty otherwise). A KPI no side knows is left out."""
    groups: list[IntervalGroup] = []
    top = 4.0
    for name, label, flag, sides in kpis:
        known = [side for side in sides if side.mean is not None]
        if not known:
            continue
        largest = max(max(side.mean or 0.0, side.high or 0.0) for side in known)
        scale = AREA_WIDTH / (largest * 1.05) if largest > 0 else 0.0

        def x_of(value: float, scale: float = scale) -> float:
            return round(LABEL_WIDTH + max(value, 0.0) * scale, 1)

        bars = []
        for offset, side in enumerate(sides):
            whisker = None
            if side.mean is not None and side.low is not None and side.high is not None:
                whisker = (x_of(side.low), x_of(side.high))
            width = x_of(side.mean) - LABEL_WIDTH if side.mean is not None else 0.0
            y = top + offset * (BAR_HEIGHT + BAR_GAP)
            bars.append(IntervalBar(side.css, y, round(width, 1), whisker, side.text, side.tooltip))
        block = len(sides) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
        groups.append(
            IntervalGroup(name, shorten(label), label, round(top + block / 2 + 4, 1), flag, bars)
        )
        top += block + GROUP_GAP
    return IntervalChart(
        width=LABEL_WIDTH + AREA_WIDTH + VALUE_WIDTH,
        height=max(round(top - GROUP_GAP + 4), 20),
        label_width=LABEL_WIDTH,
        value_x=LABEL_WIDTH + AREA_WIDTH + 8,
        bar_height=BAR_HEIGHT,
        groups=groups,
    )
