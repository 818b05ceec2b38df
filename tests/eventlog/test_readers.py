"""Every reader gives the same canonical rows for the same little log."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from supportflow.eventlog import load_event_log


def us(*parts: int) -> int:
    """Epoch microseconds of a UTC wall-clock time."""
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1_000_000)


EXPECTED = [
    ("T1", "Open, by phone", us(2024, 3, 1, 9, 0), "ann"),
    ("T1", "Close", us(2024, 3, 1, 10, 30, 15), "bob"),
    ("T2", "Open, by phone", us(2024, 3, 2, 8, 0), None),
]

ROWS = [
    {"case": "T1", "activity": "Open, by phone", "time": "2024-03-01T09:00:00Z", "agent": "ann"},
    {"case": "T1", "activity": "Close", "time": "2024-03-01T10:30:15Z", "agent": "bob"},
    {"case": "T2", "activity": "Open, by phone", "time": "2024-03-02T08:00:00Z", "agent": None},
]


def rows_of(path: Path, **options: object) -> list[tuple[object, ...]]:
    log = load_event_log(path, **options)  # type: ignore[arg-type]
    return log.con.execute(
        "SELECT case_id, activity, ts, resource FROM events ORDER BY seq"
    ).fetchall()


def test_csv_with_semicolons_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        'case;activity;time;agent\nT1;"Open, by phone";2024-03-01T09:00:00Z;ann\n'
        'T1;Close;2024-03-01T10:30:15Z;bob\nT2;"Open, by phone";2024-03-02T08:00:00Z;\n',
        encoding="utf-8",
    )
    assert rows_of(path) == EXPECTED


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    assert rows_of(path) == EXPECTED


def test_parquet_with_typed_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    typed = [
        {**row, "time": datetime.fromisoformat(str(row["time"]).replace("Z", "+00:00"))}
        for row in ROWS
    ]
    pq.write_table(pa.Table.from_pylist(typed), path)
    assert rows_of(path) == EXPECTED


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    assert rows_of(path) == EXPECTED


def xes_text() -> str:
    traces = []
    for case in ("T1", "T2"):
        events = "".join(
            f'<event><string key="concept:name" value="{r["activity"]}"/>'
            f'<date key="time:timestamp" value="{r["time"]}"/>'
            + (f'<string key="org:resource" value="{r["agent"]}"/>' if r["agent"] else "")
            + "</event>"
            for r in ROWS
            if r["case"] == case
        )
        traces.append(f'<trace><string key="concept:name" value="{case}"/>{events}</trace>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" '
        'xmlns="http://www.xes-standard.org/">' + "".join(traces) + "</log>"
    )


def test_xes(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(xes_text(), encoding="utf-8")
    assert rows_of(path, preset="xes") == EXPECTED
    # Without a preset the XES keys are recognised by name.
    assert rows_of(path) == EXPECTED


def test_xes_gz(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(xes_text())
    log = load_event_log(path)
    assert log.report.source_format == "xes.gz"
    assert log.report.events == 3


def test_malformed_xes_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text('<?xml version="1.0"?>\n<log>\n<trace><event></trace>\n</log>\n')
    with pytest.raises(Exception, match=r"malformed XML at line 3"):
        load_event_log(path)


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("2024-03-01T09:00:00.250+01:00", {}, us(2024, 3, 1, 8, 0, 0) + 250_000),
        ("2017-02-28T09:24:59.366-0600", {}, us(2017, 2, 28, 15, 24, 59) + 366_000),
        ("2024-03-01 09:00:00", {"timezone": "Asia/Shanghai"}, us(2024, 3, 1, 1, 0)),
        ("2012/10/9 14:50:17", {}, us(2012, 10, 9, 14, 50, 17)),
        ("29/2/2016 01:23", {}, us(2016, 2, 29, 1, 23)),
        ("2/29/2016 1:23 PM", {}, us(2016, 2, 29, 13, 23)),
        ("10-06-2024 15:04:05 +0000", {"date_order": "dmy"}, us(2024, 6, 10, 15, 4, 5)),
        ("1718031845", {}, us(2024, 6, 10, 15, 4, 5)),
        ("1718031845123", {}, us(2024, 6, 10, 15, 4, 5) + 123_000),
        ("31.12.2023 23:59:59.5", {}, us(2023, 12, 31, 23, 59, 59) + 500_000),
    ],
)
def test_timestamp_layouts(
    tmp_path: Path, text: str, options: dict[str, str], expected: int
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(f'case,activity,time,agent\nT1,A,"{text}",\n', encoding="utf-8")
    assert rows_of(path, **options) == [("T1", "A", expected, None)]
