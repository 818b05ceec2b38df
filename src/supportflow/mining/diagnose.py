"""One call that runs the whole diagnosis of a loaded event log.

The primitives are built once; every metric then reads them. The result is a typed
:class:`~supportflow.mining.results.Diagnosis` that serialises to the JSON contract.
"""

from __future__ import annotations

from datetime import UTC, datetime

from supportflow.eventlog.load import EventLog
from supportflow.mining.discover import (
    discover_activities,
    discover_case_durations,
    discover_dfg,
    discover_start_end_activities,
    discover_variants,
)
from supportflow.mining.engine import DuckDBEngine
from supportflow.mining.organisation import discover_handover, discover_workload
from supportflow.mining.primitives import build_primitives
from supportflow.mining.results import Diagnosis, LogSummary
from supportflow.mining.rework import discover_pingpong, discover_rework
from supportflow.mining.time_patterns import discover_bottlenecks, discover_heatmaps


def _iso(epoch_us: int) -> str:
    return datetime.fromtimestamp(epoch_us / 1_000_000, tz=UTC).isoformat()


def diagnose(log: EventLog, *, variant_limit: int = 200) -> Diagnosis:
    """Compute every diagnosis figure for ``log``.

    Raises:
        MiningError: a query failed (the message names it).
    """
    engine = DuckDBEngine(log.con)
    has_resource, has_team = log.has("resource"), log.has("team")
    names = build_primitives(engine, has_resource=has_resource, has_team=has_team)
    dfg = discover_dfg(engine, names)
    activities = discover_activities(engine)
    starts, ends = discover_start_end_activities(engine, names)
    variants, variant_count = discover_variants(engine, names, limit=variant_limit)
    events, cases, first, last, total_case_us = engine.rows(
        "log_summary",
        "SELECT (SELECT count(*) FROM events), count(*), min(tss[1]), max(tss[len(tss)]), "
        "sum(duration) FROM case_lists",
    )[0]
    diagnosis = Diagnosis(
        log=LogSummary(
            events=int(events),
            cases=int(cases),
            activities=len(activities),
            variants=variant_count,
            rejected_rows=log.report.rejected_rows,
            first_timestamp=_iso(int(first)),
            last_timestamp=_iso(int(last)),
        ),
        activities=activities,
        start_activities=starts,
        end_activities=ends,
        dfg=dfg,
        variants=variants,
        case_duration_s=discover_case_durations(engine),
        rework=discover_rework(engine, names, has_resource=has_resource),
        pingpong=discover_pingpong(engine, has_resource=has_resource, has_team=has_team),
        handover=discover_handover(engine, names, has_resource=has_resource, has_team=has_team),
        bottlenecks=discover_bottlenecks(dfg, total_case_time_s=float(total_case_us) / 1e6),
        heatmaps=discover_heatmaps(engine, timezone=log.timezone),
        workload=discover_workload(engine, names, has_resource=has_resource, has_team=has_team),
    )
    diagnosis.timings_s = dict(engine.timings_s)
    return diagnosis
