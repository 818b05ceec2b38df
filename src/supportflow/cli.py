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
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from supportflow import __version__
from supportflow.eventlog import ColumnMapping, EventLogError, IngestReport, load_event_log
from supportflow.eventlog.timestamps import DateOrder
from supportflow.mining import Diagnosis, diagnose
from supportflow.mining.engine import MiningError

app = typer.Typer(
    help="Process intelligence for customer-service operations.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

DEMO_CITATION = (
    "Demo log: Polato, Mirko (2017). Dataset belonging to the help desk log of an Italian "
    "Company. 4TU.ResearchData. doi:10.4121/uuid:0c60edf1-6f83-4e75-9367-4c63b3e9d5bb"
)


class UsageError(Exception):
    """A problem with the command line itself (for example an output that already exists)."""


def _check_writable(path: Path | None, *, overwrite: bool) -> None:
    if path is not None and path.exists() and not overwrite:
        raise UsageError(f"{path} already exists; pass --overwrite to replace it")


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
    """The JSON document: the diagnosis, where it came from, and the ranked findings."""
    from supportflow.report.findings import derive_findings

    doc: dict[str, Any] = diagnosis.to_dict()
    doc["generator"] = f"supportflow {__version__}"
    doc["source"] = _source_section(report)
    doc["findings"] = derive_findings(doc)
    return doc


def _print_mapping(report: IngestReport) -> None:
    table = Table(title="Column mapping", show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("column")
    table.add_column("why")
    for choice in report.mapping:
        table.add_row(choice.field, choice.column or "—", choice.reason)
    err.print(table)
    for note in report.notes:
        err.print(f"  · {note}")


def _default_rejects(log_path: Path, outputs: list[Path | None]) -> Path:
    anchor = next((p for p in outputs if p is not None), None)
    folder = anchor.parent if anchor is not None else Path.cwd()
    name = log_path.name.removesuffix(".gz")
    return folder / f"{Path(name).stem}.rejects.csv"


def _check_targets(log_path: Path, targets: list[Path | None]) -> None:
    """Refuse an output that is the input, or two outputs that are one file."""
    seen: set[Path] = {log_path.resolve()}
    for target in targets:
        if target is None:
            continue
        resolved = target.resolve()
        if resolved in seen:
            what = "the input log" if resolved == log_path.resolve() else "another output"
            raise UsageError(f"{target} is {what}; choose another file")
        seen.add(resolved)


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def run_diagnosis(
    log_path: Path,
    *,
    mapping: ColumnMapping,
    preset: str | None,
    encoding: str | None,
    timezone: str,
    date_order: DateOrder | None,
    delimiter: str | None,
    html: Path | None,
    json_out: Path | None,
    rejects: Path | None,
    lang: str,
    overwrite: bool,
    quiet: bool = False,
) -> dict[str, Any]:
    """Load, mine and write the outputs; return the JSON document.

    Raises:
        EventLogError, MiningError, UsageError: with a one-line message for the user.
    """
    if lang not in ("en", "zh"):
        raise UsageError(f"--lang must be en or zh, not {lang!r}")
    rejects_path = rejects or _default_rejects(log_path, [json_out, html])
    _check_targets(log_path, [html, json_out, rejects_path])
    # The rejects file is checked when it is written: only a log with rejects needs it.
    for target in (html, json_out):
        _check_writable(target, overwrite=overwrite)
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
        log = load_event_log(
            log_path,
            mapping=mapping,
            preset=preset,
            encoding=encoding,
            timezone=timezone,
            date_order=date_order,
            delimiter=delimiter,
            rejects_path=rejects_path,
            replace_rejects=overwrite,
        )
        progress.update(task, advance=1, description="mining")
        diagnosis = diagnose(log)
        doc = build_document(diagnosis, log.report)
        progress.update(task, advance=1, description="writing")
        if json_out is not None:
            _write_text(json_out, json.dumps(doc, ensure_ascii=False, indent=1))
        if html is not None:
            from supportflow.report.html import render_report

            _write_text(html, render_report(doc, lang=lang))
        progress.update(task, advance=1)
    if not quiet:
        _print_mapping(log.report)
        summary = doc["log"]
        err.print(
            f"{summary['events']:,} events, {summary['cases']:,} cases, "
            f"{summary['activities']} activities, {summary['variants']:,} variants "
            f"in {time.perf_counter() - started:.2f} s"
        )
        if log.report.rejected_rows:
            reasons = ", ".join(f"{n:,} {r}" for r, n in log.report.reject_reasons.items())
            err.print(
                f"[yellow]{log.report.rejected_rows:,} rows rejected ({reasons}); "
                f"written to {log.report.rejects_path}[/yellow]"
            )
    return doc


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


@app.command(
    "diagnose",
    epilog="Example: supportflow diagnose tickets.csv --preset servicenow --html out.html --json out.json",
)
def diagnose_command(
    log: Annotated[
        Path, typer.Argument(help="The event log: CSV(.gz), Parquet, XES(.gz), JSON lines.")
    ],
    preset: Annotated[
        str | None, typer.Option(help="pm4py, disco, xes, servicenow, zendesk, freshdesk.")
    ] = None,
    case: Annotated[str | None, typer.Option(help="Column holding the case (ticket) id.")] = None,
    activity: Annotated[str | None, typer.Option(help="Column holding the activity.")] = None,
    timestamp: Annotated[str | None, typer.Option(help="Column holding the timestamp.")] = None,
    resource: Annotated[str | None, typer.Option(help="Column holding the agent.")] = None,
    team: Annotated[str | None, typer.Option(help="Column holding the team or group.")] = None,
    channel: Annotated[str | None, typer.Option(help="Column holding the channel.")] = None,
    language: Annotated[str | None, typer.Option(help="Column holding the language.")] = None,
    priority: Annotated[str | None, typer.Option(help="Column holding the priority.")] = None,
    region: Annotated[str | None, typer.Option(help="Column holding the region.")] = None,
    lifecycle: Annotated[
        str | None, typer.Option(help="Column holding the lifecycle (start/complete).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of a CSV (detected if omitted).")
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="IANA zone of timestamps without an offset.")
    ] = "UTC",
    date_order: Annotated[
        str | None, typer.Option(help="dmy or mdy, for dates the data cannot decide.")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter (detected if omitted).")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON document here.")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows here (CSV).")] = None,
    lang: Annotated[str, typer.Option(help="Report language: en or zh.")] = "en",
    overwrite: Annotated[
        bool, typer.Option(help="Replace output files that already exist.")
    ] = False,
) -> None:
    """Diagnose a help desk from its event log: process map, waits, variants, rework, handovers."""
    if date_order not in (None, "dmy", "mdy"):
        _fail(f"--date-order must be dmy or mdy, not {date_order!r}")
    mapping = ColumnMapping(
        case_id=case,
        activity=activity,
        timestamp=timestamp,
        resource=resource,
        team=team,
        channel=channel,
        language=language,
        priority=priority,
        region=region,
        lifecycle=lifecycle,
    )
    if html is None and json_out is None:
        _fail("nothing to write: pass --html FILE and/or --json FILE")
    try:
        run_diagnosis(
            log,
            mapping=mapping,
            preset=preset,
            encoding=encoding,
            timezone=timezone,
            date_order=date_order,  # type: ignore[arg-type]  # checked above
            delimiter=delimiter,
            html=html,
            json_out=json_out,
            rejects=rejects,
            lang=lang,
            overwrite=overwrite,
        )
    except (EventLogError, MiningError, UsageError) as exc:
        _fail(str(exc))
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
                mapping=ColumnMapping(),
                preset="pm4py",
                encoding=None,
                timezone="UTC",
                date_order=None,
                delimiter=None,
                html=out / "report.html",
                json_out=out / "report.json",
                rejects=out / "rejects.csv",
                lang=lang,
                overwrite=True,
            )
        except (EventLogError, MiningError, UsageError) as exc:
            _fail(str(exc))
    err.print(DEMO_CITATION)
    typer.echo(str(out / "report.html"))
    typer.echo(str(out / "report.json"))


def main() -> None:
    """Entry point for ``python -m supportflow``."""
    app(prog_name="supportflow")


if __name__ == "__main__":
    main()
