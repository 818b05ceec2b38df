"""Calibration from the demo log: deterministic, blind to the future, and sensible."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.eventlog.load import EventLog, load_event_log
from supportflow.simulate.calibrate import calibrate_log
from supportflow.simulate.distributions import mean
from supportflow.simulate.scenario import scenario_yaml_dict

DEMO = Path(__file__).resolve().parents[2] / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
HALF_YEAR = 26 * 7 * 86400.0


@pytest.fixture(scope="module")
def demo() -> EventLog:
    return load_event_log(DEMO)


def test_the_same_log_gives_the_same_scenario(demo: EventLog) -> None:
    one = calibrate_log(demo, window_s=None, arrival_window_s=None).scenario
    two = calibrate_log(demo, window_s=None, arrival_window_s=None).scenario
    assert scenario_yaml_dict(one) == scenario_yaml_dict(two)


def test_a_calibration_up_to_an_instant_reads_nothing_after_it(demo: EventLog) -> None:
    until = int(demo.con.execute("SELECT quantile_disc(ts, 0.5) FROM events").fetchall()[0][0])
    calibrate_log(demo, window_s=HALF_YEAR, until_us=until)
    latest = demo.con.execute("SELECT max(ts) FROM sim_events").fetchall()[0][0]
    assert latest < until


def test_the_first_step_of_a_ticket_takes_no_work_time(demo: EventLog) -> None:
    result = calibrate_log(demo, window_s=HALF_YEAR)
    first = result.scenario.activities["Assign seriousness"]
    # it is the ticket's first event in about nine cases out of ten: it happens at arrival
    assert first.service is not None
    assert first.service.p_zero > 0.85
    assert mean(first.service) < 300


def test_cases_still_open_at_the_end_are_not_variants(demo: EventLog) -> None:
    result = calibrate_log(demo, window_s=HALF_YEAR)
    assert any("still open at the end of the log" in note for note in result.notes)
    endings = {v.path[-1] for v in result.scenario.variants}
    assert "Resolve ticket" in endings or "Closed" in endings
    share_closed = sum(v.weight for v in result.scenario.variants if v.path[-1] == "Closed") / sum(
        v.weight for v in result.scenario.variants
    )
    assert share_closed > 0.95


def test_agents_are_a_working_days_worth_not_everyone_seen(demo: EventLog) -> None:
    scenario = calibrate_log(demo, window_s=HALF_YEAR).scenario
    distinct = demo.con.execute(
        "SELECT count(DISTINCT resource) FROM sim_events WHERE ts >= (SELECT max(ts) FROM "
        "sim_events) - 28 * 86400e6"
    ).fetchall()[0][0]
    assert sum(g.count for g in scenario.agents) < distinct
