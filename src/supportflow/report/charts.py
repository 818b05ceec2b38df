"""Geometry of the report's static charts: horizontal bar charts and weekday×hour heatmaps.

Charts are inline SVG drawn on the server, so the report needs no chart library and shows its
charts even with JavaScript off. This module only computes positions, sizes, colours and
tooltip text; ``templates/charts.html.j2`` turns them into SVG elements. Keeping the markup in
the autoescaping template means a hostile agent name is escaped in one place, not in every
function that draws.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

BAR_LABEL_WIDTH = 230
BAR_AREA_WIDTH = 360
BAR_VALUE_WIDTH = 110
BAR_ROW_HEIGHT = 20
LABEL_MAX_UNITS = 34
"""Longest label drawn, in width units (a CJK character counts two); longer ones are cut and
shown whole in the tooltip."""

HEAT_CELL_WIDTH = 26
HEAT_CELL_HEIGHT = 20
HEAT_LABEL_WIDTH = 48
HEAT_HEADER_HEIGHT = 18

# A sequential blue scale (light to dark), readable when printed in grey.
_SCALE = ((0.94, 0.96, 0.99), (0.62, 0.79, 0.88), (0.26, 0.57, 0.78), (0.03, 0.27, 0.58))
EMPTY_CELL_FILL = "#eeeeee"


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart."""

    label: str
    full_label: str
    value_text: str
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart, one labelled bar per row, largest value drawn full width."""

    width: int
    height: int
    label_width: int
    row_height: int
    bars: list[Bar]


@dataclass(frozen=True)
class HeatCell:
    """One weekday×hour cell with its fill colour and tooltip."""

    x: int
    y: int
    fill: str
    tooltip: str


@dataclass(frozen=True)
class Heatmap:
    """A 7×24 grid of cells, weekday rows and hour columns."""

    width: int
    height: int
    cell_width: int
    cell_height: int
    label_width: int
    header_height: int
    row_labels: list[tuple[int, str]]
    column_labels: list[tuple[int, str]]
    cells: list[HeatCell]
    legend: list[str]


def display_units(text: str) -> int:
    """Approximate drawn width of ``text`` in Latin-letter units (wide CJK characters are 2)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def shorten(text: str, *, max_units: int = LABEL_MAX_UNITS) -> str:
    """``text`` cut to ``max_units`` width units with an ellipsis when it is longer."""
    if display_units(text) <= max_units:
        return text
    kept, units = [], 0
    for char in text:
        units += display_units(char)
        if units > max_units - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def bar_chart(rows: Sequence[tuple[str, float, str]]) -> BarChart:
    """A bar chart of ``rows``, each ``(label, value, value_text)``, in the order given."""
    largest = max((value for _, value, _ in rows), default=0.0)
    bars = [
        Bar(
            label=shorten(label),
            full_label=label,
            value_text=value_text,
            y=index * BAR_ROW_HEIGHT,
            # A non-zero value gets at least one pixel so that it does not look like zero.
            width=max(BAR_AREA_WIDTH * value / largest, 1.0) if largest > 0 and value > 0 else 0.0,
        )
        for index, (label, value, value_text) in enumerate(rows)
    ]
    return BarChart(
        width=BAR_LABEL_WIDTH + BAR_AREA_WIDTH + BAR_VALUE_WIDTH,
        height=max(len(bars), 1) * BAR_ROW_HEIGHT,
        label_width=BAR_LABEL_WIDTH,
        row_height=BAR_ROW_HEIGHT,
        bars=bars,
    )


def scale_colour(fraction: float) -> str:
    """The colour at ``fraction`` (0..1, clamped) of the sequential scale, as ``#rrggbb``."""
    fraction = min(max(fraction, 0.0), 1.0)
    position = fraction * (len(_SCALE) - 1)
    low = min(int(position), len(_SCALE) - 2)
    step = position - low
    channels = (
        round(255 * (a + (b - a) * step)) for a, b in zip(_SCALE[low], _SCALE[low + 1], strict=True)
    )
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def heatmap(
    grid: Sequence[Sequence[float | None]],
    *,
    weekdays: Sequence[str],
    tooltips: Sequence[Sequence[str]],
) -> Heatmap:
    """A heatmap of ``grid`` (7 rows × 24 hours); ``None`` cells are drawn grey.

    Colours follow the square root of value / largest value, so that a few busy hours do not
    wash out the rest of the week.
    """
    largest = max((value for row in grid for value in row if value is not None), default=0.0)
    cells = []
    for weekday, row in enumerate(grid):
        for hour, value in enumerate(row):
            if value is None:
                fill = EMPTY_CELL_FILL
            else:
                fill = scale_colour((value / largest) ** 0.5 if largest > 0 else 0.0)
            cells.append(
                HeatCell(
                    x=HEAT_LABEL_WIDTH + hour * HEAT_CELL_WIDTH,
                    y=HEAT_HEADER_HEIGHT + weekday * HEAT_CELL_HEIGHT,
                    fill=fill,
                    tooltip=tooltips[weekday][hour],
                )
            )
    hours = len(grid[0]) if grid else 24
    return Heatmap(
        width=HEAT_LABEL_WIDTH + hours * HEAT_CELL_WIDTH,
        height=HEAT_HEADER_HEIGHT + len(grid) * HEAT_CELL_HEIGHT,
        cell_width=HEAT_CELL_WIDTH,
        cell_height=HEAT_CELL_HEIGHT,
        label_width=HEAT_LABEL_WIDTH,
        header_height=HEAT_HEADER_HEIGHT,
        row_labels=[
            (HEAT_HEADER_HEIGHT + index * HEAT_CELL_HEIGHT + HEAT_CELL_HEIGHT // 2, name)
            for index, name in enumerate(weekdays)
        ],
        column_labels=[
            (HEAT_LABEL_WIDTH + hour * HEAT_CELL_WIDTH + HEAT_CELL_WIDTH // 2, f"{hour:02d}")
            for hour in range(0, hours, 3)
        ],
        cells=cells,
        legend=[scale_colour(step / 4) for step in range(5)],
    )
