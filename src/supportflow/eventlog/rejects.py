"""Rejected rows: what could not become an event, with its row number and the reason.

A row is rejected when its case id, activity or timestamp is empty, when its timestamp does not
parse, or (CSV) when its line does not split into the header's columns. Rejected rows are never
dropped silently: they are counted in the ingest report and written to a CSV with ``row`` (the
data row, 1 = the first row after the header), ``line`` (for malformed CSV lines), ``reason``
and the raw values.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from supportflow.eventlog.errors import EventLogError
from supportflow.eventlog.schema import IngestReport
from supportflow.eventlog.sql import literal, scalar


def collect_rejects(
    con: duckdb.DuckDBPyConnection,
    *,
    malformed_possible: bool,
    report: IngestReport,
    rejects_path: str | Path | None,
    replace_existing: bool = True,
) -> None:
    """Count the staged rows that cannot be events (and CSV lines DuckDB could not split), give
    each a reason, record the counts in ``report`` and write them to ``rejects_path``."""
    report.rows_read = int(scalar(con, "SELECT count(*) FROM staged"))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE rejects AS
        SELECT rowid + 1 AS row, NULL::BIGINT AS line,
               CASE WHEN case_id IS NULL THEN 'empty case id'
                    WHEN activity IS NULL THEN 'empty activity'
                    WHEN ts_text IS NULL THEN 'empty timestamp'
                    WHEN ts_out_of_range THEN 'timestamp out of range (before 1900 or after 2199)'
                    ELSE 'unparseable timestamp' END AS reason,
               case_id, activity, ts_text AS timestamp, NULL::VARCHAR AS raw_line
        FROM staged
        WHERE case_id IS NULL OR activity IS NULL OR ts IS NULL
        """
    )
    if malformed_possible:
        _add_malformed_csv_lines(con)
    counts = con.execute(
        "SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY 2 DESC"
    ).fetchall()
    report.reject_reasons = {reason: int(n) for reason, n in counts}
    report.rejected_rows = sum(report.reject_reasons.values())
    report.rows_read += int(scalar(con, "SELECT count(*) FROM rejects WHERE raw_line IS NOT NULL"))
    if report.rejected_rows and rejects_path is not None:
        target = Path(rejects_path)
        if target.exists() and not replace_existing:
            raise EventLogError(f"{target} already exists; pass --overwrite to replace it")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                "COPY (SELECT * FROM rejects ORDER BY coalesce(line - 1, row)) "
                f"TO {literal(str(target))} (HEADER, DELIMITER ',')"
            )
        except (OSError, duckdb.Error) as exc:
            raise EventLogError(f"cannot write the rejects file {target}: {exc}") from exc
        report.rejects_path = str(target)


def _add_malformed_csv_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Append CSV lines DuckDB could not split into the header's columns, and shift the data-row
    numbers of the other rejects past them, so ``row`` counts data rows as a spreadsheet does."""
    try:
        errors = con.execute(
            "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
        ).fetchall()
    except duckdb.Error:
        return  # no line was malformed: DuckDB creates the table only when it stores rejects
    lines = sorted({int(e[0]) for e in errors})
    if not lines:
        return
    rows = con.execute("SELECT rowid, row FROM rejects").fetchall()
    for rowid, row in rows:
        shifted = int(row)
        for line in lines:
            if line - 1 <= shifted:
                shifted += 1
        if shifted != row:
            con.execute("UPDATE rejects SET row = ? WHERE rowid = ?", [shifted, rowid])
    seen: set[int] = set()
    for line, error_type, message, csv_line in errors:
        if int(line) in seen:
            continue
        seen.add(int(line))
        reason = f"malformed CSV line ({str(error_type).lower()}): {str(message).splitlines()[0]}"
        con.execute(
            "INSERT INTO rejects VALUES (?, ?, ?, NULL, NULL, NULL, ?)",
            [int(line) - 1, int(line), reason, csv_line],
        )
