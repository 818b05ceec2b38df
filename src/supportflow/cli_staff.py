"""``supportflow staff``: agents needed per interval, from a forecast or a single figure."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from supportflow import __version__
from supportflow.cli_options import UsageError, check_writable, err, fail, write_text
from supportflow.eventlog import EventLogError
from supportflow.simulate.staffing import (
    IntervalStaffing,
    arrivals_by_week_slot,
    parse_target,
    staff_intervals,
)

STAFF_EXAMPLE = (
    "Example: supportflow staff --arrivals forecast.csv --aht 300 --target 80/20 "
    "--shrinkage 0.3 --json staff.json"
)


def read_forecast(path: Path) -> list[tuple[str, float]]:
    """``interval,arrivals`` rows (a header first; the first two columns are read).

    Raises:
        UsageError: the file is missing, empty, or a count is not a number ≥ 0 (line named).
    """
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    if len(rows) < 2:
        raise UsageError(f"{path}: expected a header and at least one interval,arrivals row")
    forecast = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise UsageError(f"{path}:{line}: expected interval,arrivals, got {row!r}")
        try:
            count = float(row[1])
        except ValueError:
            raise UsageError(f"{path}:{line}: arrivals {row[1]!r} is not a number") from None
        if count < 0 or count != count or count == float("inf"):
            raise UsageError(f"{path}:{line}: arrivals must be a finite number ≥ 0, not {row[1]}")
        forecast.append((row[0].strip(), count))
    return forecast


def _forecast_from_log(path: Path, *, timezone: str, minutes: float) -> list[tuple[str, float]]:
    """Average arrivals per slot of the week in the event log at ``path``."""
    from supportflow.eventlog import load_event_log

    event_log = load_event_log(path, timezone=timezone)
    return arrivals_by_week_slot(event_log.con, timezone=timezone, interval_minutes=minutes)


def staff_command(
    aht: Annotated[float, typer.Option(help="Average handling time, in seconds.")],
    arrivals: Annotated[
        Path | None, typer.Option(help="CSV forecast: interval,arrivals per row.")
    ] = None,
    calls: Annotated[
        float | None, typer.Option(help="Arrivals in one interval (instead of --arrivals).")
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(help="An event log: arrivals are its average tickets per slot of the week."),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="Zone of the log's naive times, and of the week's slots.")
    ] = "UTC",
    interval_minutes: Annotated[float, typer.Option(help="Length of each interval.")] = 30.0,
    target: Annotated[
        str, typer.Option(help="80/20 (80 % answered within 20 s) or asa:30 (average wait).")
    ] = "80/20",
    max_occupancy: Annotated[
        float | None, typer.Option(help="Keep occupancy at most this share, e.g. 0.85.")
    ] = None,
    shrinkage: Annotated[
        float, typer.Option(help="Share of paid time off the queue (breaks, training).")
    ] = 0.0,
    patience: Annotated[
        float | None,
        typer.Option(help="Customers' average patience in seconds: Erlang A (they abandon)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the plan as JSON here.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option(help="Write the plan as an HTML page with its charts.")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the HTML page: en or zh.")] = "en",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Agents needed per interval (Erlang C, or Erlang A with --patience) for a service-level
    or average-wait target."""
    try:
        if sum(x is not None for x in (arrivals, calls, log)) != 1:
            raise UsageError(
                "give the arrivals one way: --arrivals FILE, --calls N or --log EVENTLOG"
            )
        if lang not in ("en", "zh"):
            raise UsageError(f"--lang must be en or zh, not {lang!r}")
        check_writable(json_out, overwrite=overwrite)
        check_writable(html, overwrite=overwrite)
        if log is not None:
            forecast = _forecast_from_log(log, timezone=timezone, minutes=interval_minutes)
        elif arrivals is not None:
            forecast = read_forecast(arrivals)
        else:
            forecast = [("1", float(calls or 0))]
        goal = parse_target(target, max_occupancy=max_occupancy)
        plan = staff_intervals(
            forecast,
            interval_s=interval_minutes * 60,
            aht_s=aht,
            target=goal,
            shrinkage=shrinkage,
            patience_s=patience,
        )
    except (UsageError, ValueError, EventLogError) as exc:
        fail(str(exc))
    doc: dict[str, Any] = {
        "schema_version": "1.0",
        "generator": f"supportflow {__version__}",
        "model": "erlang_c" if patience is None else "erlang_a",
        "patience_s": patience,
        "aht_s": aht,
        "interval_s": interval_minutes * 60,
        "target": target,
        "max_occupancy": max_occupancy,
        "shrinkage": shrinkage,
        "peak_agents": max((row.agents for row in plan), default=0),
        "intervals": [row.__dict__ for row in plan],
    }
    try:
        if json_out is not None:
            write_text(json_out, json.dumps(doc, indent=1))
        if html is not None:
            from supportflow.report.simulation import render_staffing

            write_text(html, render_staffing(doc, lang=lang))
    except UsageError as exc:
        fail(str(exc))
    _print_plan(plan, model=doc["model"])
    for written in (json_out, html):
        if written is not None:
            typer.echo(str(written))


def _print_plan(plan: list[IntervalStaffing], *, model: str) -> None:
    name = "Erlang C" if model == "erlang_c" else "Erlang A"
    table = Table(title=f"Agents needed ({name})", header_style="bold")
    columns = ["interval", "arrivals", "agents", "on queue", "service level", "ASA", "occupancy"]
    for column in [*columns, *(["abandon"] if model == "erlang_a" else [])]:
        table.add_column(column)
    for row in plan:
        table.add_row(
            escape(row.interval),
            f"{row.arrivals:g}",
            str(row.agents),
            str(row.agents_on_queue),
            "—" if row.service_level is None else f"{row.service_level:.1%}",
            f"{row.asa_s:.1f} s",
            f"{row.occupancy:.1%}",
            *([f"{row.abandon_share:.1%}"] if row.abandon_share is not None else []),
        )
    err.print(table)
