"""The SimPy desk against queueing theory: Erlang C, Erlang A and Little's law."""

from __future__ import annotations

import pytest

from supportflow.simulate.desk import DeskModel, estimate, replicate
from supportflow.simulate.erlang_a import erlang_a
from supportflow.simulate.staffing import performance

# ten agents, 7 Erlangs (70 % busy), handling 5 minutes: 16 replications of 30,000 tickets
MMC = DeskModel(agents=10, arrivals_per_s=7 / 300, aht_s=300, tickets=30_000)


@pytest.fixture(scope="module")
def mmc_runs():  # type: ignore[no-untyped-def]
    return replicate(MMC, replications=16, seed=1, workers=2)


def test_waiting_matches_erlang_c_within_two_percent(mmc_runs) -> None:  # type: ignore[no-untyped-def]
    theory = performance(10, load=7.0, aht_s=300, within_s=20)
    wait = estimate([r.wait_probability for r in mmc_runs])
    mean_wait = estimate([r.mean_wait_s for r in mmc_runs])
    assert abs(wait.mean / theory.wait_probability - 1) < 0.02
    assert abs(mean_wait.mean / theory.asa_s - 1) < 0.02
    assert wait.ci_low <= theory.wait_probability <= wait.ci_high
    assert mean_wait.ci_low <= theory.asa_s <= mean_wait.ci_high


def test_littles_law_holds_on_every_run(mmc_runs) -> None:  # type: ignore[no-untyped-def]
    for run in mmc_runs:
        # L from the timeline; λ·W from the tickets: they agree up to the window's edges
        assert run.mean_in_system == pytest.approx(
            run.throughput_per_s * run.mean_sojourn_s, rel=0.01
        )


def test_the_same_seed_gives_the_same_runs_on_any_number_of_workers() -> None:
    small = DeskModel(agents=3, arrivals_per_s=2 / 300, aht_s=300, tickets=2_000)
    assert replicate(small, replications=3, seed=9, workers=1) == replicate(
        small, replications=3, seed=9, workers=2
    )
    assert replicate(small, replications=1, seed=9) != replicate(small, replications=1, seed=10)


def test_abandonment_matches_erlang_a() -> None:
    model = DeskModel(agents=5, arrivals_per_s=5.5 / 300, aht_s=300, patience_s=120, tickets=20_000)
    runs = replicate(model, replications=8, seed=3, workers=2)
    theory = erlang_a(5, arrivals_per_s=5.5 / 300, aht_s=300, patience_s=120, within_s=20)
    abandon = estimate([r.abandon_share for r in runs])
    level = estimate([r.service_level for r in runs])
    assert abandon.ci_low <= theory.abandon_share <= abandon.ci_high
    assert level.ci_low <= theory.service_level <= level.ci_high  # type: ignore[operator]
