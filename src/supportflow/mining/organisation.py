"""Who does the work: handover between agents and teams, and workload.

When one agent's event is directly followed, in the same ticket, by another agent's event, work
was handed over from the first to the second. Counting those handovers per pair shows where
tickets travel between people (and, with teams, between teams). Workload is simply how many
events and tickets each agent and team touched.
"""

from __future__ import annotations

from supportflow.mining.engine import DuckDBEngine
from supportflow.mining.results import Handover, HandoverArc, Workload, WorkloadRow


def _handover_arcs(engine: DuckDBEngine, source: str, target: str, limit: int) -> list[HandoverArc]:
    rows = engine.rows(
        f"handover_{source}",
        f"""
        SELECT CAST({source} AS VARCHAR), CAST({target} AS VARCHAR), count(*) AS n, count(DISTINCT cidx)
        FROM pairs WHERE {source} != {target}
        GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT {int(limit)}
        """,
    )
    return [HandoverArc(source=a, target=b, count=int(n), cases=int(c)) for a, b, n, c in rows]


def discover_handover(
    engine: DuckDBEngine, *, has_resource: bool, has_team: bool, limit: int = 200
) -> Handover:
    """Handover of work between different resources and between different teams, most
    frequent first (at most ``limit`` arcs each)."""
    return Handover(
        resources=_handover_arcs(engine, "r0", "r1", limit) if has_resource else [],
        teams=_handover_arcs(engine, "g0", "g1", limit) if has_team else [],
    )


def _workload_rows(engine: DuckDBEngine, lists: str, limit: int) -> list[WorkloadRow]:
    rows = engine.rows(
        f"workload_{lists}",
        f"""
        SELECT CAST(name AS VARCHAR), count(*) AS n, count(DISTINCT cidx),
               count(*) / sum(count(*)) OVER ()
        FROM (SELECT cidx, unnest({lists}) AS name FROM case_lists)
        WHERE name IS NOT NULL
        GROUP BY name ORDER BY n DESC, 1 LIMIT {int(limit)}
        """,
    )
    return [
        WorkloadRow(name=r[0], events=int(r[1]), cases=int(r[2]), share=float(r[3])) for r in rows
    ]


def discover_workload(
    engine: DuckDBEngine, *, has_resource: bool, has_team: bool, limit: int = 200
) -> Workload:
    """Events and distinct cases per resource and per team (share = share of events with a
    known handler), busiest first."""
    return Workload(
        resources=_workload_rows(engine, "res", limit) if has_resource else [],
        teams=_workload_rows(engine, "teams", limit) if has_team else [],
    )
