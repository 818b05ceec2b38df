"""Time ``compute_kpis`` (every KPI, SLA clocks, breakdowns, drift) against a pandas baseline.

The issue's target: all KPIs and SLA clocks for 5M events within 10 s on this 2-core machine.
For each log, in fresh processes, interleaved, ``--repeat`` times:

* **supportflow**: ``load_event_log`` (timed apart) then ``compute_kpis`` with the example SLA
  policy (``examples/sla.yaml``) and monthly drift; the per-query timings are kept;
* **pandas baseline** (single-threaded, as pandas is): what an analyst would write without
  supportflow: read the Parquet file,
  sort, classify activities with the same status map, and compute per-ticket created / first
  response / first resolution / last resolution / reopens / handling time with vectorised
  ``groupby`` and ``shift`` (no SLA calendar, no breakdowns, no drift: a subset of the work).

Two ratios are reported: the whole KPI step against the baseline (which does less), and like
for like, the baseline against supportflow's ticket-facts and summary stages only. Peak memory
is each child's maximum resident set size (``os.wait4``). Figures are medians.

    .venv/bin/python benchmarks/bench_kpi.py                          # replica_1m and replica_5m
    .venv/bin/python benchmarks/bench_kpi.py --sizes 5m --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"

SUPPORTFLOW = r"""
import json, sys, time
t0 = time.perf_counter()
from supportflow.eventlog import load_event_log
from supportflow.kpi.compute import compute_kpis
from supportflow.rules.sla import load_sla_policy
policy = load_sla_policy(sys.argv[2])
t1 = time.perf_counter()
log = load_event_log(sys.argv[1])
t2 = time.perf_counter()
report = compute_kpis(log, sla=policy)
t3 = time.perf_counter()
print(json.dumps({"load_s": t2 - t1, "kpi_s": t3 - t2, "tickets": report.tickets,
                  "timings_s": report.timings_s}))
"""

PANDAS = r"""
import json, sys, time
import numpy as np
import pandas as pd
from supportflow.rules import status_preset
t1 = time.perf_counter()
frame = pd.read_parquet(sys.argv[1])
case, act, ts = "Case ID", "Activity", "Complete Timestamp"
frame[ts] = pd.to_datetime(frame[ts], format="%Y/%m/%d %H:%M:%S").dt.as_unit("us").astype("int64")
t2 = time.perf_counter()  # reading and parsing times is loading, as in supportflow's load_s
frame = frame.sort_values([case, ts], kind="stable").reset_index(drop=True)
status = status_preset("helpdesk")
states = {}
for key, category in status.rows():
    if category in ("created", "in_progress", "waiting_on_customer", "waiting_on_third_party",
                    "resolved", "closed"):
        states[key] = category
keys = frame[act].str.strip().str.lower()
raw = keys.map(states)
first_response = keys.isin({k for k, c in status.rows() if c == "first_response"})
state = raw.groupby(frame[case]).ffill().fillna("created")
prev = state.groupby(frame[case]).shift(1)
done = state.isin(["resolved", "closed"])
prev_done = prev.isin(["resolved", "closed"])
becomes_done = done & ~prev_done
reopen = prev.notna() & prev_done & ~done
nxt = frame[ts].groupby(frame[case]).shift(-1).fillna(frame[ts].max())
frame["handling"] = np.where(state == "in_progress", nxt - frame[ts], 0)
frame["fr"] = np.where(first_response, frame[ts], np.nan)
frame["done_t"] = np.where(becomes_done, frame[ts], np.nan)
frame["reopen"] = reopen
g = frame.groupby(case)
tickets = pd.DataFrame({
    "created": g[ts].min(), "first_response": g["fr"].min(), "first_resolved": g["done_t"].min(),
    "last_resolved": g["done_t"].max(), "reopens": g["reopen"].sum(), "handling": g["handling"].sum(),
})
summary = {
    "first_response_median_s": float((tickets.first_response - tickets.created).median() / 1e6),
    "resolution_median_s": float((tickets.last_resolved - tickets.created).median() / 1e6),
    "reopens": int(tickets.reopens.sum()),
}
t3 = time.perf_counter()
print(json.dumps({"load_s": t2 - t1, "kpi_s": t3 - t2, "tickets": len(tickets), "summary": summary}))
"""


def run(code: str, *args: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; its JSON line plus wall time and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert process.stdout is not None
    output = process.stdout.read()
    if status != 0:
        raise SystemExit(f"child failed ({status}): {output}")
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["peak_mb"] = usage.ru_maxrss * 1024 / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1m", "5m"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pandas", action="store_true")
    options = parser.parse_args()
    sla = str(ROOT / "examples" / "sla.yaml")
    rows = []
    for size in options.sizes:
        path = DATA / f"replica_{size}.parquet"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run benchmarks/make_replica.py first")
        ours, theirs = [], []
        for _ in range(options.repeat):
            ours.append(run(SUPPORTFLOW, str(path), sla))
            if not options.skip_pandas:
                theirs.append(run(PANDAS, str(path)))
        med = lambda runs, key: statistics.median(float(r[key]) for r in runs)  # noqa: E731
        row = {
            "size": size,
            "tickets": ours[0]["tickets"],
            "supportflow_load_s": med(ours, "load_s"),
            "supportflow_kpi_s": med(ours, "kpi_s"),
            "supportflow_peak_mb": med(ours, "peak_mb"),
            # the part the pandas baseline also does: ticket facts and the KPI summaries
            "supportflow_tickets_and_summaries_s": statistics.median(
                float(r["timings_s"]["stage:tickets"]) + float(r["timings_s"]["stage:summaries"])  # type: ignore[index]
                for r in ours
            ),
            "supportflow_stages_s": {
                key: statistics.median(float(r["timings_s"][key]) for r in ours)  # type: ignore[index]
                for key in ours[0]["timings_s"]  # type: ignore[union-attr]
                if key.startswith("stage:")
            },
            "slowest_queries": sorted(
                ((k, round(v, 2)) for k, v in ours[len(ours) // 2]["timings_s"].items()),  # type: ignore[union-attr]
                key=lambda kv: -kv[1],
            )[:8],
        }
        if theirs:
            row |= {
                "pandas_kpi_s": med(theirs, "kpi_s"),
                "pandas_load_s": med(theirs, "load_s"),
                "pandas_peak_mb": med(theirs, "peak_mb"),
                "ratio_whole_step": med(theirs, "kpi_s") / row["supportflow_kpi_s"],
                "ratio_like_for_like": med(theirs, "kpi_s")
                / row["supportflow_tickets_and_summaries_s"],
                "pandas_summary": theirs[0]["summary"],
            }
        rows.append(row)
        print(json.dumps(row, indent=1), flush=True)
    out = ROOT / "benchmarks" / "results" / "kpi_latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
