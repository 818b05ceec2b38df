"""Erlang C staffing against a published table, two independent computations and pyworkforce."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import poisson

from supportflow.simulate.staffing import (
    agents_needed,
    erlang_b,
    erlang_c,
    parse_target,
    performance,
    staff_intervals,
)


def test_the_textbook_table_for_ten_erlangs() -> None:
    # the classic Erlang C table, A = 10 Erlangs (e.g. 100 calls per half hour of 3 minutes)
    published = {11: 0.6821, 12: 0.4494, 13: 0.2853, 14: 0.1741, 15: 0.1020}
    assert {n: round(erlang_c(n, 10.0), 4) for n in published} == published


def markov_wait_probability(agents: int, load: float, cap: int = 400) -> float:
    """P(wait) from the M/M/N birth-death chain solved as a linear system (truncated)."""
    size = agents + cap
    generator = np.zeros((size, size))
    for k in range(size):
        if k + 1 < size:
            generator[k, k + 1] = load  # arrivals (time in units of the handling time)
        if k > 0:
            generator[k, k - 1] = min(k, agents)
        generator[k, k] = -generator[k].sum()
    system = np.vstack([generator.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    stationary = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return float(stationary[agents:].sum())


@pytest.mark.parametrize(("agents", "load"), [(3, 2.0), (8, 6.5), (20, 17.0), (40, 33.3)])
def test_erlang_c_equals_the_stationary_chain(agents: int, load: float) -> None:
    assert erlang_c(agents, load) == pytest.approx(markov_wait_probability(agents, load), abs=1e-9)


@pytest.mark.parametrize(("agents", "load"), [(500, 480.0), (1200, 1150.0), (3000, 2950.0)])
def test_hundreds_of_agents_stay_finite_and_exact(agents: int, load: float) -> None:
    # Erlang B is a truncated Poisson: pmf(N) / cdf(N), computed by scipy in its own way
    assert erlang_b(agents, load) == pytest.approx(
        poisson.pmf(agents, load) / poisson.cdf(agents, load), rel=1e-9
    )
    assert 0.0 < erlang_c(agents, load) < 1.0


def test_the_fewest_agents_meet_the_target_and_one_fewer_does_not() -> None:
    target = parse_target("80/20")
    achieved = agents_needed(load=10.0, aht_s=180.0, target=target)
    assert achieved.agents == 14
    fewer = performance(13, load=10.0, aht_s=180.0, within_s=20.0)
    assert fewer.service_level == pytest.approx(1 - 0.2853 * math.exp(-3 * 20 / 180), abs=1e-4)
    assert fewer.service_level < 0.8 <= achieved.service_level  # type: ignore[operator]
    # average speed of answer target: C·aht/(N − A) ≤ 30 s
    asa = agents_needed(load=10.0, aht_s=180.0, target=parse_target("asa:30"))
    assert (
        asa.asa_s <= 30 < performance(asa.agents - 1, load=10.0, aht_s=180.0, within_s=None).asa_s
    )


@pytest.mark.oracle
def test_the_same_plans_as_pyworkforce() -> None:
    from pyworkforce.queuing import ErlangC

    grid = itertools.product([20, 100, 450], [3, 7.5], [20, 60], [30, 60], [0.0, 0.3], [1.0, 0.85])
    for transactions, aht_min, asa_s, interval_min, shrinkage, occupancy in grid:
        theirs = ErlangC(
            transactions=transactions,
            aht=aht_min,
            asa=asa_s / 60,
            interval=interval_min,
            shrinkage=shrinkage,
        ).required_positions(service_level=0.8, max_occupancy=occupancy)
        (ours,) = staff_intervals(
            [("i", transactions)],
            interval_s=interval_min * 60,
            aht_s=aht_min * 60,
            target=parse_target(f"80/{asa_s}", max_occupancy=occupancy if occupancy < 1 else None),
            shrinkage=shrinkage,
        )
        case = (transactions, aht_min, asa_s, interval_min, shrinkage, occupancy)
        assert (ours.agents_on_queue, ours.agents) == (
            theirs["raw_positions"],
            theirs["positions"],
        ), case
        assert ours.service_level == pytest.approx(theirs["service_level"]), case


def test_targets_that_cannot_be_read_are_refused() -> None:
    for text in ("80", "120/20", "fast", "asa:0"):
        with pytest.raises(ValueError):
            parse_target(text)


def supportflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportflow", *args], capture_output=True, text=True, check=False
    )


def test_the_staff_command_plans_every_interval(tmp_path: Path) -> None:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text("interval,arrivals\n09:00,100\n09:30,250\n10:00,0\n", encoding="utf-8")
    out = tmp_path / "staff.json"
    result = supportflow(
        "staff", "--arrivals", str(forecast), "--aht", "180", "--target", "80/20",
        "--shrinkage", "0.3", "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["interval"], r["agents_on_queue"], r["agents"]) for r in doc["intervals"]] == [
        ("09:00", 14, 20),  # 10 Erlangs: 14 on the queue, 14 / 0.7 rounded up to schedule
        ("09:30", 30, 43),
        ("10:00", 0, 0),
    ]
    assert doc["peak_agents"] == 43


def test_a_bad_forecast_row_is_named(tmp_path: Path) -> None:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text("interval,arrivals\n09:00,100\n09:30,lots\n", encoding="utf-8")
    result = supportflow("staff", "--arrivals", str(forecast), "--aht", "180")
    assert result.returncode == 2
    assert "forecast.csv:3: arrivals 'lots' is not a number" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_patience_the_command_uses_erlang_a(tmp_path: Path) -> None:
    out = tmp_path / "staff.json"
    result = supportflow(
        "staff", "--calls", "100", "--aht", "180", "--patience", "120", "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    (row,) = doc["intervals"]
    assert (doc["model"], doc["patience_s"]) == ("erlang_a", 120.0)
    # customers who give up after two minutes on average: 12 agents instead of Erlang C's 14
    assert row["agents"] == 12 and 0 < row["abandon_share"] < 0.1
    assert row["service_level"] >= 0.8


def test_arrivals_per_slot_of_the_week_from_an_event_log(tmp_path: Path) -> None:
    from supportflow.eventlog import load_event_log
    from supportflow.simulate.staffing import arrivals_by_week_slot

    log = tmp_path / "log.csv"
    log.write_text(
        "case,activity,time\n"
        "A,New,2024-06-03T09:10:00Z\nA,Solved,2024-06-03T12:00:00Z\n"  # Monday, week 1
        "B,New,2024-06-03T09:50:00Z\n"
        "C,New,2024-06-10T09:20:00Z\n"  # Monday, week 2
        "D,New,2024-06-11T14:00:00Z\n",  # Tuesday, week 2
        encoding="utf-8",
    )
    slots = arrivals_by_week_slot(load_event_log(log).con, timezone="UTC", interval_minutes=60)
    assert len(slots) == 7 * 24
    # creations span 8.2 days: two weeks; Monday 09:00 saw three tickets in them
    assert {label: n for label, n in slots if n} == {"Mon 09:00": 1.5, "Tue 14:00": 0.5}
    # in Rome (UTC+2 in June) the same tickets arrive two hours later on the clock
    rome = arrivals_by_week_slot(
        load_event_log(log).con, timezone="Europe/Rome", interval_minutes=30
    )
    assert {label: n for label, n in rome if n} == {
        "Mon 11:00": 1.0,
        "Mon 11:30": 0.5,
        "Tue 16:00": 0.5,
    }
