"""Stories of status maps written by hand: presets load, mistakes name their line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.rules import RulesError, guess_status_map, load_status_map, status_preset


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "status.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_preset_loads_and_names_a_resolution() -> None:
    for name in ("helpdesk", "servicenow", "zendesk", "freshdesk"):
        preset = status_preset(name)
        assert preset.resolved or preset.closed


def test_a_hand_written_map_folds_case(tmp_path: Path) -> None:
    status = load_status_map(write(tmp_path, "created: [New]\nresolved: [Solved]\n"))
    assert ("new", "created") in status.rows()
    assert status.key("  SOLVED ") == "solved"


def test_an_unknown_field_names_its_line(tmp_path: Path) -> None:
    text = "created: [New]\nresolved: [Solved]\nwaiting_on_custmer: [Pending]\n"
    with pytest.raises(RulesError) as error:
        load_status_map(write(tmp_path, text))
    assert str(error.value) == (
        f"{tmp_path / 'status.yaml'}:3: waiting_on_custmer: Extra inputs are not permitted"
    )


def test_an_activity_with_two_states_is_refused(tmp_path: Path) -> None:
    text = "name: x\nresolved: [Done]\nclosed:\n  - Done\n"
    with pytest.raises(RulesError, match="listed under both 'resolved' and 'closed'"):
        load_status_map(write(tmp_path, text))


def test_a_list_item_of_the_wrong_type_points_at_its_line(tmp_path: Path) -> None:
    text = "resolved:\n  - Solved\n  - {a: 1}\n"
    with pytest.raises(RulesError) as error:
        load_status_map(write(tmp_path, text))
    assert str(error.value).startswith(f"{tmp_path / 'status.yaml'}:3: resolved[1]: ")


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"status.yaml:2: invalid YAML"):
        load_status_map(write(tmp_path, "created: [New\nresolved: x: y\n"))


def test_the_demo_log_is_recognised_as_the_helpdesk_preset() -> None:
    counts = {"Assign seriousness": 4938, "Take in charge ticket": 5060, "Closed": 4574, "X": 1}
    preset, share = guess_status_map(counts)
    assert preset.name == "helpdesk"
    assert share == pytest.approx(14572 / 14573)
