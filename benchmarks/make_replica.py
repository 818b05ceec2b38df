"""Replicate the help-desk log to benchmark sizes (1M, 5M, 20M events) with DuckDB.

Copy ``k`` (``k = 0 .. copies-1``) of the source log gets case ids suffixed ``#k`` and every
timestamp shifted by ``k`` hours; copies follow each other, and rows keep their source order
inside a copy. ``copies = ceil(target events / source events)``, so a "1M" log holds
1,003,356 events and a "5M" log 5,016,780 (21,348 source events).

Outputs, into ``--data-dir`` (default ``bench-data/``, which git ignores):

* ``replica_<size>.csv``: the source's header line, byte for byte (including its duplicated
  ``Variant`` column), its line endings (CRLF for the help-desk log), and timestamps written as text in the source's own layout (year first,
  ``%Y/%m/%d %H:%M:%S``; month and day unpadded when the source leaves them unpadded, which the
  help-desk log does). Not written at 20M unless asked (``--csv-at-20m``).
* ``replica_<size>.parquet``: the same rows and the same timestamp text (a string column).
  Parquet needs unique column names, so the duplicated ``Variant`` column is ``Variant_1``, the
  name DuckDB gives it when it reads the CSV.

A file is reused when it exists with the expected header (or columns) and row count; anything
else is (re)generated. Files are written to a temporary name and renamed when complete.

    .venv/bin/python benchmarks/make_replica.py --sizes 1m,5m [--data-dir bench-data]
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
SHARED_SOURCE = Path("/work/shared/data/helpdesk/helpdesk.csv")
BUNDLED_SOURCE = REPO / "src" / "supportflow" / "data" / "helpdesk.csv.gz"
DEFAULT_SOURCE = SHARED_SOURCE if SHARED_SOURCE.exists() else BUNDLED_SOURCE
DEFAULT_DATA_DIR = REPO / "bench-data"

CASE_COLUMN = "Case ID"
TIMESTAMP_COLUMN = "Complete Timestamp"
PARSE_FORMAT = "%Y/%m/%d %H:%M:%S"
# Candidate layouts for writing timestamps back as text; the one that reproduces every source
# timestamp exactly (copy 0) is used.
WRITE_FORMATS = ("%Y/%-m/%-d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def parse_size(text: str) -> int:
    """``"1m"`` → 1_000_000, ``"500k"`` → 500_000, ``"20M"`` → 20_000_000, ``"1234"`` → 1234."""
    t = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    number = t[:-1] if scale != 1 else t
    return int(float(number) * scale)


def size_label(events: int) -> str:
    """The label used in file names: 1_000_000 → ``1m``."""
    if events % 1_000_000 == 0:
        return f"{events // 1_000_000}m"
    if events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Replica:
    """The files of one benchmark size."""

    label: str
    target_events: int
    copies: int
    events: int
    csv: Path | None
    parquet: Path


def _header_line(source: Path) -> tuple[bytes, bytes]:
    """The source's header line and its line terminator (``\\r\\n`` for the help-desk log)."""
    opener = gzip.open if source.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(source, "rb") as fh:
        line: bytes = fh.readline()
    header = line.rstrip(b"\r\n")
    return header, line[len(header) :] or b"\n"


def _count_lines(path: Path) -> int:
    """Data rows of a CSV with a header: newline count, plus a last line without a newline."""
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return lines - 1


def _csv_ok(path: Path, header: bytes, events: int) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        if fh.readline().rstrip(b"\r\n") != header:
            return False
    return _count_lines(path) == events


def _parquet_ok(
    con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], events: int
) -> bool:
    if not path.is_file():
        return False
    scan = f"read_parquet({_sql_str(str(path))})"
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        rows = con.execute(f"SELECT count(*) FROM {scan}").fetchall()[0][0]
    except duckdb.Error:
        return False
    return names == columns and int(rows) == events


def _connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_sql_str(str(data_dir / '.duckdb-tmp'))}")
    con.execute("SET memory_limit = '4GB'")
    return con


def _load_source(con: duckdb.DuckDBPyConnection, source: Path) -> tuple[list[str], str, bool]:
    """Load the source into table ``src`` (insertion order = file order, so ``rowid`` is the
    source row); return its column names, the timestamp text layout, and whether CSV fields can
    be written unquoted (no delimiter, quote or newline in any field)."""
    con.execute("SET threads = 1")  # read the small source in file order, single-threaded
    con.execute(
        "CREATE OR REPLACE TABLE src AS SELECT * FROM read_csv("
        f"{_sql_str(str(source))}, header=true, all_varchar=true, sample_size=-1)"
    )
    con.execute("RESET threads")
    columns = [r[0] for r in con.execute("DESCRIBE src").fetchall()]
    for needed in (CASE_COLUMN, TIMESTAMP_COLUMN):
        if needed not in columns:
            raise SystemExit(f"{source}: no column {needed!r} (columns: {columns})")
    ts = _q(TIMESTAMP_COLUMN)
    layout = None
    for fmt in WRITE_FORMATS:
        bad = con.execute(
            f"SELECT count(*) FROM src WHERE {ts} IS NOT NULL AND "
            f"strftime(strptime({ts}, {_sql_str(PARSE_FORMAT)}), {_sql_str(fmt)}) <> {ts}"
        ).fetchall()[0][0]
        if bad == 0:
            layout = fmt
            break
    if layout is None:
        raise SystemExit(f"{source}: timestamps are not in {PARSE_FORMAT!r}")
    special = " OR ".join(f"regexp_matches(coalesce({_q(c)}, ''), '[,\"\\n\\r]')" for c in columns)
    plain = con.execute(f"SELECT count(*) FROM src WHERE {special}").fetchall()[0][0] == 0
    return columns, layout, plain


def _replica_sql(columns: list[str], copies: int, layout: str) -> str:
    select = []
    for c in columns:
        if c == CASE_COLUMN:
            select.append(f"{_q(c)} || '#' || k AS {_q(c)}")
        elif c == TIMESTAMP_COLUMN:
            select.append(
                f"strftime(strptime({_q(c)}, {_sql_str(PARSE_FORMAT)}) + to_hours(k), "
                f"{_sql_str(layout)}) AS {_q(c)}"
            )
        else:
            select.append(_q(c))
    return (
        f"SELECT {', '.join(select)} FROM range({copies}) AS r(k) "
        "CROSS JOIN (SELECT rowid AS _row, * FROM src) ORDER BY k, _row"
    )


def ensure_replica(
    events_target: int,
    *,
    data_dir: Path = DEFAULT_DATA_DIR,
    source: Path = DEFAULT_SOURCE,
    csv: bool = True,
    verbose: bool = True,
) -> Replica:
    """Make (or reuse) the replica of about ``events_target`` events; return its files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = _connect(data_dir)
    columns, layout, plain = _load_source(con, source)
    source_events = int(con.execute("SELECT count(*) FROM src").fetchall()[0][0])
    copies = max(1, math.ceil(events_target / source_events))
    events = copies * source_events
    label = size_label(events_target)
    parquet_path = data_dir / f"replica_{label}.parquet"
    csv_path = data_dir / f"replica_{label}.csv" if csv else None
    header, newline = _header_line(source)

    def say(message: str) -> None:
        if verbose:
            print(f"[replica {label}] {message}", file=sys.stderr, flush=True)

    if _parquet_ok(con, parquet_path, columns, events):
        say(f"{parquet_path} exists with {events:,} rows; kept")
    else:
        started = time.perf_counter()
        tmp = parquet_path.with_name(parquet_path.name + ".tmp")
        con.execute(
            f"COPY ({_replica_sql(columns, copies, layout)}) TO {_sql_str(str(tmp))} "
            "(FORMAT parquet)"
        )
        os.replace(tmp, parquet_path)
        elapsed = time.perf_counter() - started
        say(f"wrote {parquet_path} ({events:,} rows, {copies} copies) in {elapsed:.1f} s")

    if csv_path is not None:
        if _csv_ok(csv_path, header, events):
            say(f"{csv_path} exists with {events:,} rows; kept")
        else:
            started = time.perf_counter()
            body = csv_path.with_name(csv_path.name + ".body.tmp")
            options = f"HEADER false, NEW_LINE {_sql_str(newline.decode())}"
            options += ", QUOTE ''" if plain else ""
            con.execute(
                f"COPY (SELECT * FROM read_parquet({_sql_str(str(parquet_path))})) "
                f"TO {_sql_str(str(body))} ({options})"
            )
            tmp = csv_path.with_name(csv_path.name + ".tmp")
            with tmp.open("wb") as out, body.open("rb") as rows:
                out.write(header + newline)
                shutil.copyfileobj(rows, out, 1 << 24)
            body.unlink()
            os.replace(tmp, csv_path)
            say(f"wrote {csv_path} ({events:,} rows) in {time.perf_counter() - started:.1f} s")
    con.close()
    return Replica(label, events_target, copies, events, csv_path, parquet_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1m,5m", help="comma-separated sizes (default 1m,5m)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--no-csv", action="store_true", help="write Parquet only")
    parser.add_argument(
        "--csv-at-20m", action="store_true", help="also write CSV for sizes of 20M and more"
    )
    args = parser.parse_args(argv)
    for text in args.sizes.split(","):
        target = parse_size(text)
        want_csv = not args.no_csv and (target < 20_000_000 or args.csv_at_20m)
        replica = ensure_replica(target, data_dir=args.data_dir, source=args.source, csv=want_csv)
        for path in (replica.csv, replica.parquet):
            if path is not None:
                print(path)


if __name__ == "__main__":
    main()
