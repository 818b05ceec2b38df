"""The demo help-desk log: every ticket fact checked against a plain-Python state machine.

The reference below walks each ticket's events one by one, as a person would with a pencil; the
SQL under test uses window functions. They must agree on every ticket.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from supportflow.eventlog import load_event_log
from supportflow.kpi.tickets import build_ticket_tables
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules import status_preset

DEMO = Path(__file__).parents[2] / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
DONE = {"resolved", "closed"}


def reference_facts(frame: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    status = status_preset("helpdesk")
    state_of: dict[str, str] = {}
    milestones: dict[str, set[str]] = {}
    for key, category in status.rows():
        milestones.setdefault(key, set()).add(category)
        if category in ("created", "in_progress", "waiting_on_customer",
                        "waiting_on_third_party", "resolved", "closed"):  # fmt: skip
            state_of[key] = category
    clock = int(frame["ts"].max())
    facts = {}
    for case, events in frame.groupby("case", sort=False):
        state, created = "created", int(events["ts"].iloc[0])
        assigned = response = first_done = last_done = None
        reopens = reassignments = 0
        prev_assignee = None
        handling = 0
        times = [int(t) for t in events["ts"]]
        for i, (activity, resource) in enumerate(
            zip(events["activity"], events["resource"], strict=True)
        ):
            key = status.key(activity)
            new_state = state_of.get(key, state)
            t = times[i]
            if new_state in DONE and state not in DONE:
                first_done = first_done if first_done is not None else t
                last_done = t
            if state in DONE and new_state not in DONE:
                reopens += 1
            if "assigned" in milestones.get(key, ()):
                assigned = assigned if assigned is not None else t
                if prev_assignee is not None and resource != prev_assignee:
                    reassignments += 1
                prev_assignee = resource
            if "first_response" in milestones.get(key, ()) and response is None:
                response = t
            state = new_state
            end = times[i + 1] if i + 1 < len(times) else clock
            if state == "in_progress":
                handling += end - t
        resolved = last_done if state in DONE else None
        facts[str(case)] = (created, assigned, response, first_done, resolved, reopens,
                            reassignments, handling / 1e6)  # fmt: skip
    return facts


@pytest.mark.oracle
def test_every_ticket_matches_the_reference() -> None:
    log = load_event_log(DEMO)
    build_ticket_tables(DuckDBEngine(log.con), log, status_preset("helpdesk"))
    frame = log.con.execute(
        "SELECT case_id AS case, activity, ts, resource FROM events ORDER BY case_id, ts, seq"
    ).df()
    expected = reference_facts(frame)
    rows = log.con.execute(
        "SELECT case_id, created_us, first_assigned_us, first_response_us, first_resolved_us, "
        "resolved_us, reopens, reassignments, handling_s FROM kpi_tickets"
    ).fetchall()
    actual = {row[0]: tuple(row[1:]) for row in rows}
    assert len(actual) == 4580
    mismatched = [case for case in expected if actual[case] != expected[case]]
    assert mismatched == []
    # the totals a reader can check by eye
    assert sum(f[5] for f in expected.values()) == sum(r[6] for r in rows) > 0
