"""The ``supportflow`` command.

``supportflow diagnose LOG`` reads a help-desk export, mines it and writes the JSON document and
the HTML report; ``supportflow demo`` does the same on the bundled demo log. Every error a user
can cause ends the command with a one-line reason and a non-zero exit status.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from supportflow import __version__
from supportflow.cli_kpi import KPI_EXAMPLE, MONITOR_EXAMPLE, kpi_command, monitor_command
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
from supportflow.cli_simulate import simulate_app
from supportflow.cli_staff import STAFF_EXAMPLE, staff_command
from supportflow.cli_triage import triage_app
from supportflow.eventlog import ColumnMapping, EventLogError, IngestReport
from supportflow.mining import Diagnosis, diagnose
from supportflow.mining.engine import MiningError
from supportflow.rules import RulesError

app = typer.Typer(
    help="Process intelligence for customer-service operations.",
    no_args_is_help=True,
    add_completion=False,
)

DEMO_CITATION = (
    "Demo log: Polato, Mirko (2017). Dataset belonging to the help desk log of an Italian "
    "Company. 4TU.ResearchData. doi:10.4121/uuid:0c60edf1-6f83-4e75-9367-4c63b3e9d5bb"
)


def _source_section(report: IngestReport) -> dict[str, Any]:
    return {
        "path": report.source,
        "format": report.source_format,
        "encoding": report.encoding,
        "timezone": report.timezone,
        "timestamp_format": report.timestamp_format,
        "mapping": [
            {"field": c.field, "column": c.column, "reason": c.reason} for c in report.mapping
        ],
        "notes": report.notes,
        "rows_read": report.rows_read,
        "rejects_path": report.rejects_path,
        "reject_reasons": report.reject_reasons,
    }


def build_document(diagnosis: Diagnosis, report: IngestReport) -> dict[str, Any]:
    """The JSON document: the diagnosis and where it came from (findings are added once the
    KPIs are in)."""
    doc: dict[str, Any] = diagnosis.to_dict()
    doc["generator"] = f"supportflow {__version__}"
    doc["source"] = _source_section(report)
    return doc


def run_diagnosis(
    log_path: Path,
    *,
    options: LogOptions,
    html: Path | None,
    json_out: Path | None,
    rejects: Path | None,
    lang: str,
    overwrite: bool,
    status_map: str | None = None,
    sla: Path | None = None,
    with_kpis: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """Load, mine, compute the KPIs and write the outputs; return the JSON document.

    Raises:
        EventLogError, MiningError, RulesError, UsageError: with a one-line message.
    """
    from supportflow.cli_kpi import read_policy, read_status_map
    from supportflow.kpi.compute import compute_kpis
    from supportflow.report.findings import derive_findings

    if lang not in ("en", "zh"):
        raise UsageError(f"--lang must be en or zh, not {lang!r}")
    rejects_path = prepare_outputs(log_path, [html, json_out], rejects=rejects, overwrite=overwrite)
    status, policy = read_status_map(status_map), read_policy(sla)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("reading the event log", total=3)
        # the KPIs read CSAT, tier and category columns; the diagnosis alone does not
        log = options.load(
            log_path, rejects=rejects_path, overwrite=overwrite, keep_attributes=with_kpis
        )
        progress.update(task, advance=1, description="mining")
        diagnosis = diagnose(log)
        doc = build_document(diagnosis, log.report)
        if with_kpis:
            progress.update(task, description="service KPIs")
            doc["kpi"] = compute_kpis(log, status=status, sla=policy).to_dict()
        doc["findings"] = derive_findings(doc)
        progress.update(task, advance=1, description="writing")
        if json_out is not None:
            write_text(json_out, json.dumps(doc, ensure_ascii=False, indent=1))
        if html is not None:
            from supportflow.report.html import render_report

            write_text(html, render_report(doc, lang=lang))
        progress.update(task, advance=1)
    if not quiet:
        print_mapping(log.report)
        summary = doc["log"]
        err.print(
            f"{summary['events']:,} events, {summary['cases']:,} cases, "
            f"{summary['activities']} activities, {summary['variants']:,} variants "
            f"in {time.perf_counter() - started:.2f} s"
        )
        if log.report.rejected_rows:
            reasons = ", ".join(f"{n:,} {r}" for r, n in log.report.reject_reasons.items())
            err.print(
                f"[yellow]{log.report.rejected_rows:,} rows rejected ({escape(reasons)}); "
                f"written to {escape(str(log.report.rejects_path))}[/yellow]"
            )
    return doc


@app.command(
    "diagnose",
    epilog="Example: supportflow diagnose tickets.csv --preset servicenow --html out.html --json out.json",
)
def diagnose_command(
    log: Annotated[
        Path, typer.Argument(help="The event log: CSV(.gz), Parquet, XES(.gz), JSON lines.")
    ],
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
    status_map: StatusMapOpt = None,
    sla: SlaOpt = None,
    kpi: Annotated[
        bool, typer.Option("--kpi/--no-kpi", help="Include service KPIs, SLA and drift.")
    ] = True,
) -> None:
    """Diagnose a help desk from its event log: process map, waits, variants, rework, handovers,
    service KPIs, SLA attainment and drift."""
    check_date_order(date_order)
    options = LogOptions.from_params(locals())
    if html is None and json_out is None:
        fail("nothing to write: pass --html FILE and/or --json FILE")
    try:
        run_diagnosis(
            log,
            options=options,
            html=html,
            json_out=json_out,
            rejects=rejects,
            lang=lang,
            overwrite=overwrite,
            status_map=status_map,
            sla=sla,
            with_kpis=kpi,
        )
    except (EventLogError, MiningError, UsageError, RulesError) as exc:
        fail(str(exc))
    for path in (json_out, html):
        if path is not None:
            typer.echo(str(path))


@app.command(epilog="Example: supportflow demo --out demo --lang zh")
def demo(
    out: Annotated[Path, typer.Option(help="Folder for report.html and report.json.")] = Path(
        "supportflow-demo"
    ),
    lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
) -> None:
    """Diagnose the bundled demo help-desk log and write report.html and report.json."""
    demo_log = resources.files("supportflow") / "data" / "helpdesk.csv.gz"
    with resources.as_file(demo_log) as log_path:
        try:
            run_diagnosis(
                log_path,
                options=LogOptions(
                    mapping=ColumnMapping(),
                    preset="pm4py",
                    encoding=None,
                    timezone="UTC",
                    date_order=None,
                    delimiter=None,
                ),
                html=out / "report.html",
                json_out=out / "report.json",
                rejects=out / "rejects.csv",
                lang=lang,
                overwrite=True,
            )
        except (EventLogError, MiningError, UsageError, RulesError) as exc:
            fail(str(exc))
    err.print(DEMO_CITATION)
    typer.echo(str(out / "report.html"))
    typer.echo(str(out / "report.json"))


app.command("kpi", epilog=KPI_EXAMPLE)(kpi_command)
app.command("monitor", epilog=MONITOR_EXAMPLE)(monitor_command)
app.command("staff", epilog=STAFF_EXAMPLE)(staff_command)
app.add_typer(simulate_app, name="simulate")
app.add_typer(triage_app, name="triage")


def main() -> None:
    """Entry point for ``python -m supportflow``."""
    app(prog_name="supportflow")


if __name__ == "__main__":
    main()
