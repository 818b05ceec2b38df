"""Erlang A (customers who give up) against its limits, its identities and a simulation."""

from __future__ import annotations

import heapq
import random

import pytest

from supportflow.simulate.erlang_a import erlang_a
from supportflow.simulate.staffing import agents_needed, parse_target, performance


def test_without_abandonment_it_is_erlang_c() -> None:
    for agents in (11, 12, 14):
        a = erlang_a(agents, arrivals_per_s=100 / 1800, aht_s=180, patience_s=1e12, within_s=20)
        c = performance(agents, load=10.0, aht_s=180, within_s=20)
        assert a.wait_probability == pytest.approx(c.wait_probability, rel=1e-5)
        assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
        assert a.asa_s == pytest.approx(c.asa_s, rel=1e-4)


@pytest.mark.parametrize(("agents", "patience_s"), [(8, 60.0), (10, 120.0), (300, 45.0)])
def test_agents_are_busy_exactly_with_the_customers_who_stay(
    agents: int, patience_s: float
) -> None:
    # Little's law on the agents: busy agents = load × (1 − share who abandon)
    load = agents * 1.02  # more work than agents: only abandonment keeps the queue finite
    figures = erlang_a(
        agents, arrivals_per_s=load / 180, aht_s=180, patience_s=patience_s, within_s=20
    )
    assert figures.occupancy * agents == pytest.approx(load * (1 - figures.abandon_share), rel=1e-9)
    assert 0 < figures.abandon_share < 1 and 0 < figures.service_level < 1  # type: ignore[operator]


def simulate(
    agents: int, arrival_rate: float, aht_s: float, patience_s: float, within_s: float, n: int
) -> tuple[float, float, float, float]:
    """A plain event-by-event M/M/N+M desk, first come first served: P(wait), share
    abandoned, share answered within ``within_s``, mean wait of all arrivals."""
    rng = random.Random(7)
    clock, free = 0.0, agents
    queue: list[tuple[float, float]] = []  # (arrival, gives up at)
    busy_until: list[float] = []
    waited = abandoned = answered_in_time = 0
    total_wait = 0.0
    for _ in range(n):
        clock += rng.expovariate(arrival_rate)
        # service completions up to the new arrival; the queue's head may have given up
        while busy_until and busy_until[0] <= clock:
            done = heapq.heappop(busy_until)
            while queue and queue[0][1] <= done:
                arrival, gives_up = queue.pop(0)
                abandoned += 1
                total_wait += gives_up - arrival
            if queue:
                arrival, _ = queue.pop(0)
                total_wait += done - arrival
                answered_in_time += done - arrival <= within_s
                heapq.heappush(busy_until, done + rng.expovariate(1 / aht_s))
            else:
                free += 1
        while queue and queue[0][1] <= clock:
            arrival, gives_up = queue.pop(0)
            abandoned += 1
            total_wait += gives_up - arrival
        if free > 0 and not queue:
            free -= 1
            answered_in_time += 1
            heapq.heappush(busy_until, clock + rng.expovariate(1 / aht_s))
        else:
            waited += 1
            queue.append((clock, clock + rng.expovariate(1 / patience_s)))
    return waited / n, abandoned / n, answered_in_time / n, total_wait / n


def test_the_formulas_match_a_simulated_desk() -> None:
    agents, arrival_rate, aht_s, patience_s, within_s = 10, 10.5 / 180, 180.0, 120.0, 20.0
    figures = erlang_a(
        agents, arrivals_per_s=arrival_rate, aht_s=aht_s, patience_s=patience_s, within_s=within_s
    )
    wait, abandon, level, mean_wait = simulate(
        agents, arrival_rate, aht_s, patience_s, within_s, n=200_000
    )
    # 200,000 arrivals: sampling error on these shares is well under 0.01
    assert wait == pytest.approx(figures.wait_probability, abs=0.015)
    assert abandon == pytest.approx(figures.abandon_share, abs=0.01)
    assert level == pytest.approx(figures.service_level, abs=0.015)
    assert mean_wait == pytest.approx(figures.asa_s, rel=0.06)


def test_impatient_customers_need_fewer_agents_for_the_same_answer_time() -> None:
    target = parse_target("80/20")
    patient = agents_needed(load=30.0, aht_s=300, target=target)
    impatient = agents_needed(load=30.0, aht_s=300, target=target, patience_s=60)
    assert impatient.agents < patient.agents
    assert impatient.service_level >= 0.8  # type: ignore[operator]
    fewer = erlang_a(
        impatient.agents - 1, arrivals_per_s=30 / 300, aht_s=300, patience_s=60, within_s=20
    )
    assert fewer.service_level < 0.8  # type: ignore[operator]


def test_hundreds_of_agents_stay_finite() -> None:
    figures = erlang_a(480, arrivals_per_s=480 / 300, aht_s=300, patience_s=60, within_s=20)
    assert 0 < figures.wait_probability < 1 and 0 < figures.abandon_share < 0.1
