"""The primitives every metric derives from.

Picture one ticket: it was created, someone assigned its seriousness, an agent took it in charge,
it waited for the customer, it was resolved and finally closed. Laid out in time order, that is
one list of activities and one list of timestamps. Four tables hold the whole log in that form:

- ``activity_dict``: each activity with its number of events; its position is the activity's
  code (most frequent first);
- ``case_lists``: one row per case, identified by ``cidx`` (the source row of its first event:
  unique, and cheaper than numbering the cases), with its ordered ``acts`` (activity codes),
  ``tss`` and, when
  the log has them, ``res`` and ``teams`` (handler codes, 0 where the event has none);
- ``variants``: the distinct activity lists with their cases and durations, and likewise
  ``res_sequences`` and ``teams_sequences`` for the handler lists;
- ``pairs``: one row per directly-follows step (this event, the next one) with the wait
  between them (and the two resources), built by laying each list against itself shifted by
  one.

Events of a case are ordered by (timestamp, source row), explicitly: an ordered list that lost
its order once merged distinct variants elsewhere. The fast path packs each event into one
128-bit integer whose high bits are (time since the log's first event, source row) and whose low
bits are the activity, resource and team codes; sorting a case's integers sorts its events, and
a list of plain integers aggregates several times faster than a list of structs. Logs whose
codes or time span do not fit the bits take the struct path, which gives the same tables.

Python receives only the dictionaries (:class:`Dictionaries`) to turn codes back into names.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.eventlog.sql import literal
from supportflow.mining.engine import DuckDBEngine

# Bit layout of the packed event (a signed 128-bit integer; the sign bit stays clear).
_TIME_SHIFT, _SEQ_SHIFT, _ACT_SHIFT, _RES_SHIFT = 76, 40, 28, 14
_TIME_LIMIT = 1 << 51  # µs: about 71 years between the first and the last event
_SEQ_LIMIT = 1 << 36
_ACT_LIMIT = 1 << 12
_HANDLER_LIMIT = (1 << 14) - 1  # code 0 means "no handler"


@dataclass(frozen=True)
class Dictionaries:
    """Code → name for activities (code = index) and handlers (code = index + 1; 0 = none)."""

    activities: list[str]
    resources: list[str]
    teams: list[str]

    def activity(self, code: int) -> str:
        """The name of activity ``code``."""
        return self.activities[code]

    def handler(self, kind: str, code: int) -> str:
        """The name of resource or team (``kind``) ``code``."""
        return (self.resources if kind == "resource" else self.teams)[code - 1]


def _create_enum(engine: DuckDBEngine, name: str, values: list[str]) -> None:
    engine.execute(f"drop_{name}", f"DROP TYPE IF EXISTS {name}")
    engine.execute(
        f"create_{name}",
        f"CREATE TYPE {name} AS ENUM (" + ", ".join(literal(v) for v in values) + ")",
    )


def _handler_names(engine: DuckDBEngine, column: str) -> list[str]:
    values = engine.rows(
        f"{column}_names",
        f"SELECT DISTINCT {column} FROM dictionary_rows WHERE {column} IS NOT NULL ORDER BY 1",
    )
    names = [v[0] for v in values]
    _create_enum(engine, f"{column}_t", names)
    return names


def build_primitives(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> Dictionaries:
    """Materialise the primitive tables; return the code dictionaries."""
    names = build_case_lists(engine, has_resource=has_resource, has_team=has_team)
    _build_sequences(engine, has_resource=has_resource, has_team=has_team)
    return names


def case_lists_exist(engine: DuckDBEngine) -> bool:
    """Whether ``case_lists`` was built on this connection (by a diagnosis, say)."""
    return bool(
        engine.rows(
            "case_lists_exist",
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_lists'",
        )[0][0]
    )


def build_case_lists(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> Dictionaries:
    """Materialise the dictionaries and ``case_lists`` only (what the KPI step needs)."""
    # One scan gives every dictionary and the time span: grouping sets share it.
    sets = ["(activity)"] + [
        f"({c})" for c, on in (("resource", has_resource), ("team", has_team)) if on
    ]
    handler_cols = ", ".join(c for c, on in (("resource", has_resource), ("team", has_team)) if on)
    engine.materialise(
        "dictionary_rows",
        "SELECT activity, "
        + (f"{handler_cols}, " if handler_cols else "")
        + "GROUPING(activity) AS by_handler, count(*) AS events, min(ts) AS first_ts, "
        "max(ts) AS last_ts, max(seq) AS last_seq "
        f"FROM events GROUP BY GROUPING SETS ({', '.join(sets)})",
    )
    engine.materialise(
        "activity_dict",
        "SELECT activity, events FROM dictionary_rows WHERE by_handler = 0 "
        "ORDER BY events DESC, activity",
    )
    activities = [r[0] for r in engine.rows("activity_names", "SELECT activity FROM activity_dict")]
    # ENUMs turn names into codes cheaply; their order is the code order.
    _create_enum(engine, "activity_t", activities)
    resources = _handler_names(engine, "resource") if has_resource else []
    teams = _handler_names(engine, "team") if has_team else []
    codes = {"a": "enum_code(CAST(activity AS activity_t))"}
    if has_resource:
        codes["r"] = "coalesce(enum_code(CAST(resource AS resource_t)) + 1, 0)"
    if has_team:
        codes["g"] = "coalesce(enum_code(CAST(team AS team_t)) + 1, 0)"
    first, last, rows = engine.rows(
        "time_span",
        "SELECT min(first_ts), max(last_ts), max(last_seq) + 1 FROM dictionary_rows "
        "WHERE by_handler = 0",
    )[0]
    fits = (
        last - first < _TIME_LIMIT
        and rows < _SEQ_LIMIT
        and len(activities) < _ACT_LIMIT
        and len(resources) < _HANDLER_LIMIT
        and len(teams) < _HANDLER_LIMIT
    )
    if fits:
        _packed_case_lists(engine, codes, first)
    else:
        _struct_case_lists(engine, codes)
    return Dictionaries(activities=activities, resources=resources, teams=teams)


def _build_sequences(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> None:
    """Variants, handler sequences and directly-follows pairs, from ``case_lists``."""
    engine.materialise(
        "variants",
        "SELECT acts, count(*) AS cases, median(duration) AS median_duration, "
        "list(duration) AS durations, "
        "row_number() OVER (ORDER BY count(*) DESC, acts) AS vid "
        "FROM case_lists GROUP BY acts",
    )
    pair_columns = [
        "cidx",
        "unnest(acts[1:-2]) AS src",
        "unnest(acts[2:]) AS tgt",
        "unnest(tss[1:-2]) AS t0",
        "unnest(tss[2:]) AS t1",
    ]
    if has_resource:  # for repeat/redo self-loops; handovers read the handler sequences
        pair_columns += ["unnest(res[1:-2]) AS r0", "unnest(res[2:]) AS r1"]
    # Identical handler sequences are common (one agent doing every step); figures that depend
    # only on a case's handler sequence are computed once per distinct sequence.
    for present, column in ((has_resource, "res"), (has_team, "teams")):
        if present:
            engine.materialise(
                f"{column}_sequences",
                f"SELECT {column} AS handlers, count(*) AS cases FROM case_lists GROUP BY {column}",
            )
    # The wait is derived in a view: a lambda over every list costs more than a subtraction.
    engine.materialise("pair_rows", "SELECT " + ", ".join(pair_columns) + " FROM case_lists")
    engine.execute(
        "pairs", "CREATE OR REPLACE TEMP VIEW pairs AS SELECT *, t1 - t0 AS wait FROM pair_rows"
    )


def _packed_case_lists(engine: DuckDBEngine, codes: dict[str, str], first_ts: int) -> None:
    packed = (
        f"(CAST(ts - {int(first_ts)} AS HUGEINT) << {_TIME_SHIFT}) "
        f"| (CAST(seq AS HUGEINT) << {_SEQ_SHIFT}) "
        f"| (CAST({codes['a']} AS HUGEINT) << {_ACT_SHIFT})"
    )
    extracted = [
        f"list_transform(ev, lambda x: CAST((x >> {_ACT_SHIFT}) & {_ACT_LIMIT - 1} AS USMALLINT)) AS acts",
        f"list_transform(ev, lambda x: CAST(x >> {_TIME_SHIFT} AS BIGINT) + {int(first_ts)}) AS tss",
    ]
    mask = (1 << _RES_SHIFT) - 1
    if "r" in codes:
        packed += f" | (CAST({codes['r']} AS HUGEINT) << {_RES_SHIFT})"
        extracted.append(
            f"list_transform(ev, lambda x: CAST((x >> {_RES_SHIFT}) & {mask} AS USMALLINT)) AS res"
        )
    if "g" in codes:
        packed += f" | CAST({codes['g']} AS HUGEINT)"
        extracted.append(f"list_transform(ev, lambda x: CAST(x & {mask} AS USMALLINT)) AS teams")
    engine.materialise(
        "case_lists",
        f"SELECT CAST((ev[1] >> {_SEQ_SHIFT}) & {_SEQ_LIMIT - 1} AS BIGINT) AS cidx, case_id, "
        + ", ".join(extracted)
        + f", CAST((ev[len(ev)] >> {_TIME_SHIFT}) - (ev[1] >> {_TIME_SHIFT}) AS BIGINT) AS duration "
        f"FROM (SELECT case_id, list_sort(list({packed})) AS ev FROM events GROUP BY case_id)",
    )


def _struct_case_lists(engine: DuckDBEngine, codes: dict[str, str]) -> None:
    fields = ["'t': ts", "'s': seq"] + [f"'{key}': {sql}" for key, sql in codes.items()]
    names = {"a": "acts", "r": "res", "g": "teams"}
    extracted = ["list_transform(ev, lambda e: e.t) AS tss"] + [
        f"list_transform(ev, lambda e: e.{key}) AS {names[key]}" for key in codes
    ]
    # One list of event structs per case, sorted by (timestamp, source row): a single sort per
    # case, and the fields cannot drift apart because they travel together.
    engine.materialise(
        "case_lists",
        "SELECT ev[1].s AS cidx, case_id, "
        + ", ".join(extracted)
        + ", ev[len(ev)].t - ev[1].t AS duration FROM ("
        "SELECT case_id, list_sort(list({" + ", ".join(fields) + "})) AS ev "
        "FROM events GROUP BY case_id)",
    )
