"""The ``supportflow`` command, run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONTRACT_KEYS = {
    "schema_version",
    "log",
    "activities",
    "start_activities",
    "end_activities",
    "dfg",
    "variants",
    "case_duration_s",
    "rework",
    "pingpong",
    "handover",
    "bottlenecks",
    "heatmaps",
}


def supportflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_diagnose_writes_the_json_contract(tmp_path: Path, helpdesk_csv: Path) -> None:
    out = tmp_path / "out.json"
    result = supportflow("diagnose", str(helpdesk_csv), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc.keys() >= CONTRACT_KEYS
    assert doc["schema_version"] == "1.0"
    assert set(doc["log"]) == {
        "events",
        "cases",
        "activities",
        "variants",
        "rejected_rows",
        "first_timestamp",
        "last_timestamp",
    }
    assert set(doc["dfg"][0]) == {
        "source",
        "target",
        "count",
        "mean_s",
        "median_s",
        "min_s",
        "max_s",
        "p90_s",
        "total_s",
    }
    assert set(doc["variants"][0]) >= {"activities", "cases", "share"}
    assert set(doc["case_duration_s"]) == {"mean", "median", "p90", "min", "max"}
    assert set(doc["rework"]) >= {"cases_with_rework", "per_activity", "self_loop_cases"}
    assert set(doc["pingpong"]) == {"activity_cases", "team_cases", "resource_cases"}
    assert set(doc["handover"]) == {"resources", "teams"}
    assert set(doc["handover"]["resources"][0]) >= {"source", "target", "count"}
    # The mapping explanation is printed for the user to check.
    assert "Complete Timestamp" in result.stderr
    assert "recognised name" in result.stderr


def test_missing_column_exits_with_one_line(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("Ticket,Status,When\nT1,Open,2024-01-01 09:00\n", encoding="utf-8")
    result = supportflow("diagnose", str(log), "--case", "Case", "--json", str(tmp_path / "o.json"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: column 'Case' (for 'case_id') is not in the file. Columns in the file: "
        "'Ticket', 'Status', 'When'"
    ]
    assert not (tmp_path / "o.json").exists()


def test_existing_output_is_not_overwritten(tmp_path: Path, helpdesk_csv: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("mine", encoding="utf-8")
    result = supportflow("diagnose", str(helpdesk_csv), "--json", str(out))
    assert result.returncode == 2
    assert "already exists; pass --overwrite" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine"
    again = supportflow("diagnose", str(helpdesk_csv), "--json", str(out), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["log"]["cases"] == 4580


def test_rejects_are_written_next_to_the_output_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "tickets.csv"
    log.write_text("case,activity,time\nT1,A,2024-01-01 09:00\nT1,B,soon\n", encoding="utf-8")
    out = tmp_path / "report" / "out.json"
    result = supportflow("diagnose", str(log), "--json", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["log"]["rejected_rows"] == 1
    rejects = tmp_path / "report" / "tickets.rejects.csv"
    assert doc["source"]["rejects_path"] == str(rejects)
    assert "unparseable timestamp" in rejects.read_text(encoding="utf-8")
    assert "1 rows rejected (1 unparseable timestamp)" in " ".join(result.stderr.split())


def test_help_shows_an_example() -> None:
    result = supportflow("diagnose", "--help")
    assert result.returncode == 0
    assert "Example: supportflow diagnose tickets.csv --preset servicenow" in " ".join(
        result.stdout.split()
    )


def test_nothing_to_write_is_an_error(helpdesk_csv: Path) -> None:
    result = supportflow("diagnose", str(helpdesk_csv))
    assert result.returncode == 2
    assert "nothing to write" in result.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demo_writes_report_and_json(tmp_path: Path, lang: str) -> None:
    result = supportflow("demo", "--out", str(tmp_path / "demo"), "--lang", lang)
    assert result.returncode == 0, result.stderr
    html = tmp_path / "demo" / "report.html"
    assert result.stdout.split() == [str(html), str(tmp_path / "demo" / "report.json")]
    page = html.read_text(encoding="utf-8")
    assert "<script src=" not in page  # self-contained: nothing loaded from elsewhere
    assert ("zh-CN" in page) == (lang == "zh")
    assert "10.4121/uuid:0c60edf1-6f83-4e75-9367-4c63b3e9d5bb" in result.stderr


def test_unknown_preset_lists_the_known_ones(helpdesk_csv: Path, tmp_path: Path) -> None:
    result = supportflow(
        "diagnose", str(helpdesk_csv), "--preset", "salesforce", "--json", str(tmp_path / "o.json")
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown preset 'salesforce'; presets: disco, freshdesk, pm4py, servicenow, "
        "xes, zendesk"
    )


def test_an_output_that_is_the_input_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "tickets.rejects.csv"
    log.write_text("case,activity,time\nT1,A,2024-01-01 09:00\nT1,B,soon\n", encoding="utf-8")
    before = log.read_bytes()
    result = supportflow(
        "diagnose",
        str(log),
        "--json",
        str(tmp_path / "o.json"),
        "--rejects",
        str(log),
        "--overwrite",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {log} is the input log; choose another file"
    assert log.read_bytes() == before


def test_unwritable_output_is_a_one_line_error(tmp_path: Path, helpdesk_csv: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = supportflow("diagnose", str(helpdesk_csv), "--json", str(folder), "--overwrite")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: cannot write {folder}: Is a directory"


def test_default_rejects_name_keeps_the_whole_stem(tmp_path: Path) -> None:
    for name in ("tickets.csv", "tickets.v2.csv"):
        (tmp_path / name).write_text(
            "case,activity,time\nT1,A,2024-01-01 09:00\nT1,B,soon\n", encoding="utf-8"
        )
        result = supportflow(
            "diagnose", str(tmp_path / name), "--json", str(tmp_path / f"{name}.json")
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "tickets.rejects.csv").exists()
    assert (tmp_path / "tickets.v2.rejects.csv").exists()


def test_a_stale_rejects_file_does_not_block_a_clean_log(tmp_path: Path) -> None:
    log = tmp_path / "tickets.csv"
    log.write_text("case,activity,time\nT1,A,2024-01-01 09:00\n", encoding="utf-8")
    (tmp_path / "tickets.rejects.csv").write_text("old", encoding="utf-8")
    result = supportflow("diagnose", str(log), "--json", str(tmp_path / "o.json"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tickets.rejects.csv").read_text(encoding="utf-8") == "old"
