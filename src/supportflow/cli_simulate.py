"""``supportflow simulate``: learn a desk from a log, and ask what-if before changing anything.

``simulate calibrate LOG --out scenario.yaml`` writes the scenario an event log implies;
``simulate run scenario.yaml [--what-if overlay.yaml]`` runs replications of it (and of the
overlay, with the same seeds) and reports every KPI with its 95 % confidence interval.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from supportflow import __version__
from supportflow.cli_options import (
    ActivityOpt,
    CaseOpt,
    ChannelOpt,
    DateOrderOpt,
    DelimiterOpt,
    EncodingOpt,
    HtmlOpt,
    JsonOpt,
    LangOpt,
    LanguageOpt,
    LifecycleOpt,
    LogOptions,
    OverwriteOpt,
    PresetOpt,
    PriorityOpt,
    RegionOpt,
    RejectsOpt,
    ResourceOpt,
    TeamOpt,
    TimestampOpt,
    TimezoneOpt,
    UsageError,
    check_date_order,
    check_targets,
    check_writable,
    err,
    fail,
    prepare_outputs,
    print_mapping,
    write_text,
)
from supportflow.eventlog import EventLogError
from supportflow.mining.engine import MiningError
from supportflow.rules import RulesError
from supportflow.rules.durations import parse_duration

SIMULATE_EXAMPLE = (
    "Example: supportflow simulate calibrate tickets.csv --out desk.yaml && "
    "supportflow simulate run desk.yaml --what-if peak.yaml --replications 20 --seed 1 "
    "--json sim.json --html sim.html"
)

simulate_app = typer.Typer(
    help="Simulate the desk: calibrate a scenario from a log, then run what-ifs.",
    no_args_is_help=True,
    add_completion=False,
)


@simulate_app.command("calibrate", epilog=SIMULATE_EXAMPLE)
def calibrate_command(
    log_path: Annotated[Path, typer.Argument(metavar="LOG", help="The event log to learn from.")],
    out: Annotated[Path, typer.Option(help="Write the scenario YAML here.")],
    window: Annotated[
        str,
        typer.Option(
            help="Learn from the cases that started in this last period (26w), 'all', or "
            "'auto': the window a backtest on the log's last 20 % of cases scores best."
        ),
    ] = "auto",
    case: CaseOpt = None,
    activity: ActivityOpt = None,
    timestamp: TimestampOpt = None,
    resource: ResourceOpt = None,
    team: TeamOpt = None,
    channel: ChannelOpt = None,
    language: LanguageOpt = None,
    priority: PriorityOpt = None,
    region: RegionOpt = None,
    lifecycle: LifecycleOpt = None,
    preset: PresetOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = "UTC",
    date_order: DateOrderOpt = None,
    delimiter: DelimiterOpt = None,
    rejects: RejectsOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Learn arrivals, mix, paths, service times, delays, open hours and agents from a log."""
    from supportflow.simulate.calibrate import calibrate_auto, calibrate_log
    from supportflow.simulate.scenario import dump_scenario

    check_date_order(date_order)
    options = LogOptions.from_params(locals())
    try:
        choice = window.strip().lower()
        window_s = None if choice in ("all", "auto") else parse_duration(window)
        rejects_path = prepare_outputs(log_path, [out], rejects=rejects, overwrite=overwrite)
        log = options.load(log_path, rejects=rejects_path, overwrite=overwrite)
        if choice == "auto":
            result = calibrate_auto(log)
        else:
            result = calibrate_log(log, window_s=window_s, arrival_window_s=window_s)
        header = "".join(f"# {line}\n" for line in _header(log_path, result.notes))
        dump_scenario(result.scenario, out, header=header)
    except (EventLogError, MiningError, UsageError, RulesError, ValueError) as exc:
        fail(str(exc))
    print_mapping(log.report)
    for note in result.notes:
        err.print(f"  · {escape(note)}")
    typer.echo(str(out))


def _header(log_path: Path, notes: list[str]) -> list[str]:
    return [
        f"Scenario calibrated by supportflow {__version__} from {log_path.name}.",
        *notes,
        "Edit it, or write a what-if overlay; docs/simulation.md describes every field.",
    ]


@simulate_app.command("run", epilog=SIMULATE_EXAMPLE)
def run_command(
    scenario_path: Annotated[
        Path, typer.Argument(metavar="SCENARIO", help="The scenario YAML (from calibrate).")
    ],
    what_if: Annotated[
        list[Path] | None,
        typer.Option(
            help="A YAML overlay on the scenario: the change to try (repeat to stack overlays)."
        ),
    ] = None,
    replications: Annotated[int, typer.Option(min=1, max=1000, help="Runs per scenario.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the whole experiment.")] = 1,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: all cores).")
    ] = None,
    plan: Annotated[
        bool,
        typer.Option(
            help="With --what-if: find the hours it breaks and the agents per hour that fix "
            "them (Erlang C, checked by simulation)."
        ),
    ] = False,
    plan_out: Annotated[
        Path | None, typer.Option(help="Write the fix as a what-if overlay YAML here.")
    ] = None,
    log_out: Annotated[
        Path | None,
        typer.Option(
            help="Write the first replication's simulated event log (of the what-if, if given) "
            "here, as .csv or .parquet: `supportflow diagnose` and `kpi` read it like any log."
        ),
    ] = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    lang: LangOpt = "en",
    overwrite: OverwriteOpt = False,
) -> None:
    """Run replications of the scenario (and the what-if, with the same seeds) and compare
    every KPI with its 95 % confidence interval."""
    from supportflow.simulate.experiment import compare
    from supportflow.simulate.scenario import load_scenario

    try:
        if lang not in ("en", "zh"):
            raise UsageError(f"--lang must be en or zh, not {lang!r}")
        if (plan or plan_out is not None) and not what_if:
            raise UsageError("--plan needs a --what-if to plan for")
        check_targets(scenario_path, [*(what_if or []), json_out, html, plan_out, log_out])
        if log_out is not None and log_out.suffix.lower() not in (".csv", ".parquet"):
            raise UsageError(f"--log-out {log_out}: name a .csv or .parquet file")
        for target in (json_out, html, plan_out, log_out):
            check_writable(target, overwrite=overwrite)
        baseline = load_scenario(scenario_path)
        scenario = load_scenario(scenario_path, *what_if) if what_if else None
        cores = workers or os.cpu_count() or 1
        result = compare(baseline, scenario, replications=replications, seed=seed, workers=cores)
        doc: dict[str, Any] = {
            "generator": f"supportflow {__version__}",
            "scenario": str(scenario_path),
            "what_if": " + ".join(str(p) for p in what_if) if what_if else None,
            "zone": baseline.zone,
            "targets": baseline.targets.model_dump(mode="json"),
            **result.to_dict(),
        }
        if scenario is not None and (plan or plan_out is not None):
            doc["staffing"], fixed = _plan(scenario, result, replications, seed, cores)
            if plan_out is not None:
                write_text(plan_out, _overlay_text(fixed, scenario))
        if log_out is not None:
            _write_log(scenario or baseline, seed, log_out)
        if json_out is not None:
            write_text(json_out, json.dumps(doc, ensure_ascii=False, indent=1))
        if html is not None:
            from supportflow.report.simulation import render_simulation

            write_text(html, render_simulation(doc, lang=lang))
    except (UsageError, RulesError, ValueError) as exc:
        fail(str(exc))
    _print_comparison(doc)
    if doc.get("staffing") is not None:
        _print_plan(doc["staffing"], zone=doc["zone"])
    for target in (json_out, html, plan_out, log_out):
        if target is not None:
            typer.echo(str(target))


def _write_log(scenario: Any, seed: int, path: Path) -> None:
    """The event log of the experiment's first replication, in the canonical columns."""
    from supportflow.simulate.engine import simulate
    from supportflow.simulate.experiment import seeds_for

    table = simulate(scenario, seed=seeds_for(seed, 1)[0]).to_arrow()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, path)
        else:
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _plan(
    scenario: Any, result: Any, replications: int, seed: int, workers: int
) -> tuple[list[dict[str, Any]], Any]:
    from dataclasses import asdict

    from supportflow.simulate.peaks import plan_peak

    plans, fixed = plan_peak(
        scenario, result.what_if_runs, replications=replications, seed=seed, workers=workers
    )
    return [asdict(p) for p in plans], fixed


def _overlay_text(fixed: Any, scenario: Any) -> str:
    import yaml

    added = [g for g in fixed.agents if g not in scenario.agents]
    groups = [g.model_dump(mode="json", exclude_defaults=True, exclude_none=True) for g in added]
    return (
        "# Temporary agents that fix the hours the what-if breaks (supportflow simulate run "
        "--plan).\n# Apply on top of the what-if: every listed group works only in its hour.\n"
        + yaml.safe_dump({"agents": groups}, sort_keys=False, allow_unicode=True)
    )


def _print_plan(rows: list[dict[str, Any]], *, zone: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not rows:
        err.print("  · the what-if breaks no open hour: no extra agents needed")
        return
    table = Table(
        title="Hours the what-if breaks, and the agents that fix them", header_style="bold"
    )
    for column in ("hour", "tickets", "met", "scheduled", "needed", "extra", "met with extra"):
        table.add_column(column)
    for row in rows:
        local = datetime.fromtimestamp(row["hour_start_s"], ZoneInfo(zone))
        fixed = row["attainment_fixed"]
        table.add_row(
            local.strftime("%a %d %b %H:%M"),
            f"{row['arrivals']:.1f}",
            f"{row['attainment']:.0%}",
            str(row["agents_scheduled"]),
            str(row["agents_needed"]),
            f"+{row['extra_agents']}",
            "—" if fixed is None else f"{fixed:.0%}",
        )
    err.print(table)


def _fmt(value: float | None, name: str) -> str:
    if value is None:
        return "—"
    if name.endswith("_s"):
        return _duration(value)
    if name in ("tickets",):
        return f"{value:,.0f}"
    return f"{value:.1%}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _print_comparison(doc: dict[str, Any]) -> None:
    table = Table(
        title=f"{doc['replications']} replications, 95 % confidence intervals", header_style="bold"
    )
    columns = ["KPI", "baseline"]
    if doc["what_if"] is not None:
        columns.append("what-if")
    for column in columns:
        table.add_column(column)
    for name, sides in doc["kpis"].items():
        cells = []
        for side in ("baseline", "scenario")[: len(columns) - 1]:
            value = sides[side]
            if value["mean"] is None:
                cells.append("—")
                continue
            cells.append(
                f"{_fmt(value['mean'], name)} "
                f"[{_fmt(value['ci_low'], name)}, {_fmt(value['ci_high'], name)}]"
            )
        table.add_row(name, *cells)
    err.print(table)
    perf = doc["performance"]
    err.print(
        f"  · {perf['events']:,.0f} events in {perf['compute_seconds']:.1f} s of simulation "
        f"({perf['events_per_s']:,.0f} events/s)"
    )
