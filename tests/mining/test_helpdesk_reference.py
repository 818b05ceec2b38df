"""The demo help-desk log reproduces every figure of pm4py's reference answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supportflow.eventlog import load_event_log
from supportflow.mining import diagnose


@pytest.fixture(scope="module")
def doc(helpdesk_csv: Path) -> dict[str, Any]:
    return diagnose(load_event_log(helpdesk_csv), variant_limit=None).to_dict()


def test_counts(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    log = doc["log"]
    assert (log["events"], log["cases"], log["activities"], log["variants"]) == (
        pm4py_reference["events"],
        pm4py_reference["cases"],
        pm4py_reference["activities"],
        pm4py_reference["variants_total"],
    )
    assert log["rejected_rows"] == 0
    assert doc["activities"] == pm4py_reference["activity_counts"]
    assert [log["first_timestamp"], log["last_timestamp"]] == [
        t.replace(" ", "T") for t in pm4py_reference["time_range"]
    ]


def test_all_55_dfg_edges(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    expected = {(e["source"], e["target"]): e for e in pm4py_reference["dfg_all_edges"]}
    ours = {(e["source"], e["target"]): e for e in doc["dfg"]}
    assert len(ours) == pm4py_reference["dfg_edges_total"] == 55
    assert ours.keys() == expected.keys()
    assert sum(e["count"] for e in doc["dfg"]) == pm4py_reference["dfg_arc_occurrences_total"]
    for key, ref in expected.items():
        edge = ours[key]
        assert edge["count"] == ref["count"], key
        for stat in ("mean_s", "median_s", "min_s", "max_s"):
            assert edge[stat] == pytest.approx(ref[stat], abs=1e-3), (key, stat)


def test_start_end_activities(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    assert doc["start_activities"] == pm4py_reference["start_activities"]
    assert doc["end_activities"] == pm4py_reference["end_activities"]


def test_variants(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    top5 = [(v["activities"], v["cases"]) for v in doc["variants"][:5]]
    assert top5 == [(v["variant"], v["count"]) for v in pm4py_reference["variants_top5"]]
    assert len(doc["variants"]) == 226
    top10 = sum(v["share"] for v in doc["variants"][:10]) * 100
    assert top10 == pytest.approx(pm4py_reference["variants_top10_coverage_pct"], abs=1e-3)


def test_case_durations(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    ref = pm4py_reference["case_duration_s"]
    for stat in ("mean", "median", "p90", "min", "max"):
        assert doc["case_duration_s"][stat] == pytest.approx(ref[stat], abs=1e-3), stat


def test_rework_and_pingpong(doc: dict[str, Any], pm4py_reference: dict[str, Any]) -> None:
    assert doc["rework"]["per_activity"] == pm4py_reference["rework_cases_per_activity (pm4py)"]
    assert doc["rework"]["cases_with_rework"] == 1240
    assert doc["rework"]["self_loop_cases"] == 811
    assert doc["pingpong"]["activity_cases"] == 537


def test_bottleneck_shares_add_up_to_all_case_time(doc: dict[str, Any]) -> None:
    # A case's duration is the sum of its waits, so all transitions' waiting is all case time.
    total_waiting = sum(e["total_s"] for e in doc["dfg"])
    total_case_time = doc["case_duration_s"]["mean"] * doc["log"]["cases"]
    assert total_waiting == pytest.approx(total_case_time, rel=1e-9)
    top = doc["bottlenecks"][0]
    assert (top["source"], top["target"]) == ("Resolve ticket", "Closed")
    assert top["share_of_case_time"] == pytest.approx(top["total_s"] / total_case_time)


def test_heatmap_totals(doc: dict[str, Any]) -> None:
    heat = doc["heatmaps"]
    assert sum(map(sum, heat["arrivals"])) == doc["log"]["cases"]
    assert sum(map(sum, heat["wait_counts"])) == doc["log"]["events"] - doc["log"]["cases"]
    assert len(heat["arrivals"]) == 7 and all(len(row) == 24 for row in heat["arrivals"])


def test_handover_matches_pm4py_handover_of_work(
    doc: dict[str, Any], pm4py_reference: dict[str, Any]
) -> None:
    # pm4py (beta=0) gives each pair's share of all direct successions, A → A included.
    successions = pm4py_reference["dfg_arc_occurrences_total"]
    ours = {(h["source"], h["target"]): h["count"] for h in doc["handover"]["resources"]}
    checked = 0
    for ref in pm4py_reference["handover_of_work_top10 (pm4py default: beta=0, relative)"]:
        if ref["from"] == ref["to"]:
            continue  # a handover needs two different people
        assert ours[(ref["from"], ref["to"])] == round(ref["value"] * successions)
        checked += 1
    assert checked >= 4


def test_heatmaps_and_self_loops_match_pandas(doc: dict[str, Any], helpdesk_csv: Path) -> None:
    frame = pd.read_csv(helpdesk_csv)
    frame["ts"] = pd.to_datetime(frame["Complete Timestamp"], format="%Y/%m/%d %H:%M:%S")
    frame["row"] = range(len(frame))
    frame = frame.sort_values(["Case ID", "ts", "row"], kind="stable")
    starts = frame.groupby("Case ID", sort=False).head(1)
    expected = [[0] * 24 for _ in range(7)]
    for ts in starts["ts"]:
        expected[ts.weekday()][ts.hour] += 1
    assert doc["heatmaps"]["arrivals"] == expected

    following = frame.groupby("Case ID", sort=False).shift(-1)
    loops = frame[(following["Activity"] == frame["Activity"])]
    same = following.loc[loops.index, "Resource"] == loops["Resource"]
    assert doc["rework"]["self_loops"] == {
        "repeat": int(same.sum()),
        "redo": int((~same).sum()),
        "repeat_cases": int(loops[same]["Case ID"].nunique()),
        "redo_cases": int(loops[~same]["Case ID"].nunique()),
    }


def test_struct_path_gives_the_same_document(
    doc: dict[str, Any], helpdesk_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Logs whose codes or time span overflow the packed layout take the struct path.
    from supportflow.mining import primitives

    monkeypatch.setattr(primitives, "_TIME_LIMIT", 1)
    assert diagnose(load_event_log(helpdesk_csv), variant_limit=None).to_dict() == doc
