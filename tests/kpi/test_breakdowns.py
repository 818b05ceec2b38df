"""Breakdowns and the funnel test, on hand-made groups."""

from __future__ import annotations

import math

import pytest
from test_ticket_stories import STATUS, story_log  # noqa: F401  (the fixture)

from supportflow.kpi.breakdown import discover_breakdowns
from supportflow.kpi.outliers import GroupStat, funnel_z, verdict
from supportflow.kpi.tickets import build_ticket_tables
from supportflow.mining.engine import DuckDBEngine


def test_groups_carry_their_own_sample_and_summary(story_log) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    engine = DuckDBEngine(story_log.con)
    build_ticket_tables(engine, story_log, STATUS)
    found = discover_breakdowns(engine, dimensions=["team"], timezone="UTC")
    first = next(b for b in found if b.kpi == "first_response_time")
    by_team = {g.value: g for g in first.groups}
    # team X owns T2 (60 min to its resolution), T3 (never answered) and T4 (40 min); Y owns T1
    assert (by_team["X"].n, by_team["X"].mean, by_team["X"].median) == (2, 3000.0, 3000.0)
    assert by_team["X"].p90 == pytest.approx(2400 + 0.9 * 1200)
    assert (by_team["Y"].n, by_team["Y"].mean) == (1, 1800.0)
    # too few tickets for a verdict either way
    assert [g.z for g in first.groups] == [None, None]
    assert first.overall == pytest.approx(2600.0)


def test_a_rate_outside_the_funnel_is_flagged_and_a_small_group_is_not() -> None:
    groups = [GroupStat(n=100, mean=0.7), GroupStat(n=100, mean=0.5), GroupStat(n=3, mean=1.0)]
    zs, phi = funnel_z(groups, overall_mean=0.5, overall_sd=None)
    # z = (0.7 - 0.5) / sqrt(0.25 / 100) = 4; fewer than three judged groups: no over-dispersion
    assert zs == [pytest.approx(4.0), pytest.approx(0.0), None]
    assert phi == 1.0
    assert verdict(zs[0], higher_is_better=False) == "worse"
    assert verdict(zs[0], higher_is_better=True) == "better"
    assert verdict(zs[1], higher_is_better=False) is None


def test_over_dispersion_widens_the_limits() -> None:
    # ten teams spread far more than chance: every raw z is large, phi scales them down
    means = [0.3, 0.35, 0.4, 0.45, 0.5, 0.5, 0.55, 0.6, 0.65, 0.7]
    groups = [GroupStat(n=400, mean=m) for m in means]
    zs, phi = funnel_z(groups, overall_mean=0.5, overall_sd=None)
    raw = [(m - 0.5) / math.sqrt(0.25 / 400) for m in means]
    assert phi > 1.0
    assert zs == [pytest.approx(z / math.sqrt(phi)) for z in raw]
    assert sum(verdict(z, higher_is_better=False) is not None for z in zs) < sum(
        abs(z) > 3.09 for z in raw
    )


def test_sla_kpi_targets_name_exactly_the_kpis_measured_in_time() -> None:
    from supportflow.kpi.measures import KPIS
    from supportflow.rules.sla import DURATION_KPIS

    assert set(DURATION_KPIS) == {k.name for k in KPIS if k.unit == "duration"}
