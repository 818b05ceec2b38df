"""Numbers, durations and sentences in English and Simplified Chinese."""

from __future__ import annotations

import string
from typing import Any

import pytest

from supportflow.report.findings import derive_findings
from supportflow.report.formatting import format_timestamp
from supportflow.report.i18n import EN, ZH, language
from supportflow.report.narrative import describe_findings


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_every_string_with_the_same_placeholders() -> None:
    assert EN.keys() == ZH.keys()
    mismatched = [key for key in EN if placeholders(EN[key]) != placeholders(ZH[key])]
    assert mismatched == []


def test_chinese_strings_are_chinese() -> None:
    untranslated = [key for key in EN if EN[key] == ZH[key] and any(c.isalpha() for c in EN[key])]
    assert untranslated == []


def test_unknown_language() -> None:
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        language("fr")


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (None, "–", "–"),
        (0.0, "0.0 s", "0.0 秒"),
        (45.0, "45 s", "45 秒"),
        (90.0, "1.5 min", "1.5 分钟"),
        (3.5 * 3600, "3.5 h", "3.5 小时"),
        (2.3 * 86400, "2.3 d", "2.3 天"),
        (41 * 86400, "41 d", "41 天"),
        (1204 * 86400, "1,204 d", "1,204 天"),
    ],
)
def test_durations(seconds: float | None, english: str, chinese: str) -> None:
    assert language("en").numbers.duration(seconds) == english
    assert language("zh").numbers.duration(seconds) == chinese


def test_counts_and_percentages() -> None:
    numbers = language("zh").numbers
    assert [numbers.count(21348), numbers.count(4580.0), numbers.count(7)] == [
        "21,348",
        "4,580",
        "7",
    ]
    assert [numbers.percent(0.5912), numbers.percent(0.0001), numbers.percent(0.0)] == [
        "59.1%",
        "<0.1%",
        "0.0%",
    ]


def test_timestamps_are_shown_in_utc() -> None:
    assert format_timestamp("2010-01-13T08:40:25+00:00") == "2010-01-13 08:40:25"
    assert format_timestamp("2024-03-04T09:05:00Z") == "2024-03-04 09:05:00"
    assert format_timestamp("2024-03-04T17:05:00+08:00") == "2024-03-04 09:05:00"
    assert format_timestamp("last Tuesday") == "last Tuesday"


def test_english_sentences(small_doc: dict[str, Any]) -> None:
    texts = describe_findings(derive_findings(small_doc), lang=language("en"))
    first, second = texts[0], texts[1]
    assert first.headline == "“Resolve ticket → Closed” holds 59.1% of all case time"
    assert first.details == [
        "Median wait 7.0 d, 90th percentile 9.0 d, over 9 transitions (68 d of waiting in all)."
    ]
    assert first.impact == "Attributable case time: 68 d"
    assert first.section == "bottlenecks"
    assert second.headline == "4 cases (40.0%) repeat an activity"
    assert second.details == [
        "They take 8.1 d longer: median 17 d with rework against 9.3 d without.",
        "Repeated most often: “Take in charge ticket” (4 cases).",
        "Immediate repeats: 0 by the same agent, 1 by another agent.",
    ]
    pingpong = next(text for text in texts if text.kind == "pingpong")
    assert pingpong.headline == "3 cases (30.0%) bounced back to an agent they had left"
    assert pingpong.details[1:] == [
        "3 cases (30.0%) went back to an earlier activity.",
        "2 cases (20.0%) bounced back to a team they had left.",
    ]
    arrival = texts[-1]
    assert arrival.headline == "Most cases arrive on Mon at 09:00"


def test_chinese_sentences(small_doc: dict[str, Any]) -> None:
    texts = describe_findings(derive_findings(small_doc), lang=language("zh"))
    assert texts[0].headline == "“Resolve ticket → Closed”占全部工单时间的 59.1%"
    assert texts[0].details == [
        "共 9 次转换，等待中位数 7.0 天，90 分位 9.0 天（等待合计 68 天）。"
    ]
    assert texts[0].impact == "可归因的工单时间：68 天"
    assert texts[-1].headline == "工单最多在周一 09:00 到达"
    wait_peak = next(text for text in texts if text.kind == "wait_hour_peak")
    assert wait_peak.headline == "周五 17:00 开始的等待最长"
