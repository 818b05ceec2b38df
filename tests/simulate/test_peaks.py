"""The peak story on the example desk: a +200 % Black Friday breaks the late shift, and the
agents Erlang C adds per hour bring every broken hour back above the target."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from supportflow.simulate.experiment import replicate_scenario
from supportflow.simulate.peaks import broken_hours, first_answer_team, plan_peak
from supportflow.simulate.scenario import load_scenario
from supportflow.simulate.staffing import Target, agents_needed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BERLIN = ZoneInfo("Europe/Berlin")
REPLICATIONS = 6


@pytest.fixture(scope="module")
def story():  # type: ignore[no-untyped-def]
    base = load_scenario(EXAMPLES / "desk.yaml")
    peak = load_scenario(EXAMPLES / "desk.yaml", EXAMPLES / "peak.yaml")
    base_runs = replicate_scenario(base, replications=REPLICATIONS, seed=1, workers=2)
    peak_runs = replicate_scenario(peak, replications=REPLICATIONS, seed=1, workers=2)
    plans, fixed = plan_peak(peak, peak_runs, replications=REPLICATIONS, seed=1, workers=2)
    return base, base_runs, peak, peak_runs, plans, fixed


def test_the_normal_fortnight_breaks_no_open_hour(story) -> None:  # type: ignore[no-untyped-def]
    base, base_runs, *_ = story
    assert broken_hours(base, base_runs) == []


def test_black_friday_breaks_the_late_shift_on_friday(story) -> None:  # type: ignore[no-untyped-def]
    _, _, peak, _, plans, _ = story
    hours = [datetime.fromtimestamp(p.hour_start_s, BERLIN) for p in plans]
    assert hours, "the peak should break some hours"
    # every broken hour is on Black Friday, in the late shift (15:00-23:00 Berlin)
    assert {(h.day, h.month) for h in hours} == {(27, 11)}
    assert all(15 <= h.hour < 23 for h in hours)
    assert all(p.attainment < peak.targets.attainment for p in plans)


def test_the_agents_added_per_hour_fix_every_broken_hour(story) -> None:  # type: ignore[no-untyped-def]
    _, _, peak, _, plans, fixed = story
    goal = peak.targets.attainment
    for plan in plans:
        assert plan.extra_agents >= 1
        assert plan.attainment_fixed is not None and plan.attainment_fixed >= goal
    # the fix is temporary staff only in those hours
    added = [g for g in fixed.agents if g not in peak.agents]
    assert sum(g.count for g in added) == sum(p.extra_agents for p in plans)
    assert all(g.available_from is not None and g.available_until is not None for g in added)


def test_agents_needed_is_erlang_c_on_the_hours_load(story) -> None:  # type: ignore[no-untyped-def]
    _, _, peak, _, plans, _ = story
    team, work_s, first_s = first_answer_team(peak)
    assert team == "L1"
    # first reply 6 min always, resolution 5 min always: 11 minutes of L1 work per ticket
    assert work_s == pytest.approx(660.0)
    assert first_s == pytest.approx(360.0)
    target = Target(share=0.8, within_s=900.0 - 360.0)
    for plan in plans:
        need = agents_needed(load=plan.arrivals * work_s / 3600, aht_s=work_s, target=target)
        assert plan.agents_needed == need.agents
