"""``supportflow simulate calibrate|run`` and ``staff --html`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from supportflow.eventlog.load import load_event_log
from supportflow.simulate.engine import simulate
from supportflow.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
EXAMPLES = ROOT / "examples"


def supportflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportflow", *args], capture_output=True, text=True, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_calibrated_demo_desk_reproduces_its_median_duration_and_top_variants(
    tmp_path: Path,
) -> None:
    out = tmp_path / "desk.yaml"
    result = supportflow("simulate", "calibrate", str(DEMO), "--out", str(out), "--window", "26w")
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(out)
    # the real cases of the calibration window, computed independently of the calibration
    log = load_event_log(DEMO)
    rows = log.con.execute(
        """WITH c AS (SELECT case_id, min(ts) s, max(ts) - min(ts) d,
                        string_agg(activity, '>' ORDER BY ts, seq) v
                      FROM events GROUP BY case_id)
           SELECT d / 1e6, v FROM c WHERE s >= (SELECT max(s) FROM c) - 182 * 86400e6"""
    ).fetchall()
    real_median = float(np.median([r[0] for r in rows]))
    real_top = {v: sum(1 for r in rows if r[1] == v) / len(rows) for v in {r[1] for r in rows}}
    durations, paths = [], []
    for seed in range(5):
        run = simulate(scenario, seed=seed, cases=len(rows))
        durations.append(run.end_s - run.arrival_s)
        table = run.to_arrow().to_pydict()
        by_case: dict[str, list[str]] = {}
        for case, act in zip(table["case_id"], table["activity"], strict=True):
            by_case.setdefault(f"{seed}:{case}", []).append(act)
        paths += [">".join(p) for p in by_case.values()]
    simulated_median = float(np.median(np.concatenate(durations)))
    assert abs(simulated_median / real_median - 1) < 0.10
    for variant, share in sorted(real_top.items(), key=lambda kv: -kv[1])[:3]:
        simulated_share = sum(1 for p in paths if p == variant) / len(paths)
        assert abs(simulated_share - share) < 0.05, variant


def test_run_writes_kpis_with_intervals_and_the_peak_plan(tmp_path: Path) -> None:
    out, page, fix = tmp_path / "sim.json", tmp_path / "sim.html", tmp_path / "fix.yaml"
    result = supportflow(
        "simulate", "run", str(EXAMPLES / "desk.yaml"),
        "--what-if", str(EXAMPLES / "peak.yaml"),
        "--replications", "3", "--seed", "1", "--workers", "1",
        "--plan", "--plan-out", str(fix), "--json", str(out), "--html", str(page),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    tickets = doc["kpis"]["tickets"]
    assert set(tickets) == {"baseline", "scenario"}
    assert set(tickets["baseline"]) == {"mean", "ci_low", "ci_high"}
    # the promotion brings more tickets, with intervals that do not overlap
    assert tickets["scenario"]["ci_low"] > tickets["baseline"]["ci_high"]
    assert doc["staffing"] and all(row["extra_agents"] >= 1 for row in doc["staffing"])
    assert "<svg" in page.read_text(encoding="utf-8")
    # the fix is an overlay the next run takes
    again = supportflow(
        "simulate", "run", str(EXAMPLES / "desk.yaml"),
        "--what-if", str(EXAMPLES / "peak.yaml"), "--what-if", str(fix),
        "--replications", "2", "--workers", "1",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr


def test_a_bad_scenario_is_one_line_naming_the_line_and_field(tmp_path: Path) -> None:
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("agents:\n  - {name: L2 late, count: many}\n", encoding="utf-8")
    result = supportflow("simulate", "run", str(EXAMPLES / "desk.yaml"), "--what-if", str(overlay))
    assert "bad.yaml:2: agents[8].count" in one_line_error(result)


def test_plan_needs_a_what_if_and_outputs_are_not_overwritten(tmp_path: Path) -> None:
    result = supportflow("simulate", "run", str(EXAMPLES / "desk.yaml"), "--plan")
    assert "--plan needs a --what-if" in one_line_error(result)
    out = tmp_path / "sim.json"
    out.write_text("{}", encoding="utf-8")
    result = supportflow("simulate", "run", str(EXAMPLES / "desk.yaml"), "--json", str(out))
    assert "already exists" in one_line_error(result)


def test_staff_writes_its_page(tmp_path: Path) -> None:
    page = tmp_path / "staff.html"
    result = supportflow(
        "staff", "--calls", "120", "--aht", "300", "--interval-minutes", "60", "--html", str(page)
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in page.read_text(encoding="utf-8")


def test_the_simulated_log_is_a_log_the_kpis_read_with_the_same_answers(tmp_path: Path) -> None:
    from supportflow.kpi.compute import compute_kpis
    from supportflow.rules.status import StatusMap
    from supportflow.simulate.experiment import seeds_for

    events = tmp_path / "sim.parquet"
    result = supportflow(
        "simulate", "run", str(EXAMPLES / "desk.yaml"), "--replications", "1",
        "--workers", "1", "--log-out", str(events),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    desk = load_scenario(EXAMPLES / "desk.yaml")
    run = simulate(desk, seed=seeds_for(1, 1)[0])
    assert isinstance(desk.status_map, StatusMap)
    report = compute_kpis(load_event_log(events), status=desk.status_map, drift_period=None)
    kpis = {k.name: k for k in report.kpis}
    assert report.tickets == len(run.arrival_s)
    # the diagnosis reads the simulated log and finds what the simulator measured
    first = kpis["first_response_time"]
    assert first.count == int(np.sum(~np.isnan(run.first_response_s)))
    assert first.median is not None
    assert abs(first.median - float(np.nanmedian(run.first_response_s))) < 1e-3
    resolution = kpis["first_resolution_time"]
    assert resolution.median is not None
    assert abs(resolution.median - float(np.nanmedian(run.resolution_s))) < 1e-3
