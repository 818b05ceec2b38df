"""SLA clock stories on hand-made ``kpi_tickets`` and ``kpi_intervals``, computed with a pencil.

The office: Rome, Monday to Friday 09:00-18:00, Italian public holidays. In the autumn of 2024
the clocks go back on Sunday 27 October (CEST, UTC+2, becomes CET, UTC+1) and Friday 1 November
is All Saints' Day. Times in the stories are Rome wall-clock times.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from supportflow.kpi.sla import Attainment, compute_sla_clocks
from supportflow.mining.engine import DuckDBEngine
from supportflow.rules.sla import SlaPolicy

US = 1_000_000
HOUR = 3600
ROME = ZoneInfo("Europe/Rome")
TICKET_COLUMNS = (
    "case_id VARCHAR, created_us BIGINT, first_response_us BIGINT, first_resolved_us BIGINT, "
    "resolved_us BIGINT, last_us BIGINT, priority VARCHAR, channel VARCHAR, team VARCHAR, "
    "region VARCHAR, tier VARCHAR"
)


def rome(text: str) -> int:
    """µs of a Rome wall-clock time such as ``"2024-10-25 16:00"``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ROME).timestamp()) * US


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * US


def add_ticket(
    engine: DuckDBEngine,
    case_id: str,
    states: list[tuple[int, str]],
    *,
    first_response_us: int | None = None,
    priority: str | None = None,
    channel: str | None = None,
    team: str | None = None,
    region: str | None = None,
    tier: str | None = None,
) -> None:
    """Insert a ticket and its intervals; ``states`` are (time, state) in order."""
    done = [
        t
        for (t, s), (_, p) in zip(states[1:], states, strict=False)
        if s in ("resolved", "closed") and p not in ("resolved", "closed")
    ]
    resolved = done[-1] if done and states[-1][1] in ("resolved", "closed") else None
    engine.con.execute(
        "INSERT INTO kpi_tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            case_id,
            states[0][0],
            first_response_us,
            done[0] if done else None,
            resolved,
            states[-1][0],
            priority,
            channel,
            team,
            region,
            tier,
        ],
    )
    ends: list[int | None] = [t for t, _ in states[1:]]
    for (start, state), end in zip(states, [*ends, None], strict=True):
        engine.con.execute(
            "INSERT INTO kpi_intervals VALUES (?, ?, ?, ?)", [case_id, start, end, state]
        )


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE kpi_tickets ({TICKET_COLUMNS})")
    con.execute(
        "CREATE TEMP TABLE kpi_intervals "
        "(case_id VARCHAR, start_us BIGINT, end_us BIGINT, state VARCHAR)"
    )
    yield DuckDBEngine(con)
    con.close()


def sla_rows(engine: DuckDBEngine) -> dict[tuple[str, str], dict[str, Any]]:
    cursor = engine.con.execute("SELECT * FROM kpi_sla ORDER BY case_id, metric")
    names = [d[0] for d in cursor.description]
    return {(r[0], r[1]): dict(zip(names[2:], r[2:], strict=True)) for r in cursor.fetchall()}


OFFICE_POLICY = SlaPolicy.model_validate(
    {
        "calendars": {
            "rome": {
                "timezone": "Europe/Rome",
                "hours": {"mon-fri": "09:00-18:00"},
                "holidays": "IT",
            },
        },
        "default_calendar": "rome",
        "pause_states": ["waiting_on_customer"],
        "targets": [
            {"priority": "P2", "first_response": "4h", "resolution": "25h"},
            {"priority": "P3", "first_response": "4h", "resolution": "20h"},
            {"priority": "P4", "first_response": "1h", "resolution": "8h"},
            {"priority": "P5", "first_response": "4h", "resolution": "1d"},
        ],
    }
)
CLOCK = rome("2024-11-05 12:00")
# Friday before the DST weekend to Monday after All Saints', paused twice on the customer.
LONG_STORY = [
    (rome("2024-10-25 16:00"), "created"),  # Fri, CEST
    (rome("2024-10-28 10:00"), "in_progress"),  # Mon, CET: the first response
    (rome("2024-10-28 11:00"), "waiting_on_customer"),  # pause 1
    (rome("2024-10-29 10:00"), "in_progress"),
    (rome("2024-10-30 15:00"), "waiting_on_customer"),  # pause 2
    (rome("2024-10-31 12:00"), "in_progress"),
    (rome("2024-11-04 11:00"), "resolved"),  # Mon, after the holiday and a weekend
]


def test_a_ticket_across_a_weekend_dst_a_holiday_and_two_pauses(engine: DuckDBEngine) -> None:
    response = rome("2024-10-28 10:00")
    add_ticket(engine, "A", LONG_STORY, first_response_us=response, priority="P2")
    add_ticket(engine, "B", LONG_STORY, first_response_us=response, priority="P3")
    compute_sla_clocks(engine, OFFICE_POLICY, clock_us=CLOCK)
    rows = sla_rows(engine)
    # First response: Fri 16-18 (2 h) + Mon 09-10 CET (1 h) = 3 h, within 4 h. Had the Monday
    # been read in summer time (09:00 = 07:00Z) it would count 2 h on Monday.
    assert rows["A", "first_response"] == {
        "calendar": "rome",
        "target_s": 4 * HOUR,
        "start_us": rome("2024-10-25 16:00"),
        "stop_us": response,
        "elapsed_business_s": 3 * HOUR,
        "paused_business_s": 0.0,
        "breach_us": None,
        "breached": False,
        "met": True,
        "outcome_us": response,
    }
    # Resolution, running: Fri 16-18 (2) + Mon 09-11 (2) + Tue 10-18 (8) + Wed 09-15 (6)
    # + Thu 12-18 (6) + [Fri 1 Nov holiday, weekend] + Mon 09-11 (2) = 26 h.
    # Paused: Mon 11-18 (7) + Tue 09-10 (1) + Wed 15-18 (3) + Thu 09-12 (3) = 14 h.
    # 25 h is reached after Thu 18:00 (24 h) plus 1 h: Mon 4 Nov 10:00 CET = 09:00Z.
    assert rows["A", "resolution"] == {
        "calendar": "rome",
        "target_s": 25 * HOUR,
        "start_us": rome("2024-10-25 16:00"),
        "stop_us": rome("2024-11-04 11:00"),
        "elapsed_business_s": 26 * HOUR,
        "paused_business_s": 14 * HOUR,
        "breach_us": utc("2024-11-04 09:00"),
        "breached": True,
        "met": False,
        "outcome_us": utc("2024-11-04 09:00"),
    }
    # 40 business hours from Fri 16:00 to Mon 4 Nov 11:00, all running or paused.
    assert (26 + 14) * HOUR == 2 * HOUR + 4 * 9 * HOUR + 2 * HOUR
    # B: 20 h is reached inside the stretch after the second pause: Wed 15:00 makes 18 h,
    # Thu from 12:00 two more hours: 14:00 CET = 13:00Z.
    assert rows["B", "resolution"]["breach_us"] == utc("2024-10-31 13:00")
    assert rows["B", "resolution"]["elapsed_business_s"] == 26 * HOUR


def test_reopened_open_and_untargeted_tickets(engine: DuckDBEngine) -> None:
    # C: solved at 11:00 without a reply, reopened 15:00, solved again 17:00 (Mon 4 Nov).
    add_ticket(
        engine,
        "C",
        [
            (rome("2024-11-04 09:00"), "in_progress"),
            (rome("2024-11-04 11:00"), "resolved"),
            (rome("2024-11-04 15:00"), "in_progress"),
            (rome("2024-11-04 17:00"), "resolved"),
        ],
        priority="P4",
    )
    # D: still waiting on the customer at the clock (Tue 5 Nov 12:00), never answered.
    add_ticket(
        engine,
        "D",
        [
            (rome("2024-11-04 09:00"), "in_progress"),
            (rome("2024-11-05 10:00"), "waiting_on_customer"),
        ],
        priority="P5",
        team="Billing",
        channel="chat",
    )
    # E: no target for priority P9.
    add_ticket(engine, "E", [(rome("2024-11-04 09:00"), "created")], priority="P9")
    summary = compute_sla_clocks(engine, OFFICE_POLICY, clock_us=CLOCK)
    rows = sla_rows(engine)
    assert {case for case, _ in rows} == {"C", "D"}
    # C's first answer is the solution at 11:00: 2 h against 1 h, late since 10:00 CET.
    assert rows["C", "first_response"]["stop_us"] == rome("2024-11-04 11:00")
    assert rows["C", "first_response"]["breach_us"] == utc("2024-11-04 09:00")
    # C's resolution: 09-11 and 15-17 run (4 h); 11-15 solved before the reopen does not (4 h).
    assert [
        rows["C", "resolution"][k]
        for k in ("stop_us", "elapsed_business_s", "paused_business_s", "met", "breach_us")
    ] == [rome("2024-11-04 17:00"), 4 * HOUR, 4 * HOUR, True, None]
    # D runs: Mon 09-18 (9 h) + Tue 09-10 (1 h); waiting Tue 10-12 (2 h). Under 1 d: no outcome.
    assert rows["D", "resolution"] == {
        "calendar": "rome",
        "target_s": 24 * HOUR,
        "start_us": rome("2024-11-04 09:00"),
        "stop_us": None,
        "elapsed_business_s": 10 * HOUR,
        "paused_business_s": 2 * HOUR,
        "breach_us": None,
        "breached": False,
        "met": None,
        "outcome_us": None,
    }
    # D's first response never came: 12 h at the clock, late since Mon 13:00 CET.
    assert [
        rows["D", "first_response"][k]
        for k in ("stop_us", "elapsed_business_s", "breached", "met", "outcome_us")
    ] == [None, 12 * HOUR, True, False, utc("2024-11-04 12:00")]
    assert summary.resolution.overall == Attainment(
        tickets=2, with_outcome=1, met=1, breached=0, running=1, share_met=1.0
    )
    assert summary.first_response.overall == Attainment(
        tickets=2, with_outcome=2, met=0, breached=2, running=0, share_met=0.0
    )
    assert summary.resolution.no_target == summary.first_response.no_target == 1
    assert summary.resolution.by_team == {
        "(none)": Attainment(
            tickets=1, with_outcome=1, met=1, breached=0, running=0, share_met=1.0
        ),
        "Billing": Attainment(
            tickets=1, with_outcome=0, met=0, breached=0, running=1, share_met=None
        ),
    }
    assert list(summary.resolution.by_priority or {}) == ["P4", "P5"]
    document = summary.to_dict()
    assert document["clock"] == "2024-11-05T11:00:00+00:00"
    assert document["resolution"]["overall"]["share_met"] == 1.0


def test_the_most_specific_target_wins_and_ties_go_to_file_order(engine: DuckDBEngine) -> None:
    policy = SlaPolicy.model_validate(
        {
            "targets": [
                {"priority": "*", "resolution": "5d"},
                {"priority": "P2", "resolution": "3d"},
                {"priority": "p2", "channel": "chat", "resolution": "1d"},
                {"priority": "P2", "tier": "gold", "resolution": "12h"},
                {"priority": "P2", "channel": "chat", "tier": "gold", "first_response": "10m"},
                {"priority": "P2", "channel": "Chat", "resolution": "2d"},
            ]
        }
    )
    start = utc("2024-11-04 00:00")
    story = [(start, "in_progress")]
    add_ticket(engine, "t1", story, priority="P2", channel="chat", tier="gold")
    add_ticket(engine, "t2", story, priority="p2", channel="email", tier="Gold")
    add_ticket(engine, "t3", story, priority="P2", channel="CHAT")
    add_ticket(engine, "t4", story, priority="P1", channel="chat")
    add_ticket(engine, "t5", story)
    summary = compute_sla_clocks(engine, policy, clock_us=start + HOUR * US)
    targets = {key: row["target_s"] for key, row in sla_rows(engine).items()}
    assert targets == {
        ("t1", "first_response"): 600.0,
        ("t1", "resolution"): 86400.0,  # channel (file order 2) beats tier (3) and Chat (5)
        ("t2", "resolution"): 43200.0,
        ("t3", "resolution"): 86400.0,
        ("t4", "resolution"): 432000.0,
        ("t5", "resolution"): 432000.0,
    }
    assert summary.first_response.no_target == 4
    assert summary.resolution.no_target == 0
    # 24x7 UTC by default: one wall-clock hour of running time.
    assert sla_rows(engine)["t5", "resolution"]["elapsed_business_s"] == HOUR


def test_calendars_by_target_team_region_and_default(engine: DuckDBEngine) -> None:
    policy = SlaPolicy.model_validate(
        {
            "calendars": {
                "a": {"hours": "24x7", "teams": ["Billing"]},
                "b": {"hours": "24x7", "regions": ["EMEA"]},
                "c": {"hours": "24x7"},
            },
            "default_calendar": "c",
            "targets": [
                {"priority": "P1", "resolution": "1h", "calendar": "24x7"},
                {"priority": "*", "resolution": "1d"},
            ],
        }
    )
    story = [(utc("2024-11-04 00:00"), "in_progress")]
    add_ticket(engine, "team", story, team="billing", region="EMEA")
    add_ticket(engine, "region", story, team="Sales", region="emea")
    add_ticket(engine, "other", story, team="Sales")
    add_ticket(engine, "p1", story, priority="P1", team="Billing")
    compute_sla_clocks(engine, policy, clock_us=utc("2024-11-04 02:00"))
    rows = sla_rows(engine)
    assert {case: row["calendar"] for (case, _), row in rows.items()} == {
        "team": "a",
        "region": "b",
        "other": "c",
        "p1": "24x7",
    }
    # p1 ran 2 h against 1 h: late since 01:00.
    assert rows["p1", "resolution"]["breach_us"] == utc("2024-11-04 01:00")


@pytest.mark.parametrize(("pause", "elapsed", "paused"), [(True, 2, 2), (False, 4, 0)])
def test_pauses_stop_the_first_response_clock_only_when_asked(
    engine: DuckDBEngine, pause: bool, elapsed: int, paused: int
) -> None:
    policy = SlaPolicy.model_validate(
        {"pause_first_response": pause, "targets": [{"priority": "*", "first_response": "3h"}]}
    )
    add_ticket(
        engine,
        "T",
        [
            (utc("2024-11-04 00:00"), "created"),
            (utc("2024-11-04 01:00"), "waiting_on_third_party"),
            (utc("2024-11-04 03:00"), "in_progress"),
        ],
        first_response_us=utc("2024-11-04 04:00"),
    )
    compute_sla_clocks(engine, policy, clock_us=utc("2024-11-04 05:00"))
    row = sla_rows(engine)["T", "first_response"]
    assert (row["elapsed_business_s"], row["paused_business_s"]) == (elapsed * HOUR, paused * HOUR)
    assert row["met"] is pause
    assert row["breach_us"] == (None if pause else utc("2024-11-04 03:00"))


def test_no_tickets_give_an_empty_table(engine: DuckDBEngine) -> None:
    summary = compute_sla_clocks(engine, OFFICE_POLICY, clock_us=CLOCK)
    assert sla_rows(engine) == {}
    assert summary.resolution.overall == Attainment.empty()
    assert summary.resolution.by_priority is None


def test_random_tickets_match_a_minute_by_minute_walk(engine: DuckDBEngine) -> None:
    """Forty random tickets in the Rome office across the DST change and All Saints'; the
    reference walks every minute of every ticket: is the desk open, is the clock running?"""
    origin = datetime(2024, 10, 18, tzinfo=UTC)
    clock = origin + timedelta(days=30)
    holidays = OFFICE_POLICY.calendars["rome"].holidays
    assert holidays is not None
    closed_days = holidays.dates(range(2024, 2025))
    open_minute = []
    for m in range(30 * 1440):
        local = (origin + timedelta(minutes=m)).astimezone(ROME)
        open_minute.append(
            local.weekday() < 5 and local.date() not in closed_days and 9 <= local.hour < 18
        )
    rng = random.Random(2024)
    states = ["in_progress", "waiting_on_customer", "waiting_on_third_party", "resolved"]
    expected = {}
    late_after_pause = 0
    for k in range(40):
        minute = rng.randrange(0, 10 * 1440)
        story = [(minute, "created")]
        for _ in range(rng.randrange(2, 7)):
            minute += rng.randrange(10, 2 * 1440)
            story.append((minute, rng.choice([s for s in states if s != story[-1][1]])))
        replied = next((m for m, s in story if s == "in_progress"), None)
        add_ticket(
            engine,
            f"R{k:02d}",
            [(int((origin + timedelta(minutes=m)).timestamp()) * US, s) for m, s in story],
            first_response_us=None
            if replied is None
            else int(origin.timestamp() + replied * 60) * US,
            priority="P2",
        )
        paused_before = [0]
        expected[f"R{k:02d}"] = walk(
            story, open_minute, clock_minute=30 * 1440, paused_before=paused_before
        )
        late_after_pause += expected[f"R{k:02d}"][2] is not None and paused_before[0] > 0
    compute_sla_clocks(engine, OFFICE_POLICY, clock_us=int(clock.timestamp()) * US)
    rows = sla_rows(engine)
    for case, (running, paused, reached) in expected.items():
        row = rows[case, "resolution"]
        assert (row["elapsed_business_s"], row["paused_business_s"]) == (running * 60, paused * 60)
        breach = None if reached is None else int(origin.timestamp() + reached * 60) * US
        assert row["breach_us"] == breach, case
    # Not vacuous: late tickets, some of them paused before they were late.
    late = [case for case, (_, paused, reached) in expected.items() if reached is not None]
    assert len(late) >= 5
    assert late_after_pause >= 2


def walk(
    story: list[tuple[int, str]],
    open_minute: list[bool],
    *,
    clock_minute: int,
    paused_before: list[int],
) -> tuple[int, int, int | None]:
    """Running and paused business minutes of the resolution clock, and the minute at whose
    end the running time reached 25 h (P2), minute by minute; ``paused_before[0]`` receives the
    paused minutes before that."""
    done = ("resolved", "closed")
    while story[-1][1] in done and len(story) > 1 and story[-2][1] in done:
        story = story[:-1]  # the clock stops when the ticket last became resolved
    stop = story[-1][0] if story[-1][1] in done else clock_minute
    running = paused = 0
    reached = None
    for minute in range(story[0][0], stop):
        state = [s for m, s in story if m <= minute][-1]
        if not open_minute[minute]:
            continue
        if state in ("waiting_on_customer", *done):
            paused += 1
        else:
            running += 1
            if running == 25 * 60:
                reached = minute + 1
                paused_before[0] = paused
    return running, paused, reached if running > 25 * 60 else None
