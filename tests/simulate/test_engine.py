"""The desk model against queueing theory, hand-worked stories, and reproducibility."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from supportflow.simulate.arrivals import arrival_instants
from supportflow.simulate.desk import estimate
from supportflow.simulate.engine import simulate, stream
from supportflow.simulate.erlang_a import erlang_a
from supportflow.simulate.experiment import replicate_scenario
from supportflow.simulate.scenario import Scenario
from supportflow.simulate.staffing import performance

MONDAY = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday, no DST change that week in UTC


def desk(**changes: Any) -> Scenario:
    """One work step, one team, open around the clock; ``changes`` override fields."""
    data: dict[str, Any] = {
        "name": "test desk",
        "start": MONDAY.isoformat(),
        "cases": 1000,
        "open_hours": {"zone": "UTC", "weekly": "24x7"},
        "arrivals": {"per_hour_of_week": [10.0] * 168},
        "variants": [{"weight": 1, "path": ["Answer"]}],
        "activities": {"Answer": {"team": "L1", "service": {"dist": "exponential", "mean": 300}}},
        "agents": [{"name": "L1", "team": "L1", "count": 1}],
        "routing": {"policy": "fifo", "language_match": "ignore"},
    }
    data.update(changes)
    return Scenario.model_validate(data)


def at(day: int, hour: float) -> float:
    return MONDAY.timestamp() + day * 86400 + hour * 3600


# ---- queueing theory -----------------------------------------------------------------------

MMC_RATE_PER_H = 84.0  # 7 Erlangs of 300 s work on 10 agents: 70 % busy
MMC = desk(
    cases=20_000,
    arrivals={"per_hour_of_week": [MMC_RATE_PER_H] * 168},
    agents=[{"name": "L1", "team": "L1", "count": 10}],
)
WARM_UP = 1_000


@pytest.fixture(scope="module")
def mmc_logs() -> list[Any]:
    # 8 replications of 20,000 tickets (1,000 warm-up dropped from each)
    return [simulate(MMC, seed=s) for s in range(8)]


def test_the_desk_waits_as_erlang_c_says(mmc_logs: list[Any]) -> None:
    theory = performance(10, load=7.0, aht_s=300, within_s=20)
    waits = [log.first_wait_s[WARM_UP:] for log in mmc_logs]
    wait_p = estimate([float(np.mean(w > 1e-9)) for w in waits])
    asa = estimate([float(np.mean(w)) for w in waits])
    level = estimate([float(np.mean(w <= 20)) for w in waits])
    assert wait_p.ci_low <= theory.wait_probability <= wait_p.ci_high
    assert asa.ci_low <= theory.asa_s <= asa.ci_high
    assert abs(wait_p.mean / theory.wait_probability - 1) < 0.03
    assert abs(asa.mean / theory.asa_s - 1) < 0.05
    assert theory.service_level is not None
    assert abs(level.mean - theory.service_level) < 0.01


def test_littles_law_holds_on_every_run(mmc_logs: list[Any]) -> None:
    for log in mmc_logs:
        arrived, left = log.arrival_s, log.end_s
        first, last = float(arrived[WARM_UP]), float(arrived[-1])
        # time-average number in the desk, measured on the timeline
        overlap = np.clip(np.minimum(left, last) - np.maximum(arrived, first), 0, None)
        in_desk = overlap.sum() / (last - first)
        kept = slice(WARM_UP, None)
        throughput = (len(arrived) - WARM_UP) / (last - first)
        sojourn = float(np.mean(left[kept] - arrived[kept]))
        assert in_desk == pytest.approx(throughput * sojourn, rel=0.02)


def test_impatient_customers_abandon_as_erlang_a_says() -> None:
    model = desk(
        cases=20_000,
        arrivals={"per_hour_of_week": [MMC_RATE_PER_H * 1.3] * 168},
        agents=[{"name": "L1", "team": "L1", "count": 10}],
        abandonment={"patience": {"dist": "exponential", "mean": 600}},
    )
    theory = erlang_a(
        10, arrivals_per_s=MMC_RATE_PER_H * 1.3 / 3600, aht_s=300, patience_s=600, within_s=None
    )
    shares = [float(simulate(model, seed=s).abandoned[WARM_UP:].mean()) for s in range(4)]
    found = estimate(shares)
    assert (
        found.ci_low <= theory.abandon_share <= found.ci_high
        or abs(found.mean / theory.abandon_share - 1) < 0.05
    )


# ---- arrivals --------------------------------------------------------------------------------


def test_arrivals_follow_the_hour_of_the_week_and_the_peak() -> None:
    rates = [0.0] * 168
    rates[9] = 30.0  # Monday 09:00-10:00
    rates[24 * 5 + 14] = 12.0  # Saturday 14:00-15:00
    model = desk(
        cases=None,
        duration=52 * 7 * 86400,
        arrivals={
            "per_hour_of_week": rates,
            "peaks": [{"start": "2024-03-11T00:00:00+00:00", "days": 1, "multiplier": 3}],
        },
    )
    times = arrival_instants(model, stream(3, "arrivals"), cases=None, start_s=model.start_s)
    hours = ((times - MONDAY.timestamp()) // 3600).astype(int)
    how = hours % 168
    assert set(np.unique(how)) == {9, 24 * 5 + 14}
    weeks = 52
    monday = np.sum(how == 9) - np.sum(hours == 7 * 24 + 9)  # the peak Monday aside
    assert abs(monday - 30 * (weeks - 1)) < 4 * np.sqrt(30 * weeks)
    assert abs(np.sum(how == 24 * 5 + 14) - 12 * weeks) < 4 * np.sqrt(12 * weeks)
    # the peak day (Monday 11 March) triples its hour: 90 expected
    assert 55 < np.sum(hours == 7 * 24 + 9) < 130


def test_exactly_the_requested_number_of_cases_arrive() -> None:
    log = simulate(desk(cases=777), seed=5)
    assert len(log.arrival_s) == 777
    assert np.all(np.diff(log.arrival_s) >= 0)
    assert log.arrival_s[0] >= MONDAY.timestamp()


# ---- stories ----------------------------------------------------------------------------------


def test_work_waits_for_the_shift_and_delays_run_on_business_time() -> None:
    model = desk(
        open_hours={"zone": "Europe/Rome", "weekly": {"mon-fri": "09:00-17:00"}},
        variants=[{"weight": 1, "path": ["Answer", "Fix"]}],
        activities={
            "Answer": {"team": "L1", "service": {"dist": "fixed", "value": "10m"}},
            "Fix": {"team": "L1", "service": {"dist": "fixed", "value": "30m"}},
        },
        delays={"Answer -> Fix": {"clock": "business", "time": {"dist": "fixed", "value": "8h"}}},
    )
    # Monday 06:00 UTC is 07:00 in Rome: nobody works until 09:00 Rome (08:00 UTC)
    log = simulate(model, seed=1, arrivals=np.array([at(0, 6.0)]))
    times = dict(zip(log.activity.tolist(), log.time_s.tolist(), strict=True))
    answer, fix = times[0], times[1]
    assert answer == pytest.approx(at(0, 8 + 10 / 60))
    assert log.first_wait_s[0] == pytest.approx(2 * 3600)
    # 8 business hours from 09:10 Rome: 7 h 50 min on Monday, 10 min on Tuesday → Tue 09:10,
    # then 30 minutes of work: Tuesday 09:40 Rome = 08:40 UTC
    assert fix == pytest.approx(at(1, 8 + 40 / 60))


def test_a_chat_agent_takes_three_at_once_but_not_four() -> None:
    model = desk(
        activities={"Answer": {"team": "L1", "service": {"dist": "fixed", "value": "10m"}}},
        agents=[{"name": "chat", "team": "L1", "count": 1, "concurrency": 3}],
    )
    log = simulate(model, seed=1, arrivals=np.full(4, at(0, 10)))
    done = np.sort(log.time_s)
    assert done.tolist() == pytest.approx([at(0, 10 + 1 / 6)] * 3 + [at(0, 10 + 2 / 6)])


def test_language_routing_sends_chinese_tickets_to_chinese_speakers() -> None:
    model = desk(
        cases=400,
        mix=[{"weight": 1, "language": "en"}, {"weight": 1, "language": "zh"}],
        agents=[
            {"name": "en", "team": "L1", "count": 2, "languages": ["en"]},
            {"name": "zh", "team": "L1", "count": 1, "languages": ["zh", "en"]},
        ],
        routing={"policy": "fifo", "language_match": "required"},
    )
    table = simulate(model, seed=2).to_arrow().to_pylist()
    zh = {row["resource"] for row in table if row["language"] == "zh"}
    en = {row["resource"] for row in table if row["language"] == "en"}
    assert zh == {"zh-01"}
    assert {"en-01", "en-02"} <= en  # English goes to everyone, Chinese only to zh-01


def test_a_customer_gives_up_and_the_ticket_ends_abandoned() -> None:
    model = desk(
        activities={"Answer": {"team": "L1", "service": {"dist": "fixed", "value": "1h"}}},
        abandonment={"patience": {"dist": "fixed", "value": "5m"}},
    )
    log = simulate(model, seed=1, arrivals=np.array([at(0, 10), at(0, 10.01)]))
    assert log.abandoned.tolist() == [False, True]
    rows = log.to_arrow().to_pylist()
    second = [r for r in rows if r["case_id"] == "sim-1"]
    assert [r["activity"] for r in second] == ["Abandoned"]
    assert second[0]["timestamp"].timestamp() == pytest.approx(at(0, 10.01) + 300)


def test_a_faster_step_and_a_removed_step_change_what_they_should() -> None:
    two_steps: dict[str, Any] = {
        "variants": [{"weight": 1, "path": ["Answer", "Check", "Close"]}],
        "activities": {
            "Answer": {"team": "L1", "service": {"dist": "fixed", "value": "10m"}},
            "Check": {"team": "L1", "service": {"dist": "fixed", "value": "20m"}},
            "Close": {"kind": "wait"},
        },
        "delays": {
            "Answer -> Check": {"clock": "wall", "time": {"dist": "fixed", "value": "1h"}},
            "Check -> Close": {"clock": "wall", "time": {"dist": "fixed", "value": "2h"}},
        },
    }
    one = np.array([at(0, 10)])
    base = simulate(desk(**two_steps), seed=1, arrivals=one)
    assert base.end_s[0] - one[0] == pytest.approx(600 + 3600 + 1200 + 7200)
    faster = dict(two_steps)
    faster["activities"] = {
        **two_steps["activities"],
        "Check": {"team": "L1", "service": {"dist": "fixed", "value": "20m"}, "time_factor": 0.5},
    }
    quick = simulate(desk(**faster), seed=1, arrivals=one)
    assert quick.end_s[0] - one[0] == pytest.approx(600 + 1800 + 600 + 7200)
    removed = dict(two_steps)
    removed["activities"] = {
        **two_steps["activities"],
        "Check": {"team": "L1", "service": {"dist": "fixed", "value": "20m"}, "remove": True},
    }
    gone = simulate(desk(**removed), seed=1, arrivals=one)
    # Check, its service and the delay into it disappear; its delay out joins Answer to Close
    assert gone.end_s[0] - one[0] == pytest.approx(600 + 7200)


# ---- reproducibility ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_log_and_another_seed_another() -> None:
    model = desk(cases=300, agents=[{"name": "L1", "team": "L1", "count": 2}])
    one, two = simulate(model, seed=9).to_arrow(), simulate(model, seed=9).to_arrow()
    assert one.equals(two)
    assert not one.equals(simulate(model, seed=10).to_arrow())


def test_replications_do_not_depend_on_the_number_of_workers() -> None:
    model = desk(cases=300, agents=[{"name": "L1", "team": "L1", "count": 2}])
    alone = replicate_scenario(model, replications=4, seed=7, workers=1)
    pooled = replicate_scenario(model, replications=4, seed=7, workers=2)
    # NaN (no target given) never equals itself: compare the JSON text
    assert json.dumps([r.kpis for r in alone]) == json.dumps([r.kpis for r in pooled])
    assert len({r.kpis["asa_s"] for r in alone}) == 4


# ---- defects found in review, each kept fixed -----------------------------------------------


def test_a_zero_duration_is_refused_not_run_for_ever() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="duration"):
        desk(cases=None, duration=0)


def test_work_for_agents_who_never_come_on_shift_is_refused() -> None:
    model = desk(
        agents=[
            {
                "name": "gone",
                "team": "L1",
                "count": 3,
                "available_until": "2024-03-01T00:00:00+00:00",  # before the start
            }
        ]
    )
    with pytest.raises(ValueError, match="no agent can ever do 'Answer'"):
        simulate(model, seed=1)


def test_arrivals_keep_to_local_hours_in_a_half_hour_zone() -> None:
    rates = [0.0] * 168
    rates[9] = 50.0  # Monday 09:00-10:00 in Kolkata = 03:30-04:30 UTC
    model = desk(
        zone="Asia/Kolkata",
        cases=None,
        duration=7 * 86400,
        start="2024-03-04T00:47:00+00:00",
        arrivals={"per_hour_of_week": rates},
    )
    times = arrival_instants(model, stream(1, "arrivals"), cases=None, start_s=model.start_s)
    assert len(times) > 20
    begin = MONDAY.timestamp() + 3.5 * 3600
    assert np.all((times >= begin) & (times < begin + 3600))


def test_overflow_wakes_an_idle_agent_of_another_team() -> None:
    model = desk(
        activities={"Answer": {"team": "A", "service": {"dist": "fixed", "value": "10h"}}},
        agents=[
            {"name": "a", "team": "A", "count": 1},
            {"name": "b", "team": "B", "count": 1},
        ],
        routing={"policy": "fifo", "language_match": "ignore", "overflow": {"after": "1m"}},
    )
    log = simulate(model, seed=1, arrivals=np.array([at(0, 10), at(0, 10.5)]))
    # the second ticket goes to team B's idle agent one minute after it started waiting
    assert log.first_wait_s.tolist() == pytest.approx([0.0, 60.0])
    rows = log.to_arrow().to_pylist()
    assert {r["case_id"]: r["resource"] for r in rows} == {"sim-0": "a-01", "sim-1": "b-01"}


def test_a_path_without_a_resolving_step_is_resolved_by_its_closing_step() -> None:
    model = desk(
        variants=[{"weight": 1, "path": ["Answer", "Closed"]}],
        activities={
            "Answer": {"team": "L1", "service": {"dist": "fixed", "value": "10m"}},
            "Closed": {"kind": "wait"},
        },
        delays={"Answer -> Closed": {"clock": "wall", "time": {"dist": "fixed", "value": "1h"}}},
        status_map={"created": [], "resolved": ["Solved"], "closed": ["Closed"]},
    )
    log = simulate(model, seed=1, arrivals=np.array([at(0, 10)]))
    assert log.resolution_s.tolist() == pytest.approx([600 + 3600])


def test_an_activity_may_not_take_the_simulators_own_name() -> None:
    from supportflow.rules.yamlio import RulesError
    from supportflow.simulate.scenario import _validate

    data = desk().model_dump(mode="json")
    data["activities"]["Abandoned"] = {"kind": "wait"}
    with pytest.raises(RulesError, match="'Abandoned' is the simulator's own event"):
        _validate(data, [("desk.yaml", {})])


def test_removing_two_steps_in_a_row_keeps_the_delay_after_them() -> None:
    model = desk(
        variants=[{"weight": 1, "path": ["Answer", "R1", "R2", "Close"]}],
        activities={
            "Answer": {"team": "L1", "service": {"dist": "fixed", "value": 0}},
            "R1": {"kind": "wait", "remove": True},
            "R2": {"kind": "wait", "remove": True},
            "Close": {"kind": "wait"},
        },
        delays={"R2 -> Close": {"clock": "wall", "time": {"dist": "fixed", "value": "1h"}}},
    )
    assert set(model.effective().delays) == {"Answer -> Close"}
    log = simulate(model, seed=1, arrivals=np.array([at(0, 10)]))
    assert log.end_s[0] - at(0, 10) == pytest.approx(3600)


def test_a_replay_brings_the_logs_own_arrivals_and_a_peak_multiplies_them() -> None:
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
    from supportflow.eventlog.load import load_event_log

    log = load_event_log(demo)
    starts = np.sort(
        np.asarray(
            [
                r[0] / 1e6
                for r in log.con.execute("SELECT min(ts) FROM events GROUP BY case_id").fetchall()
            ]
        )
    )
    begin = datetime(2012, 3, 5, tzinfo=UTC).timestamp()  # a Monday
    four_weeks = starts[(starts >= begin) & (starts < begin + 28 * 86400)]
    model = desk(
        cases=None,
        start="2012-03-05T00:00:00+00:00",
        duration="28d",
        arrivals={"replay": str(demo)},
    )
    replayed = arrival_instants(model, stream(1, "arrivals"), cases=None, start_s=model.start_s)
    assert replayed.tolist() == four_weeks.tolist()
    peak = desk(
        cases=None,
        start="2012-03-05T00:00:00+00:00",
        duration="28d",
        arrivals={
            "replay": str(demo),
            "peaks": [{"start": "2012-03-12T00:00:00+00:00", "days": 7, "multiplier": 3}],
        },
    )
    tripled = arrival_instants(peak, stream(1, "arrivals"), cases=None, start_s=peak.start_s)
    week = (four_weeks >= begin + 7 * 86400) & (four_weeks < begin + 14 * 86400)
    assert len(tripled) == len(four_weeks) + 2 * int(week.sum())
    # every real arrival is still there, outside the peak untouched
    assert set(four_weeks.tolist()) <= set(tripled.tolist())
    run = simulate(peak, seed=1)
    assert len(run.arrival_s) == len(tripled)


def test_a_scenario_gives_its_arrivals_one_way() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="give the arrivals one way"):
        desk(arrivals={"per_hour_of_week": [1.0] * 168, "replay": "log.csv"})


def test_a_team_without_agents_is_staffed_by_overflow() -> None:
    model = desk(
        activities={"Answer": {"team": "nobody", "service": {"dist": "fixed", "value": "1m"}}},
        agents=[{"name": "b", "team": "B", "count": 1}],
        routing={"policy": "fifo", "language_match": "ignore", "overflow": {"after": "2m"}},
    )
    log = simulate(model, seed=1, arrivals=np.array([at(0, 10)]))
    # nobody works in its team: after two minutes it overflows to team B's idle agent
    assert log.first_wait_s.tolist() == pytest.approx([120.0])


def test_a_day_named_twice_in_weekly_rates_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="mon is named twice"):
        desk(arrivals={"weekly": {"mon-fri": [1.0] * 24, "mon": [2.0] * 24}})
