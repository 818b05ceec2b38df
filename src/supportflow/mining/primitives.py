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


def _create_enum(engine: DuckDBEngine, name: str, values: list[str]) -> None:
    engine.execute(f"drop_{name}", f"DROP TYPE IF EXISTS {name}")
    engine.execute(
        f"create_{name}",
        f"CREATE TYPE {name} AS ENUM (" + ", ".join(_sql_str(v) for v in values) + ")",
    )


def build_primitives(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> list[str]:
    """Materialise the primitive tables; return the activity names, most frequent first."""
    engine.materialise(
        "activity_dict",
        "SELECT activity, count(*) AS events FROM events GROUP BY activity "
        "ORDER BY events DESC, activity",
    )
    names = [r[0] for r in engine.rows("activity_names", "SELECT activity FROM activity_dict")]
    # ENUMs keep list elements a few bytes wide and make list comparison cheap.
    _create_enum(engine, "activity_t", names)
    fields = ["'t': ts", "'s': seq", "'a': CAST(activity AS activity_t)"]
    extracted = [
        "list_transform(ev, lambda e: e.a) AS acts",
        "list_transform(ev, lambda e: e.t) AS tss",
    ]
    for column, alias, key in (("resource", "res", "r"), ("team", "teams", "g")):
        if (column == "resource" and has_resource) or (column == "team" and has_team):
            values = engine.rows(
                f"{column}_names",
                f"SELECT DISTINCT {column} FROM events WHERE {column} IS NOT NULL ORDER BY 1",
            )
            _create_enum(engine, f"{column}_t", [v[0] for v in values])
            fields.append(f"'{key}': CAST({column} AS {column}_t)")
            extracted.append(f"list_transform(ev, lambda e: e.{key}) AS {alias}")
    # One list of event structs per case, sorted by (timestamp, source row): a single sort per
    # case, and the fields cannot drift apart because they travel together.
    engine.materialise(
        "case_lists",
        "SELECT row_number() OVER () AS cidx, case_id, "
        + ", ".join(extracted)
        + ", ev[len(ev)].t - ev[1].t AS duration FROM ("
        "SELECT case_id, list_sort(list({" + ", ".join(fields) + "})) AS ev "
        "FROM events GROUP BY case_id)",
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
