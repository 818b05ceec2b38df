"""The primitives every metric derives from.

Picture one ticket: it was created, someone assigned its seriousness, an agent took it in charge,
it waited for the customer, it was resolved and finally closed. Laid out in time order, that is
one list of activities and one list of timestamps. Three tables hold the whole log in that form:

- ``activity_dict``: each activity with its number of events;
- ``case_lists``: one row per case with its ordered ``acts``, ``tss`` and, when the log has
  them, ``res`` (resources) and ``teams`` (ties in time keep source order);
- ``variants``: the distinct activity lists with their number of cases;
- ``pairs``: one row per directly-follows step (this event, the next one) with the wait
  between them, built by laying each list against itself shifted by one.

Events are ordered by (timestamp, source row) inside each ordered aggregate, never by a hidden
order: an ordered list that lost its ``ORDER BY`` once merged distinct variants elsewhere.
"""

from __future__ import annotations

from supportflow.mining.engine import DuckDBEngine

ORDER = "ORDER BY ts, seq"


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_primitives(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> list[str]:
    """Materialise the primitive tables; return the activity names, most frequent first."""
    engine.materialise(
        "activity_dict",
        "SELECT activity, count(*) AS events FROM events GROUP BY activity "
        "ORDER BY events DESC, activity",
    )
    names = [r[0] for r in engine.rows("activity_names", "SELECT activity FROM activity_dict")]
    # An ENUM keeps each list element two bytes wide and makes list comparison cheap.
    engine.execute("drop_activity_type", "DROP TYPE IF EXISTS activity_t")
    engine.execute(
        "activity_type",
        "CREATE TYPE activity_t AS ENUM (" + ", ".join(_sql_str(n) for n in names) + ")",
    )
    lists = [
        f"list(CAST(activity AS activity_t) {ORDER}) AS acts",
        f"list(ts {ORDER}) AS tss",
    ]
    if has_resource:
        lists.append(f"list(resource {ORDER}) AS res")
    if has_team:
        lists.append(f"list(team {ORDER}) AS teams")
    engine.materialise(
        "case_lists",
        "SELECT row_number() OVER () AS cidx, case_id, "
        + ", ".join(lists)
        + ", tss[len(tss)] - tss[1] AS duration FROM events GROUP BY case_id",
    )
    engine.materialise(
        "variants",
        "SELECT acts, count(*) AS cases, median(duration) AS median_duration, "
        "row_number() OVER (ORDER BY count(*) DESC, list_transform(acts, lambda a: CAST(a AS VARCHAR))) AS vid "
        "FROM case_lists GROUP BY acts",
    )
    pair_columns = [
        "cidx",
        "unnest(acts[1:-2]) AS src",
        "unnest(acts[2:]) AS tgt",
        "unnest(tss[1:-2]) AS t0",
        "unnest(list_transform(range(1, len(tss)), lambda i: tss[i + 1] - tss[i])) AS wait",
    ]
    if has_resource:
        pair_columns += ["unnest(res[1:-2]) AS r0", "unnest(res[2:]) AS r1"]
    if has_team:
        pair_columns += ["unnest(teams[1:-2]) AS g0", "unnest(teams[2:]) AS g1"]
    engine.materialise("pairs", "SELECT " + ", ".join(pair_columns) + " FROM case_lists")
    return names
