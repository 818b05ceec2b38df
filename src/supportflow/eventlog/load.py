"""Loading an export into the canonical event log, in DuckDB.

``load_event_log`` reads a file once into a DuckDB table and exposes the canonical columns as
the view ``events`` (``case_id, activity, ts, seq, resource, team, ...``), with ``ts`` in UTC
epoch microseconds and ``seq`` the row's source position. Rows that cannot be events (no case
id, no activity, a timestamp that does not parse, a CSV line with the wrong number of fields)
are not dropped silently: they are counted, given a reason, and written to a rejects file.
"""

from __future__ import annotations

import codecs
import gzip
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from supportflow.eventlog.automap import resolve_mapping
from supportflow.eventlog.errors import EmptyFileError, EncodingError, EventLogError
from supportflow.eventlog.presets import Preset, get_preset
from supportflow.eventlog.rejects import collect_rejects
from supportflow.eventlog.schema import OPTIONAL_FIELDS, ColumnMapping, IngestReport
from supportflow.eventlog.sniff import detect_encoding, read_head, sniff_format
from supportflow.eventlog.sources import get_converter
from supportflow.eventlog.sql import identifier, literal, scalar
from supportflow.eventlog.timestamps import (
    DateOrder,
    TimestampFormat,
    detect_timestamp_format,
    order_probe_sql,
    parse_sql,
)

# Encodings DuckDB's CSV reader decodes itself; anything else is transcoded to UTF-8 first.
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "ascii": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}
_SAMPLE_ROWS = 5000
# DuckDB's own budget; the process peaks a few hundred MB above it. Beyond it, DuckDB spills to
# a temporary directory, which is how logs larger than memory complete.
DEFAULT_MEMORY_LIMIT = "1GB"
_EARLIEST_US = -2_208_988_800_000_000  # 1900-01-01T00:00Z
_LATEST_US = 7_258_118_400_000_000  # 2200-01-01T00:00Z


@dataclass
class EventLog:
    """A loaded event log: a DuckDB connection holding the ``events`` view, and the ingest report."""

    con: duckdb.DuckDBPyConnection
    report: IngestReport
    mapping: ColumnMapping
    timezone: str

    def has(self, field: str) -> bool:
        """Whether the canonical optional ``field`` (e.g. ``team``) was mapped to a column."""
        return self.mapping.as_dict().get(field) is not None


def connect(
    *, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up for event logs: spills to a temporary directory beyond
    ``memory_limit`` and keeps insertion order, which ``seq`` relies on."""
    limit = memory_limit or os.environ.get("SUPPORTFLOW_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = {literal(limit)}")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/supportflow-duckdb'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def load_event_log(
    path: str | Path,
    *,
    mapping: ColumnMapping | None = None,
    preset: str | None = None,
    encoding: str | None = None,
    timezone: str = "UTC",
    date_order: DateOrder | None = None,
    delimiter: str | None = None,
    rejects_path: str | Path | None = None,
    keep_attributes: bool = False,
    replace_rejects: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> EventLog:
    """Read the export at ``path`` into the canonical event log.

    Args:
        mapping: columns named by the user; they win over the preset and auto-detection.
        preset: a name from :data:`supportflow.eventlog.presets.PRESETS`.
        encoding: the text encoding of a CSV; detected when not given.
        timezone: the IANA zone naive timestamps are read in (offsets always win).
        date_order: ``dmy`` or ``mdy`` for numeric dates the data cannot decide itself.
        rejects_path: where to write rejected rows (CSV); only written when some were rejected.
        replace_rejects: whether an existing file at ``rejects_path`` may be replaced.
        keep_attributes: keep every other source column as it came (as ``attributes`` columns).

    Raises:
        EventLogError: with a one-line message for an empty, binary or undecodable file, a
            missing column or an undecidable timestamp format.
    """
    source = Path(path)
    if not source.is_file():
        raise EventLogError(f"{source}: no such file")
    chosen_preset = get_preset(preset) if preset else None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise EventLogError(
            f"unknown time zone {timezone!r}; use an IANA name such as UTC or Europe/Rome"
        ) from exc
    con = con or connect()
    con.execute(f"SET TimeZone = {literal(timezone)}")
    head, gzipped = read_head(source)
    source_format = sniff_format(source, head)
    report = IngestReport(
        source=str(source),
        source_format=source_format + (".gz" if gzipped else ""),
        encoding=None,
        timezone=timezone,
        timestamp_format="",
    )
    malformed = _register_source(
        con,
        source,
        source_format,
        head,
        encoding,
        delimiter,
        chosen_preset,
        report,
        gzipped=gzipped,
    )
    # DESCRIBE makes DuckDB sniff a CSV again, so it is asked once.
    schema = con.execute("DESCRIBE SELECT * FROM src").fetchall()
    columns = [row[0] for row in schema]
    types = {row[0]: row[1] for row in schema}
    resolved, choices = resolve_mapping(columns, explicit=mapping, preset=chosen_preset)
    report.mapping = choices
    null_tokens = chosen_preset.null_tokens if chosen_preset else ()
    ts_column = resolved.timestamp
    assert ts_column is not None  # resolve_mapping raised otherwise
    try:
        ts_format = _detect_format(
            con,
            ts_column,
            types[ts_column],
            null_tokens,
            date_order or (chosen_preset.date_order if chosen_preset else None),
        )
    except EventLogError as exc:
        raise type(exc)(f"{source}: {exc}") from exc
    report.timestamp_format = ts_format.describe()
    report.notes.append(ts_format.explanation)
    if not ts_format.has_offset and ts_format.kind in ("iso", "strptime", "native"):
        report.notes.append(f"timestamps without an offset were read as {timezone} local time")

    zone_is_utc = timezone.upper() in ("UTC", "ETC/UTC", "Z")
    _stage(
        con,
        resolved,
        columns,
        types,
        ts_format,
        null_tokens,
        keep_attributes,
        zone_is_utc=zone_is_utc,
    )
    if resolved.lifecycle is not None:
        _keep_completions(con, report)
    if not zone_is_utc and not ts_format.has_offset:
        _note_repeated_hour(con, report, timezone)
    collect_rejects(
        con,
        malformed_possible=malformed,
        report=report,
        rejects_path=rejects_path,
        replace_existing=replace_rejects,
    )
    report.events = int(scalar(con, "SELECT count(*) FROM events"))
    if report.events == 0:
        raise EmptyFileError(
            f"{source}: no usable events: all {report.rows_read} rows were rejected"
            + (f" (see {report.rejects_path})" if report.rejects_path else "")
        )
    return EventLog(con=con, report=report, mapping=resolved, timezone=timezone)


def _register_source(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    source_format: str,
    head: bytes,
    encoding: str | None,
    delimiter: str | None,
    preset: Preset | None,
    report: IngestReport,
    *,
    gzipped: bool,
) -> bool:
    """Create the view ``src`` over the source; return whether CSV line errors may be stored."""
    path_sql = literal(str(source))
    if preset is not None and preset.converter_name is not None:
        _insert_batches(con, get_converter(preset.converter_name)(source))
        return False
    if source_format == "parquet":
        con.execute(f"CREATE OR REPLACE VIEW src AS SELECT * FROM read_parquet({path_sql})")
        return False
    if source_format == "xes":
        _insert_batches(con, get_converter("xes")(source))
        return False
    if source_format in ("jsonl", "json"):
        kind = "newline_delimited" if source_format == "jsonl" else "auto"
        try:
            con.execute(
                f"CREATE OR REPLACE VIEW src AS SELECT * FROM read_json({path_sql}, format='{kind}',"
                " records=true)"
            )
        except duckdb.Error as exc:
            raise EventLogError(f"{source}: cannot read as JSON records: {exc}") from exc
        return False
    detected = detect_encoding(source, head, encoding)
    report.encoding = detected
    csv_path = source
    if detected not in _DUCKDB_ENCODINGS:
        # Python's BOM-aware "utf-16" reads big-endian files too.
        csv_path = _transcode_to_utf8(source, "utf-16" if detected == "utf-16-be" else detected)
        gzipped = False
        report.notes.append(
            f"decoded from {detected} to UTF-8"
            + ("" if encoding else " (detected; override with --encoding)")
        )
    options = [
        "header=true",
        "all_varchar=true",
        "store_rejects=true",
        f"encoding={literal(_DUCKDB_ENCODINGS.get(detected, 'utf-8'))}",
        "sample_size=20480",
    ]
    if gzipped:  # told explicitly: the file's name need not end in .gz
        options.append("compression='gzip'")
    if delimiter is not None:
        options.append(f"delim={literal(delimiter)}")
    try:
        # Creating the view binds it, so a file DuckDB cannot sniff fails here, with its reason.
        con.execute(
            f"CREATE OR REPLACE VIEW src AS SELECT * FROM read_csv({literal(str(csv_path))}, "
            + ", ".join(options)
            + ")"
        )
    except duckdb.Error as exc:
        raise EventLogError(f"{source}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
    return True


def _insert_batches(con: duckdb.DuckDBPyConnection, batches: Any) -> None:
    """Insert record batches, in order, into the table ``src_rows``; add columns as they appear."""
    known: list[str] = []
    created = False
    for batch in batches:
        if not created:
            con.register("batch_in", batch)
            con.execute("CREATE TABLE src_rows AS SELECT * FROM batch_in")
            known = list(batch.schema.names)
            created = True
        else:
            for name in batch.schema.names:
                if name not in known:
                    con.execute(f"ALTER TABLE src_rows ADD COLUMN {identifier(name)} VARCHAR")
                    known.append(name)
            con.register("batch_in", batch)
            con.execute("INSERT INTO src_rows BY NAME SELECT * FROM batch_in")
        con.unregister("batch_in")
    if not created:
        raise EmptyFileError("the file holds no events")
    con.execute("CREATE OR REPLACE VIEW src AS SELECT * FROM src_rows")


def _transcode_to_utf8(source: Path, encoding: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="supportflow-")) / (source.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with source.open("rb") as raw_head:
        gzipped = raw_head.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    offset = 0
    with opener(source, "rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := raw.read(1 << 20):
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                raise EncodingError(
                    f"{source}: byte {offset + exc.start} is not valid {encoding} ({exc.reason}); "
                    "name the right one with --encoding"
                ) from exc
            offset += len(chunk)
        out.write(decoder.decode(b"", final=True))
    return target


def _clean(column: str, null_tokens: tuple[str, ...]) -> str:
    """SQL: the column as text, surrounding spaces trimmed, empty or null-token values NULL."""
    text = f"CAST({identifier(column)} AS VARCHAR)"
    # Trimming every value costs more than checking its ends; only padded values are trimmed.
    expr = (
        f"NULLIF(CASE WHEN starts_with({text}, ' ') OR ends_with({text}, ' ') "
        f"THEN trim({text}) ELSE {text} END, '')"
    )
    for token in null_tokens:
        expr = f"NULLIF({expr}, {literal(token)})"
    return expr


def _detect_format(
    con: duckdb.DuckDBPyConnection,
    column: str,
    column_type: str,
    null_tokens: tuple[str, ...],
    date_order: DateOrder | None,
) -> TimestampFormat:
    if column_type.upper().startswith(("TIMESTAMP", "DATE")):
        return TimestampFormat(
            kind="native", explanation=f"column {column!r} is typed {column_type}"
        )
    cleaned = _clean(column, null_tokens)
    samples = [
        r[0]
        for r in con.execute(
            f"SELECT {cleaned} AS v FROM src WHERE v IS NOT NULL LIMIT {_SAMPLE_ROWS}"
        ).fetchall()
    ]
    if not samples and not con.execute("SELECT 1 FROM src LIMIT 1").fetchall():
        raise EmptyFileError("the file has a header but no rows")
    try:
        return detect_timestamp_format(samples, column=column, date_order=date_order)
    except EventLogError:
        if date_order is not None:
            raise
    # Day/month-first with no deciding value in the sample: look at the whole column.
    first_max, second_max = con.execute(f"SELECT {order_probe_sql(cleaned)} FROM src").fetchall()[0]
    return detect_timestamp_format(
        samples,
        column=column,
        first_parts_max=first_max or 0,
        second_parts_max=second_max or 0,
    )


def _stage(
    con: duckdb.DuckDBPyConnection,
    mapping: ColumnMapping,
    columns: list[str],
    types: dict[str, str],
    ts_format: TimestampFormat,
    null_tokens: tuple[str, ...],
    keep_attributes: bool,
    zone_is_utc: bool,
) -> None:
    """Create ``staged`` (every source row, canonical columns) and the ``events`` view over its
    valid rows. ``rowid`` of ``staged`` is the source order."""
    ts_column = mapping.timestamp
    assert ts_column is not None and mapping.case_id is not None and mapping.activity is not None
    select = [
        f"{_clean(mapping.case_id, null_tokens)} AS case_id",
        f"{_clean(mapping.activity, null_tokens)} AS activity",
        f"{parse_sql(identifier(ts_column), ts_format, types[ts_column], zone_is_utc=zone_is_utc)} AS ts_parsed",
        f"{identifier(ts_column)} AS ts_raw",
    ]
    optional = mapping.as_dict()
    for field in OPTIONAL_FIELDS:
        column = optional[field]
        if column is not None:
            select.append(f"{_clean(column, null_tokens)} AS {field}")
    used = {c for c in optional.values() if c is not None}
    if keep_attributes:
        for column in columns:
            if column not in used:
                select.append(f"{identifier(column)} AS {identifier('attr:' + column)}")
    inner = ", ".join(select)
    # An instant outside 1900-2199 is a misread value (a wrong epoch unit, a typo), not a
    # ticket event: it is rejected rather than allowed to stretch every duration.
    in_range = f"ts_parsed BETWEEN {_EARLIEST_US} AND {_LATEST_US}"
    con.execute(
        "CREATE OR REPLACE TABLE staged AS SELECT * EXCLUDE (ts_raw, ts_parsed), "
        f"CASE WHEN {in_range} THEN ts_parsed END AS ts, "
        f"CASE WHEN ts_parsed IS NOT NULL AND NOT ({in_range}) THEN true END AS ts_out_of_range, "
        f"CASE WHEN ts_parsed IS NULL OR NOT ({in_range}) "
        f"THEN {_clean('ts_raw', null_tokens)} END AS ts_text "
        f"FROM (SELECT {inner} FROM src)"
    )
    _create_events_view(con, only_completions=False)


def _create_events_view(con: duckdb.DuckDBPyConnection, *, only_completions: bool) -> None:
    completions = (
        " AND (lifecycle IS NULL OR lower(lifecycle) = 'complete')" if only_completions else ""
    )
    con.execute(
        "CREATE OR REPLACE VIEW events AS SELECT * EXCLUDE (ts_text, ts_out_of_range), "
        "rowid AS seq FROM staged "
        "WHERE case_id IS NOT NULL AND activity IS NOT NULL AND ts IS NOT NULL" + completions
    )


def _note_repeated_hour(con: duckdb.DuckDBPyConnection, report: IngestReport, zone: str) -> None:
    """Count local times that happen twice (the hour repeated when clocks go back): without an
    offset they cannot be told apart, and DuckDB reads them as the later one."""
    local = "CAST(make_timestamptz({}) AS TIMESTAMP)"
    repeated = scalar(
        con,
        f"SELECT count(*) FROM events WHERE {local.format('ts + 3600000000')} = "
        f"{local.format('ts')} OR {local.format('ts - 3600000000')} = {local.format('ts')}",
    )
    if repeated:
        report.notes.append(
            f"events with a local time that occurs twice in {zone} (clocks going back): "
            f"{repeated:,}; without an offset they were read as the second occurrence"
        )


def _keep_completions(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    """With start and complete events in the log, read each activity instance once: at its
    completion. The events set aside are counted in a note, not dropped silently."""
    complete, other = con.execute(
        "SELECT count(*) FILTER (lower(lifecycle) = 'complete'), "
        "count(*) FILTER (lower(lifecycle) != 'complete') FROM staged"
    ).fetchall()[0]
    if complete and other:
        _create_events_view(con, only_completions=True)
        report.notes.append(
            f"events with a lifecycle other than 'complete' (such as 'start') set aside: {other:,}; "
            "each activity instance is counted once, when it completes"
        )
