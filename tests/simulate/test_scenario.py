"""Scenario files: what a planner writes, what-if overlays, and errors that name line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.rules.yamlio import RulesError
from supportflow.simulate.scenario import (
    dump_scenario,
    load_scenario,
    merge_overlay,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_desk_loads_with_every_part() -> None:
    desk = load_scenario(EXAMPLES / "desk.yaml")
    assert desk.duration == 14 * 86400
    assert len(desk.arrivals.per_hour_of_week) == 168
    # Monday 10:00 and Sunday 23:00 from the weekly form
    assert desk.arrivals.per_hour_of_week[10] == 30
    assert desk.arrivals.per_hour_of_week[167] == 2
    assert {g.team for g in desk.agents} == {"L1", "L2"}
    assert desk.activities["Escalated"].skill == "technical"
    assert desk.routing.language_match == "required"


def test_the_peak_overlay_adds_a_three_day_window(tmp_path: Path) -> None:
    peak = load_scenario(EXAMPLES / "desk.yaml", EXAMPLES / "peak.yaml")
    [(begin, end, multiplier)] = peak.peak_windows()
    assert multiplier == 3
    assert end - begin == 3 * 86400
    # 2026-11-27 00:00 Berlin is 2026-11-26 23:00 UTC
    assert begin == 1795734000.0
    base = load_scenario(EXAMPLES / "desk.yaml")
    assert base.peak_windows() == []
    assert peak.agents == base.agents


def test_overlays_merge_agent_groups_by_name_and_replace_other_lists() -> None:
    base = {
        "agents": [
            {"name": "L1", "team": "L1", "count": 5},
            {"name": "L2", "team": "L2", "count": 2},
        ],
        "routing": {"policy": "fifo", "language_match": "ignore"},
        "arrivals": {"multiplier": 1, "peaks": [{"start": "a"}]},
    }
    overlay = {
        "agents": [{"name": "L1", "count": 8}, {"name": "night", "team": "L1", "count": 2}],
        "routing": {"policy": "skills"},
        "arrivals": {"peaks": []},
    }
    merged = merge_overlay(base, overlay)
    assert merged["agents"] == [
        {"name": "L1", "team": "L1", "count": 8},
        {"name": "L2", "team": "L2", "count": 2},
        {"name": "night", "team": "L1", "count": 2},
    ]
    assert merged["routing"] == {"policy": "skills", "language_match": "ignore"}
    assert merged["arrivals"] == {"multiplier": 1, "peaks": []}
    assert base["agents"][0]["count"] == 5  # the base is not modified


def test_removing_a_step_rejoins_its_delay(tmp_path: Path) -> None:
    overlay = write(tmp_path, "skip.yaml", "activities:\n  Waiting on customer: {remove: true}\n")
    scenario = load_scenario(EXAMPLES / "desk.yaml", overlay).effective()
    assert "Waiting on customer" not in scenario.activities
    assert all("Waiting on customer" not in v.path for v in scenario.variants)
    # the delay out of the removed step becomes the delay into the next one
    assert "First reply -> Resolved" in scenario.delays
    assert not any("Waiting on customer" in key for key in scenario.delays)


def test_a_scenario_round_trips_through_yaml(tmp_path: Path) -> None:
    desk = load_scenario(EXAMPLES / "desk.yaml")
    out = tmp_path / "again.yaml"
    dump_scenario(desk, out, header="# written by the test\n")
    assert load_scenario(out) == desk


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents:\n  - {name: L1, team: L1, count: -2}\n", "overlay.yaml:2: agents[9].count"),
        ("routing:\n  policy: random\n", "overlay.yaml:2: routing.policy"),
        ("arrivals:\n  multiplier: 0\n", "overlay.yaml:2: arrivals.multiplier"),
        (
            "arrivals:\n  peaks:\n    - {start: 2026-11-27, multiplier: 3}\n",
            "arrivals.peaks[0]: give either end or days",
        ),
        (
            "agents:\n  - {name: L2 late, shift: nights}\n",
            "overlay.yaml:2: agents[8].shift: no shift named",
        ),
        ("activities:\n  Resolved: {team: L3}\n", "no agent group works in team 'L3'"),
        ("delays:\n  Resolved to Closed: {time: {dist: fixed, value: 1d}}\n", "not a transition"),
        ("zone: Mars/Olympus\n", "overlay.yaml:1: zone: unknown time zone"),
        ("arrivals:\n  weekly: {mon-fry: [1]}\n", "give 24 hourly rates"),
        ("bogus: 1\n", "overlay.yaml:1: bogus: Extra inputs are not permitted"),
    ],
)
def test_bad_overlays_name_the_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    overlay = write(tmp_path, "overlay.yaml", text)
    with pytest.raises(RulesError) as caught:
        load_scenario(EXAMPLES / "desk.yaml", overlay)
    assert message in str(caught.value)


def test_a_bad_base_file_is_blamed_not_the_overlay(tmp_path: Path) -> None:
    text = (EXAMPLES / "desk.yaml").read_text(encoding="utf-8")
    broken = write(tmp_path, "desk.yaml", text.replace("count: 6,", "count: six,"))
    overlay = write(tmp_path, "overlay.yaml", "name: what if\n")
    with pytest.raises(RulesError) as caught:
        load_scenario(broken, overlay)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "count: 6," in row)
    assert f"desk.yaml:{line}: agents[0].count" in str(caught.value)


def test_a_variant_through_an_unknown_step_is_refused(tmp_path: Path) -> None:
    overlay = write(
        tmp_path, "overlay.yaml", "variants:\n  - {weight: 1, path: [Created, Refund]}\n"
    )
    with pytest.raises(RulesError, match="'Refund' is not in activities"):
        load_scenario(EXAMPLES / "desk.yaml", overlay)


def test_a_replayed_log_is_found_beside_the_file_that_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "what-ifs"
    folder.mkdir()
    overlay = write(folder, "replay.yaml", "arrivals:\n  replay: history.csv\n  weekly: null\n")
    scenario = load_scenario(EXAMPLES / "desk.yaml", overlay)
    assert scenario.arrivals.replay == str(folder.resolve() / "history.csv")
    assert scenario.arrivals.per_hour_of_week is None
