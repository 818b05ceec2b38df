"""Rework and ping-pong: work that is done again.

A ticket shows *rework* when an activity occurs more than once in it ("Take in charge ticket"
twice). A *self-loop* is the immediate repetition A, A: a "repeat" when the same agent does it
again, a "redo" when someone else does. *Ping-pong* is a ticket going back where it came from:
on activities, three consecutive events A, B, A; on teams or agents, the sequence of handlers,
after collapsing consecutive repeats, contains X, Y, X.

Activity-based figures depend only on the activity sequence, so they are computed once per
variant and weighted by its cases; handler-based ones need each case's own handlers.
"""

from __future__ import annotations

from supportflow.mining.engine import US, DuckDBEngine
from supportflow.mining.primitives import Dictionaries
from supportflow.mining.results import PingPong, Rework, SelfLoops

_HAS_SELF_LOOP = "coalesce(list_bool_or(list_transform(range(1, len(acts)), lambda i: acts[i] = acts[i + 1])), false)"
_HAS_REPEAT = "len(list_distinct(acts)) < len(acts)"


def _collapsed_sql(present: str) -> str:
    """SQL: the list ``present`` (handler codes, 0s removed) with consecutive repeats collapsed."""
    return f"list_filter({present}, lambda x, i: i = 1 OR x != {present}[i - 1])"


def _bounces_sql(collapsed: str) -> str:
    """SQL: whether the collapsed handler list ``collapsed`` contains X, Y, X."""
    return (
        f"coalesce(list_bool_or(list_transform(range(1, len({collapsed}) - 1), "
        f"lambda i: {collapsed}[i] = {collapsed}[i + 2])), false)"
    )


def discover_rework(engine: DuckDBEngine, names: Dictionaries, *, has_resource: bool) -> Rework:
    """Rework per activity (cases where it repeats), self-loops and the duration cost of rework."""
    per_activity = engine.rows(
        "rework_per_activity",
        """
        SELECT a, sum(cases) AS n FROM (
            SELECT a, any_value(cases) AS cases FROM (
                SELECT vid, cases, unnest(acts) AS a FROM variants
            ) GROUP BY vid, a HAVING count(*) > 1
        ) GROUP BY a ORDER BY n DESC, a
        """,
    )
    with_rework, self_loop_cases = engine.rows(
        "rework_cases",
        f"SELECT coalesce(sum(cases) FILTER ({_HAS_REPEAT}), 0), "
        f"coalesce(sum(cases) FILTER ({_HAS_SELF_LOOP}), 0) FROM variants",
    )[0]
    med_with, med_without = engine.rows(
        "rework_duration",
        # Whether a case has rework depends only on its variant: read the variants' durations.
        f"SELECT median(d) FILTER (repeats) / {US}, median(d) FILTER (NOT repeats) / {US} "
        f"FROM (SELECT unnest(durations) AS d, {_HAS_REPEAT} AS repeats FROM variants)",
    )[0]
    self_loops = None
    if has_resource:
        repeat, redo, repeat_cases, redo_cases = engine.rows(
            "self_loops",
            """
            SELECT count(*) FILTER (r0 = r1), count(*) FILTER (r0 != r1),
                   count(DISTINCT cidx) FILTER (r0 = r1), count(DISTINCT cidx) FILTER (r0 != r1)
            FROM pairs WHERE src = tgt AND r0 > 0 AND r1 > 0
            """,
        )[0]
        self_loops = SelfLoops(
            repeat=int(repeat),
            redo=int(redo),
            repeat_cases=int(repeat_cases),
            redo_cases=int(redo_cases),
        )
    return Rework(
        cases_with_rework=int(with_rework),
        per_activity=dict(
            sorted(
                ((names.activity(a), int(n)) for a, n in per_activity),
                key=lambda an: (-an[1], an[0]),
            )
        ),
        self_loop_cases=int(self_loop_cases),
        self_loops=self_loops,
        median_duration_with_rework_s=None if med_with is None else float(med_with),
        median_duration_without_rework_s=None if med_without is None else float(med_without),
    )


def discover_pingpong(engine: DuckDBEngine, *, has_resource: bool, has_team: bool) -> PingPong:
    """Cases with A → B → A on activities, and bounced back to a team or resource."""
    activity_cases = engine.rows(
        "pingpong_activities",
        """
        SELECT coalesce(sum(cases), 0) FROM variants
        WHERE coalesce(list_bool_or(list_transform(range(1, len(acts) - 1),
              lambda i: acts[i] = acts[i + 2] AND acts[i] != acts[i + 1])), false)
        """,
    )[0][0]
    handler_counts: dict[str, int | None] = {"res": None, "teams": None}
    columns = [c for c, present in (("res", has_resource), ("teams", has_team)) if present]
    if columns:
        # Each step reads the column the previous one made: a lambda that refers to a computed
        # list would recompute it for every element.
        row = [
            engine.rows(
                f"pingpong_{c}",
                f"SELECT coalesce(sum(cases) FILTER ({_bounces_sql('handlers')}), 0) FROM ("
                f"SELECT {_collapsed_sql('handlers')} AS handlers, cases FROM ("
                f"SELECT list_filter(handlers, lambda x: x > 0) AS handlers, cases "
                f"FROM {c}_sequences))",
            )[0][0]
            for c in columns
        ]
        handler_counts.update({c: int(v) for c, v in zip(columns, row, strict=True)})
    return PingPong(
        activity_cases=int(activity_cases),
        team_cases=handler_counts["teams"],
        resource_cases=handler_counts["res"],
    )
