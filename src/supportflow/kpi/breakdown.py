"""Every KPI by every dimension the log has, with sample sizes and honest outliers.

"Which channel is slow?" "Which team reopens most?" A breakdown groups the tickets by one
dimension (channel, region, language, team, agent, priority, tier, category, hour of day of
creation) and summarises each KPI per group; :mod:`.outliers` says which groups stand out once
their sample size is taken into account. Agents' use of the waiting-on-customer state is
compared with their peers' the same way, so that parking tickets to stop the clock shows up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from supportflow.eventlog.sql import literal
from supportflow.kpi.measures import KpiDefinition, kpi
from supportflow.kpi.outliers import Z_LIMIT, GroupStat, funnel_z, verdict
from supportflow.kpi.tickets import DIMENSIONS
from supportflow.mining.engine import DuckDBEngine

BREAKDOWN_KPIS = (
    "first_response_time",
    "resolution_time",
    "handling_time",
    "first_contact_resolution",
    "reopen_rate",
    "reassignments",
)
ALL_DIMENSIONS = (*DIMENSIONS, "hour")
_MAX_GROUPS = 100


@dataclass(frozen=True)
class GroupKpi:
    """One group of a breakdown: its sample size, summary and funnel verdict."""

    value: str
    n: int
    mean: float | None
    median: float | None
    p90: float | None
    z: float | None
    outlier: str | None
    """``worse`` or ``better`` than the whole when outside the funnel limits, else ``None``."""


@dataclass(frozen=True)
class Breakdown:
    """One KPI by one dimension. ``groups`` are ordered by sample size (largest first)."""

    dimension: str
    kpi: str
    unit: str
    overall: float | None
    overdispersion: float
    groups: list[GroupKpi]
    groups_total: int


@dataclass(frozen=True)
class PauseUsage:
    """One agent's use of the waiting-on-customer state compared with their peers."""

    agent: str
    tickets: int
    paused_tickets: int
    pause_share: float
    median_pause_s: float | None
    z: float | None
    outlier: str | None
    """``more`` or ``less`` than peers when outside the funnel limits, else ``None``."""


def available_dimensions(engine: DuckDBEngine) -> list[str]:
    """Dimensions with at least two distinct values among the tickets."""
    counts = ", ".join(f"count(DISTINCT {d})" for d in DIMENSIONS)
    row = engine.rows("kpi_dimension_counts", f"SELECT {counts} FROM kpi_tickets")[0]
    return [d for d, n in zip(DIMENSIONS, row, strict=True) if int(n) >= 2] + ["hour"]


def _scale(definition: KpiDefinition, column: str) -> str:
    # not greatest(x, 0): DuckDB's greatest() skips NULLs and would turn "no value" into 0
    return (
        f"CASE WHEN {column} >= 0 THEN ln(1 + {column}) END"
        if definition.unit == "duration"
        else column
    )


def discover_breakdowns(
    engine: DuckDBEngine, *, dimensions: list[str], timezone: str
) -> list[Breakdown]:
    """Each KPI of :data:`BREAKDOWN_KPIS` by each of ``dimensions``.

    Raises:
        ValueError: an unknown dimension.
        MiningError: a query failed.
    """
    unknown = [d for d in dimensions if d not in ALL_DIMENSIONS]
    if unknown:
        raise ValueError(
            f"unknown dimension {unknown[0]!r}; choose from {', '.join(ALL_DIMENSIONS)}"
        )
    if not dimensions:
        return []
    hour = f"CAST(hour(timezone({literal(timezone)}, make_timestamptz(created_us))) AS VARCHAR)"
    definitions = [kpi(name) for name in BREAKDOWN_KPIS]
    values = ", ".join(
        f"CASE WHEN {d.defined} THEN {d.value} END AS v{i}" for i, d in enumerate(definitions)
    )
    dims = ", ".join(f"CAST({d} AS VARCHAR) AS {d}" for d in dimensions if d != "hour")
    dims = ", ".join(p for p in (dims, f"{hour} AS hour" if "hour" in dimensions else "") if p)
    engine.materialise("kpi_breakdown_values", f"SELECT {dims}, {values} FROM kpi_tickets")
    overall = engine.rows(
        "kpi_breakdown_overall",
        "SELECT "
        + ", ".join(
            f"avg({_scale(d, f'v{i}')}), stddev_samp({_scale(d, f'v{i}')}), avg(v{i})"
            for i, d in enumerate(definitions)
        )
        + " FROM kpi_breakdown_values",
    )[0]
    result = []
    grouped = _group_rows(engine, dimensions, definitions)
    for dimension in dimensions:
        rows = grouped.get(dimension, [])
        for i, definition in enumerate(definitions):
            mean_x, sd_x, plain_mean = overall[3 * i : 3 * i + 3]
            if mean_x is None:
                continue
            result.append(
                _breakdown(
                    dimension,
                    definition,
                    [row[:1] + row[1 + 5 * i : 6 + 5 * i] for row in rows],
                    overall_x=float(mean_x),
                    overall_sd=None if definition.unit == "rate" else float(sd_x or 0.0),
                    overall_mean=float(plain_mean),
                )
            )
    return result


def _group_rows(
    engine: DuckDBEngine, dimensions: list[str], definitions: list[KpiDefinition]
) -> dict[str, list[tuple[object, ...]]]:
    """Per dimension, its groups' rows: one scan with a grouping set per dimension."""
    aggregates = ", ".join(
        # one quantile call with both fractions sorts each group's values once, not twice
        f"count(v{i}), avg(v{i}), quantile_cont(v{i}, [0.5, 0.9]), avg({_scale(d, f'v{i}')})"
        for i, d in enumerate(definitions)
    )
    which = " ".join(f"WHEN grouping({d}) = 0 THEN {i}" for i, d in enumerate(dimensions))
    value = " ".join(f"WHEN grouping({d}) = 0 THEN CAST({d} AS VARCHAR)" for d in dimensions)
    sets = ", ".join(f"({d})" for d in dimensions)
    rows = engine.rows(
        "kpi_breakdown_groups",
        f"SELECT CASE {which} END, coalesce(CASE {value} END, '(unknown)'), {aggregates} "
        f"FROM kpi_breakdown_values GROUP BY GROUPING SETS ({sets})",
    )
    grouped: dict[str, list[tuple[object, ...]]] = {}
    width = 4
    for row in rows:
        flat: list[object] = [row[1]]
        for i in range(len(definitions)):
            count, mean, quantiles, scaled = row[2 + width * i : 2 + width * (i + 1)]
            median, p90 = quantiles if quantiles is not None else (None, None)
            flat += [count, mean, median, p90, scaled]
        grouped.setdefault(dimensions[int(row[0])], []).append(tuple(flat))
    return grouped


def _breakdown(
    dimension: str,
    definition: KpiDefinition,
    rows: list[tuple[object, ...]],
    *,
    overall_x: float,
    overall_sd: float | None,
    overall_mean: float,
) -> Breakdown:
    present = [row for row in rows if int(row[1]) > 0]  # type: ignore[call-overload]
    stats = [GroupStat(n=int(r[1]), mean=float(r[5])) for r in present]  # type: ignore[call-overload, arg-type]
    zs, phi = funnel_z(stats, overall_mean=overall_x, overall_sd=overall_sd)
    rate = definition.unit == "rate"
    groups = [
        GroupKpi(
            value=str(r[0]),
            n=int(r[1]),  # type: ignore[call-overload]
            mean=float(r[2]),  # type: ignore[arg-type]
            median=None if rate else float(r[3]),  # type: ignore[arg-type]
            p90=None if rate else float(r[4]),  # type: ignore[arg-type]
            z=None if z is None or math.isnan(z) else round(z, 3),
            outlier=verdict(z, higher_is_better=definition.higher_is_better),
        )
        for r, z in zip(present, zs, strict=True)
    ]
    groups.sort(key=lambda g: (-g.n, g.value))
    kept = [g for g in groups[:_MAX_GROUPS]] + [g for g in groups[_MAX_GROUPS:] if g.outlier]
    return Breakdown(
        dimension=dimension,
        kpi=definition.name,
        unit=definition.unit,
        overall=overall_mean,
        overdispersion=round(phi, 3),
        groups=kept,
        groups_total=len(groups),
    )


def discover_pause_usage(engine: DuckDBEngine) -> list[PauseUsage]:
    """Per agent: the share of their tickets they put on waiting-on-customer, against peers.

    The agent of a pause is the resource of the event that started it. Agents are ordered by
    z-score, most unusual first.
    """
    has_agents = engine.rows(
        "kpi_has_agents", "SELECT count(*) FROM duckdb_types() WHERE type_name = 'resource_t'"
    )[0][0]
    if not has_agents:
        return []
    rows = engine.rows(
        "kpi_pause_usage",
        """
        WITH touched AS (
                 SELECT CAST(enum_range(NULL::resource_t)[code] AS VARCHAR) AS resource,
                        count(*) AS tickets
                 FROM (SELECT unnest(list_distinct(list_filter(res, lambda x: x > 0))) AS code
                       FROM kpi_lists)
                 GROUP BY code),
             pauses AS (SELECT CAST(resource AS VARCHAR) AS resource,
                               count(DISTINCT case_id) AS paused,
                               quantile_cont((end_us - start_us) / 1e6, 0.5) AS median_pause
                        FROM kpi_intervals
                        WHERE state = 'waiting_on_customer' AND prev_state <> 'waiting_on_customer'
                          AND resource IS NOT NULL
                        GROUP BY resource)
        SELECT t.resource, t.tickets, coalesce(p.paused, 0), p.median_pause
        FROM touched t LEFT JOIN pauses p USING (resource)
        """,
    )
    total = sum(int(r[1]) for r in rows)
    paused = sum(int(r[2]) for r in rows)
    if not total or not paused:
        return []
    stats = [GroupStat(n=int(r[1]), mean=int(r[2]) / int(r[1])) for r in rows]
    zs, _ = funnel_z(stats, overall_mean=paused / total, overall_sd=None)
    usage = [
        PauseUsage(
            agent=str(r[0]),
            tickets=int(r[1]),
            paused_tickets=int(r[2]),
            pause_share=int(r[2]) / int(r[1]),
            median_pause_s=None if r[3] is None else float(r[3]),
            z=None if z is None else round(z, 3),
            outlier=None if z is None or abs(z) <= Z_LIMIT else ("more" if z > 0 else "less"),
        )
        for r, z in zip(rows, zs, strict=True)
    ]
    usage.sort(key=lambda u: (-(abs(u.z) if u.z is not None else -1.0), u.agent))
    return usage
