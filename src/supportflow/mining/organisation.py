"""Who does the work: handover between agents and teams, and workload.

When one agent's event is directly followed, in the same ticket, by another agent's event, work
was handed over from the first to the second. Counting those handovers per pair shows where
tickets travel between people (and, with teams, between teams). Workload is simply how many
events and tickets each agent and team touched.
"""

from __future__ import annotations

from supportflow.mining.engine import DuckDBEngine
from supportflow.mining.primitives import Dictionaries
from supportflow.mining.results import Handover, HandoverArc, Workload, WorkloadRow


def _handover_arcs(
    engine: DuckDBEngine, names: Dictionaries, kind: str, lists: str, limit: int
) -> list[HandoverArc]:
    # Handovers depend only on a case's handler sequence: count them once per distinct
    # sequence, weighted by its cases.
    rows = engine.rows(
        f"handover_{kind}",
        f"""
        SELECT a, b, sum(cases * k) AS n, sum(cases) AS c FROM (
            SELECT sid, a, b, any_value(cases) AS cases, count(*) AS k FROM (
                SELECT sid, cases, unnest(handlers[1:-2]) AS a, unnest(handlers[2:]) AS b
                FROM (SELECT row_number() OVER () AS sid, * FROM {lists}_sequences)
            ) WHERE a != b AND a > 0 AND b > 0 GROUP BY sid, a, b
        ) GROUP BY a, b ORDER BY n DESC, a, b LIMIT {int(limit)}
        """,
    )
    arcs = [
        HandoverArc(
            source=names.handler(kind, a), target=names.handler(kind, b), count=int(n), cases=int(c)
        )
        for a, b, n, c in rows
    ]
    return sorted(arcs, key=lambda h: (-h.count, h.source, h.target))


def discover_handover(
    engine: DuckDBEngine,
    names: Dictionaries,
    *,
    has_resource: bool,
    has_team: bool,
    limit: int = 200,
) -> Handover:
    """Handover of work between different resources and between different teams, most
    frequent first (at most ``limit`` arcs each)."""
    return Handover(
        resources=_handover_arcs(engine, names, "resource", "res", limit) if has_resource else [],
        teams=_handover_arcs(engine, names, "team", "teams", limit) if has_team else [],
    )


def _workload_rows(
    engine: DuckDBEngine, names: Dictionaries, kind: str, lists: str, limit: int
) -> list[WorkloadRow]:
    # Events: every element of the lists; cases: each case's distinct handlers.
    rows = engine.rows(
        f"workload_{kind}",
        f"""
        WITH per_event AS (
            SELECT code, sum(cases) AS n
            FROM (SELECT unnest(handlers) AS code, cases FROM {lists}_sequences) GROUP BY code
        ), per_case AS (
            SELECT code, sum(cases) AS cases
            FROM (SELECT unnest(list_distinct(handlers)) AS code, cases FROM {lists}_sequences)
            GROUP BY code
        )
        SELECT code, n, cases, n / sum(n) OVER ()
        FROM per_event JOIN per_case USING (code) WHERE code > 0
        ORDER BY n DESC, code LIMIT {int(limit)}
        """,
    )
    workload = [
        WorkloadRow(
            name=names.handler(kind, r[0]), events=int(r[1]), cases=int(r[2]), share=float(r[3])
        )
        for r in rows
    ]
    return sorted(workload, key=lambda w: (-w.events, w.name))


def discover_workload(
    engine: DuckDBEngine,
    names: Dictionaries,
    *,
    has_resource: bool,
    has_team: bool,
    limit: int = 200,
) -> Workload:
    """Events and distinct cases per resource and per team (share = share of events with a
    known handler), busiest first."""
    return Workload(
        resources=_workload_rows(engine, names, "resource", "res", limit) if has_resource else [],
        teams=_workload_rows(engine, names, "team", "teams", limit) if has_team else [],
    )
