"""Bad input gets a clear error and loses nothing: each rule of the ingestion, as a story."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from supportflow.eventlog import ColumnMapping, EventLogError, load_event_log
from supportflow.eventlog.errors import (
    BinaryFileError,
    EmptyFileError,
    EncodingError,
    MissingColumnError,
    TimestampFormatError,
)


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_named_column_lists_the_columns_that_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "Ticket,Status,When\nT1,Open,2024-01-01 09:00\n")
    with pytest.raises(MissingColumnError) as caught:
        load_event_log(
            path, mapping=ColumnMapping(case_id="Case", activity="Status", timestamp="When")
        )
    assert str(caught.value) == (
        "column 'Case' (for 'case_id') is not in the file. Columns in the file: "
        "'Ticket', 'Status', 'When'"
    )


def test_no_column_for_a_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, "Ticket,Colour,When\nT1,red,2024-01-01 09:00\n")
    with pytest.raises(MissingColumnError) as caught:
        load_event_log(path)
    assert str(caught.value) == (
        "no column for the required field 'activity' was found; name it with --activity COLUMN. "
        "Columns in the file: 'Ticket', 'Colour', 'When'"
    )


def test_bad_rows_go_to_the_rejects_file_with_row_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case,activity,time\n"
        "T1,A,2024-01-01 09:00\n"
        "T1,B,2024-01-01 10:00,extra\n"
        "T2,A,2024-01-01 11:00\n"
        ",A,2024-01-01 11:00\n"
        "T3,A,not a date\n"
        "T3,B,\n"
        "T3,,2024-01-01 12:00\n",
    )
    rejects = tmp_path / "rejects.csv"
    log = load_event_log(path, rejects_path=rejects)
    assert log.report.rows_read == 7
    assert log.report.events == 2
    assert log.report.rejected_rows == 5
    with rejects.open(encoding="utf-8") as handle:
        rows = [(r["row"], r["line"], r["reason"]) for r in csv.DictReader(handle)]
    assert rows == [
        ("2", "3", "malformed CSV line (too many columns): Expected Number of Columns: 3 Found: 4"),
        ("4", "", "empty case id"),
        ("5", "", "unparseable timestamp"),
        ("6", "", "empty timestamp"),
        ("7", "", "empty activity"),
    ]
    assert log.con.execute("SELECT case_id, activity FROM events ORDER BY seq").fetchall() == [
        ("T1", "A"),
        ("T2", "A"),
    ]


def test_rejected_timestamp_keeps_its_text(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nT1,A,2024-01-01 09:00\nT1,B,31/02/2024 25:00\n")
    rejects = tmp_path / "rejects.csv"
    load_event_log(path, rejects_path=rejects)
    with rejects.open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["row"], row["reason"], row["timestamp"]) == (
        "2",
        "unparseable timestamp",
        "31/02/2024 25:00",
    )


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(EmptyFileError, match=r"log\.csv: the file is empty$"):
        load_event_log(path)


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\n")
    with pytest.raises(EmptyFileError, match=r"log\.csv: the file has a header but no rows$"):
        load_event_log(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(BinaryFileError, match="the file is binary"):
        load_event_log(path)


def test_spreadsheet_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(BinaryFileError, match=r"a ZIP archive \(an \.xlsx workbook\?\)"):
        load_event_log(path)


def test_all_rows_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\n,A,2024-01-01 09:00\n")
    with pytest.raises(EmptyFileError, match="no usable events: all 1 rows were rejected"):
        load_event_log(path, rejects_path=tmp_path / "r.csv")


@pytest.mark.parametrize(
    ("encoding", "activity"),
    [("cp1252", "Café ouvert"), ("gb18030", "创建工单"), ("utf-16", "Zurückgestellt")],
)
def test_legacy_encodings_are_detected(tmp_path: Path, encoding: str, activity: str) -> None:
    path = tmp_path / "log.csv"
    text = f"case,activity,time\nT1,{activity},2024-01-01 09:00\nT1,Close,2024-01-01 10:00\n"
    path.write_bytes(text.encode(encoding))
    log = load_event_log(path)
    assert log.con.execute("SELECT activity FROM events ORDER BY seq").fetchall() == [
        (activity,),
        ("Close",),
    ]


def test_wrong_named_encoding(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes("case,activity,time\nT1,创建,2024-01-01 09:00\n".encode("gb18030"))
    with pytest.raises(EncodingError, match=r"byte 22 is not valid utf-8 .*check --encoding"):
        load_event_log(path, encoding="utf-8")


def test_ambiguous_day_month_order_is_reported_not_guessed(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nT1,A,03/04/2024 09:00\nT1,B,05/04/2024 10:00\n")
    with pytest.raises(TimestampFormatError) as caught:
        load_event_log(path)
    assert str(caught.value) == (
        f"{path}: dates in column 'time' such as '03/04/2024 09:00' could be day-first or "
        "month-first and no value decides it; pass --date-order dmy or --date-order mdy"
    )
    log = load_event_log(path, date_order="mdy")
    assert log.con.execute("SELECT ts FROM events ORDER BY seq LIMIT 1").fetchone() == (
        1709542800000000,  # 2024-03-04T09:00Z: March the 4th
    )


def test_day_first_decided_by_the_whole_column(tmp_path: Path) -> None:
    # Only the 20,001st value decides the order: a sample would not have seen it.
    lines = ["case,activity,time"] + [f"T{i},A,01/02/2024 09:00" for i in range(20_000)]
    lines.append("T9,B,29/02/2024 10:00")
    path = write(tmp_path, "\n".join(lines) + "\n")
    log = load_event_log(path)
    assert any("day-first" in note for note in log.report.notes)
    assert log.con.execute("SELECT max(ts) FROM events").fetchone() == (1709200800000000,)


def test_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("case,activity,time\nT1,A,2024-01-01 09:00\n")
    log = load_event_log(path)
    assert log.report.source_format == "csv.gz"
    assert log.report.events == 1


def test_gzipped_legacy_encoding(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write("case,activity,time\nT1,Café,2024-01-01 09:00\n".encode("cp1252"))
    log = load_event_log(path)
    assert log.report.encoding == "cp1252"
    assert log.con.execute("SELECT activity FROM events").fetchall() == [("Café",)]


def test_value_without_offset_does_not_inherit_the_previous_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case,activity,time\nc1,A,2024/03/01 10:00:00 +01:00\nc2,A,2024/03/01 10:00:00\n",
    )
    log = load_event_log(path)
    assert log.con.execute("SELECT ts FROM events ORDER BY seq").fetchall() == [
        (1709283600000000,),  # 09:00Z
        (1709287200000000,),  # 10:00 read in UTC, not at +01:00
    ]


def test_trailing_z_means_utc_whatever_the_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nc1,A,13/03/2024 10:00:00Z\n")
    log = load_event_log(path, timezone="Europe/Rome")
    assert log.con.execute("SELECT ts FROM events").fetchall() == [(1710324000000000,)]


def test_epochs_mixing_seconds_and_milliseconds(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nc1,A,1700000000\nc1,B,1700003600000\n")
    log = load_event_log(path)
    assert log.con.execute("SELECT ts FROM events ORDER BY seq").fetchall() == [
        (1700000000000000,),
        (1700003600000000,),
    ]


def test_timestamp_out_of_range_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nc1,A,2024-01-01 09:00\nc1,B,2401-01-01 09:00\n")
    rejects = tmp_path / "rejects.csv"
    log = load_event_log(path, rejects_path=rejects)
    assert log.report.reject_reasons == {"timestamp out of range (before 1900 or after 2199)": 1}
    assert "2401-01-01 09:00" in rejects.read_text(encoding="utf-8")


def test_unknown_time_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "case,activity,time\nc1,A,2024-01-01 09:00\n")
    with pytest.raises(EventLogError, match="unknown time zone 'Mars/Olympus'"):
        load_event_log(path, timezone="Mars/Olympus")


def test_gzip_without_gz_name_and_utf16_big_endian(tmp_path: Path) -> None:
    zipped = tmp_path / "log.csv"
    zipped.write_bytes(gzip.compress(b"case,activity,time\nT1,A,2024-01-01 09:00\n"))
    assert load_event_log(zipped).report.events == 1
    big_endian = tmp_path / "be.csv"
    big_endian.write_bytes(
        "\ufeffcase,activity,time\nT1,Zurück,2024-01-01 09:00\n".encode("utf-16-be")
    )
    log = load_event_log(big_endian)
    assert log.con.execute("SELECT activity FROM events").fetchall() == [("Zurück",)]


def test_start_and_complete_events_count_each_instance_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "case,activity,time,lifecycle\n"
        "T1,Triage,2024-01-01 09:00,start\nT1,Triage,2024-01-01 09:10,complete\n"
        "T1,Resolve,2024-01-01 10:00,start\nT1,Resolve,2024-01-01 10:30,complete\n",
    )
    log = load_event_log(path)
    assert log.con.execute("SELECT activity FROM events ORDER BY seq").fetchall() == [
        ("Triage",),
        ("Resolve",),
    ]
    assert log.report.notes[-1] == (
        "events with a lifecycle other than 'complete' (such as 'start') set aside: 2; "
        "each activity instance is counted once, when it completes"
    )


def test_repeated_local_hour_is_noted(tmp_path: Path) -> None:
    # 02:30 happened twice in Rome on 2024-10-27; it is read as the second time (01:30Z).
    path = write(
        tmp_path, "case,activity,time\nT1,A,2024-10-27 02:30:00\nT1,B,2024-10-27 04:00:00\n"
    )
    log = load_event_log(path, timezone="Europe/Rome")
    assert log.con.execute("SELECT ts FROM events ORDER BY seq LIMIT 1").fetchall() == [
        (1729992600000000,)
    ]
    assert log.report.notes[-1] == (
        "events with a local time that occurs twice in Europe/Rome (clocks going back): 1; "
        "without an offset they were read as the second occurrence"
    )
