"""Stories of alert rule files written by hand: defaults, and mistakes named by line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.rules import RulesError
from supportflow.rules.alerts import figure_text, load_alert_rules, parse_change, parse_share

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alerts.yaml"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(RulesError) as error:
        load_alert_rules(write(tmp_path, text))
    return str(error.value).replace(str(tmp_path / "alerts.yaml"), "alerts.yaml")


def test_the_issue_examples_read_as_written(tmp_path: Path) -> None:
    rules = load_alert_rules(
        write(
            tmp_path,
            """\
timezone: Europe/Paris
rules:
  - name: slow first response
    kpi: first_response_time
    statistic: p90
    window: 2h
    above: 12 min
    min_sample: 5
    severity: critical
  - name: SLA today
    kpi: sla_first_response_attainment
    window: today
    below: 90%
  - name: backlog
    kpi: backlog
    above: 200
  - name: P1 surge
    kpi: arrivals
    window: 24h
    change_above: +50%
    where: {priority: P1}
""",
        )
    )
    slow, sla, backlog, surge = rules.rules
    assert (slow.window, slow.above, slow.min_sample, slow.severity) == (7200, 720, 5, "critical")
    # Defaults: attainment is a share, a level its value, arrivals a count; a count or a level
    # is judged even at zero, a share needs one outcome.
    assert (sla.statistic, sla.below, sla.min_sample, sla.severity) == ("share", 0.9, 1, "warning")
    assert (backlog.statistic, backlog.window, backlog.min_sample) == ("value", None, 0)
    assert surge.statistic == "count"
    assert surge.change_above == 0.5
    assert surge.where is not None and surge.where.conditions() == [("priority", "P1")]
    assert [rule.describe() for rule in rules.rules] == [
        "p90 first_response_time > 12m over 2h",
        "sla_first_response_attainment < 90% today",
        "backlog > 200",
        "count arrivals change > +50% vs the previous 1d where priority=P1",
    ]
    assert rules.needs_sla


def test_the_example_file_loads() -> None:
    rules = load_alert_rules(EXAMPLE)
    assert rules.rules


def test_percentages_and_fractions() -> None:
    assert parse_share("92.5 %") == pytest.approx(0.925)
    assert parse_share(0.9) == 0.9
    assert parse_change("+50%") == 0.5
    assert parse_change("-20%") == -0.2


def test_figures_read_in_their_unit() -> None:
    figures = [(1560, "seconds"), (457_382, "seconds"), (5400, "seconds"), (2 / 3, "share")]
    figures += [(-0.2, "fraction"), (1500, "count"), (4.25, "score")]
    assert [figure_text(v, unit) for v, unit in figures] == [
        "26m",
        "5.29d",
        "1.5h",
        "66.7%",
        "-20%",
        "1500",
        "4.25",
    ]


RULE = "rules:\n  - name: r\n"


def test_an_unknown_kpi_suggests_the_closest(tmp_path: Path) -> None:
    text = (
        RULE + "    kpi: first_reponse_time\n    statistic: p90\n    window: 2h\n    above: 12m\n"
    )
    assert error_of(tmp_path, text) == (
        "alerts.yaml:3: rules[0].kpi: unknown KPI 'first_reponse_time' (did you mean "
        "'first_response_time'?); choose first_response_time, time_to_assign, resolution_time, "
        "handling_time, sla_first_response_attainment, sla_resolution_attainment, backlog, "
        "arrivals, resolutions, reopens or csat"
    )


def test_above_and_below_together_are_refused_at_the_second(tmp_path: Path) -> None:
    text = RULE + "    kpi: backlog\n    above: 200\n    below: 10\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:5: rules[0].below: a rule has exactly one condition, "
        "and this one already has 'above'"
    )


def test_a_rule_without_a_condition_is_refused(tmp_path: Path) -> None:
    text = RULE + "    kpi: arrivals\n    window: 1d\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:2: rules[0]: give a condition: above, below, change_above or change_below"
    )


def test_a_percentile_of_the_backlog_is_refused(tmp_path: Path) -> None:
    text = RULE + "    kpi: backlog\n    statistic: p90\n    above: 200\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:4: rules[0].statistic: backlog is a level, not a distribution: "
        "its statistic is 'value', not 'p90'"
    )


def test_a_statistic_that_does_not_fit_the_kpi(tmp_path: Path) -> None:
    text = RULE + "    kpi: resolution_time\n    statistic: share\n    window: 7d\n    above: 3d\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:4: rules[0].statistic: 'share' does not apply to resolution_time; "
        "choose count, mean, median, p90, p95 or max"
    )
    text = RULE + "    kpi: resolution_time\n    window: 7d\n    above: 3d\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:2: rules[0].statistic: resolution_time needs a statistic: "
        "count, mean, median, p90, p95 or max"
    )


def test_bad_percentages_name_their_line(tmp_path: Path) -> None:
    sla = RULE + "    kpi: sla_resolution_attainment\n    window: today\n"
    assert error_of(tmp_path, sla + "    below: ninety%\n") == (
        "alerts.yaml:5: rules[0].below: not a share: 'ninety%' (write 90% or 0.9)"
    )
    assert error_of(tmp_path, sla + "    below: 90\n") == (
        "alerts.yaml:5: rules[0].below: a share is between 0% and 100% (write 90% or 0.9), not 90"
    )
    surge = RULE + "    kpi: arrivals\n    window: 1d\n"
    assert error_of(tmp_path, surge + "    change_above: 50 percent\n") == (
        "alerts.yaml:5: rules[0].change_above: not a relative change: '50 percent' "
        "(write +50% or -20%)"
    )


def test_thresholds_take_the_kpis_unit(tmp_path: Path) -> None:
    slow = RULE + "    kpi: first_response_time\n    statistic: p90\n    window: 2h\n"
    assert error_of(tmp_path, slow + "    above: 12 minuts\n") == (
        "alerts.yaml:6: rules[0].above: not a duration: '12 minuts' (use 90s, 15m, 4h, 2d or 1h30m)"
    )
    assert error_of(tmp_path, RULE + "    kpi: backlog\n    above: 2.5\n") == (
        "alerts.yaml:4: rules[0].above: a count is a whole number of at least 0, not 2.5"
    )


def test_windows_and_changes_that_cannot_work(tmp_path: Path) -> None:
    text = RULE + "    kpi: arrivals\n    window: today\n    change_above: +50%\n"
    assert error_of(tmp_path, text) == (
        "alerts.yaml:5: rules[0].change_above: a relative change needs a fixed window such as "
        "24h: 'today' has no previous window of the same length"
    )
    assert error_of(tmp_path, RULE + "    kpi: arrivals\n    above: 3\n") == (
        "alerts.yaml:2: rules[0].window: a window is needed: a duration such as 2h or 7d, "
        "or 'today'"
    )
    assert error_of(tmp_path, RULE + "    kpi: backlog\n    window: 1d\n    above: 3\n") == (
        "alerts.yaml:2: rules[0]: backlog is a level: a window only sets how far back "
        "change_above or change_below compare"
    )


def test_file_level_mistakes(tmp_path: Path) -> None:
    rule = "  - {name: r, kpi: backlog, above: 3}\n"
    assert error_of(tmp_path, "timezone: Europe/Pariss\nrules:\n" + rule) == (
        "alerts.yaml:1: timezone: unknown time zone 'Europe/Pariss' "
        "(use an IANA name such as Europe/Paris)"
    )
    assert error_of(tmp_path, "rules:\n" + rule + rule) == (
        "alerts.yaml:1: rules: two rules are named 'r'; a name identifies an alert"
    )
    assert error_of(tmp_path, "rules:\n  - {name: r, kpi: backlog, treshold: 3}\n") == (
        "alerts.yaml:2: rules[0].treshold: Extra inputs are not permitted"
    )
