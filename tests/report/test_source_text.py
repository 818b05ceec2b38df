"""Every sentence ingestion writes about a file has a Chinese form in the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.eventlog import ColumnMapping, load_event_log
from supportflow.report.source_text import source_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def sentences(tmp_path: Path, helpdesk_csv: Path) -> list[str]:
    """The mapping reasons, notes and reject reasons of a few real loads."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "case;activity;when;agent\nT1;Café;03/14/2024 09:00;ann\nT1;B;x;ann\n,C;03/14/2024 09:00;\n"
        "T1;B,extra;03/15/2024 09:00;ann;more\n".encode("cp1252")
    )
    epochs = tmp_path / "epochs.csv"
    epochs.write_text("case,activity,time\nT1,A,1718031845\n", encoding="utf-8")
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(
        "case,activity,time,lifecycle\nT1,A,2024-10-27 02:30:00,start\n"
        "T1,A,2024-10-27 02:40:00,complete\nT1,B,2401-01-01 04:00:00,complete\n",
        encoding="utf-8",
    )
    loads = [
        load_event_log(repeated, timezone="Europe/Rome", rejects_path=tmp_path / "r2.csv"),
        load_event_log(helpdesk_csv, preset="pm4py"),
        load_event_log(FIXTURES / "servicenow_incidents.csv", preset="servicenow"),
        load_event_log(latin, rejects_path=tmp_path / "r.csv", timezone="Asia/Shanghai"),
        load_event_log(epochs, mapping=ColumnMapping(case_id="case")),
    ]
    found: list[str] = []
    for log in loads:
        found += [c.reason for c in log.report.mapping]
        found += log.report.notes
        found += list(log.report.reject_reasons)
    return sorted(set(found))


def test_all_ingestion_sentences_are_translated(tmp_path: Path, helpdesk_csv: Path) -> None:
    written = sentences(tmp_path, helpdesk_csv)
    assert len(written) >= 12
    untranslated = [s for s in written if source_text(s, lang="zh") == s]
    assert untranslated == []


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("recognised name ('caseid')", "按列名识别（'caseid'）"),
        (
            "timestamps without an offset were read as UTC local time",
            "没有时区偏移的时间戳按 UTC 当地时间读取",
        ),
        ("something new", "something new"),
    ],
)
def test_known_shapes(english: str, chinese: str) -> None:
    assert source_text(english, lang="zh") == chinese
    assert source_text(english, lang="en") == english
