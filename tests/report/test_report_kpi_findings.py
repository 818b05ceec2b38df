"""Findings from the KPI section: which figures are chosen, their order, and their words."""

from __future__ import annotations

from typing import Any

from kpi_docs import DAY, kpi_only, small_kpi
from report_docs import load_doc

from supportflow.report import derive_findings
from supportflow.report.findings import report_findings
from supportflow.report.i18n import language
from supportflow.report.narrative import describe_findings

SMALL_KPI_FINDINGS: list[dict[str, Any]] = [
    {
        "kind": "unmapped_activities",
        "impact_s": 0.0,
        "values": {
            "status_map": "my-desk",
            "activities": 2,
            "events": 10,
            "share_of_events": 0.25,  # 1 − coverage 0.75
            "top_activity": "Internal memo",
            "top_activity_events": 8,
        },
    },
    {
        # 60 met of 90 decided is below 90%; resolution (90 of 95) is not a finding.
        "kind": "sla_attainment",
        "impact_s": 0.0,
        "values": {
            "metric": "first_response",
            "share_met": 60 / 90,
            "met": 60,
            "breached": 30,
            "with_outcome": 90,
            "running": 10,
            "worst_dimension": "priority",
            "worst_group": "P1",
            "worst_share_met": 16 / 40,
            "worst_with_outcome": 40,
        },
    },
    {
        "kind": "kpi_drift",
        "impact_s": 0.0,
        "values": {
            "series": "Resolve ticket → Closed",
            "kind": "transition",
            "at": "2024-03-04",
            "statistic": 0.8,
            "before_median": 30 * DAY,
            "before_p10": 15 * DAY,
            "before_p90": 45 * DAY,
            "after_median": 15 * DAY,
            "after_p10": 15 * DAY,
            "after_p90": 15 * DAY,
            "before_n": 40,
            "after_n": 25,
        },
    },
    {
        # |z| 4.04 before 3.5; the "better" group is not a finding.
        "kind": "kpi_outlier",
        "impact_s": 0.0,
        "values": {
            "dimension": "hour",
            "group": "9",
            "kpi": "first_contact_resolution",
            "unit": "rate",
            "mean": 0.4,
            "overall": 0.625,
            "n": 40,
            "z": -4.04,
        },
    },
    {
        "kind": "kpi_outlier",
        "impact_s": 0.0,
        "values": {
            "dimension": "channel",
            "group": "email",
            "kpi": "first_response_time",
            "unit": "duration",
            "mean": 9000.0,
            "overall": 5400.0,
            "n": 50,
            "z": 3.5,
        },
    },
    {
        "kind": "pause_outlier",
        "impact_s": 0.0,
        "values": {
            "agent": "Anna",
            "tickets": 8,
            "paused_tickets": 6,
            "pause_share": 0.75,
            "overall_share": 8 / 20,  # (6 + 2) paused of (8 + 12) touched
            "median_pause_s": 7200.0,
            "z": 3.2,
            "others": 0,
        },
    },
]


def test_kpi_findings_of_the_small_desk() -> None:
    assert derive_findings(kpi_only(small_kpi())) == SMALL_KPI_FINDINGS


def test_nothing_to_report() -> None:
    kpi = small_kpi()
    kpi["status_map"]["unmapped_activities"] = {}
    kpi["sla"]["first_response"]["overall"]["share_met"] = 0.95
    kpi["drift"] = None
    kpi["breakdowns"] = []
    kpi["pause_usage"][0]["outlier"] = "less"
    assert derive_findings(kpi_only(kpi)) == []


def test_small_sla_groups_are_not_named_worst() -> None:
    kpi = small_kpi()
    p1 = kpi["sla"]["first_response"]["by_priority"]["P1"]
    p1.update(with_outcome=19, met=7, breached=12)  # 19 decided tickets: too few to name
    (sla,) = [f for f in derive_findings(kpi_only(kpi)) if f["kind"] == "sla_attainment"]
    assert "worst_group" not in sla["values"]


def test_english_kpi_sentences() -> None:
    texts = describe_findings(SMALL_KPI_FINDINGS, lang=language("en"))
    assert [(text.headline, text.details, text.section) for text in texts] == [
        (
            "The status map “my-desk” does not name 2 activities",
            ["10 events (25.0%) carry no status; the most frequent is “Internal memo” (8 events)."],
            "kpi-overview",
        ),
        (
            "The first-response SLA was met for only 66.7% of tickets",
            [
                "60 of 90 decided tickets met it, 30 breached it.",
                "Still running: 10.",
                "Worst: Priority “P1” with 40.0% of 40 tickets.",
            ],
            "kpi-sla",
        ),
        (
            "“Resolve ticket → Closed” got shorter from 2024-03-04: median 30 d before, 15 d after",
            [
                "10th–90th percentile 15 d–45 d over 40 observations before, 15 d–15 d over 25 after."
            ],
            "kpi-drift",
        ),
        (
            "Hour created “09:00” is worse than the rest on first-contact resolution",
            ["40.0% against 62.5% overall, over 40 tickets (z = -4.0)."],
            "kpi-breakdowns",
        ),
        (
            "Channel “email” is worse than the rest on first response time",
            ["2.5 h against 1.5 h overall, over 50 tickets (z = +3.5)."],
            "kpi-breakdowns",
        ),
        (
            "Agent “Anna” puts 75.0% of their tickets on waiting on the customer, against 40.0% "
            "overall",
            ["6 of 8 tickets touched, median pause 2.0 h (z = +3.2)."],
            "kpi-breakdowns",
        ),
    ]
    assert all(text.impact is None for text in texts)


def test_chinese_kpi_sentences() -> None:
    texts = describe_findings(SMALL_KPI_FINDINGS, lang=language("zh"))
    assert [(text.headline, text.details) for text in texts] == [
        (
            "状态映射“my-desk”没有包含 2 个活动",
            ["10 个事件（25.0%）没有状态；最常见的是“Internal memo”（8 个事件）。"],
        ),
        (
            "首次响应 SLA 仅在 66.7% 的工单上达成",
            [
                "已有结果的 90 个工单中 60 个达成，30 个违约。",
                "仍在计时：10 个。",
                "最差：优先级“P1”，40 个工单中达成 40.0%。",
            ],
        ),
        (
            "“Resolve ticket → Closed”自 2024-03-04 起变短：中位数从 30 天 变为 15 天",
            ["10–90 分位此前为 15 天–45 天（40 次观测），此后为 15 天–15 天（25 次观测）。"],
        ),
        (
            "创建时刻“09:00”的首次接触解决率比其他分组差",
            ["40.0%，整体为 62.5%，基于 40 个工单（z = -4.0）。"],
        ),
        (
            "渠道“email”的首次响应时间比其他分组差",
            ["2.5 小时，整体为 1.5 小时，基于 50 个工单（z = +3.5）。"],
        ),
        (
            "处理人“Anna”把 75.0% 的工单设为等待客户，整体为 40.0%",
            ["经手 8 个工单，暂停 6 个，暂停时长中位数 2.0 小时（z = +3.2）。"],
        ),
    ]


def test_kpi_findings_rank_after_the_costly_ones() -> None:
    doc = load_doc("small_diagnosis")
    doc["kpi"] = small_kpi()
    kinds = [finding["kind"] for finding in derive_findings(doc)]
    assert kinds == [
        "bottleneck_transition",
        "rework",
        "rejected_rows",
        "unmapped_activities",
        "sla_attainment",
        "kpi_drift",
        "kpi_outlier",
        "kpi_outlier",
        "pause_outlier",
        "pingpong",
        "handover_hotspot",
        "handover_hotspot",
        "case_duration_spread",
        "variant_coverage",
        "wait_hour_peak",
        "arrival_peak",
    ]


def test_document_findings_written_without_kpis_get_them_added() -> None:
    doc = load_doc("small_diagnosis")
    doc["findings"] = derive_findings(doc)  # as `diagnose` wrote them, before the KPIs
    doc["kpi"] = small_kpi()
    assert report_findings(doc) == derive_findings(doc)
    # Findings that already hold KPI kinds are shown as the document has them.
    doc["findings"] = derive_findings(doc)[:5]
    assert report_findings(doc) == doc["findings"]
