"""One call that computes every service KPI of a loaded event log.

``compute_kpis`` reads the log through a status map (given, or the shipped preset that names
most of its events), builds the ticket tables once, and derives the KPI summaries, the flow
(arrivals, throughput, backlog), the breakdowns with their outliers, agents' pause usage, the
SLA clocks when a policy is given, and the drift of KPIs and transitions over time.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from supportflow.eventlog.load import EventLog
from supportflow.kpi.breakdown import (
    Breakdown,
    PauseUsage,
    available_dimensions,
    discover_breakdowns,
    discover_pause_usage,
)
from supportflow.kpi.drift import detect_drift
from supportflow.kpi.flow import Flow, discover_flow
from supportflow.kpi.measures import KpiSummary, summarise_kpis
from supportflow.kpi.sla import compute_sla_clocks
from supportflow.kpi.tickets import (
    activity_counts,
    build_ticket_tables,
    ensure_case_lists,
    last_event_us,
)
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules.sla import SlaPolicy
from supportflow.rules.status import StatusMap, guess_status_map

KPI_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class StatusMapUse:
    """Which status map read the log, and what it did not know."""

    name: str
    chosen_by: str
    """``given`` or ``guessed`` (the preset naming the largest share of events)."""
    coverage: float
    """Share of events whose activity the map names."""
    unmapped_activities: dict[str, int]
    assignment_source: str
    handling_source: str
    """``lifecycle`` (start → complete pairs) or ``states`` (time in ``in_progress``)."""
    attributes: dict[str, str]


@dataclass
class KpiReport:
    """Every figure of ``supportflow kpi``; serialises to the JSON contract (``docs/kpi.md``)."""

    status_map: StatusMapUse
    tickets: int
    clock: str
    timezone: str
    kpis: list[KpiSummary]
    flow: Flow
    breakdowns: list[Breakdown]
    pause_usage: list[PauseUsage]
    sla: dict[str, Any] | None = None
    drift: dict[str, Any] | None = None
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: snake_case keys, durations in seconds."""
        return {"schema_version": KPI_SCHEMA_VERSION, **asdict(self)}


def resolve_status_map(
    engine: DuckDBEngine, log: EventLog, status: StatusMap | None
) -> tuple[StatusMap, str, float]:
    """The map to use, how it was chosen, and the share of events it names (read from the
    activity counts the case lists are built with, which this builds when missing)."""
    ensure_case_lists(engine, log)
    counts = activity_counts(engine)
    if status is None:
        guessed, share = guess_status_map(counts)
        return guessed, "guessed", share
    known = {key for key, _ in status.rows()}
    total = sum(counts.values()) or 1
    share = sum(n for a, n in counts.items() if status.key(a) in known) / total
    return status, "given", share


def _chosen_dimensions(engine: DuckDBEngine, asked: list[str] | None) -> list[str]:
    """The breakdown dimensions: every one the log has, or those asked for (each once).

    Raises:
        ValueError: a dimension the log has no values for.
    """
    present = available_dimensions(engine)
    if asked is None:
        return present
    chosen = list(dict.fromkeys(asked))
    missing = [d for d in chosen if d not in present]
    if missing:
        raise ValueError(
            f"cannot break down by {missing[0]!r}: the log has no two values of it; "
            f"dimensions it has: {', '.join(present)}"
        )
    return chosen


def compute_kpis(
    log: EventLog,
    *,
    status: StatusMap | None = None,
    sla: SlaPolicy | None = None,
    targets: dict[str, float] | None = None,
    dimensions: list[str] | None = None,
    clock_us: int | None = None,
    drift_period: str | None = "month",
) -> KpiReport:
    """Compute every KPI of ``log``.

    Args:
        status: the status map; when ``None`` the best-matching shipped preset is used.
        sla: the SLA policy; when given, ``kpi_sla`` is built and summarised, and its
            ``kpi_targets`` are used where ``targets`` does not name the KPI.
        targets: wall-clock targets per KPI name (seconds) for "share within target".
        dimensions: breakdown dimensions; ``None`` means every dimension the log has.
        clock_us: "now" for open tickets; defaults to the log's last event.
        drift_period: ``month`` or ``week`` for the drift profiles; ``None`` skips drift.

    Raises:
        MiningError: a query failed (the message names it).
        ValueError: an unknown dimension.
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def stage(name: str, begun: float) -> float:
        now = time.perf_counter()
        stages[f"stage:{name}"] = now - begun
        return now

    engine = DuckDBEngine(log.con)
    chosen, chosen_by, coverage = resolve_status_map(engine, log, status)
    if clock_us is None:
        clock_us = last_event_us(engine)
    tables = build_ticket_tables(engine, log, chosen, clock_us=clock_us)
    mark = stage("tickets", started)
    goals = {**(sla.kpi_targets if sla is not None else {}), **(targets or {})}
    kpis = summarise_kpis(engine, targets=goals)
    mark = stage("summaries", mark)
    flow = discover_flow(engine, timezone=log.timezone, clock_us=clock_us)
    mark = stage("flow", mark)
    dims = _chosen_dimensions(engine, dimensions)
    breakdowns = discover_breakdowns(engine, dimensions=dims, timezone=log.timezone)
    pause_usage = discover_pause_usage(engine)
    mark = stage("breakdowns", mark)
    report = KpiReport(
        status_map=StatusMapUse(
            name=chosen.name,
            chosen_by=chosen_by,
            coverage=coverage,
            unmapped_activities=tables.unmapped_activities,
            assignment_source=tables.assignment_source,
            handling_source=tables.handling_source,
            attributes=tables.attributes,
        ),
        tickets=tables.tickets,
        clock=datetime.fromtimestamp(clock_us / 1e6, tz=UTC).isoformat(),
        timezone=log.timezone,
        kpis=kpis,
        flow=flow,
        breakdowns=breakdowns,
        pause_usage=pause_usage,
    )
    if sla is not None:
        report.sla = compute_sla_clocks(engine, sla, clock_us=clock_us).to_dict()
        mark = stage("sla", mark)
    if drift_period is not None:
        report.drift = detect_drift(
            engine,
            timezone=log.timezone,
            period=drift_period,  # type: ignore[arg-type]  # checked by detect_drift
        ).to_dict()
        mark = stage("drift", mark)
    report.timings_s = dict(engine.timings_s) | stages
    report.timings_s["total"] = time.perf_counter() - started
    return report
