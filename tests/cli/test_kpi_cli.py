"""``supportflow kpi`` and ``supportflow monitor`` as a user runs them, bad input included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

STATUS = "created: [New]\nin_progress: [Open]\nresolved: [Solved]\n"
LOG = (
    "case,activity,time,agent,group\n"
    "A,New,2024-06-03T09:00:00Z,,G1\n"
    "A,Open,2024-06-03T09:30:00Z,R1,G1\n"
    "A,[/x],2024-06-03T10:00:00Z,R1,G1\n"
    "A,Solved,2024-06-03T11:00:00Z,R1,G1\n"
    "B,New,2024-06-05T09:00:00Z,,G2\n"
    "B,Open,2024-06-05T12:00:00Z,R2,G2\n"
)


def supportflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportflow", *args], capture_output=True, text=True, check=False
    )


def files(tmp_path: Path) -> tuple[Path, Path]:
    log, status = tmp_path / "log.csv", tmp_path / "status.yaml"
    log.write_text(LOG, encoding="utf-8")
    status.write_text(STATUS, encoding="utf-8")
    return log, status


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_kpi_writes_its_document_and_lists_unknown_activities(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    out = tmp_path / "kpi.json"
    result = supportflow("kpi", str(log), "--status-map", str(status), "--json", str(out))
    assert result.returncode == 0, result.stderr
    # an activity named like console markup is printed as text, not read as markup
    assert "[/x] (1)" in result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["kpi"]["status_map"]["unmapped_activities"] == {"[/x]": 1}
    assert doc["kpi"]["tickets"] == 2
    # the calendar has every day of the span, the quiet 4 June too: A is solved, B not yet in
    assert [(d["date"], d["backlog"]) for d in doc["kpi"]["flow"]["daily"]] == [
        ("2024-06-03", 0),
        ("2024-06-04", 0),
        ("2024-06-05", 1),
    ]


def test_a_status_map_preset_ignores_case_and_a_missing_file_is_named(tmp_path: Path) -> None:
    log, _ = files(tmp_path)
    ok = supportflow(
        "kpi", str(log), "--status-map", "HelpDesk", "--json", str(tmp_path / "k.json")
    )
    assert ok.returncode == 0, ok.stderr
    missing = tmp_path / "[/x].yaml"
    line = one_line_error(
        supportflow("kpi", str(log), "--status-map", str(missing), "--json", str(tmp_path / "o"))
    )
    assert "no such file and no preset of that name" in line and "[/x].yaml" in line


def test_every_mistake_of_a_rule_file_is_on_the_one_error_line(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    status.write_text("created: [New]\nresolvd: [Solved]\nclosed: 3\n", encoding="utf-8")
    line = one_line_error(
        supportflow("kpi", str(log), "--status-map", str(status), "--json", str(tmp_path / "o"))
    )
    assert "status.yaml:2: resolvd: Extra inputs are not permitted" in line
    assert "status.yaml:3: closed: " in line


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    status.write_text(STATUS + "resolved: [Done]\n", encoding="utf-8")
    line = one_line_error(
        supportflow("kpi", str(log), "--status-map", str(status), "--json", str(tmp_path / "o"))
    )
    assert line.endswith(
        "status.yaml:4: resolved: given twice; keep one (YAML would silently use the last)"
    )


def test_kpi_targets_must_be_kpis_measured_in_time(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    sla = tmp_path / "sla.yaml"
    sla.write_text(
        "targets:\n  - {priority: '*', resolution: 1d}\nkpi_targets:\n  reopen_rate: 0.1\n",
        encoding="utf-8",
    )
    line = one_line_error(
        supportflow(
            "kpi",
            str(log),
            "--status-map",
            str(status),
            "--sla",
            str(sla),
            "--json",
            str(tmp_path / "o"),
        )
    )
    assert "sla.yaml:3: kpi_targets: 'reopen_rate' is not a KPI measured in time" in line


def test_a_breakdown_the_log_cannot_give_is_refused(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    line = one_line_error(
        supportflow(
            "kpi",
            str(log),
            "--status-map",
            str(status),
            "--by",
            "region",
            "--json",
            str(tmp_path / "o"),
        )
    )
    assert (
        "cannot break down by 'region'" in line and "dimensions it has: team, agent, hour" in line
    )


def test_an_existing_rejects_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    log.write_text(LOG + "C,New,soon,,\n", encoding="utf-8")
    rejects = tmp_path / "log.rejects.csv"
    rejects.write_text("PRECIOUS", encoding="utf-8")
    result = supportflow(
        "kpi", str(log), "--status-map", str(status), "--json", str(tmp_path / "o.json")
    )
    assert result.returncode == 2
    assert rejects.read_text(encoding="utf-8") == "PRECIOUS"


def test_monitor_lists_an_alert_still_firing_at_the_last_event(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    rules = tmp_path / "alerts.yaml"
    # B is created on 5 June and never resolved: the backlog stands at 1 until the log ends
    rules.write_text(
        "rules:\n  - {name: open work, kpi: backlog, above: 0, severity: warning}\n",
        encoding="utf-8",
    )
    out = tmp_path / "alerts.json"
    result = supportflow(
        "monitor", str(log), "--rules", str(rules), "--status-map", str(status), "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    episodes = json.loads(out.read_text(encoding="utf-8"))
    assert [(e["rule"], e["fired_at"][:16], e["cleared_at"]) for e in episodes] == [
        ("open work", "2024-06-03T09:00", "2024-06-03T11:00:00Z"),
        ("open work", "2024-06-05T09:00", None),
    ]


def test_diagnose_includes_the_kpis_unless_told_not_to(tmp_path: Path) -> None:
    log, status = files(tmp_path)
    with_kpis, without = tmp_path / "with.json", tmp_path / "without.json"
    first = supportflow("diagnose", str(log), "--status-map", str(status), "--json", str(with_kpis))
    second = supportflow("diagnose", str(log), "--no-kpi", "--json", str(without))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert json.loads(with_kpis.read_text(encoding="utf-8"))["kpi"]["tickets"] == 2
    assert "kpi" not in json.loads(without.read_text(encoding="utf-8"))
