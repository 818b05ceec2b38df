"""Control flow: the process map, start and end activities, variants and case durations.

A directly-follows arc "Assign seriousness → Take in charge ticket" counts every time a ticket's
next event after assigning seriousness was being taken in charge; its wait is the wall-clock time
between the two events. These are the figures pm4py's ``discover_dfg``,
``discover_performance_dfg``, ``get_variants`` and ``get_all_case_durations`` give, computed
from the primitive tables in :mod:`.primitives`.
"""

from __future__ import annotations

from supportflow.mining.engine import US, DuckDBEngine
from supportflow.mining.primitives import Dictionaries
from supportflow.mining.results import DirectlyFollows, DurationStats, Variant


def discover_dfg(engine: DuckDBEngine, names: Dictionaries) -> list[DirectlyFollows]:
    """The directly-follows graph with frequency and wait statistics, most frequent arc first."""
    rows = engine.rows(
        "dfg",
        f"""
        SELECT src, tgt, count(*) AS n,
               avg(wait) / {US}, median(wait) / {US}, min(wait) / {US}, max(wait) / {US},
               quantile_cont(wait, 0.9) / {US}, sum(wait) / {US}
        FROM pairs GROUP BY src, tgt
        ORDER BY n DESC, src, tgt
        """,
    )
    edges = [
        DirectlyFollows(
            source=names.activity(r[0]),
            target=names.activity(r[1]),
            count=int(r[2]),
            mean_s=float(r[3]),
            median_s=float(r[4]),
            min_s=float(r[5]),
            max_s=float(r[6]),
            p90_s=float(r[7]),
            total_s=float(r[8]),
        )
        for r in rows
    ]
    return sorted(edges, key=lambda e: (-e.count, e.source, e.target))


def discover_activities(engine: DuckDBEngine) -> dict[str, int]:
    """Events per activity, most frequent first."""
    return {r[0]: int(r[1]) for r in engine.rows("activities", "SELECT * FROM activity_dict")}


def discover_start_end_activities(
    engine: DuckDBEngine, names: Dictionaries
) -> tuple[dict[str, int], dict[str, int]]:
    """Cases per first activity and per last activity, most frequent first."""
    starts = engine.rows(
        "start_activities",
        "SELECT acts[1] AS a, sum(cases) AS n FROM variants GROUP BY a ORDER BY n DESC, a",
    )
    ends = engine.rows(
        "end_activities",
        "SELECT acts[len(acts)] AS a, sum(cases) AS n FROM variants GROUP BY a ORDER BY n DESC, a",
    )

    def named(rows: list[tuple[int, int]]) -> dict[str, int]:
        counted = [(names.activity(a), int(n)) for a, n in rows]
        return dict(sorted(counted, key=lambda an: (-an[1], an[0])))

    return named(starts), named(ends)


def discover_variants(
    engine: DuckDBEngine, names: Dictionaries, *, limit: int | None = 200
) -> tuple[list[Variant], int]:
    """The ``limit`` most frequent variants (ties by sequence) and the number of variants."""
    total_cases, total_variants = engine.rows(
        "variant_totals", "SELECT sum(cases), count(*) FROM variants"
    )[0]
    limit_sql = f"LIMIT {int(limit)}" if limit is not None else ""
    rows = engine.rows(
        "variants",
        f"SELECT acts, cases, median_duration / {US} FROM variants ORDER BY vid {limit_sql}",
    )
    return [
        Variant(
            activities=[names.activity(a) for a in acts],
            cases=int(cases),
            share=int(cases) / int(total_cases),
            median_duration_s=float(median),
        )
        for acts, cases, median in rows
    ], int(total_variants)


def discover_case_durations(engine: DuckDBEngine) -> DurationStats:
    """Case duration (last timestamp minus first) statistics in seconds."""
    mean, median, p90, low, high = engine.rows(
        "case_durations",
        f"SELECT avg(duration) / {US}, median(duration) / {US}, "
        f"quantile_cont(duration, 0.9) / {US}, min(duration) / {US}, max(duration) / {US} "
        "FROM case_lists",
    )[0]
    return DurationStats(
        mean=float(mean), median=float(median), p90=float(p90), min=float(low), max=float(high)
    )
