"""What every ``supportflow`` command shares: reading a log from the command line, checking
outputs before any work is done, and failing with one line.

The log options (``--preset``, ``--case``, ``--timezone``...) are declared once here as typed
aliases, so every command that reads a log spells them, and explains them, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from supportflow.eventlog import ColumnMapping, EventLog, IngestReport, load_event_log

err = Console(stderr=True)

PresetOpt = Annotated[
    str | None, typer.Option(help="pm4py, disco, xes, servicenow, zendesk, freshdesk.")
]
CaseOpt = Annotated[str | None, typer.Option(help="Column holding the case (ticket) id.")]
ActivityOpt = Annotated[str | None, typer.Option(help="Column holding the activity.")]
TimestampOpt = Annotated[str | None, typer.Option(help="Column holding the timestamp.")]
ResourceOpt = Annotated[str | None, typer.Option(help="Column holding the agent.")]
TeamOpt = Annotated[str | None, typer.Option(help="Column holding the team or group.")]
ChannelOpt = Annotated[str | None, typer.Option(help="Column holding the channel.")]
LanguageOpt = Annotated[str | None, typer.Option(help="Column holding the language.")]
PriorityOpt = Annotated[str | None, typer.Option(help="Column holding the priority.")]
RegionOpt = Annotated[str | None, typer.Option(help="Column holding the region.")]
LifecycleOpt = Annotated[
    str | None, typer.Option(help="Column holding the lifecycle (start/complete).")
]
EncodingOpt = Annotated[
    str | None, typer.Option(help="Text encoding of a CSV (detected if omitted).")
]
TimezoneOpt = Annotated[str, typer.Option(help="IANA zone of timestamps without an offset.")]
DateOrderOpt = Annotated[
    str | None, typer.Option(help="dmy or mdy, for dates the data cannot decide.")
]
DelimiterOpt = Annotated[str | None, typer.Option(help="CSV delimiter (detected if omitted).")]
HtmlOpt = Annotated[Path | None, typer.Option(help="Write the HTML report here.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the JSON document here.")]
RejectsOpt = Annotated[Path | None, typer.Option(help="Write rejected rows here (CSV).")]
LangOpt = Annotated[str, typer.Option(help="Report language: en or zh.")]
OverwriteOpt = Annotated[bool, typer.Option(help="Replace output files that already exist.")]
StatusMapOpt = Annotated[
    str | None,
    typer.Option(
        "--status-map",
        help="YAML status map, or a preset: helpdesk, servicenow, zendesk, freshdesk "
        "(default: the preset naming most of the log's events).",
    ),
]
SlaOpt = Annotated[Path | None, typer.Option("--sla", help="YAML SLA policy (targets, calendars).")]


@dataclass(frozen=True)
class LogOptions:
    """How to read the log, as given on the command line."""

    mapping: ColumnMapping
    preset: str | None
    encoding: str | None
    timezone: str
    date_order: str | None
    delimiter: str | None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LogOptions:
        """The options of a command's parameters (its ``locals()``): the mapping flags it has
        (``--case``, ``--team``...) and how to read the file."""
        fields = ColumnMapping.__dataclass_fields__
        mapping = ColumnMapping(
            **{f: params[f] for f in fields if f != "case_id" and f in params},
            case_id=params.get("case"),
        )
        return cls(
            mapping=mapping,
            preset=params.get("preset"),
            encoding=params.get("encoding"),
            timezone=params.get("timezone", "UTC"),
            date_order=params.get("date_order"),
            delimiter=params.get("delimiter"),
        )

    def load(
        self, path: Path, *, rejects: Path, overwrite: bool, keep_attributes: bool = True
    ) -> EventLog:
        """Load ``path`` as these options say; attribute columns (CSAT, tier, category) are
        kept unless told otherwise, and an existing rejects file is replaced only with
        ``overwrite``."""
        return load_event_log(
            path,
            mapping=self.mapping,
            preset=self.preset,
            encoding=self.encoding,
            timezone=self.timezone,
            date_order=self.date_order,  # type: ignore[arg-type]  # checked by the command
            delimiter=self.delimiter,
            rejects_path=rejects,
            keep_attributes=keep_attributes,
            replace_rejects=overwrite,
        )


def prepare_outputs(
    log_path: Path, outputs: list[Path | None], *, rejects: Path | None, overwrite: bool
) -> Path:
    """Check the outputs before any work (none is the input or another output; none exists
    unless ``overwrite``) and return the rejects file's path (``<log>.rejects.csv`` beside the
    outputs by default; it is checked only when written, as only a log with rejects needs it).

    Raises:
        UsageError: an output is the input, another output, or exists.
    """
    rejects_path = rejects or default_rejects(log_path, outputs)
    check_targets(log_path, [*outputs, rejects_path])
    for target in outputs:
        check_writable(target, overwrite=overwrite)
    return rejects_path


class UsageError(Exception):
    """A problem with the command line itself (for example an output that already exists)."""


def check_writable(path: Path | None, *, overwrite: bool) -> None:
    if path is not None and path.exists() and not overwrite:
        raise UsageError(f"{path} already exists; pass --overwrite to replace it")


def print_mapping(report: IngestReport) -> None:
    table = Table(title="Column mapping", show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("column")
    table.add_column("why")
    for choice in report.mapping:
        # column names and reasons come from the user's file: never read them as markup
        table.add_row(escape(choice.field), escape(choice.column or "—"), escape(choice.reason))
    err.print(table)
    for note in report.notes:
        err.print(f"  · {escape(note)}")


def default_rejects(log_path: Path, outputs: list[Path | None]) -> Path:
    anchor = next((p for p in outputs if p is not None), None)
    folder = anchor.parent if anchor is not None else Path.cwd()
    name = log_path.name.removesuffix(".gz")
    return folder / f"{Path(name).stem}.rejects.csv"


def check_targets(log_path: Path, targets: list[Path | None]) -> None:
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


def write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def fail(message: str) -> None:
    # one line, always: a rule file with several mistakes lists them separated by "; "
    one_line = "; ".join(line for line in message.splitlines() if line.strip())
    err.print(f"[red]error:[/red] {escape(one_line)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


def check_date_order(date_order: str | None) -> None:
    """Fail unless ``--date-order`` is absent, dmy or mdy."""
    if date_order not in (None, "dmy", "mdy"):
        fail(f"--date-order must be dmy or mdy, not {date_order!r}")
