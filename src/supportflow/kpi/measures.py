"""The service KPIs: each a named formula over ``kpi_tickets``, summarised the same way.

A customer-service lead is judged by a handful of numbers: how long customers wait for a first
answer, how long until the problem is solved, how often it is solved on first contact, how often
it comes back. Each KPI here is one row of :data:`KPIS`: a per-ticket value (a duration in
seconds, a count, a yes/no, a score), the tickets it is defined for, and the same summary for
all: count, mean, median, p90 and the share within a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from supportflow.kpi.tickets import FIRST_ANSWER_SQL
from supportflow.mining.engine import DuckDBEngine

Unit = Literal["duration", "count", "rate", "score"]


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI: ``value`` is SQL over a ``kpi_tickets`` row, defined where ``defined`` holds."""

    name: str
    unit: Unit
    value: str
    defined: str
    formula: str
    higher_is_better: bool = False


_US = "/ 1e6"
KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        "first_response_time",
        "duration",
        f"({FIRST_ANSWER_SQL} - created_us) {_US}",
        "coalesce(first_response_us, first_resolved_us) IS NOT NULL",
        "first first-response event (or first resolution, if earlier) − creation",
    ),
    KpiDefinition(
        "time_to_assign",
        "duration",
        f"(first_assigned_us - created_us) {_US}",
        "first_assigned_us IS NOT NULL",
        "first assignment − creation",
    ),
    KpiDefinition(
        "handling_time",
        "duration",
        "handling_s",
        "NOT is_open",
        "Σ time in in_progress states (resolved tickets)",
    ),
    KpiDefinition(
        "resolution_time",
        "duration",
        f"(resolved_us - created_us) {_US}",
        "resolved_us IS NOT NULL",
        "last resolution − creation",
    ),
    KpiDefinition(
        "first_resolution_time",
        "duration",
        f"(first_resolved_us - created_us) {_US}",
        "first_resolved_us IS NOT NULL",
        "first resolution − creation",
    ),
    KpiDefinition(
        "time_to_close",
        "duration",
        f"(closed_us - created_us) {_US}",
        "closed_us IS NOT NULL",
        "closing − creation",
    ),
    KpiDefinition(
        "waiting_on_customer_time",
        "duration",
        "waiting_on_customer_s",
        "NOT is_open",
        "Σ time in waiting_on_customer states (resolved tickets)",
    ),
    KpiDefinition(
        "first_contact_resolution",
        "rate",
        "CAST(fcr AS DOUBLE)",
        "first_resolved_us IS NOT NULL",
        "resolved with no reopen, no reassignment, no team transfer, never waiting on the customer",
        higher_is_better=True,
    ),
    KpiDefinition(
        "reopen_rate",
        "rate",
        "CAST(reopens > 0 AS DOUBLE)",
        "first_resolved_us IS NOT NULL",
        "tickets reopened at least once ÷ tickets resolved at least once",
    ),
    KpiDefinition(
        "reassignments",
        "count",
        "CAST(reassignments AS DOUBLE)",
        "true",
        "changes of assignee after the first assignment, per ticket",
    ),
    KpiDefinition(
        "team_transfers",
        "count",
        "CAST(team_transfers AS DOUBLE)",
        "true",
        "changes of team, per ticket",
    ),
    KpiDefinition(
        "pingpong_rate",
        "rate",
        "CAST(pingpong AS DOUBLE)",
        "true",
        "tickets handed back to a team (or agent) they had left: X → Y → X",
    ),
    KpiDefinition(
        "csat",
        "score",
        "csat",
        "csat IS NOT NULL",
        "last satisfaction score",
        higher_is_better=True,
    ),
    KpiDefinition("effort", "score", "effort", "effort IS NOT NULL", "last customer-effort score"),
)


def kpi(name: str) -> KpiDefinition:
    """The definition called ``name``.

    Raises:
        KeyError: no KPI has that name.
    """
    for definition in KPIS:
        if definition.name == name:
            return definition
    raise KeyError(name)


@dataclass(frozen=True)
class KpiSummary:
    """One KPI over all tickets it is defined for. Durations in seconds; rates as 0..1."""

    name: str
    unit: Unit
    formula: str
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    target: float | None
    share_within_target: float | None


def summarise_kpis(
    engine: DuckDBEngine, *, targets: dict[str, float], source: str = "kpi_tickets"
) -> list[KpiSummary]:
    """Every KPI of :data:`KPIS` that the log can support (KPIs with no ticket are left out).

    One scan of ``source``: each KPI is a column (NULL where it is not defined), summarised by
    one quantile call that gives median and p90 from a single sort.
    """
    values = ", ".join(
        f"CASE WHEN {d.defined} THEN {d.value} END AS v{i}" for i, d in enumerate(KPIS)
    )
    parts = []
    for i, definition in enumerate(KPIS):
        target = targets.get(definition.name)
        within = (
            f"avg(CAST(v{i} <= {float(target)!r} AS DOUBLE))"
            if target is not None
            else "CAST(NULL AS DOUBLE)"
        )
        parts.append(f"count(v{i}), avg(v{i}), quantile_cont(v{i}, [0.5, 0.9]), {within}")
    row = engine.rows(
        "kpi_summaries", f"SELECT {', '.join(parts)} FROM (SELECT {values} FROM {source})"
    )[0]
    summaries = []
    for i, definition in enumerate(KPIS):
        count, mean, quantiles, within = row[4 * i : 4 * i + 4]
        if not count:
            continue
        median, p90 = quantiles
        summaries.append(
            KpiSummary(
                name=definition.name,
                unit=definition.unit,
                formula=definition.formula,
                count=int(count),
                mean=_num(mean),
                # the median and p90 of a yes/no are 0 or 1 and say nothing; the mean is the rate
                median=None if definition.unit == "rate" else _num(median),
                p90=None if definition.unit == "rate" else _num(p90),
                target=targets.get(definition.name),
                share_within_target=_num(within),
            )
        )
    return summaries


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
