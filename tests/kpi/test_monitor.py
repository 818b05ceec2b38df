"""Stories of alerts replayed over a tiny help desk, with every instant worked out by hand.

Seven tickets on Monday 4 March 2024 (minutes after 00:00 UTC):

- A: created 0, taken in charge 5, resolved 60.
- B (P1): created 10, taken in charge 40 (first-response SLA of 15 min breached at 25),
  resolved 200, closed 210.
- C: created 20, taken in charge 30, still open.
- D: created 130, taken in charge 140, resolved 250.
- E: created 150, taken in charge 155, resolved 170, reopened 180, resolved 400.
- F (P1): created 300, taken in charge 330 (SLA breached at 315), waiting on the customer at 500.
- G, on Tuesday: created 1500, taken in charge 1505, resolved 1600 (the log's last event).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml

from supportflow.eventlog import load_event_log
from supportflow.kpi.flow import backlog_changes_sql
from supportflow.kpi.monitor import AlertState, day_starts, evaluate, replay
from supportflow.kpi.observations import MonitorError, Observations, Stream, build_observations
from supportflow.kpi.tickets import build_ticket_tables
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules import status_preset
from supportflow.rules.alerts import AlertRules, load_alert_rules

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alerts.yaml"

T0 = 1_709_510_400_000_000  # 2024-03-04 00:00 UTC
MIN = 60_000_000
TAKE = "Take in charge ticket"
EVENTS = [
    ("A", 0, "Insert ticket", "created"),
    ("A", 5, TAKE, "in_progress"),
    ("A", 60, "Resolve ticket", "resolved"),
    ("B", 10, "Insert ticket", "created"),
    ("B", 40, TAKE, "in_progress"),
    ("B", 200, "Resolve ticket", "resolved"),
    ("B", 210, "Closed", "closed"),
    ("C", 20, "Insert ticket", "created"),
    ("C", 30, TAKE, "in_progress"),
    ("D", 130, "Insert ticket", "created"),
    ("D", 140, TAKE, "in_progress"),
    ("D", 250, "Resolve ticket", "resolved"),
    ("E", 150, "Insert ticket", "created"),
    ("E", 155, TAKE, "in_progress"),
    ("E", 170, "Resolve ticket", "resolved"),
    ("E", 180, "Reopen", "in_progress"),
    ("E", 400, "Resolve ticket", "resolved"),
    ("F", 300, "Insert ticket", "created"),
    ("F", 330, TAKE, "in_progress"),
    ("F", 500, "Wait", "waiting_on_customer"),
    ("G", 1500, "Insert ticket", "created"),
    ("G", 1505, TAKE, "in_progress"),
    ("G", 1600, "Resolve ticket", "resolved"),
]
# case, created, first assigned = first response, first resolved, resolved (last), priority, csat
TICKETS = [
    ("A", 0, 5, 60, 60, "P2", 4.0),
    ("B", 10, 40, 200, 200, "P1", 2.0),
    ("C", 20, 30, None, None, "P2", None),
    ("D", 130, 140, 250, 250, "P2", 5.0),
    ("E", 150, 155, 170, 400, "P2", 3.0),
    ("F", 300, 330, None, None, "P1", None),
    ("G", 1500, 1505, 1600, 1600, "P2", 5.0),
]
# first-response SLA, 15 min on a 24x7 calendar: case, start, stop, breach
SLA = [
    ("A", 0, 5, None),
    ("B", 10, 40, 25),
    ("C", 20, 30, None),
    ("D", 130, 140, None),
    ("E", 150, 155, None),
    ("F", 300, 330, 315),
    ("G", 1500, 1505, None),
]
STORY_RULES = """
rules:
  - name: slow first response
    kpi: first_response_time
    statistic: p90
    window: 2h
    above: 12 min
    severity: critical
  - name: first response SLA
    kpi: sla_first_response_attainment
    window: today
    below: 90%
  - name: backlog
    kpi: backlog
    above: 2
    severity: info
"""


def at(minute: float | None) -> int | None:
    return None if minute is None else T0 + round(minute * MIN)


def rules_of(text: str) -> AlertRules:
    return AlertRules.model_validate(yaml.safe_load(text))


def intervals(events: list[tuple[str, int, str, str]]) -> list[tuple[Any, ...]]:
    """``kpi_intervals`` rows: each event's state lasts until the case's next event."""
    rows = []
    for case in sorted({e[0] for e in events}):
        mine = sorted((e for e in events if e[0] == case), key=lambda e: e[1])
        for event, following in zip(mine, [*mine[1:], None], strict=True):
            end = None if following is None else following[1]
            rows.append((case, at(event[1]), at(end), event[3], event[2], None, None))
    return rows


def story_engine(
    events: list[tuple[str, int, str, str]],
    tickets: list[tuple[Any, ...]],
    sla: list[tuple[Any, ...]] | None,
) -> DuckDBEngine:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE kpi_intervals (case_id VARCHAR, start_us BIGINT, end_us BIGINT, "
        "state VARCHAR, activity VARCHAR, resource VARCHAR, team VARCHAR)"
    )
    con.executemany("INSERT INTO kpi_intervals VALUES (?, ?, ?, ?, ?, ?, ?)", intervals(events))
    con.execute(
        "CREATE TABLE kpi_tickets (case_id VARCHAR, created_us BIGINT, first_assigned_us BIGINT, "
        "first_response_us BIGINT, first_resolved_us BIGINT, resolved_us BIGINT, "
        "priority VARCHAR, channel VARCHAR, team VARCHAR, region VARCHAR, language VARCHAR, "
        "csat DOUBLE)"
    )
    con.executemany(
        "INSERT INTO kpi_tickets VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?)",
        [(c, at(cr), at(fr), at(fr), at(r1), at(r), p, s) for c, cr, fr, r1, r, p, s in tickets],
    )
    if sla is not None:
        con.execute(
            "CREATE TABLE kpi_sla (case_id VARCHAR, metric VARCHAR, calendar VARCHAR, "
            "target_s DOUBLE, start_us BIGINT, stop_us BIGINT, elapsed_business_s DOUBLE, "
            "paused_business_s DOUBLE, breach_us BIGINT, breached BOOLEAN, met BOOLEAN, "
            "outcome_us BIGINT)"
        )
        rows = [
            (case, "first_response", "24x7", 900.0, at(start), at(stop), (stop - start) * 60.0,
             0.0, at(breach), breach is not None, breach is None,
             at(stop if breach is None else breach))
            for case, start, stop, breach in sla
        ]  # fmt: skip
        con.executemany("INSERT INTO kpi_sla VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return DuckDBEngine(con)


def story_observations(rules: AlertRules) -> Observations:
    return build_observations(story_engine(EVENTS, TICKETS, SLA), rules=rules)


def episodes_in_minutes(rules: AlertRules) -> list[tuple[Any, ...]]:
    def minutes(us: int | None) -> float | None:
        return None if us is None else (us - T0) / MIN

    return [
        (e.rule, minutes(e.fired_at_us), minutes(e.cleared_at_us), e.value, e.sample, e.peak)
        for e in replay(story_observations(rules), rules)
    ]


def test_the_story_fires_and_clears_at_the_instants_worked_out_by_hand() -> None:
    # p90 first response over (clock - 2h, clock]: at 120 (a full window) the answers of A, C,
    # B are 5, 10, 30 min → p90 = 10 + 0.8 × 20 = 26 min; at 160 B's leaves → [5, 10] → 9.5.
    # At 330 F's 30 min is alone; it leaves at 450 and the empty window is not judged.
    # SLA today: B's breach at 25 makes it 1 of 2; the day's reset at midnight clears it.
    # Backlog: 3 open at 20 (A, B, C) until A's resolution at 60; then D, E (peak 4)...
    assert episodes_in_minutes(rules_of(STORY_RULES)) == [
        ("backlog", 20, 60, 3, 3, 3),
        ("first response SLA", 25, 1440, 0.5, 2, 0.5),
        ("slow first response", 120, 160, 1560, 3, 1680),
        ("backlog", 130, 250, 3, 3, 4),
        ("backlog", 300, 400, 3, 3, 3),
        ("slow first response", 330, 450, 1800, 1, 1800),
        ("backlog", 1500, 1600, 3, 3, 3),
    ]


def test_evaluate_reports_each_rule_at_a_clock() -> None:
    rules = rules_of(STORY_RULES)
    observations = story_observations(rules)
    assert evaluate(observations, rules, clock_us=at(100)) == [
        AlertState("slow first response", "critical", "insufficient_data", 1560.0, 3),
        AlertState("first response SLA", "warning", "firing", 2 / 3, 3),
        AlertState("backlog", "info", "ok", 2.0, 2),
    ]
    assert evaluate(observations, rules, clock_us=at(160) - 1)[0].status == "firing"
    assert evaluate(observations, rules, clock_us=at(160))[0].status == "ok"


def test_min_sample_suppresses_a_lone_slow_answer() -> None:
    rules = rules_of(STORY_RULES.replace("severity: critical", "min_sample: 2"))
    observations = story_observations(rules)
    assert [e[:3] for e in episodes_in_minutes(rules) if e[0] == "slow first response"] == [
        ("slow first response", 120, 160)
    ]
    state = evaluate(observations, rules, clock_us=at(335))[0]
    assert (state.status, state.value, state.sample) == ("insufficient_data", 1800.0, 1)


HELD_RULES = STORY_RULES.replace("severity: info", "for: 30m")


def test_for_waits_until_the_condition_has_held() -> None:
    # The backlog is above 2 from 20 to 60, 130 to 250, 300 to 400 and 1500 to 1600; each run
    # fires 30 minutes after it began. At 160 the backlog is 4 (D, E, B, C).
    rules = rules_of(HELD_RULES)
    assert [e for e in episodes_in_minutes(rules) if e[0] == "backlog"] == [
        ("backlog", 50, 60, 3, 3, 3),
        ("backlog", 160, 250, 4, 4, 4),
        ("backlog", 330, 400, 3, 3, 3),
        ("backlog", 1530, 1600, 3, 3, 3),
    ]
    observations = story_observations(rules)
    assert evaluate(observations, rules, clock_us=at(50) - 1)[2].status == "pending"
    assert evaluate(observations, rules, clock_us=at(50))[2].status == "firing"
    assert rules.rules[2].describe() == "backlog > 2 for 30m"


CHANGE_RULES = """
rules:
  - name: arrivals dropped
    kpi: arrivals
    window: 1h
    change_below: -50%
"""


def test_a_relative_change_compares_with_the_previous_window() -> None:
    # Arrivals at 0, 10, 20, 130, 150, 300, 1500. At 120 the hour (60, 120] has none and the
    # hour before, (0, 60], has B and C: -100 %. At 130 D arrives and (10, 70] holds C: 0 %.
    # At 140 the previous hour (20, 80] is empty: no baseline, no verdict.
    rules = rules_of(CHANGE_RULES)
    assert episodes_in_minutes(rules) == [
        ("arrivals dropped", 120, 130, -1.0, 0, -1.0),
        ("arrivals dropped", 210, 270, -1.0, 0, -1.0),
        ("arrivals dropped", 360, 420, -1.0, 0, -1.0),
        ("arrivals dropped", 1560, None, -1.0, 0, -1.0),
    ]
    observations = story_observations(rules)
    assert evaluate(observations, rules, clock_us=at(125)) == [
        AlertState("arrivals dropped", "warning", "firing", 0.0, 0, baseline=2.0, change=-1.0)
    ]
    assert evaluate(observations, rules, clock_us=at(140))[0].status == "insufficient_data"


LEVEL_CHANGE_RULES = """
rules:
  - {name: backlog grew, kpi: backlog, window: 1h, change_above: +50%}
"""


def test_a_level_compares_with_its_value_one_window_earlier() -> None:
    # Backlog 2 at 60 against 1 an hour earlier: +100 %. At 70 it is 2 against 2. At 130 it is
    # 3 against 2: +50 % is not above +50 %. At 150, 4 against 2; at 170, 3 against 2 again.
    assert episodes_in_minutes(rules_of(LEVEL_CHANGE_RULES)) == [
        ("backlog grew", 60, 70, 1.0, 2, 1.0),
        ("backlog grew", 150, 170, 1.0, 4, 1.0),
        ("backlog grew", 180, 190, 1.0, 4, 1.0),
    ]


WHERE_RULES = """
rules:
  - {name: slow P1, kpi: first_response_time, statistic: p90, window: 2h, above: 12m,
     where: {priority: P1}}
  - {name: slow P2, kpi: first_response_time, statistic: p90, window: 2h, above: 12m,
     where: {priority: P2}}
  - {name: P2 backlog, kpi: backlog, above: 1, where: {priority: P2}}
"""


def test_where_keeps_only_the_matching_tickets() -> None:
    rules = rules_of(WHERE_RULES)
    # P1 answers: B 30 min at 40, F 30 min at 330. P2 answers are all 10 min or less.
    # P2 backlog: A, C at 20; A resolved 60; D 130; E resolved 170, reopened 180; D resolved
    # 250 (2 left: C, E); E resolved 400; G from 1500 to 1600.
    assert episodes_in_minutes(rules) == [
        ("P2 backlog", 20, 60, 2, 2, 2),
        ("slow P1", 120, 160, 1800, 1, 1800),
        ("P2 backlog", 130, 400, 2, 2, 3),
        ("slow P1", 330, 450, 1800, 1, 1800),
        ("P2 backlog", 1500, 1600, 2, 2, 2),
    ]


def test_sla_rules_without_sla_outcomes_are_refused() -> None:
    rules = rules_of(STORY_RULES)
    with pytest.raises(MonitorError, match="need SLA outcomes"):
        build_observations(story_engine(EVENTS, TICKETS, None), rules=rules)


EVERY_KPI = """
rules:
  - {name: frt, kpi: first_response_time, statistic: mean, window: 3h, above: 0}
  - {name: tta, kpi: time_to_assign, statistic: max, window: 3h, above: 0}
  - {name: res, kpi: resolution_time, statistic: p90, window: 3h, above: 0}
  - {name: handling, kpi: handling_time, statistic: mean, window: 3h, above: 0}
  - {name: resolutions, kpi: resolutions, window: 3h, above: 0}
  - {name: reopens, kpi: reopens, window: 3h, above: 0}
  - {name: arrivals, kpi: arrivals, window: today, above: 0}
  - {name: backlog, kpi: backlog, above: 0}
  - {name: sla, kpi: sla_first_response_attainment, window: today, below: 100%}
  - {name: csat, kpi: csat, window: 3h, above: 0}
"""


def test_a_clock_sees_only_the_events_so_far() -> None:
    # The log as it stood at 185 min: B not yet resolved, E reopened (open again, its first
    # resolution at 170), F and G not created, E's satisfaction score not yet given.
    clock = 185
    truncated_tickets = [
        ("A", 0, 5, 60, 60, "P2", 4.0),
        ("B", 10, 40, None, None, "P1", None),
        ("C", 20, 30, None, None, "P2", None),
        ("D", 130, 140, None, None, "P2", None),
        ("E", 150, 155, 170, None, "P2", None),
    ]
    truncated_sla = [row for row in SLA if row[0] in "ABCDE"]
    rules = rules_of(EVERY_KPI)
    so_far = build_observations(
        story_engine([e for e in EVENTS if e[1] <= clock], truncated_tickets, truncated_sla),
        rules=rules,
    )
    full = story_observations(rules)
    expected = evaluate(full, rules, clock_us=at(clock))
    assert evaluate(so_far, rules, clock_us=at(clock)) == expected
    # By hand: resolutions of A (60 min) and E (20 min, then reopened at 180); E's handling
    # before its resolution was 15 min; 5 tickets created today, 4 open (B, C, D, E).
    by_name = {state.rule: (state.value, state.sample) for state in expected}
    assert by_name["res"] == (pytest.approx(60 * 60 - 0.1 * 40 * 60), 2)
    assert by_name["handling"] == (pytest.approx((55 + 15) * 60 / 2), 2)
    assert by_name["reopens"] == (1.0, 1)
    assert by_name["arrivals"] == (5.0, 5)
    assert by_name["backlog"] == (4.0, 4)
    assert by_name["sla"] == (0.8, 5)
    assert by_name["csat"] == (4.0, 1)


def random_clocks(observations: Observations, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(c) for c in rng.integers(observations.start_us, observations.end_us + 1, 100)]


@pytest.mark.parametrize(
    "text",
    [
        STORY_RULES,
        STORY_RULES.replace("severity: critical", "min_sample: 2"),
        HELD_RULES,
        HELD_RULES.replace("for: 30m", "for: 100m").replace(
            "above: 12 min", "for: 10m\n    above: 12 min"
        ),
        CHANGE_RULES,
        LEVEL_CHANGE_RULES,
        WHERE_RULES,
        EVERY_KPI,
        EVERY_KPI.replace("rules:", "timezone: Asia/Kolkata\nrules:"),
    ],
    ids=[
        "story",
        "min_sample",
        "for",
        "for_long",
        "change",
        "level_change",
        "where",
        "every_kpi",
        "kolkata",
    ],
)
def test_evaluate_at_any_clock_agrees_with_the_replay(text: str) -> None:
    rules = rules_of(text)
    observations = story_observations(rules)
    episodes = replay(observations, rules)
    # Random clocks, and both sides of every observation, window edge and midnight (all fall
    # on whole 5 minutes, in the two busy stretches of the story).
    minutes = [*range(0, 601, 5), 1110, *range(1380, 1601, 5)]  # 1110: midnight in Kolkata
    edges = [at(minute) + d for minute in minutes for d in (-1, 0, 1)]
    clocks = [c for c in random_clocks(observations, 7) + edges if c >= observations.start_us]
    for clock in clocks:
        for state in evaluate(observations, rules, clock_us=min(clock, observations.end_us)):
            covered = any(
                e.rule == state.rule
                and e.fired_at_us <= min(clock, observations.end_us)
                and (e.cleared_at_us is None or min(clock, observations.end_us) < e.cleared_at_us)
                for e in episodes
            )
            assert state.firing == covered, (state, (clock - T0) / MIN)


def kolkata_observations() -> Observations:
    # SLA outcomes in UTC: met 19:00 on the 4th (00:30 on the 5th in Kolkata), missed 20:00,
    # met 18:29 on the 5th (23:59 local), met 19:00 on the 5th (00:30 on the 6th local).
    def utc(day: int, hour: int, minute: int = 0) -> int:
        return T0 + ((day - 4) * 1440 + hour * 60 + minute) * MIN

    times = np.array([utc(4, 19), utc(4, 20), utc(5, 18, 29), utc(5, 19)], dtype=np.int64)
    stream = Stream(times_us=times, values=np.array([1.0, 0.0, 1.0, 1.0]))
    return Observations(
        start_us=utc(4, 12),
        end_us=utc(5, 20),
        streams={("sla_first_response_attainment", None): stream},
    )


def test_today_resets_at_local_midnight_in_the_rules_time_zone() -> None:
    text = "timezone: {}\nrules:\n  - {{name: sla, kpi: sla_first_response_attainment, window: today, below: 90%}}\n"
    observations = kolkata_observations()
    kolkata = rules_of(text.format("Asia/Kolkata"))
    # Local midnight of the 5th is 18:30 UTC on the 4th; the log starts at 12:00 UTC, so the
    # first local day is not full. The missed SLA at 20:00 makes today 1 of 2; the next local
    # midnight, 18:30 UTC on the 5th, starts an empty day.
    assert [e.to_dict() for e in replay(observations, kolkata)] == [
        {
            "rule": "sla",
            "severity": "warning",
            "condition": "sla_first_response_attainment < 90% today",
            "unit": "share",
            "fired_at": "2024-03-04T20:00:00Z",
            "cleared_at": "2024-03-05T18:30:00Z",
            "duration_s": 22.5 * 3600,
            "value": 0.5,
            "sample": 2,
            "peak": 0.5,
        }
    ]
    just_before = T0 + (1440 + 18 * 60 + 30) * MIN - 1
    assert evaluate(observations, kolkata, clock_us=just_before)[0].value == pytest.approx(2 / 3)
    # In UTC the day starting at 00:00 on the 5th holds only the met 18:29: no alert at all.
    assert replay(observations, rules_of(text.format("UTC"))) == []


def test_a_day_whose_midnight_is_skipped_starts_when_the_clocks_resume() -> None:
    # Havana moves its clocks from 00:00 to 01:00 on 10 March 2024: that day starts at 01:00
    # CDT, 05:00 UTC; the day before started at 00:00 CST, 05:00 UTC too; the next at 04:00 UTC.
    start = 1_709_964_000_000_000  # 2024-03-09 06:00 UTC
    days = day_starts(start, start, "America/Havana")
    assert [int(d) // 1_000_000 for d in days] == [1_709_960_400, 1_710_046_800]
    days = day_starts(start + 86_400_000_000, start + 86_400_000_000, "America/Havana")
    assert [int(d) // 1_000_000 for d in days] == [1_710_046_800, 1_710_129_600]


def test_on_the_demo_log_the_streams_agree_with_the_ticket_tables(helpdesk_csv: Path) -> None:
    # Independent figures: the flow module's backlog changes (from the intervals' own
    # prev_state), the tickets' reopen counts, and handling time of tickets never reopened.
    log = load_event_log(helpdesk_csv, timezone="Europe/Rome")
    engine = DuckDBEngine(log.con)
    build_ticket_tables(engine, log, status_preset("helpdesk"))
    example = load_alert_rules(EXAMPLE)
    without_sla = [rule for rule in example.rules if "sla" not in rule.kpi]
    rules = AlertRules(timezone=example.timezone, rules=without_sla)
    observations = build_observations(engine, rules=rules)
    backlog = observations.streams[("backlog", None)]
    flow = log.con.execute(
        f"SELECT ts, delta FROM ({backlog_changes_sql()}) ORDER BY ts"
    ).fetchnumpy()
    clocks = np.unique(np.concatenate([backlog.times_us, flow["ts"]]))
    mine = np.concatenate(([0.0], np.cumsum(backlog.values)))
    theirs = np.concatenate(([0], np.cumsum(flow["delta"])))
    assert np.array_equal(
        mine[np.searchsorted(backlog.times_us, clocks, side="right")],
        theirs[np.searchsorted(flow["ts"], clocks, side="right")],
    )
    reopens, resolved_once = log.con.execute(
        "SELECT sum(reopens), count(*) FILTER (NOT is_open AND reopens = 0) FROM kpi_tickets"
    ).fetchall()[0]
    assert len(observations.streams[("reopens", None)].times_us) == reopens
    mismatched = log.con.execute(
        "SELECT count(*) FROM alert_transitions x JOIN kpi_tickets t USING (case_id) "
        "WHERE x.kind = 'resolved' AND t.reopens = 0 AND NOT t.is_open "
        "AND abs(x.handling_s - t.handling_s) > 1e-6"
    ).fetchall()[0][0]
    assert (resolved_once > 4000, mismatched) == (True, 0)
    episodes = replay(observations, rules)
    assert [e.fired_at_us for e in episodes] == sorted(e.fired_at_us for e in episodes)
