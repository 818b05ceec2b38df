"""Flow: tickets arriving, tickets resolved, and the backlog they leave behind.

The backlog at an instant is the number of tickets that exist and are not resolved or closed
then: it rises with every new ticket and every reopening, and falls with every resolution. Its
age distribution (how long the open tickets have been waiting) says whether the backlog is
fresh work or forgotten work. Arrivals and throughput (resolutions) per hour of day and per
weekday show when the load comes in and when it is worked off, in the log's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.eventlog.sql import literal
from supportflow.mining.engine import DuckDBEngine

_DONE = "('resolved', 'closed')"
AGE_BUCKETS_S = (3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0, 30 * 86400.0)
"""Upper bounds of the backlog age buckets: 1 h, 1 d, 3 d, 7 d, 30 d, and older."""


@dataclass(frozen=True)
class DailyFlow:
    """One local calendar day (every day of the log's span, quiet ones too): tickets created,
    tickets resolved, backlog at the day's end."""

    date: str
    arrivals: int
    resolutions: int
    backlog: int


@dataclass(frozen=True)
class BacklogAge:
    """The open tickets at the clock and how long they have existed."""

    open_tickets: int
    median_age_s: float | None
    p90_age_s: float | None
    oldest_age_s: float | None
    buckets: list[int]
    """Counts per age bucket: ≤ each bound of :data:`AGE_BUCKETS_S`, then older."""


@dataclass(frozen=True)
class Flow:
    """Arrivals, throughput and backlog of the whole log."""

    daily: list[DailyFlow]
    arrivals_by_hour: list[int]
    arrivals_by_weekday: list[int]
    """Monday first."""
    resolutions_by_hour: list[int]
    resolutions_by_weekday: list[int]
    peak_backlog: int
    peak_backlog_date: str | None
    backlog_age: BacklogAge


def backlog_changes_sql() -> str:
    """Rows ``(case_id, ts, delta)``: +1 when a ticket opens or reopens, -1 when it is resolved."""
    return f"""
        SELECT case_id, start_us AS ts,
               CAST(state NOT IN {_DONE} AS INTEGER)
               - CASE WHEN prev_state IS NULL THEN 0
                      ELSE CAST(prev_state NOT IN {_DONE} AS INTEGER) END AS delta
        FROM kpi_intervals
        WHERE delta <> 0
    """


def discover_flow(engine: DuckDBEngine, *, timezone: str, clock_us: int) -> Flow:
    """Arrivals, resolutions and backlog per local day, hour and weekday.

    Raises:
        MiningError: a query failed.
    """
    local = f"timezone({literal(timezone)}, make_timestamptz({{}}))"
    engine.materialise("kpi_backlog_changes", backlog_changes_sql())
    daily = engine.rows(
        "kpi_daily_flow",
        f"""
        WITH arr AS (SELECT CAST({local.format("created_us")} AS DATE) AS d, count(*) AS n
                     FROM kpi_tickets GROUP BY d),
             res AS (SELECT CAST({local.format("ts")} AS DATE) AS d,
                            count(*) FILTER (delta < 0) AS n, sum(delta) AS delta
                     FROM kpi_backlog_changes GROUP BY d),
             seen AS (SELECT d FROM arr UNION ALL SELECT d FROM res),
             -- every calendar day of the span, quiet ones too: the backlog still stands then
             days AS (SELECT CAST(unnest(range(min(d), max(d) + INTERVAL 1 DAY, INTERVAL 1 DAY))
                                  AS DATE) AS d FROM seen)
        SELECT strftime(days.d, '%Y-%m-%d'), coalesce(arr.n, 0), coalesce(res.n, 0),
               sum(coalesce(res.delta, 0)) OVER (ORDER BY days.d)
        FROM days LEFT JOIN arr USING (d) LEFT JOIN res USING (d) ORDER BY days.d
        """,
    )
    by_time = engine.rows(
        "kpi_hour_weekday",
        f"""
        SELECT 'a', hour(t), isodow(t), count(*) FROM
            (SELECT {local.format("created_us")} AS t FROM kpi_tickets) GROUP BY ALL
        UNION ALL
        SELECT 'r', hour(t), isodow(t), count(*) FROM
            (SELECT {local.format("ts")} AS t FROM kpi_backlog_changes WHERE delta < 0)
        GROUP BY ALL
        """,
    )
    hours = {"a": [0] * 24, "r": [0] * 24}
    weekdays = {"a": [0] * 7, "r": [0] * 7}
    for kind, hour, isodow, n in by_time:
        hours[kind][int(hour)] += int(n)
        weekdays[kind][int(isodow) - 1] += int(n)
    days = [DailyFlow(str(d), int(a), int(r), int(b)) for d, a, r, b in daily]
    peak = max(days, key=lambda day: day.backlog, default=None)
    return Flow(
        daily=days,
        arrivals_by_hour=hours["a"],
        arrivals_by_weekday=weekdays["a"],
        resolutions_by_hour=hours["r"],
        resolutions_by_weekday=weekdays["r"],
        peak_backlog=peak.backlog if peak else 0,
        peak_backlog_date=peak.date if peak else None,
        backlog_age=_backlog_age(engine, clock_us=clock_us),
    )


def _backlog_age(engine: DuckDBEngine, *, clock_us: int) -> BacklogAge:
    bounds = ", ".join(repr(b) for b in AGE_BUCKETS_S)
    row = engine.rows(
        "kpi_backlog_age",
        f"""
        SELECT count(*), quantile_cont(age, 0.5), quantile_cont(age, 0.9), max(age),
               list(bucket) FROM (
            SELECT ({int(clock_us)} - created_us) / 1e6 AS age,
                   len(list_filter([{bounds}], lambda b: b < ({int(clock_us)} - created_us) / 1e6))
                     AS bucket
            FROM kpi_tickets WHERE is_open)
        """,
    )[0]
    count, median, p90, oldest, buckets = row
    counts = [0] * (len(AGE_BUCKETS_S) + 1)
    for bucket in buckets or []:
        counts[int(bucket)] += 1
    return BacklogAge(
        open_tickets=int(count),
        median_age_s=None if median is None else float(median),
        p90_age_s=None if p90 is None else float(p90),
        oldest_age_s=None if oldest is None else float(oldest),
        buckets=counts,
    )
