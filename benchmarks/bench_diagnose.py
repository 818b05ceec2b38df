"""Time ``supportflow diagnose`` against pm4py's equivalent chain on replicated help-desk logs.

One run of this script, for each size (default 1M and 5M events; 20M from Parquet with
``--with-20m``):

1. makes (or reuses) the replica CSV and Parquet files (see ``make_replica.py``);
2. runs, each in a fresh process and ``--repeat`` times, interleaved round by round:

   * the pm4py chain on the CSV: ``pd.read_csv``, ``pd.to_datetime``, ``format_dataframe``,
     ``discover_dfg``, ``discover_performance_dfg``, ``get_variants``,
     ``get_all_case_durations``, ``get_rework_cases_per_activity`` (each step timed);
   * ``supportflow diagnose FILE --json OUT --overwrite`` on the CSV and on the Parquet file
     (wall time of the whole command, from process start to exit);
   * the same diagnosis through the library (``load_event_log``, ``diagnose``, the JSON
     document), timing load and mining apart and keeping ``Diagnosis.timings_s``;
   * ``supportflow.report.html.render_report(doc, lang="en")`` on the document the command
     wrote (``n/a`` while that module does not exist);

3. checks at ``--check-size`` (default 1M) that supportflow's DFG counts, variant, case and
   event counts equal pm4py's;
4. prints a markdown summary and writes it to ``benchmarks/results/latest.md``, with every raw
   number in ``benchmarks/results/latest.json``.

Peak memory is each child process's own peak resident set size, from ``os.wait4`` (the same
number ``/usr/bin/time -v`` reports as "Maximum resident set size"). Reported figures are the
median of the runs. ``MB`` is 10^6 bytes.

    .venv/bin/python benchmarks/bench_diagnose.py                    # 1M and 5M, 3 runs each
    .venv/bin/python benchmarks/bench_diagnose.py --with-20m         # and 20M from Parquet
    .venv/bin/python benchmarks/bench_diagnose.py --sizes 1m --repeat 1 --skip-pm4py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_replica import (  # the sibling module, importable without a package
    DEFAULT_DATA_DIR,
    DEFAULT_SOURCE,
    REPO,
    ensure_replica,
    parse_size,
    size_label,
)

TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"
PM4PY_STEPS = (
    "read_csv",
    "to_datetime",
    "format_dataframe",
    "discover_dfg",
    "discover_performance_dfg",
    "get_variants",
    "get_all_case_durations",
    "get_rework_cases_per_activity",
)
LARGE = 20_000_000  # from this size on: Parquet only, no pm4py, --large-repeat runs
TARGETS_AT = "5m"
TOP_QUERIES = 10  # named queries listed one by one in the markdown (all are in the JSON)


# --------------------------------------------------------------------------------------------
# Children: each runs in its own process and writes its numbers as JSON to OUTPUT.
# --------------------------------------------------------------------------------------------


def child_pm4py(source: Path) -> dict[str, Any]:
    """pm4py's chain for the same diagnosis, each step timed."""
    started = time.perf_counter()
    import pandas as pd
    import pm4py

    import_s = time.perf_counter() - started
    steps: dict[str, float] = {}

    def step(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        value = fn()
        steps[name] = time.perf_counter() - t
        return value

    df = step("read_csv", lambda: pd.read_csv(source))
    df["Complete Timestamp"] = step(
        "to_datetime", lambda: pd.to_datetime(df["Complete Timestamp"], format=TIMESTAMP_FORMAT)
    )
    df = step(
        "format_dataframe",
        lambda: pm4py.format_dataframe(
            df, case_id="Case ID", activity_key="Activity", timestamp_key="Complete Timestamp"
        ),
    )
    dfg, _, _ = step("discover_dfg", lambda: pm4py.discover_dfg(df))
    step("discover_performance_dfg", lambda: pm4py.discover_performance_dfg(df))
    variants = step("get_variants", lambda: pm4py.get_variants(df))
    durations = step("get_all_case_durations", lambda: pm4py.get_all_case_durations(df))
    rework = step("get_rework_cases_per_activity", lambda: pm4py.get_rework_cases_per_activity(df))
    return {
        "import_s": import_s,
        "steps_s": steps,
        "total_s": sum(steps.values()),
        "events": len(df),
        "cases": len(durations),
        "variants": len(variants),
        "dfg": sorted([a, b, int(n)] for (a, b), n in dfg.items()),
        "rework_cases_per_activity": {k: int(v) for k, v in rework.items()},
    }


def child_library(source: Path) -> dict[str, Any]:
    """The diagnosis through the library: load and mine timed apart, with per-query timings."""
    started = time.perf_counter()
    from supportflow.eventlog import load_event_log
    from supportflow.mining import diagnose

    try:
        from supportflow.cli import build_document
    except ImportError:  # the CLI is being reworked: fall back to the bare diagnosis
        build_document = None
    import_s = time.perf_counter() - started

    t = time.perf_counter()
    log = load_event_log(source)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    diagnosis = diagnose(log)
    mine_s = time.perf_counter() - t
    t = time.perf_counter()
    doc = build_document(diagnosis, log.report) if build_document else diagnosis.to_dict()
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    document_s = time.perf_counter() - t
    return {
        "import_s": import_s,
        "load_s": load_s,
        "mine_s": mine_s,
        "document_s": document_s,
        "total_s": load_s + mine_s,
        "timings_s": dict(getattr(diagnosis, "timings_s", {}) or {}),
        "events": doc["log"]["events"],
        "cases": doc["log"]["cases"],
        "variants": doc["log"]["variants"],
        "rejected_rows": doc["log"].get("rejected_rows"),
        "json_bytes": len(text.encode()),
    }


def child_render(doc_path: Path) -> dict[str, Any]:
    """``render_report`` on a JSON document written by ``supportflow diagnose``."""
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    started = time.perf_counter()
    try:
        from supportflow.report.html import render_report
    except ImportError as exc:
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
    import_s = time.perf_counter() - started
    t = time.perf_counter()
    html = render_report(doc, lang="en")
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    out = doc_path.with_suffix(".html")
    out.write_text(html, encoding="utf-8")
    write_s = time.perf_counter() - t
    return {
        "available": True,
        "import_s": import_s,
        "render_s": render_s,
        "write_s": write_s,
        "adds_s": import_s + render_s + write_s,
        "html_bytes": len(html.encode()),
    }


CHILDREN = {"pm4py": child_pm4py, "library": child_library, "render": child_render}


# --------------------------------------------------------------------------------------------
# Measuring a child process.
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One process: wall time from spawn to exit, its peak RSS, CPU times, and its own numbers."""

    cmd: list[str]
    wall_s: float
    peak_mb: float
    user_s: float
    sys_s: float
    exit_code: int
    loadavg_before: float
    others_cores: float  # CPU used by other processes during the run, in cores (contention)
    code: str  # fingerprint of src/supportflow when the run started
    settle_wait_s: float
    child: dict[str, Any] | None = None
    log: str = ""


def _busy_cpu_s() -> float:
    """CPU seconds all processes have used since boot (from /proc/stat), 0 where unavailable."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def code_fingerprint() -> str:
    """A short hash of the names, sizes and mtimes of supportflow's source files: it changes
    when someone edits the package while the benchmark runs (the numbers then mix versions)."""
    digest = hashlib.sha1()
    for path in sorted((REPO / "src" / "supportflow").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2", ".js", ".css"):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:10]


SETTLE = {"max_s": 0.0, "below": 0.5}


def settle() -> float:
    """Wait (at most ``--settle`` seconds) until other processes use less than
    ``--settle-below`` cores over one second; return the time waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE["max_s"]:
        busy, t = _busy_cpu_s(), time.perf_counter()
        time.sleep(1.0)
        if (_busy_cpu_s() - busy) / (time.perf_counter() - t) < SETTLE["below"]:
            break
    return time.perf_counter() - started


def run_measured(cmd: list[str], log_path: Path, child_out: Path | None = None) -> Run:
    """Run ``cmd`` to completion; rusage comes from ``wait4`` on that one process."""
    if child_out is not None:
        child_out.unlink(missing_ok=True)
    waited = settle()
    code = code_fingerprint()
    load = os.getloadavg()[0]
    with log_path.open("wb") as log:
        busy = _busy_cpu_s()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        busy = _busy_cpu_s() - busy
    proc.returncode = os.waitstatus_to_exitcode(status)
    child = None
    if child_out is not None and child_out.is_file():
        child = json.loads(child_out.read_text(encoding="utf-8"))
    run = Run(
        cmd=cmd,
        wall_s=wall,
        peak_mb=usage.ru_maxrss * 1024 / 1e6,  # Linux reports KiB
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        exit_code=proc.returncode,
        loadavg_before=load,
        others_cores=max(0.0, busy - usage.ru_utime - usage.ru_stime) / wall,
        code=code,
        settle_wait_s=waited,
        child=child,
        log=str(log_path),
    )
    if run.exit_code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        print(f"  ! exit {run.exit_code}: {shlex.join(cmd)}", file=sys.stderr)
        for line in tail:
            print(f"    {line}", file=sys.stderr)
    return run


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Series:
    """Repeated runs of one measurement."""

    name: str
    input: str
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.exit_code == 0]

    def wall(self) -> float | None:
        return _median([r.wall_s for r in self.ok])

    def peak(self) -> float | None:
        return _median([r.peak_mb for r in self.ok])

    def child(self, key: str) -> float | None:
        return _median([float(r.child[key]) for r in self.ok if r.child and key in r.child])

    def child_map(self, key: str) -> dict[str, float]:
        """Median per name of a dict the child reported (steps, per-query timings)."""
        names: dict[str, list[float]] = {}
        for r in self.ok:
            for name, value in ((r.child or {}).get(key) or {}).items():
                names.setdefault(name, []).append(float(value))
        return {name: statistics.median(v) for name, v in names.items()}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input": self.input,
            "runs_ok": len(self.ok),
            "runs": len(self.runs),
            "median_wall_s": self.wall(),
            "median_peak_mb": self.peak(),
            "median_others_cores": _median([r.others_cores for r in self.ok]),
            "raw": [asdict(r) for r in self.runs],
        }


# --------------------------------------------------------------------------------------------
# The benchmark.
# --------------------------------------------------------------------------------------------


def _supportflow_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("supportflow")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "supportflow"]


def _self_cmd(role: str, source: Path, out: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", role, str(source), str(out)]


def _warm(path: Path) -> None:
    """Read a file once so every timed run starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def _progress(name: str, run: Run) -> None:
    inner = ""
    if run.child and "total_s" in run.child:
        inner = f" (in process {run.child['total_s']:.2f} s)"
    print(
        f"  {name:18} {run.wall_s:7.2f} s{inner}, peak {run.peak_mb:,.0f} MB, "
        f"others {run.others_cores:.2f} cores"
        + (f", waited {run.settle_wait_s:.0f} s for quiet" if run.settle_wait_s >= 1 else "")
        + ("" if run.exit_code == 0 else " FAILED"),
        file=sys.stderr,
        flush=True,
    )


def bench_size(target: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    label = size_label(target)
    large = target >= LARGE
    replica = ensure_replica(
        target, data_dir=args.data_dir, source=args.source, csv=not large or args.csv_at_20m
    )
    inputs: dict[str, Path] = {"Parquet": replica.parquet}
    if replica.csv is not None:
        inputs = {"CSV": replica.csv, **inputs}
    for path in inputs.values():
        _warm(path)
    repeat = args.large_repeat if large else args.repeat
    pm4py_repeat = 0 if args.skip_pm4py or "CSV" not in inputs or large else args.pm4py_repeat
    pm4py_repeat = repeat if pm4py_repeat is None else pm4py_repeat

    pm4py = Series("pm4py chain", "CSV")
    cli = {fmt: Series("supportflow diagnose", fmt) for fmt in inputs}
    lib = {fmt: Series("supportflow library", fmt) for fmt in inputs}
    render = Series("render_report", "JSON doc")
    docs = {fmt: work / f"{label}-{fmt.lower()}.json" for fmt in inputs}

    for round_ in range(max(repeat, pm4py_repeat)):
        print(f"[{label}] round {round_ + 1}", file=sys.stderr, flush=True)
        if round_ < pm4py_repeat:
            out = work / f"{label}-pm4py.out.json"
            pm4py.runs.append(
                run_measured(_self_cmd("pm4py", inputs["CSV"], out), work / "pm4py.log", out)
            )
            _progress("pm4py chain", pm4py.runs[-1])
        if round_ >= repeat:
            continue
        for fmt, path in inputs.items():
            cmd = [*_supportflow_cmd(), "diagnose", str(path), "--json", str(docs[fmt])]
            cli[fmt].runs.append(run_measured([*cmd, "--overwrite"], work / "cli.log"))
            _progress(f"cli {fmt}", cli[fmt].runs[-1])
        for fmt, path in inputs.items():
            out = work / f"{label}-library.out.json"
            lib[fmt].runs.append(
                run_measured(_self_cmd("library", path, out), work / "library.log", out)
            )
            _progress(f"library {fmt}", lib[fmt].runs[-1])
        doc = next((docs[f] for f in inputs if docs[f].is_file()), None)
        if doc is not None:
            out = work / f"{label}-render.out.json"
            render.runs.append(
                run_measured(_self_cmd("render", doc, out), work / "render.log", out)
            )
            _progress("render", render.runs[-1])

    result: dict[str, Any] = {
        "label": label,
        "target_events": target,
        "events": replica.events,
        "copies": replica.copies,
        "files": {fmt: str(p) for fmt, p in inputs.items()},
        "file_bytes": {fmt: p.stat().st_size for fmt, p in inputs.items()},
        "pm4py": pm4py.summary() if pm4py.runs else None,
        "cli": {fmt: s.summary() for fmt, s in cli.items()},
        "library": {
            fmt: {
                **s.summary(),
                "median_load_s": s.child("load_s"),
                "median_mine_s": s.child("mine_s"),
                "median_document_s": s.child("document_s"),
                "median_import_s": s.child("import_s"),
                "median_timings_s": s.child_map("timings_s"),
            }
            for fmt, s in lib.items()
        },
        "render": None,
    }
    if pm4py.runs:
        result["pm4py"].update(
            median_chain_s=pm4py.child("total_s"),
            median_import_s=pm4py.child("import_s"),
            median_steps_s=pm4py.child_map("steps_s"),
        )
    if render.runs:
        first = render.runs[-1].child or {}
        result["render"] = {
            **render.summary(),
            "available": bool(first.get("available")),
            "reason": first.get("reason"),
            "median_render_s": render.child("render_s"),
            "median_adds_s": render.child("adds_s"),
            "html_bytes": first.get("html_bytes"),
        }
    if label == size_label(args.check_size) or (
        args.check_size not in args.sizes_list and target == min(args.sizes_list)
    ):
        result["check"] = sanity_check(pm4py, docs)
    return result


def sanity_check(pm4py: Series, docs: dict[str, Path]) -> dict[str, Any]:
    """supportflow's DFG counts and variant/case/event counts against pm4py's, per input."""
    ref = pm4py.ok[-1].child if pm4py.ok else None
    if ref is None:
        return {"ran": False, "reason": "no successful pm4py run"}
    expected = {(a, b): n for a, b, n in ref["dfg"]}
    out: dict[str, Any] = {"ran": True, "passed": True, "inputs": {}}
    for fmt, path in docs.items():
        if not path.is_file():
            out["inputs"][fmt] = {"passed": False, "reason": "no document"}
            out["passed"] = False
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        ours = {(e["source"], e["target"]): int(e["count"]) for e in doc["dfg"]}
        differing = sorted(
            f"{a} -> {b}: pm4py {expected.get((a, b))}, supportflow {ours.get((a, b))}"
            for a, b in expected.keys() | ours.keys()
            if expected.get((a, b)) != ours.get((a, b))
        )
        counts = {
            key: {"pm4py": ref[key], "supportflow": doc["log"][key]}
            for key in ("events", "cases", "variants")
        }
        passed = not differing and all(v["pm4py"] == v["supportflow"] for v in counts.values())
        out["inputs"][fmt] = {
            "passed": passed,
            "dfg_edges": {"pm4py": len(expected), "supportflow": len(ours)},
            "dfg_arc_occurrences": {
                "pm4py": sum(expected.values()),
                "supportflow": sum(ours.values()),
            },
            "dfg_differences": differing[:20],
            **counts,
        }
        out["passed"] = out["passed"] and passed
    return out


# --------------------------------------------------------------------------------------------
# Environment and report.
# --------------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])

    def git(*argv: str) -> str:
        try:
            return subprocess.run(
                ["git", *argv], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(mem_kb * 1024 / 1e9, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("supportflow", "pm4py", "pandas", "numpy", "duckdb", "pyarrow")
        },
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len([x for x in git("status", "--porcelain").splitlines() if x]),
        "loadavg_at_start": os.getloadavg(),
    }


def _cpu(series: dict[str, Any]) -> float | None:
    """Median CPU seconds (user + system, all threads) of a series' successful processes."""
    return _median([r["user_s"] + r["sys_s"] for r in series["raw"] if r["exit_code"] == 0])


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def targets(results: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, met) rows for the issue's targets."""
    rows: list[tuple[str, str, str]] = []
    at = next((r for r in results if r["label"] == TARGETS_AT), None)

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    if at is None:
        rows.append((f"targets at {TARGETS_AT}", "size not run", "n/a"))
    else:
        csv = at["cli"].get("CSV", {})
        pq = at["cli"].get("Parquet", {})
        chain = (at.get("pm4py") or {}).get("median_chain_s")
        wall_csv, wall_pq = csv.get("median_wall_s"), pq.get("median_wall_s")
        ratio = chain / wall_csv if chain and wall_csv else None
        rows.append(
            (
                "5M: whole diagnosis ≥ 15× faster than pm4py's chain (CSV)",
                f"{_f(ratio, 1)}× ({_f(chain)} s vs {_f(wall_csv)} s)",
                verdict(None if ratio is None else ratio >= 15),
            )
        )
        rows.append(
            (
                "5M: ≤ 4 s from CSV",
                f"{_f(wall_csv)} s",
                verdict(None if wall_csv is None else wall_csv <= 4),
            )
        )
        rows.append(
            (
                "5M: ≤ 3 s from Parquet",
                f"{_f(wall_pq)} s",
                verdict(None if wall_pq is None else wall_pq <= 3),
            )
        )
        peaks = [p for p in (csv.get("median_peak_mb"), pq.get("median_peak_mb")) if p]
        rows.append(
            (
                "5M: < 1.5 GB peak memory",
                " / ".join(
                    f"{fmt} {_f(s.get('median_peak_mb'), 0)} MB" for fmt, s in at["cli"].items()
                ),
                verdict(max(peaks) < 1500 if peaks else None),
            )
        )
        rend = at.get("render") or {}
        adds = rend.get("median_adds_s") if rend.get("available") else None
        rows.append(
            (
                "report rendering adds < 2 s (5M document)",
                "n/a (supportflow.report.html not available)"
                if not rend.get("available")
                else f"{_f(adds)} s (import + render + write; render alone "
                f"{_f(rend.get('median_render_s'))} s)",
                verdict(None if adds is None else adds < 2),
            )
        )
    big = next((r for r in results if r["target_events"] >= LARGE), None)
    if big is None:
        rows.append(("20M from Parquet completes out of core", "not run (--with-20m)", "n/a"))
    else:
        pq = big["cli"].get("Parquet", {})
        ok = pq.get("runs_ok", 0) == pq.get("runs", 0) and pq.get("runs", 0) > 0
        rows.append(
            (
                "20M from Parquet completes out of core",
                f"{'completed' if ok else 'FAILED'}: {_f(pq.get('median_wall_s'))} s, peak "
                f"{_f(pq.get('median_peak_mb'), 0)} MB",
                verdict(ok),
            )
        )
    return rows


def markdown(env: dict[str, Any], results: list[dict[str, Any]], command: str) -> str:
    v = env["versions"]
    lines = [
        f"# supportflow diagnose vs pm4py — {env['date']}",
        "",
        f"Machine: {env['nproc']} cores ({env['cpu_model']}), {env['ram_gb']} GB RAM; "
        f"Python {env['python']}; supportflow {v['supportflow']} (git {env['git_commit']}, "
        f"{env['git_uncommitted_files']} uncommitted files), pm4py {v['pm4py']}, pandas "
        f"{v['pandas']}, DuckDB {v['duckdb']}, pyarrow {v['pyarrow']}. "
        f"Load average at start: {env['loadavg_at_start'][0]:.2f}.",
        "",
        f"Command: `{command}`",
        "",
        "Median of the runs; each run is a fresh process; warm page cache. pm4py's time is its "
        "chain of 8 calls inside the process (its interpreter start and `import pm4py` are not "
        "counted); supportflow's is the whole `supportflow diagnose FILE --json OUT` command, "
        "interpreter start and imports included. Peak = the process's maximum RSS (MB = 10^6 B). "
        "Others' CPU = cores' worth of CPU used by other processes on the machine during the "
        "runs (from /proc/stat): contention the timings include. Process CPU s = user + system "
        "time of the whole process, all threads (pm4py's includes its import); it depends far "
        "less on contention than wall time does.",
        "",
        "| events | tool | input | wall s | peak MB | pm4py / supportflow | process CPU s "
        "| others' CPU |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        events = f"{r['events']:,}"
        pm = r.get("pm4py")
        chain = pm.get("median_chain_s") if pm else None
        if pm:
            lines.append(
                f"| {events} | pm4py chain (pandas + pm4py) | CSV | {_f(chain)} | "
                f"{_f(pm['median_peak_mb'], 0)} | — | {_f(_cpu(pm), 1)} | "
                f"{_f(pm['median_others_cores'])} |"
            )
        for fmt, s in r["cli"].items():
            wall = s["median_wall_s"]
            ratio = f"{chain / wall:.1f}×" if chain and wall else "—"
            failed = "" if s["runs_ok"] == s["runs"] else f" ({s['runs'] - s['runs_ok']} failed)"
            lines.append(
                f"| {events} | supportflow diagnose{failed} | {fmt} | {_f(wall)} | "
                f"{_f(s['median_peak_mb'], 0)} | {ratio} | {_f(_cpu(s), 1)} | "
                f"{_f(s['median_others_cores'])} |"
            )
    versions = sorted(
        {
            run["code"]
            for r in results
            for series in [r.get("pm4py"), *r["cli"].values(), *r["library"].values()]
            if series
            for run in series["raw"]
        }
    )
    if len(versions) > 1:
        lines += [
            "",
            f"**Note:** supportflow's source changed while this benchmark ran ({len(versions)} "
            "versions seen); the medians mix them. See `code` per run in latest.json.",
        ]
    lines += ["", "## Where the time goes", ""]
    for r in results:
        lines.append(f"### {r['events']:,} events ({r['copies']} copies of the help-desk log)")
        lines.append("")
        pm = r.get("pm4py")
        if pm:
            steps = pm["median_steps_s"]
            lines.append(
                "pm4py chain (s): "
                + ", ".join(f"{name} {_f(steps.get(name))}" for name in PM4PY_STEPS)
                + f"; total {_f(pm['median_chain_s'])}; `import pm4py` {_f(pm['median_import_s'])}"
                f"; whole process {_f(pm['median_wall_s'])}."
            )
            lines.append("")
        lib = r["library"]
        fmts = list(lib)
        lines.append("| supportflow, in process (s) | " + " | ".join(fmts) + " |")
        lines.append("|---|" + "---:|" * len(fmts))
        for key, name in (
            ("median_load_s", "load_event_log"),
            ("median_mine_s", "diagnose (mining)"),
            ("median_document_s", "JSON document (findings + dumps)"),
        ):
            lines.append(f"| {name} | " + " | ".join(_f(lib[f][key]) for f in fmts) + " |")
        lines.append(
            "| **load + mine** | "
            + " | ".join(
                f"**{_f((lib[f]['median_load_s'] or 0) + (lib[f]['median_mine_s'] or 0))}**"
                for f in fmts
            )
            + " |"
        )
        lines.append(
            "| CLI wall − (load + mine + document), approx.: start-up, imports, writing | "
            + " | ".join(
                _f(
                    r["cli"][f]["median_wall_s"]
                    - sum(
                        lib[f][k] or 0
                        for k in ("median_load_s", "median_mine_s", "median_document_s")
                    )
                    if r["cli"][f]["median_wall_s"] is not None
                    else None
                )
                for f in fmts
            )
            + " |"
        )
        lines.append(
            "| (library process: imports, not in load + mine) | "
            + " | ".join(_f(lib[f]["median_import_s"]) for f in fmts)
            + " |"
        )
        lines.append(
            "| library process peak MB | "
            + " | ".join(_f(lib[f]["median_peak_mb"], 0) for f in fmts)
            + " |"
        )
        queries = sorted(
            {q for f in fmts for q in lib[f]["median_timings_s"]},
            key=lambda q: -max(lib[f]["median_timings_s"].get(q, 0) for f in fmts),
        )
        shown, rest = queries[:TOP_QUERIES], queries[TOP_QUERIES:]
        for q in shown:
            lines.append(
                f"| ↳ query `{q}` | "
                + " | ".join(_f(lib[f]["median_timings_s"].get(q), 3) for f in fmts)
                + " |"
            )
        if rest:
            lines.append(
                f"| ↳ {len(rest)} other queries | "
                + " | ".join(
                    _f(sum(lib[f]["median_timings_s"].get(q, 0) for q in rest), 3) for f in fmts
                )
                + " |"
            )
        lines.append(
            "| ↳ all named queries | "
            + " | ".join(_f(sum(lib[f]["median_timings_s"].values()), 3) for f in fmts)
            + " |"
        )
        lines.append("")
    lines += ["## Report rendering", ""]
    for r in results:
        rend = r.get("render")
        if not rend:
            continue
        if not rend["available"]:
            lines.append(f"- {r['events']:,} events: n/a ({rend['reason']})")
        else:
            lines.append(
                f'- {r["events"]:,} events: `render_report(doc, lang="en")` '
                f"{_f(rend['median_render_s'])} s; import + render + write "
                f"{_f(rend['median_adds_s'])} s; HTML {rend['html_bytes']:,} bytes; "
                f"process peak {_f(rend['median_peak_mb'], 0)} MB"
            )
    lines += ["", "## Same answers as pm4py", ""]
    for r in results:
        check = r.get("check")
        if not check:
            continue
        if not check["ran"]:
            lines.append(f"- {r['events']:,} events: not checked ({check['reason']})")
            continue
        for fmt, c in check["inputs"].items():
            if "dfg_edges" not in c:
                lines.append(f"- {r['events']:,} events, {fmt}: FAILED ({c.get('reason')})")
                continue
            lines.append(
                f"- {r['events']:,} events, {fmt}: {'PASS' if c['passed'] else 'FAIL'} — "
                f"DFG {c['dfg_edges']['supportflow']} edges / "
                f"{c['dfg_arc_occurrences']['supportflow']:,} arcs (pm4py "
                f"{c['dfg_edges']['pm4py']} / {c['dfg_arc_occurrences']['pm4py']:,}), "
                f"{len(c['dfg_differences'])} edge counts differ; variants "
                f"{c['variants']['supportflow']:,} (pm4py {c['variants']['pm4py']:,}); cases "
                f"{c['cases']['supportflow']:,} (pm4py {c['cases']['pm4py']:,}); events "
                f"{c['events']['supportflow']:,} (pm4py {c['events']['pm4py']:,})"
            )
            lines += [f"  - {d}" for d in c["dfg_differences"]]
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(results)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time supportflow diagnose against pm4py on replicated help-desk logs."
    )
    parser.add_argument("--sizes", default="1m,5m", help="comma-separated (default 1m,5m)")
    parser.add_argument("--with-20m", action="store_true", help="add 20M events, Parquet only")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--pm4py-repeat", type=int, default=None, help="runs of the pm4py chain (default --repeat)"
    )
    parser.add_argument(
        "--large-repeat", type=int, default=1, help="runs per measurement at 20M and more"
    )
    parser.add_argument("--skip-pm4py", action="store_true")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for the machine to be quiet",
    )
    parser.add_argument(
        "--settle-below",
        type=float,
        default=0.5,
        help="quiet = other processes use fewer cores than this (default 0.5)",
    )
    parser.add_argument("--csv-at-20m", action="store_true", help="also write and time a 20M CSV")
    parser.add_argument("--check-size", default="1m", help="size of the pm4py equality check")
    parser.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--child", nargs=3, metavar=("ROLE", "INPUT", "OUTPUT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        help="only re-render the markdown from a latest.json written by an earlier run",
    )
    args = parser.parse_args(argv)

    if args.from_json:
        raw = json.loads(args.from_json.read_text(encoding="utf-8"))
        text = markdown(raw["environment"], raw["results"], raw["command"])
        args.results_dir.mkdir(parents=True, exist_ok=True)
        (args.results_dir / "latest.md").write_text(text, encoding="utf-8")
        print(text)
        return 0

    if args.child:
        role, source, output = args.child
        result = CHILDREN[role](Path(source))
        Path(output).write_text(json.dumps(result), encoding="utf-8")
        return 0

    SETTLE.update(max_s=args.settle, below=args.settle_below)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if args.with_20m and LARGE not in sizes:
        sizes.append(LARGE)
    args.sizes_list = sorted(sizes)
    args.check_size = parse_size(args.check_size)
    args.data_dir = args.data_dir.resolve()
    work = args.data_dir / "runs"
    work.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "benchmarks/bench_diagnose.py", *sys.argv[1:]])

    env = environment()
    results = [bench_size(target, args, work) for target in args.sizes_list]
    env["loadavg_at_end"] = os.getloadavg()
    text = markdown(env, results, command)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "latest.md").write_text(text, encoding="utf-8")
    raw = {"environment": env, "command": command, "results": results}
    (args.results_dir / "latest.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    print(text)
    print(f"wrote {args.results_dir / 'latest.md'} and latest.json", file=sys.stderr)
    failed_check = any(r.get("check", {}).get("passed") is False for r in results)
    failed_run = any(s["runs_ok"] != s["runs"] for r in results for s in r["cli"].values())
    return 1 if failed_check or failed_run else 0


if __name__ == "__main__":
    sys.exit(main())
