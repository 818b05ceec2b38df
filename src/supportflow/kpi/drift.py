"""Drift: how waiting times and KPIs moved from period to period, and when they changed.

A help desk changes while nobody writes it down: a new triage rule, an auto-close policy, a
team that shrank. Each change leaves a mark on some waiting time. In the demo log a resolved
ticket waited about a month to be closed, anywhere between two and seven weeks, until August
2012; every ticket resolved after that was closed exactly fifteen days later.

Drift is read from *series* of observations ``(series, obs_us, value_s)``: the waits of the
costliest transitions (series "Resolve ticket → Closed", observed when the ticket was resolved)
and the ticket KPIs (first response, resolution, close and handling time, observed when the
ticket was created). Each series gets a profile per period (ISO week from Monday, or calendar
month, in the log's time zone: n, mean, p10, median, p90) and its change points
(:mod:`.changepoints`), each described by exact statistics of the segments between neighbouring
change points. DuckDB does the work: one table of observations, one query for the profiles and
histograms, one for the daily histograms around the change points, one for the segments.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from supportflow.kpi.changepoints import (
    ChangePointSettings,
    LocatedChange,
    SeriesHistograms,
    locate_change_points,
    value_bin_sql,
)
from supportflow.kpi.drift_series import (
    SeriesSource,
    table_exists,
    ticket_kpi_series,
    transition_series,
)
from supportflow.kpi.periods import Calendar, local_date
from supportflow.mining.engine import DuckDBEngine

Period = Literal["week", "month"]
SeriesKind = Literal["transition", "kpi"]
OBSERVATIONS = "drift_observations"


@dataclass(frozen=True)
class PeriodProfile:
    """One period of one series; ``start`` is the local date the period begins."""

    start: str
    n: int
    mean_s: float
    median_s: float
    p10_s: float
    p90_s: float


@dataclass(frozen=True)
class SegmentStats:
    """Exact statistics of a series between two change points; ``start`` and ``end`` are the
    local dates of its first and last observation."""

    start: str
    end: str
    n: int
    mean_s: float
    median_s: float
    p10_s: float
    p25_s: float
    p75_s: float
    p90_s: float
    min_s: float
    max_s: float


@dataclass(frozen=True)
class ChangePoint:
    """A change in a series' distribution: ``after`` holds from the local date ``at`` on.

    ``period_start`` is the period boundary where the test found it, ``statistic`` the
    Kolmogorov–Smirnov distance of that test and ``p_value`` its Bonferroni-corrected p-value.
    """

    at: str
    period_start: str
    before: SegmentStats
    after: SegmentStats
    statistic: float
    p_value: float
    description: str


@dataclass(frozen=True)
class SeriesDrift:
    """The period profile and change points of one series."""

    series: str
    kind: SeriesKind
    periods: list[PeriodProfile]
    change_points: list[ChangePoint]


@dataclass(frozen=True)
class DriftReport:
    """Drift of every profiled series; periods follow ``timezone``."""

    period: Period
    timezone: str
    series: list[SeriesDrift]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: snake_case keys, durations in seconds (``_s``)."""
        return asdict(self)


def detect_drift(
    engine: DuckDBEngine,
    *,
    timezone: str,
    period: Period = "month",
    top_transitions: int = 10,
    min_transition_count: int = 100,
    kpi_series: bool = True,
    settings: ChangePointSettings | None = None,
) -> DriftReport:
    """Profile the costliest transitions' waits, and the ticket KPIs when ``kpi_series`` is set
    and the table ``kpi_tickets`` exists, per period, with their change points.

    Raises:
        ValueError: for an unknown time zone or period.
        MiningError: when a query fails (for example, no ``events`` view).
    """
    transitions = transition_series(engine, top=top_transitions, min_count=min_transition_count)
    sources: list[tuple[SeriesKind, SeriesSource]] = [("transition", transitions)]
    if kpi_series and table_exists(engine, "kpi_tickets"):
        sources.append(("kpi", ticket_kpi_series()))
    found = [
        drift
        for kind, (names, sql) in sources
        for drift in detect_series_drift(
            engine,
            names=names,
            observations_sql=sql,
            kind=kind,
            timezone=timezone,
            period=period,
            settings=settings,
        )
    ]
    return DriftReport(period=period, timezone=timezone, series=found)


def detect_series_drift(
    engine: DuckDBEngine,
    *,
    names: list[str],
    observations_sql: str,
    kind: SeriesKind,
    timezone: str,
    period: Period = "month",
    settings: ChangePointSettings | None = None,
) -> list[SeriesDrift]:
    """Period profiles and change points of numbered series: ``observations_sql`` yields
    ``(sid INTEGER, obs_us BIGINT, value_s DOUBLE)``, ``names[sid]`` names series ``sid``
    (see :data:`SeriesSource`). The series with the most total value come first; series
    without observations are left out.

    Raises:
        ValueError: for an unknown time zone or period.
        MiningError: when a query fails.
    """
    if period not in ("week", "month"):
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    chosen = settings or ChangePointSettings()
    calendar = _materialise_observations(engine, observations_sql, period, timezone)
    if calendar is None:
        return []
    profiles = _profiles(engine)
    located = locate_change_points(
        engine,
        [_histograms(sid, rows, calendar) for sid, rows in profiles.items()],
        observations=OBSERVATIONS,
        timezone=timezone,
        settings=chosen,
    )
    spans = {sid: (rows[0][0], rows[-1][0]) for sid, rows in profiles.items()}
    change_points = _change_points(
        engine, calendar, names, spans, located, min_observations=chosen.min_observations
    )
    order = sorted(profiles, key=lambda sid: (-sum(r[1] * r[2] for r in profiles[sid]), names[sid]))
    return [
        SeriesDrift(
            series=names[sid],
            kind=kind,
            periods=[
                PeriodProfile(
                    start=calendar.starts[p].isoformat(),
                    n=n,
                    mean_s=mean,
                    median_s=q[1],
                    p10_s=q[0],
                    p90_s=q[2],
                )
                for p, n, mean, q, _ in profiles[sid]
            ],
            change_points=change_points.get(sid, []),
        )
        for sid in order
    ]


def _materialise_observations(
    engine: DuckDBEngine, observations_sql: str, period: Period, timezone: str
) -> Calendar | None:
    """Materialise the observations with their period number; ``None`` when there are none."""
    engine.materialise(
        "drift_raw_observations",
        f"SELECT sid, obs_us, value_s FROM ({observations_sql}) "
        "WHERE sid IS NOT NULL AND obs_us IS NOT NULL AND isfinite(value_s)",
    )
    first_us, last_us = engine.rows(
        "drift_span", "SELECT min(obs_us), max(obs_us) FROM drift_raw_observations"
    )[0]
    if first_us is None:
        return None
    calendar = Calendar.build(first_us=first_us, last_us=last_us, period=period, timezone=timezone)
    calendar.materialise_map(engine, "drift_period_map")
    number, join = calendar.period_sql("o.obs_us", "m")
    engine.materialise(
        OBSERVATIONS,
        f"SELECT o.sid, o.obs_us, o.value_s, {number} AS period "
        f"FROM drift_raw_observations o JOIN drift_period_map m ON {join}",
    )
    engine.execute("drift_drop_raw_observations", "DROP TABLE drift_raw_observations")
    return calendar


_ProfileRow = tuple[int, int, float, list[float], dict[int, int]]


def _profiles(engine: DuckDBEngine) -> dict[int, list[_ProfileRow]]:
    """Per series number, one row per non-empty period: (period, n, mean, [p10, p50, p90],
    histogram of value bins)."""
    rows = engine.rows(
        "drift_profiles",
        f"""SELECT sid, period, count(*), avg(value_s), quantile_cont(value_s, [0.1, 0.5, 0.9]),
                histogram({value_bin_sql("value_s")})
            FROM {OBSERVATIONS} GROUP BY sid, period ORDER BY sid, period""",
    )
    profiles: dict[int, list[_ProfileRow]] = {}
    for sid, p, n, mean, quantiles, histogram in rows:
        profiles.setdefault(sid, []).append((p, n, mean, quantiles, histogram))
    return profiles


def _histograms(sid: int, rows: list[_ProfileRow], calendar: Calendar) -> SeriesHistograms:
    """The matrix of a series' period histograms, empty periods included."""
    codes = np.array(sorted({code for row in rows for code in row[4]}), dtype=np.int64)
    first, last = rows[0][0], rows[-1][0]
    counts = np.zeros((last - first + 1, len(codes)))
    for p, _, _, _, histogram in rows:
        for code, n in histogram.items():
            counts[p - first, int(np.searchsorted(codes, code))] = n
    return SeriesHistograms(sid, first, calendar.starts_us[first : last + 2], codes, counts)


def _change_points(
    engine: DuckDBEngine,
    calendar: Calendar,
    names: list[str],
    spans: dict[int, tuple[int, int]],
    located: list[LocatedChange],
    *,
    min_observations: int,
) -> dict[int, list[ChangePoint]]:
    """Each change point with exact statistics of the segments on either side (each bounded
    by the neighbouring change points) and its sentence."""
    cuts: dict[int, list[LocatedChange]] = {}
    for point in located:
        cuts.setdefault(point.sid, []).append(point)
    stats = _segment_stats(engine, calendar, spans, cuts)
    # Refined days of neighbouring change points can close in on each other and leave a
    # segment too small to describe; the weaker of its two ends goes, and the figures are redone.
    while thin := sorted(key for key, segment in stats.items() if segment.n < min_observations):
        sid, k = thin[0]
        ends = [i for i in (k - 1, k) if 0 <= i < len(cuts[sid])]
        cuts[sid].pop(min(ends, key=lambda i: cuts[sid][i].split.statistic))
        stats = _segment_stats(engine, calendar, spans, cuts)
    return {
        sid: [
            ChangePoint(
                at=p.at.isoformat(),
                period_start=p.period_start.isoformat(),
                before=stats[sid, k],
                after=stats[sid, k + 1],
                statistic=p.split.distance,
                p_value=p.split.p_value,
                description=describe_change(
                    names[sid], p.at.isoformat(), stats[sid, k], stats[sid, k + 1]
                ),
            )
            for k, p in enumerate(points)
        ]
        for sid, points in cuts.items()
    }


def _segment_stats(
    engine: DuckDBEngine,
    calendar: Calendar,
    spans: dict[int, tuple[int, int]],
    cuts: dict[int, list[LocatedChange]],
) -> dict[tuple[int, int], SegmentStats]:
    """Exact statistics of segment ``k`` (between change points ``k - 1`` and ``k``) per series.

    Each period of a series lies in one segment, or is cut once by a refined change point
    (windows of neighbouring change points never share a period): a table of (series, period)
    gives the segment by equality join, whatever the number of change points.
    """
    rows = [
        row
        for sid, points in cuts.items()
        for row in _segment_map(sid, [p.at_us for p in points], spans[sid], calendar.starts_us)
    ]
    if not rows:
        return {}
    result = engine.rows(
        "drift_segment_stats",
        f"""WITH g AS (SELECT unnest($1::INTEGER[]) AS sid, unnest($2::INTEGER[]) AS period,
                unnest($3::INTEGER[]) AS k0, unnest($4::BIGINT[]) AS cut_us,
                unnest($5::INTEGER[]) AS k1)
            SELECT sid, k, min(obs_us), max(obs_us), count(*), avg(value_s),
                quantile_cont(value_s, [0.1, 0.25, 0.5, 0.75, 0.9]), min(value_s), max(value_s)
            FROM (SELECT o.sid, o.obs_us, o.value_s,
                    CASE WHEN o.obs_us >= g.cut_us THEN g.k1 ELSE g.k0 END AS k
                  FROM {OBSERVATIONS} o JOIN g ON o.sid = g.sid AND o.period = g.period)
            GROUP BY sid, k""",
        [[row[i] for row in rows] for i in range(5)],
    )
    return {
        (sid, k): SegmentStats(
            start=local_date(first_us, calendar.zone).isoformat(),
            end=local_date(last_us, calendar.zone).isoformat(),
            n=n,
            mean_s=mean,
            median_s=q[2],
            p10_s=q[0],
            p25_s=q[1],
            p75_s=q[3],
            p90_s=q[4],
            min_s=low,
            max_s=high,
        )
        for sid, k, first_us, last_us, n, mean, q, low, high in result
    }


def _segment_map(
    sid: int, instants: list[int], span: tuple[int, int], starts_us: list[int]
) -> list[tuple[int, int, int, int, int]]:
    """Per period of a series: (series, period, segment at its start, the instant a change
    point cuts it, or its end, and the segment from that instant)."""
    rows = []
    for period in range(span[0], span[1] + 1):
        low, high = starts_us[period], starts_us[period + 1]
        k0 = bisect.bisect_right(instants, low)
        inside = k0 < len(instants) and instants[k0] < high
        rows.append((sid, period, k0, instants[k0] if inside else high, k0 + int(inside)))
    return rows


def describe_change(series: str, at: str, before: SegmentStats, after: SegmentStats) -> str:
    """One plain-English sentence: the median and p10–p90 range before and after ``at``."""

    def summary(s: SegmentStats) -> str:
        unit, size = _unit(max(abs(s.p10_s), abs(s.median_s), abs(s.p90_s)))
        return (
            f"{s.median_s / size:.1f} {unit} (p10–p90 {s.p10_s / size:.1f}–{s.p90_s / size:.1f}"
            f" {unit}, n = {s.n})"
        )

    return f"{series}: median {summary(before)} before {at}, {summary(after)} from then on"


def _unit(seconds: float) -> tuple[str, float]:
    for unit, size in (("d", 86_400.0), ("h", 3_600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return unit, size
    return "s", 1.0
