"""What drift watches: series of observations ``(sid, obs_us, value_s)`` built from a log.

Two kinds: the waits of the costliest transitions (``Resolve ticket → Closed``, observed when the
ticket was resolved) and the ticket KPIs (observed when the ticket was created). Series are
numbered (``sid``) and named apart, because carrying a text name on 5M rows costs seconds.
"""

from __future__ import annotations

from supportflow.eventlog.sql import literal
from supportflow.kpi.tickets import FIRST_ANSWER_SQL
from supportflow.mining.engine import US, DuckDBEngine
from supportflow.mining.primitives import build_primitives

SeriesSource = tuple[list[str], str]
"""A family of series: their names, and SQL for their observations ``(sid INTEGER, obs_us
BIGINT, value_s DOUBLE)`` where ``sid`` is the position of the series' name in the list."""

_NOTHING = "SELECT 0 AS sid, 0 AS obs_us, 0.0 AS value_s WHERE false"


def table_exists(engine: DuckDBEngine, table: str) -> bool:
    """Whether the connection has a table or view called ``table``."""
    return bool(
        engine.rows(
            f"drift_has_{table}",
            f"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'",
        )[0][0]
    )


def transition_series(engine: DuckDBEngine, *, top: int, min_count: int) -> SeriesSource:
    """The waits of the ``top`` transitions with the most total waiting, among those seen at
    least ``min_count`` times: series ``"A → B"``, observed when A happened, valued by the wait.

    Reads the mining primitives (``pairs``), or the KPI step's ``case_lists`` when only those
    were built, building the primitives when the connection has neither.

    Raises:
        MiningError: when a query fails.
    """
    if not table_exists(engine, "pairs") and table_exists(engine, "case_lists"):
        # the KPI step built the per-case lists only: lay each event beside the next one
        return _series_from(
            engine,
            relation="SELECT unnest(acts[1:-2]) AS src, unnest(acts[2:]) AS tgt, "
            "unnest(tss[1:-2]) AS t0, unnest(tss[2:]) - unnest(tss[1:-2]) AS wait "
            "FROM case_lists",
            names="SELECT enum_code(CAST(activity AS activity_t)) AS code, activity "
            "FROM activity_dict",
            top=top,
            min_count=min_count,
        )
    if not table_exists(engine, "pairs"):
        build_primitives(engine, has_resource=False, has_team=False)
    return _series_from(
        engine,
        relation="SELECT src, tgt, t0, wait FROM pairs",
        names="SELECT enum_code(CAST(activity AS activity_t)) AS code, activity FROM activity_dict",
        top=top,
        min_count=min_count,
    )


def _series_from(
    engine: DuckDBEngine, *, relation: str, names: str, top: int, min_count: int
) -> SeriesSource:
    """The costliest transitions of ``relation`` (``src, tgt`` activity codes, ``t0`` the
    source event's time, ``wait`` in µs) as drift series; ``names`` maps codes to activities."""
    engine.execute("drift_pairs", f"CREATE OR REPLACE TEMP VIEW drift_pairs AS {relation}")
    costliest = engine.rows(
        "drift_costliest_transitions",
        f"""WITH top AS (SELECT src, tgt, sum(wait) AS total FROM drift_pairs
                         GROUP BY src, tgt HAVING count(*) >= {int(min_count)}),
                 names AS ({names})
            SELECT top.src, top.tgt, a.activity, b.activity
            FROM top JOIN names a ON a.code = top.src JOIN names b ON b.code = top.tgt
            ORDER BY top.total DESC, a.activity, b.activity LIMIT {int(top)}""",
    )
    if not costliest:
        return [], _NOTHING
    chosen = ", ".join(f"({i}, {src}, {tgt})" for i, (src, tgt, _, _) in enumerate(costliest))
    return (
        [f"{source} → {target}" for _, _, source, target in costliest],
        f"SELECT c.sid, p.t0 AS obs_us, p.wait / {US} AS value_s FROM drift_pairs p "
        f"JOIN (VALUES {chosen}) c(sid, src, tgt) ON p.src = c.src AND p.tgt = c.tgt",
    )


def ticket_kpi_series() -> SeriesSource:
    """The ticket KPIs of ``kpi_tickets``, each observed when the ticket was created."""
    values = {
        "first_response_time": f"({FIRST_ANSWER_SQL} - created_us) / {US}",
        "resolution_time": f"(resolved_us - created_us) / {US}",
        "time_to_close": f"(closed_us - created_us) / {US}",
        "handling_time": "handling_s",
    }
    return list(values), " UNION ALL ".join(
        f"SELECT {sid} AS sid, created_us AS obs_us, {value} AS value_s FROM kpi_tickets"
        for sid, value in enumerate(values.values())
    )


def named_series(engine: DuckDBEngine, *, relation_sql: str) -> SeriesSource:
    """Any relation of observations ``(series VARCHAR, obs_us BIGINT, value_s DOUBLE)`` as
    numbered series (one extra scan to list the names).

    Raises:
        MiningError: when a query fails.
    """
    names = [
        str(row[0])
        for row in engine.rows(
            "drift_series_names",
            f"SELECT DISTINCT series FROM ({relation_sql}) WHERE series IS NOT NULL ORDER BY 1",
        )
    ]
    if not names:
        return [], _NOTHING
    numbered = ", ".join(f"({i}, {literal(name)})" for i, name in enumerate(names))
    return names, (
        f"SELECT n.sid, r.obs_us, r.value_s FROM ({relation_sql}) r "
        f"JOIN (VALUES {numbered}) n(sid, series) ON r.series = n.series"
    )
