"""When things happen: hour-of-week heatmaps and bottlenecks.

A help desk's week has a shape: tickets arrive on Monday mornings, waits started on Friday
evenings last the weekend. The arrival heatmap counts new tickets by weekday and hour; the wait
heatmap gives the median wait of directly-follows steps by the hour the wait *started*. Hours are
read in the log's display time zone.

A bottleneck here is a transition ranked by the total waiting it causes. Since a case's duration
is the sum of its waits, the shares of all transitions add up to all case time.
"""

from __future__ import annotations

from supportflow.mining.engine import US, DuckDBEngine
from supportflow.mining.results import Bottleneck, DirectlyFollows, Heatmaps

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _hour_of_week_sql(column: str, timezone: str) -> tuple[str, str]:
    """SQL for (weekday 0 = Monday, hour) of an epoch-µs column in ``timezone``."""
    if timezone.upper() in ("UTC", "ETC/UTC", "Z"):
        # 1970-01-01 was a Thursday: days since the epoch + 3, modulo 7, is 0 on Mondays.
        return (
            f"CAST(((({column} // {86_400 * US}) + 3) % 7 + 7) % 7 AS INTEGER)",
            f"CAST((({column} // {3_600 * US}) % 24 + 24) % 24 AS INTEGER)",
        )
    # The connection's TimeZone is the display zone (the loader sets it).
    local = f"make_timestamptz({column})"
    return f"CAST(isodow({local}) - 1 AS INTEGER)", f"CAST(hour({local}) AS INTEGER)"


def discover_heatmaps(engine: DuckDBEngine, *, timezone: str) -> Heatmaps:
    """Arrivals (case starts) and median wait by the hour the wait started, Monday first."""
    dow, hour = _hour_of_week_sql("tss[1]", timezone)
    arrivals = [[0] * 24 for _ in range(7)]
    for d, h, n in engine.rows(
        "heatmap_arrivals",
        f"SELECT {dow} AS d, {hour} AS h, count(*) FROM case_lists GROUP BY d, h",
    ):
        arrivals[d][h] = int(n)
    dow, hour = _hour_of_week_sql("t0", timezone)
    medians: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for d, h, median, n in engine.rows(
        "heatmap_waits",
        f"SELECT {dow} AS d, {hour} AS h, median(wait) / {US}, count(*) FROM pairs GROUP BY d, h",
    ):
        medians[d][h] = float(median)
        counts[d][h] = int(n)
    return Heatmaps(
        timezone=timezone,
        weekdays=list(WEEKDAYS),
        arrivals=arrivals,
        median_wait_s=medians,
        wait_counts=counts,
    )


def discover_bottlenecks(
    dfg: list[DirectlyFollows], *, total_case_time_s: float, limit: int = 20
) -> list[Bottleneck]:
    """Transitions ranked by total waiting, with their share of all case time."""
    ranked = sorted(dfg, key=lambda e: (-e.total_s, e.source, e.target))[:limit]
    return [
        Bottleneck(
            source=e.source,
            target=e.target,
            count=e.count,
            total_s=e.total_s,
            share_of_case_time=e.total_s / total_case_time_s if total_case_time_s else 0.0,
            median_s=e.median_s,
            mean_s=e.mean_s,
            p90_s=e.p90_s,
        )
        for e in ranked
    ]
