"""``supportflow kpi`` and ``supportflow monitor``: service KPIs, SLA clocks, drift and alerts.

``kpi`` writes the KPI document (JSON) and its report (HTML); ``monitor`` replays a log through
alert rules and lists when each alert fired and cleared.
"""

from __future__ import annotations

import json
import time
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
    SlaOpt,
    StatusMapOpt,
    TeamOpt,
    TimestampOpt,
    TimezoneOpt,
    UsageError,
    check_date_order,
    err,
    fail,
    prepare_outputs,
    print_mapping,
    write_text,
)
from supportflow.eventlog import EventLogError
from supportflow.kpi.compute import compute_kpis, resolve_status_map
from supportflow.kpi.monitor import AlertEpisode, replay
from supportflow.kpi.observations import MonitorError, build_observations
from supportflow.kpi.sla import compute_sla_clocks
from supportflow.kpi.tickets import build_ticket_tables, last_event_us
from supportflow.mining.engine import DuckDBEngine, MiningError
from supportflow.report.findings import derive_findings
from supportflow.rules import (
    STATUS_PRESETS,
    RulesError,
    StatusMap,
    load_status_map,
    status_preset,
)
from supportflow.rules.alerts import figure_text, load_alert_rules
from supportflow.rules.sla import SlaPolicy, load_sla_policy

KPI_EXAMPLE = (
    "Example: supportflow kpi tickets.csv --status-map servicenow --sla sla.yaml "
    "--by channel --by team --json kpi.json --html kpi.html"
)
MONITOR_EXAMPLE = (
    "Example: supportflow monitor tickets.csv --rules alerts.yaml --sla sla.yaml --json alerts.json"
)


def read_status_map(value: str | None) -> StatusMap | None:
    """``--status-map``: a preset name or a YAML file; ``None`` lets the log choose.

    Raises:
        RulesError: the file is invalid (line and field named).
    """
    if value is None:
        return None
    if value.lower() in STATUS_PRESETS:
        return status_preset(value.lower())
    if not Path(value).is_file():
        raise RulesError(
            f"--status-map {value}: no such file and no preset of that name "
            f"(presets: {', '.join(STATUS_PRESETS)})"
        )
    return load_status_map(value)


def run_kpi(
    log_path: Path,
    *,
    options: LogOptions,
    status_map: str | None,
    sla: Path | None,
    by: list[str] | None,
    html: Path | None,
    json_out: Path | None,
    rejects: Path | None,
    lang: str,
    overwrite: bool,
) -> dict[str, Any]:
    """Load the log, compute every KPI and write the outputs; return the JSON document.

    Raises:
        EventLogError, MiningError, RulesError, UsageError, ValueError: one-line messages.
    """
    if lang not in ("en", "zh"):
        raise UsageError(f"--lang must be en or zh, not {lang!r}")
    rejects_path = prepare_outputs(log_path, [html, json_out], rejects=rejects, overwrite=overwrite)
    status = read_status_map(status_map)
    policy = read_policy(sla)
    started = time.perf_counter()
    log = options.load(log_path, rejects=rejects_path, overwrite=overwrite)
    report = compute_kpis(log, status=status, sla=policy, dimensions=by or None)
    doc: dict[str, Any] = {"generator": f"supportflow {__version__}", "kpi": report.to_dict()}
    doc["findings"] = derive_findings(doc)
    if json_out is not None:
        write_text(json_out, json.dumps(doc, ensure_ascii=False, indent=1))
    if html is not None:
        from supportflow.report.html import render_report

        write_text(html, render_report(doc, lang=lang))
    print_mapping(log.report)
    _print_kpis(report.to_dict(), seconds=time.perf_counter() - started)
    return doc


def read_policy(sla: Path | None) -> SlaPolicy | None:
    """``--sla``: the SLA policy file, or ``None``.

    Raises:
        RulesError: the file is invalid (line and field named).
    """
    return None if sla is None else load_sla_policy(sla)


def _print_kpis(doc: dict[str, Any], *, seconds: float) -> None:
    status = doc["status_map"]
    err.print(
        f"{doc['tickets']:,} tickets read with the {escape(repr(status['name']))} status map "
        f"({status['chosen_by']}, naming {status['coverage']:.0%} of events) in {seconds:.2f} s"
    )
    if status["unmapped_activities"]:
        listed = ", ".join(
            f"{escape(a)} ({n:,})" for a, n in list(status["unmapped_activities"].items())[:8]
        )
        err.print(f"[yellow]activities the status map does not name: {listed}[/yellow]")
    table = Table(title="Service KPIs", header_style="bold")
    for column in ("kpi", "tickets", "mean", "median", "p90"):
        table.add_column(column)
    for row in doc["kpis"]:
        table.add_row(
            row["name"],
            f"{row['count']:,}",
            *(_fmt(row[k], row["unit"]) for k in ("mean", "median", "p90")),
        )
    err.print(table)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value:.1%}"
    if unit == "duration":
        for size, suffix in ((86400, "d"), (3600, "h"), (60, "min")):
            if value >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} s"
    return f"{value:.2f}"


def run_monitor(
    log_path: Path,
    *,
    options: LogOptions,
    rules_path: Path,
    status_map: str | None,
    sla: Path | None,
    json_out: Path | None,
    rejects: Path | None,
    overwrite: bool,
) -> list[dict[str, Any]]:
    """Replay the log through the alert rules; print and return every episode.

    Raises:
        EventLogError, MiningError, MonitorError, RulesError, UsageError: one-line messages.
    """
    rejects_path = prepare_outputs(log_path, [json_out], rejects=rejects, overwrite=overwrite)
    rules = load_alert_rules(rules_path)
    status, policy = read_status_map(status_map), read_policy(sla)
    if rules.needs_sla and policy is None:
        raise UsageError(f"{rules_path} has SLA rules: pass the SLA policy with --sla FILE")
    log = options.load(log_path, rejects=rejects_path, overwrite=overwrite)
    engine = DuckDBEngine(log.con)
    chosen, _, _ = resolve_status_map(engine, log, status)
    clock_us = last_event_us(engine)
    build_ticket_tables(engine, log, chosen, clock_us=clock_us)
    if policy is not None:
        compute_sla_clocks(engine, policy, clock_us=clock_us)
    episodes = replay(build_observations(engine, rules=rules), rules)
    documents = [episode.to_dict() for episode in episodes]
    if json_out is not None:
        write_text(json_out, json.dumps(documents, ensure_ascii=False, indent=1))
    _print_episodes(episodes, rules_count=len(rules.rules))
    return documents


def _print_episodes(episodes: list[AlertEpisode], *, rules_count: int) -> None:
    table = Table(title=f"Alerts ({rules_count} rules replayed)", header_style="bold")
    for column in (
        "fired (UTC)",
        "cleared (UTC)",
        "severity",
        "rule",
        "condition",
        "value",
        "peak",
    ):
        table.add_column(column)
    for episode in episodes:
        row = episode.to_dict()
        table.add_row(
            str(row["fired_at"])[:16].replace("T", " "),
            str(row["cleared_at"])[:16].replace("T", " ") if row["cleared_at"] else "still firing",
            episode.severity,
            escape(episode.rule),
            escape(episode.condition),
            figure_text(episode.value, episode.unit),
            figure_text(episode.peak, episode.unit),
        )
    err.print(table)


def kpi_command(
    log: Annotated[
        Path, typer.Argument(help="The event log: CSV(.gz), Parquet, XES(.gz), JSON lines.")
    ],
    status_map: StatusMapOpt = None,
    sla: SlaOpt = None,
    by: Annotated[
        list[str] | None,
        typer.Option(help="Break KPIs down by this dimension (repeatable); default: all."),
    ] = None,
    preset: PresetOpt = None,
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
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = "UTC",
    date_order: DateOrderOpt = None,
    delimiter: DelimiterOpt = None,
    html: HtmlOpt = None,
    json_out: JsonOpt = None,
    rejects: RejectsOpt = None,
    lang: LangOpt = "en",
    overwrite: OverwriteOpt = False,
) -> None:
    """Service KPIs, SLA clocks, breakdowns with outliers, and drift over time."""
    check_date_order(date_order)
    if html is None and json_out is None:
        fail("nothing to write: pass --html FILE and/or --json FILE")
    options = LogOptions.from_params(locals())
    try:
        run_kpi(
            log,
            options=options,
            status_map=status_map,
            sla=sla,
            by=by,
            html=html,
            json_out=json_out,
            rejects=rejects,
            lang=lang,
            overwrite=overwrite,
        )
    except (EventLogError, MiningError, UsageError, RulesError, ValueError) as exc:
        fail(str(exc))
    for path in (json_out, html):
        if path is not None:
            typer.echo(str(path))


def monitor_command(
    log: Annotated[
        Path, typer.Argument(help="The event log: CSV(.gz), Parquet, XES(.gz), JSON lines.")
    ],
    rules: Annotated[Path, typer.Option(help="YAML alert rules (docs/alerts.md).")],
    status_map: StatusMapOpt = None,
    sla: SlaOpt = None,
    preset: PresetOpt = None,
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
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = "UTC",
    date_order: DateOrderOpt = None,
    delimiter: DelimiterOpt = None,
    json_out: JsonOpt = None,
    rejects: RejectsOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Replay a log through alert rules and list when each alert fired and cleared."""
    check_date_order(date_order)
    options = LogOptions.from_params(locals())
    try:
        run_monitor(
            log,
            options=options,
            rules_path=rules,
            status_map=status_map,
            sla=sla,
            json_out=json_out,
            rejects=rejects,
            overwrite=overwrite,
        )
    except (EventLogError, MiningError, UsageError, RulesError, MonitorError) as exc:
        fail(str(exc))
    if json_out is not None:
        typer.echo(str(json_out))
