"""Change points: the days a waiting time changed its whole shape.

Picture the wait between "Resolve ticket" and "Closed", month after month. For two years a
resolved ticket stays open anywhere from two to seven weeks; then the help desk switches on an
auto-close policy and every ticket closes exactly fifteen days after its resolution. The median
moves (31 days to 15), but the spread, which collapses to nothing, tells more. A test of the
mean sees half of that story, so the question asked here is whether the whole distribution
before a date differs from the one after it (method and references in ``docs/drift.md``):

- each observation falls into a value *bin* on a fixed logarithmic scale (twenty per decade,
  about 12% wide) and a period; the database returns one histogram per period, and cumulative
  sums give both sides' distribution functions for every candidate split (a period boundary)
  at once, hence the two-sample Kolmogorov–Smirnov distance ``D``;
- a split counts when it is *significant* (asymptotic Kolmogorov p-value of ``D·√(n₁n₂/(n₁+n₂))``
  times the number of candidate splits: Bonferroni) and *material* (``D`` ≥ 0.3, or ``D`` ≥ 0.15
  with the median or the p10–p90 spread changed by a set factor: huge samples make trivia
  significant), with two non-empty periods and thirty observations on each side;
- binary segmentation: the strongest split that counts cuts the stretch in two and each half is
  searched again; then every change point is tested again between its final neighbours, and
  those that no longer count are dropped, weakest first;
- each boundary is refined to the day with daily histograms of the two periods around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from scipy.stats import kstwobign

from supportflow.kpi.periods import Calendar, local_date
from supportflow.mining.engine import DuckDBEngine

BINS_PER_DECADE = 20
"""Resolution of the value bins: 20 per decade of ``log10(1 + |seconds|)``, about 12% wide."""

Counts = npt.NDArray[np.float64]


def value_bin_sql(column: str) -> str:
    """SQL for the bin code of a value in seconds: ``sign(v)·ceil(log10(1 + |v|)·20)``.

    The code is monotone in the value, so ordering codes orders values; 0 is exactly zero and
    negative values (bad clocks) get negative codes instead of being dropped.
    """
    return f"CAST(sign({column}) * ceil(log10(1 + abs({column})) * {BINS_PER_DECADE}) AS INTEGER)"


@dataclass(frozen=True)
class ChangePointSettings:
    """What counts as a change point.

    Attributes:
        alpha: significance level of the Bonferroni-corrected Kolmogorov–Smirnov test.
        min_ks: a KS distance at least this large is a material change on its own.
        min_shift_ks: the KS distance a change of median or spread needs as well: at least
            this share of the observations must have moved.
        min_median_ratio: a median that grew or shrank by this factor (1.5 = 50%) is material.
        min_spread_ratio: so is a p10–p90 spread that grew or shrank by this factor.
        floor_s: medians and spreads below this count as this much when compared, so that 20
            seconds against 40 is no "doubling".
        min_periods: non-empty periods required on each side of a split (at least 2).
        min_observations: observations required on each side of a split.
    """

    alpha: float = 0.001
    min_ks: float = 0.3
    min_shift_ks: float = 0.15
    min_median_ratio: float = 1.5
    min_spread_ratio: float = 2.0
    floor_s: float = 60.0
    min_periods: int = 2
    min_observations: int = 30

    def __post_init__(self) -> None:
        """Raises ``ValueError`` for settings that make no sense."""
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, not {self.alpha}")
        if self.min_periods < 2:
            raise ValueError("min_periods must be at least 2 (refinement needs the room)")
        if self.min_observations < 1 or self.floor_s <= 0:
            raise ValueError("min_observations and floor_s must be positive")
        if self.min_median_ratio <= 1 or self.min_spread_ratio <= 1:
            raise ValueError("min_median_ratio and min_spread_ratio must be greater than 1")


@dataclass(frozen=True)
class Split:
    """A change between periods: ``index`` is the first period of the after side; ``distance``
    is the KS distance between the two sides, ``statistic`` the test statistic
    ``D·√n_eff`` and ``p_value`` its Bonferroni-corrected p-value."""

    index: int
    distance: float
    statistic: float
    p_value: float


def bin_value(code: int, fraction: float) -> float:
    """The value in seconds at ``fraction`` (0..1) of the way through bin ``code``."""
    if code == 0:
        return 0.0
    # Bin k > 0 spans log10(1 + v) in ((k-1)/K, k/K]; negative codes mirror it.
    magnitude = (abs(code) - 1 + (fraction if code > 0 else 1 - fraction)) / BINS_PER_DECADE
    return math.copysign(10**magnitude - 1, code)


def histogram_quantile(counts: Counts, codes: npt.NDArray[np.int64], q: float) -> float:
    """Quantile ``q`` of a binned distribution, interpolated within its bin (log scale)."""
    cumulative = np.cumsum(counts)
    target = q * cumulative[-1]
    i = min(int(np.searchsorted(cumulative, target)), len(counts) - 1)
    below = cumulative[i] - counts[i]
    fraction = (target - below) / counts[i] if counts[i] else 0.0
    return bin_value(int(codes[i]), float(fraction))


def is_material(
    left: Counts,
    right: Counts,
    codes: npt.NDArray[np.int64],
    *,
    distance: float,
    settings: ChangePointSettings,
) -> bool:
    """Whether the change between two binned distributions is large enough to report."""
    if distance >= settings.min_ks:
        return True
    if distance < settings.min_shift_ks:
        return False

    def ratio(a: float, b: float) -> float:
        a, b = max(a, settings.floor_s), max(b, settings.floor_s)
        return max(a, b) / min(a, b)

    low, median, high = (
        [histogram_quantile(h, codes, q) for h in (left, right)] for q in (0.1, 0.5, 0.9)
    )
    return (
        ratio(*median) >= settings.min_median_ratio
        or ratio(high[0] - low[0], high[1] - low[1]) >= settings.min_spread_ratio
    )


def ks_distances(left: Counts, right: Counts) -> tuple[Counts, Counts]:
    """KS distance ``D`` and test statistic ``D·√n_eff`` for each row pair of histograms."""
    n_left = left.sum(axis=1)
    n_right = right.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf_left = np.cumsum(left, axis=1) / n_left[:, None]
        cdf_right = np.cumsum(right, axis=1) / n_right[:, None]
        distance = np.nan_to_num(np.abs(cdf_left - cdf_right).max(axis=1))
        effective_n = np.nan_to_num(n_left * n_right / (n_left + n_right))
    return distance, distance * np.sqrt(effective_n)


@dataclass(frozen=True)
class _Stretch:
    """Cumulative histograms of a series, to test the splits of any stretch of periods."""

    prefix: Counts
    nonempty: npt.NDArray[np.int64]
    codes: npt.NDArray[np.int64]
    settings: ChangePointSettings

    def splits(self, start: int, stop: int, *, only: int | None = None) -> list[Split]:
        """The splits of periods ``[start, stop)`` that count (significant and material), or
        just the one at period ``only`` if it counts."""
        s = self.settings
        index = np.arange(start + 1, stop)
        left = self.prefix[index] - self.prefix[start]
        right = (self.prefix[stop] - self.prefix[start]) - left
        enough = (
            (left.sum(axis=1) >= s.min_observations)
            & (right.sum(axis=1) >= s.min_observations)
            & (self.nonempty[index] - self.nonempty[start] >= s.min_periods)
            & (self.nonempty[stop] - self.nonempty[index] >= s.min_periods)
        )
        if not enough.any():
            return []
        distance, statistic = ks_distances(left, right)
        p_values = np.minimum(1.0, enough.sum() * kstwobign.sf(statistic))
        counting = enough & (p_values < s.alpha)
        if only is not None:
            counting &= index == only
        return [
            Split(int(index[i]), float(distance[i]), float(statistic[i]), float(p_values[i]))
            for i in np.flatnonzero(counting)
            if is_material(left[i], right[i], self.codes, distance=distance[i], settings=s)
        ]


def find_change_points(
    histograms: Counts, codes: npt.NDArray[np.int64], *, settings: ChangePointSettings
) -> list[Split]:
    """The change points of one series, in period order.

    Binary segmentation finds them; then each is tested again between its final neighbours
    and the weakest that no longer counts is dropped, until all count. The splits returned
    carry the figures of that last test.

    Args:
        histograms: one row per period (consecutive, empty ones included), one column per bin.
        codes: the bin code of each column, ascending.
    """
    stretch = _Stretch(
        np.vstack([np.zeros((1, histograms.shape[1])), np.cumsum(histograms, axis=0)]),
        np.concatenate([[0], np.cumsum(histograms.sum(axis=1) > 0)]).astype(np.int64),
        codes,
        settings,
    )
    found: list[int] = []
    pending = [(0, histograms.shape[0])]
    while pending:
        start, stop = pending.pop()
        counting = stretch.splits(start, stop)
        if counting:
            best = max(counting, key=lambda split: split.statistic)
            found.append(best.index)
            pending += [(start, best.index), (best.index, stop)]
    found.sort()
    while True:
        bounds = [0, *found, histograms.shape[0]]
        tested = [
            next(iter(stretch.splits(bounds[k], bounds[k + 2], only=index)), None)
            for k, index in enumerate(found)
        ]
        failing = [k for k, split in enumerate(tested) if split is None]
        if not failing:
            return [split for split in tested if split is not None]
        # Drop the failing boundary whose stretch-wide test was weakest.
        found.pop(
            min(failing, key=lambda k: _strength(stretch, bounds[k], found[k], bounds[k + 2]))
        )


def _strength(stretch: _Stretch, start: int, index: int, stop: int) -> float:
    left = stretch.prefix[index] - stretch.prefix[start]
    right = stretch.prefix[stop] - stretch.prefix[index]
    return float(ks_distances(left[None, :], right[None, :])[1][0])


def refine_split(
    before: Counts, days: Counts, after: Counts, *, min_observations: int
) -> int | None:
    """Where, among consecutive days, the after side of a change begins.

    Args:
        before: the histogram of everything before the first day (same columns as ``days``).
        days: one row per day with observations, in time order.
        after: the histogram of everything after the last day.

    Returns:
        The index of the first day of the after side (``len(days)`` when none of these days
        belongs to it), choosing the split with the largest KS statistic; ``None`` when no
        split leaves ``min_observations`` on both sides.
    """
    cumulative = np.vstack([np.zeros((1, days.shape[1])), np.cumsum(days, axis=0)])
    left = before + cumulative
    right = after + (cumulative[-1] - cumulative)
    enough = (left.sum(axis=1) >= min_observations) & (right.sum(axis=1) >= min_observations)
    if not enough.any():
        return None
    _, statistic = ks_distances(left, right)
    return int(np.argmax(np.where(enough, statistic, -1.0)))


@dataclass(frozen=True)
class SeriesHistograms:
    """The value histograms by period of series number ``sid``.

    Row ``i`` of ``counts`` is period ``first_period + i``, from ``starts_us[i]`` to
    ``starts_us[i + 1]`` (local midnights: ``starts_us`` has one more entry than ``counts``
    has rows); column ``j`` counts the observations in bin ``codes[j]``.
    """

    sid: int
    first_period: int
    starts_us: list[int]
    codes: npt.NDArray[np.int64]
    counts: Counts

    def row(self, pairs: list[tuple[int, int]]) -> Counts:
        """One histogram row from (bin code, count) pairs of this series."""
        row = np.zeros(len(self.codes))
        for code, n in pairs:
            row[int(np.searchsorted(self.codes, code))] += n
        return row


@dataclass(frozen=True)
class LocatedChange:
    """A change point of series number ``sid``: found at the boundary of the period starting on
    ``period_start`` and refined to the local date ``at`` (``at_us``, its first instant);
    ``split`` holds the figures of the period-level test."""

    sid: int
    period_start: date
    at: date
    at_us: int
    split: Split


def locate_change_points(
    engine: DuckDBEngine,
    histograms: list[SeriesHistograms],
    *,
    observations: str,
    timezone: str,
    settings: ChangePointSettings,
) -> list[LocatedChange]:
    """Every series' change points, in time order per series, each refined to the day.

    Args:
        observations: the table of ``(sid, obs_us, value_s, period)`` the histograms came from.
        timezone: the IANA zone whose local days and midnights the periods follow.

    Raises:
        MiningError: when a query fails.
    """
    zone = ZoneInfo(timezone)
    detected = {h.sid: find_change_points(h.counts, h.codes, settings=settings) for h in histograms}
    days = _daily_histograms(engine, observations, timezone, histograms, detected)
    located: list[LocatedChange] = []
    for h in histograms:
        splits = detected[h.sid]
        bounds = [0] + [s.index for s in splits] + [h.counts.shape[0]]
        for i, split in enumerate(splits):
            day_rows = days.get((h.sid, i), [])
            j = refine_split(
                h.counts[bounds[i] : split.index - 1].sum(axis=0),
                np.array([h.row(pairs) for _, pairs in day_rows]).reshape(-1, len(h.codes)),
                h.counts[split.index + 1 : bounds[i + 2]].sum(axis=0),
                min_observations=settings.min_observations,
            )
            if j is not None and j < len(day_rows):
                at_us = day_rows[j][0]
            else:  # the after side begins with a period boundary
                at_us = h.starts_us[split.index + (0 if j is None else 1)]
            boundary = local_date(h.starts_us[split.index], zone)
            located.append(LocatedChange(h.sid, boundary, local_date(at_us, zone), at_us, split))
    return located


def _daily_histograms(
    engine: DuckDBEngine,
    observations: str,
    timezone: str,
    histograms: list[SeriesHistograms],
    detected: dict[int, list[Split]],
) -> dict[tuple[int, int], list[tuple[int, list[tuple[int, int]]]]]:
    """Per (series number, change point): the local days with observations in the two periods
    around the change, in order, each as (its first instant, its (bin code, count) pairs)."""
    windows = [  # (series, period, change point, its start, its end)
        (h.sid, h.first_period + row, i, h.starts_us[row], h.starts_us[row + 1])
        for h in histograms
        for i, split in enumerate(detected[h.sid])
        for row in (split.index - 1, split.index)
    ]
    if not windows:
        return {}
    days = Calendar.build(
        first_us=min(w[3] for w in windows),
        last_us=max(w[4] for w in windows) - 1,
        period="day",
        timezone=timezone,
    )
    days.materialise_map(engine, "drift_local_days")
    day, join = days.period_sql("o.obs_us", "m")
    rows = engine.rows(
        "drift_daily_histograms",
        f"""WITH w AS (SELECT unnest($1::INTEGER[]) AS sid, unnest($2::INTEGER[]) AS period,
                unnest($3::INTEGER[]) AS cp)
            SELECT o.sid, w.cp, {day} AS day, {value_bin_sql("o.value_s")} AS bin, count(*)
            FROM {observations} o JOIN w ON o.sid = w.sid AND o.period = w.period
            JOIN drift_local_days m ON {join}
            GROUP BY ALL ORDER BY o.sid, w.cp, day, bin""",
        [[w[k] for w in windows] for k in range(3)],
    )
    found: dict[tuple[int, int], list[tuple[int, list[tuple[int, int]]]]] = {}
    for sid, cp, d, code, n in rows:
        entries = found.setdefault((sid, cp), [])
        if not entries or entries[-1][0] != days.starts_us[d]:
            entries.append((days.starts_us[d], []))
        entries[-1][1].append((code, n))
    return found
