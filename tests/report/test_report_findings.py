"""Findings on a hand-made document: which figures are chosen, and in which order."""

from __future__ import annotations

from typing import Any

from supportflow.report import derive_findings

RESOLVE, CLOSED = "Resolve ticket", "Closed"
ASSIGN, TAKE = "Assign seriousness", "Take in charge ticket"


def kinds(findings: list[dict[str, Any]]) -> list[str]:
    return [finding["kind"] for finding in findings]


def test_findings_of_the_small_log(small_doc: dict[str, Any]) -> None:
    assert derive_findings(small_doc) == [
        {
            "kind": "bottleneck_transition",
            "impact_s": 5_850_000.0,
            "values": {
                "source": RESOLVE,
                "target": CLOSED,
                "count": 9,
                "total_s": 5_850_000.0,
                "share_of_case_time": 0.5912,
                "median_s": 604_800.0,
                "p90_s": 780_000.0,
            },
        },
        {
            # 4 cases × (1,500,000 s − 800,000 s)
            "kind": "rework",
            "impact_s": 2_800_000.0,
            "values": {
                "cases": 4,
                "share_of_cases": 0.4,
                "top_activity": TAKE,
                "top_activity_cases": 4,
                "median_with_s": 1_500_000.0,
                "median_without_s": 800_000.0,
                "extra_s": 700_000.0,
                "repeat": 0,
                "redo": 1,
            },
        },
        {
            "kind": "rejected_rows",
            "impact_s": 0.0,
            "values": {
                "rows": 2,
                "share_of_rows": 2 / 53,
                "top_reason": "unparseable timestamp",
                "top_reason_rows": 2,
            },
        },
        {
            "kind": "pingpong",
            "impact_s": 0.0,
            "values": {
                "levels": ["resource", "activity", "team"],
                "resource_cases": 3,
                "resource_share_of_cases": 0.3,
                "activity_cases": 3,
                "activity_share_of_cases": 0.3,
                "team_cases": 2,
                "team_share_of_cases": 0.2,
            },
        },
        {
            "kind": "handover_hotspot",
            "impact_s": 0.0,
            "values": {
                "level": "team",
                "source": "L1",
                "target": "L2",
                "count": 7,
                "cases": 6,
                "share_of_cases": 0.6,
            },
        },
        {
            "kind": "handover_hotspot",
            "impact_s": 0.0,
            "values": {
                "level": "resource",
                "source": "Anna",
                "target": "Bo",
                "count": 6,
                "cases": 5,
                "share_of_cases": 0.5,
            },
        },
        {
            "kind": "case_duration_spread",
            "impact_s": 0.0,
            "values": {"median_s": 900_000.0, "p90_s": 1_600_000.0, "max_s": 2_000_000.0},
        },
        {
            "kind": "variant_coverage",
            "impact_s": 0.0,
            "values": {
                "top_activities": [ASSIGN, TAKE, RESOLVE, CLOSED],
                "top_cases": 4,
                "top_share": 0.4,
                "top_n": 4,
                "top_n_share": 1.0,
                "tail_variants": 0,
                "tail_share": 0.0,
                "variants": 4,
            },
        },
        {
            # Wednesday 14:00 has a longer median (1 d) but only 4 waits, under the floor of 5.
            "kind": "wait_hour_peak",
            "impact_s": 0.0,
            "values": {"weekday": 4, "hour": 17, "median_s": 259_200.0, "count": 5},
        },
        {
            "kind": "arrival_peak",
            "impact_s": 0.0,
            "values": {
                "weekday": 0,
                "hour": 9,
                "arrivals": 3,
                "share_of_arrivals": 0.3,
                "busiest_weekday": 0,
                "busiest_weekday_share": 0.5,
                "busiest_hour": 9,
                "busiest_hour_share": 0.4,
            },
        },
    ]


def test_rework_without_medians_states_no_cost(small_doc: dict[str, Any]) -> None:
    small_doc["rework"]["median_duration_with_rework_s"] = None
    small_doc["rework"]["median_duration_without_rework_s"] = None
    rework = next(f for f in derive_findings(small_doc) if f["kind"] == "rework")
    assert rework == {
        "kind": "rework",
        "impact_s": 0.0,
        "values": {
            "cases": 4,
            "share_of_cases": 0.4,
            "top_activity": TAKE,
            "top_activity_cases": 4,
            "repeat": 0,
            "redo": 1,
        },
    }


def test_rework_that_is_not_slower_costs_nothing(small_doc: dict[str, Any]) -> None:
    small_doc["rework"]["median_duration_with_rework_s"] = 700_000.0
    rework = next(f for f in derive_findings(small_doc) if f["kind"] == "rework")
    assert rework["impact_s"] == 0.0
    assert "extra_s" not in rework["values"]
    assert rework["values"]["median_with_s"] == 700_000.0


def test_costlier_rework_outranks_the_bottleneck(small_doc: dict[str, Any]) -> None:
    small_doc["rework"]["median_duration_with_rework_s"] = 3_000_000.0
    assert kinds(derive_findings(small_doc))[:2] == ["rework", "bottleneck_transition"]


def test_log_without_agents_or_teams(small_doc: dict[str, Any]) -> None:
    small_doc["rework"]["self_loops"] = None
    small_doc["pingpong"].update(team_cases=None, resource_cases=None)
    small_doc["handover"] = {"resources": [], "teams": []}
    small_doc["workload"] = {"resources": [], "teams": []}
    findings = derive_findings(small_doc)
    assert "handover_hotspot" not in kinds(findings)
    pingpong = next(f for f in findings if f["kind"] == "pingpong")
    assert pingpong["values"] == {
        "levels": ["activity"],
        "activity_cases": 3,
        "activity_share_of_cases": 0.3,
    }
    rework = next(f for f in findings if f["kind"] == "rework")
    assert "repeat" not in rework["values"]


def test_clean_log_has_no_rejected_rows_finding(small_doc: dict[str, Any]) -> None:
    small_doc["log"]["rejected_rows"] = 0
    small_doc["source"]["reject_reasons"] = {}
    assert "rejected_rows" not in kinds(derive_findings(small_doc))


def test_rare_handover_is_not_a_finding(small_doc: dict[str, Any]) -> None:
    small_doc["log"]["cases"] = 1000  # the top team handover now touches 6 of 1,000 cases
    small_doc["handover"]["resources"] = []
    assert "handover_hotspot" not in kinds(derive_findings(small_doc))


def test_no_waits_no_bottleneck_and_no_wait_peak(small_doc: dict[str, Any]) -> None:
    small_doc["bottlenecks"] = []
    small_doc["heatmaps"]["median_wait_s"] = [[None] * 24 for _ in range(7)]
    small_doc["heatmaps"]["wait_counts"] = [[0] * 24 for _ in range(7)]
    found = kinds(derive_findings(small_doc))
    assert "bottleneck_transition" not in found
    assert "wait_hour_peak" not in found
    assert found[0] == "rework"


def test_long_tail_of_variants(helpdesk_doc: dict[str, Any]) -> None:
    coverage = next(f for f in derive_findings(helpdesk_doc) if f["kind"] == "variant_coverage")
    values = coverage["values"]
    assert (values["top_n"], values["variants"], values["tail_variants"]) == (10, 226, 216)
    assert values["top_cases"] == 2366
    assert abs(values["top_n_share"] + values["tail_share"] - 1.0) < 1e-12


def test_helpdesk_findings_lead_with_the_wait_before_closing(
    helpdesk_doc: dict[str, Any],
) -> None:
    findings = derive_findings(helpdesk_doc)
    top = findings[0]
    assert top["kind"] == "bottleneck_transition"
    assert (top["values"]["source"], top["values"]["target"]) == ("Resolve ticket", "Closed")
    impacts = [finding["impact_s"] for finding in findings]
    assert impacts == sorted(impacts, reverse=True)
