"""Random small event logs give the same answers as pm4py, the reference implementation.

Each generated log is written to disk the way help desks export them (CSV with quoting, and
sometimes Parquet): rows out of order, activity names with unicode, commas and quotes, ties in
time inside a case, microsecond timestamps written with the Europe/Rome offset of the moment,
around the two 2024 DST changes so that many cases cross one. pm4py then reads the very same
values, parsed to UTC by pandas, and is the oracle for every figure it computes.

pm4py is AGPL: it is imported here, as a test tool, and never by the package.
"""

from __future__ import annotations

import csv
import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pm4py  # slow to import: once, at module level
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from supportflow.eventlog import load_event_log
from supportflow.mining import diagnose

pytestmark = pytest.mark.oracle

ROME = ZoneInfo("Europe/Rome")
# The 2024 DST changes in Europe/Rome as UTC instants: 02:00 CET → 03:00 CEST on 31 March,
# 03:00 CEST → 02:00 CET on 27 October. Cases start within three hours of one of them.
DST_CHANGES = (datetime(2024, 3, 31, 1, tzinfo=UTC), datetime(2024, 10, 27, 1, tzinfo=UTC))
DST_CHANGES_US = tuple(int(d.timestamp()) * 1_000_000 for d in DST_CHANGES)
HOUR_US = 3_600 * 1_000_000
TOLERANCE_S = 1e-3  # durations agree within 1 ms

# Names an export really carries: accents, CJK, emoji, the CSV delimiter, both quote characters,
# other delimiters a sniffer might pick, and strings some readers take for missing values.
TRICKY_NAMES = (
    "Résolution",
    "Take in charge, L2",
    'Say "hello"',
    "Customer's reply",
    "工单关闭",
    "😀 Satisfaction",
    "a;b|c\tdone",
    "NULL",
    "NA",
    "=1+2",
    "Ünïcödé \"mixed\", 'all'",
)
# Leading/trailing whitespace is left out on purpose: ingest trims it (pm4py would not).
_NAME_CHARS = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\r\n"
)
_random_names = st.text(_NAME_CHARS, min_size=1, max_size=12).filter(
    lambda s: s == s.strip() and s != ""
)
activity_names = st.one_of(st.sampled_from(TRICKY_NAMES), _random_names)
case_ids = st.one_of(
    st.from_regex(r"\A(T-|#)?[0-9]{1,4}\Z"),  # "007" and "7" are different tickets
    st.text(_NAME_CHARS, min_size=1, max_size=8).filter(lambda s: s == s.strip() and s != ""),
)
RESOURCES = ("Ana", "Bo", "Çelik, J.", 'Dee "DJ"')
# The wait before an event: a tie (same instant), under a second, or up to four hours.
gaps_us = st.one_of(
    st.just(0),
    st.integers(1, 999_999),
    st.integers(1, 4 * HOUR_US),
)


@dataclass(frozen=True)
class Event:
    case_id: str
    activity: str
    instant_us: int  # UTC epoch microseconds
    resource: str


@dataclass(frozen=True)
class GeneratedLog:
    rows: list[Event]  # in file order
    timespec: str  # "microseconds" always writes the fraction; "auto" drops it when zero
    sep: str  # between date and time
    quoting: int  # csv module quoting
    parquet: str | None  # None, "string" (ISO text column) or "timestamp" (tz-aware column)

    def written(self, event: Event) -> str:
        """The timestamp as the export writes it: Rome wall clock with that moment's offset."""
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=event.instant_us)
        return moment.astimezone(ROME).isoformat(sep=self.sep, timespec=self.timespec)


@st.composite
def event_logs(draw: st.DrawFn) -> GeneratedLog:
    names = draw(st.lists(activity_names, min_size=1, max_size=6, unique=True))
    n_cases = draw(st.integers(1, 30))
    ids: list[str] = []
    for drawn in draw(st.lists(case_ids, min_size=n_cases, max_size=n_cases)):
        while drawn in ids:  # distinct tickets, without Hypothesis rejecting the example
            drawn += "~"
        ids.append(drawn)
    # One draw per case keeps generation fast: (activity index, wait before it, resource index).
    steps = st.lists(
        st.tuples(st.integers(0, len(names) - 1), gaps_us, st.integers(0, len(RESOURCES) - 1)),
        min_size=1,
        max_size=12,
    )
    events: list[Event] = []
    for case_id in ids:
        anchor_us = DST_CHANGES_US[draw(st.integers(0, len(DST_CHANGES_US) - 1))]
        instant = anchor_us + draw(st.integers(-3 * HOUR_US, 3 * HOUR_US))
        for k, (activity, gap, resource) in enumerate(draw(steps)):
            instant += gap if k else 0
            events.append(Event(case_id, names[activity], instant, RESOURCES[resource]))
    return GeneratedLog(
        rows=draw(st.permutations(events)),  # not sorted by case nor by time; ties shuffled too
        timespec=draw(st.sampled_from(("microseconds", "auto"))),
        sep=draw(st.sampled_from(("T", " "))),
        quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC))),
        parquet=draw(st.sampled_from((None, None, "string", "timestamp"))),
    )


# --- writing the export ------------------------------------------------------------------------

COLUMNS = ("case_id", "activity", "timestamp", "resource")


def write_csv(log: GeneratedLog, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=log.quoting)
        writer.writerow(COLUMNS)
        for e in log.rows:
            writer.writerow((e.case_id, e.activity, log.written(e), e.resource))
    return path


def write_parquet(log: GeneratedLog, path: Path) -> Path:
    if log.parquet == "timestamp":
        stamps = pa.array(
            [e.instant_us for e in log.rows], type=pa.timestamp("us", tz="Europe/Rome")
        )
    else:
        stamps = pa.array([log.written(e) for e in log.rows], type=pa.string())
    table = pa.table(
        {
            "case_id": pa.array([e.case_id for e in log.rows], type=pa.string()),
            "activity": pa.array([e.activity for e in log.rows], type=pa.string()),
            "timestamp": stamps,
            "resource": pa.array([e.resource for e in log.rows], type=pa.string()),
        }
    )
    pq.write_table(table, path)
    return path


# --- the oracle --------------------------------------------------------------------------------


def pm4py_answers(log: GeneratedLog) -> dict[str, Any]:
    """Every figure pm4py gives for ``log``, read from the same written values."""
    frame = pd.DataFrame(
        {
            # pm4py's format_dataframe parses a column of ids such as "1000" and "T-1000" as
            # dates (both the year 1000: one case); a prefix keeps every id a distinct string
            "case_id": [f"case {e.case_id}" for e in log.rows],
            "activity": [e.activity for e in log.rows],
            "timestamp": [log.written(e) for e in log.rows],
            "resource": [e.resource for e in log.rows],
        }
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    # Sorts by (case, timestamp, original row index): ties keep file order.
    df = pm4py.format_dataframe(
        frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp"
    )
    dfg, starts, ends = pm4py.discover_dfg(df)
    # perf_aggregation_key="all" (the default) gives a dict of statistics per arc:
    # mean, median, max, min, sum, stdev.
    perf, _, _ = pm4py.discover_performance_dfg(df, perf_aggregation_key="all")
    variants = pm4py.get_variants(df)  # pm4py 2.7: {tuple of activities: number of cases}
    durations = pm4py.get_all_case_durations(df)
    # Per-variant median durations and p90s are not pm4py figures; derive them from pm4py's
    # own ordered frame with pandas and numpy (linear interpolation).
    waits: dict[tuple[str, str], list[float]] = {}
    case_durations: dict[tuple[str, ...], list[float]] = {}
    for _, case in df.groupby("case:concept:name", sort=False):
        acts = case["concept:name"].tolist()
        stamps = case["time:timestamp"].tolist()
        for i in range(len(acts) - 1):
            waits.setdefault((acts[i], acts[i + 1]), []).append(
                (stamps[i + 1] - stamps[i]).total_seconds()
            )
        case_durations.setdefault(tuple(acts), []).append((stamps[-1] - stamps[0]).total_seconds())
    return {
        "events": len(df),
        "cases": df["case:concept:name"].nunique(),
        "activities": dict(pm4py.get_event_attribute_values(df, "concept:name")),
        "dfg": dict(dfg),
        "perf": perf,
        "p90": {arc: float(np.percentile(w, 90)) for arc, w in waits.items()},
        "starts": dict(starts),
        "ends": dict(ends),
        "start_activities": dict(pm4py.get_start_activities(df)),
        "end_activities": dict(pm4py.get_end_activities(df)),
        "variants": {tuple(k): int(v) for k, v in variants.items()},
        "variant_medians": {acts: float(np.median(d)) for acts, d in case_durations.items()},
        "durations": list(durations),
        "rework": dict(pm4py.get_rework_cases_per_activity(df)),
    }


def assert_matches_pm4py(doc: dict[str, Any], ref: dict[str, Any], label: str) -> None:
    approx = lambda value: pytest.approx(value, abs=TOLERANCE_S)  # noqa: E731

    assert doc["log"]["rejected_rows"] == 0, label
    assert (doc["log"]["events"], doc["log"]["cases"]) == (ref["events"], ref["cases"]), label
    assert doc["activities"] == ref["activities"], label

    # Directly-follows graph: exact counts, waits within 1 ms.
    ours = {(e["source"], e["target"]): e for e in doc["dfg"]}
    assert {arc: e["count"] for arc, e in ours.items()} == ref["dfg"], label
    assert ours.keys() == ref["perf"].keys(), label
    for arc, stats in ref["perf"].items():
        edge = ours[arc]
        for ours_key, pm4py_key in (
            ("mean_s", "mean"),
            ("median_s", "median"),
            ("min_s", "min"),
            ("max_s", "max"),
            ("total_s", "sum"),
        ):
            assert edge[ours_key] == approx(float(stats[pm4py_key])), (label, arc, ours_key)
        assert edge["p90_s"] == approx(ref["p90"][arc]), (label, arc, "p90_s")

    # Start and end activities, from both of pm4py's entry points.
    assert doc["start_activities"] == ref["starts"] == ref["start_activities"], label
    assert doc["end_activities"] == ref["ends"] == ref["end_activities"], label

    # Variants: all of them, as a multiset of sequence → cases.
    variants = {tuple(v["activities"]): v["cases"] for v in doc["variants"]}
    assert len(variants) == len(doc["variants"]), (label, "a variant is listed twice")
    assert variants == ref["variants"], label
    assert doc["log"]["variants"] == len(ref["variants"]), label
    for v in doc["variants"]:
        acts = tuple(v["activities"])
        assert v["share"] == pytest.approx(v["cases"] / ref["cases"]), (label, acts)
        assert v["median_duration_s"] == approx(ref["variant_medians"][acts]), (label, acts)

    # Case durations.
    durations = ref["durations"]
    case = doc["case_duration_s"]
    assert case["mean"] == approx(statistics.fmean(durations)), label
    assert case["median"] == approx(float(np.median(durations))), label
    assert case["min"] == approx(min(durations)), label
    assert case["max"] == approx(max(durations)), label
    assert case["p90"] == approx(float(np.percentile(durations, 90))), label

    # Rework per activity, and the case counts derived from pm4py's variants.
    assert doc["rework"]["per_activity"] == ref["rework"], label
    weighted = ref["variants"].items()
    assert doc["rework"]["cases_with_rework"] == sum(
        n for acts, n in weighted if len(set(acts)) < len(acts)
    ), label
    assert doc["rework"]["self_loop_cases"] == sum(
        n for acts, n in weighted if any(a == b for a, b in itertools.pairwise(acts))
    ), label
    assert doc["pingpong"]["activity_cases"] == sum(
        n
        for acts, n in weighted
        if any(a == c != b for a, b, c in zip(acts, acts[1:], acts[2:], strict=False))
    ), label


_counter = itertools.count()


def describe(log: GeneratedLog) -> None:
    """Label the example in Hypothesis's statistics (pytest --hypothesis-show-statistics)."""
    by_case: dict[str, list[int]] = {}
    for e in log.rows:
        by_case.setdefault(e.case_id, []).append(e.instant_us)
    ties = any(len(set(times)) < len(times) for times in by_case.values())
    crossing = any(
        min(times) < change <= max(times) for times in by_case.values() for change in DST_CHANGES_US
    )
    event(f"a tie inside a case: {ties}")
    event(f"a case crosses a DST change: {crossing}")
    event(f"also Parquet: {log.parquet or 'no'}")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(log=event_logs())
def test_random_logs_match_pm4py(tmp_path: Path, log: GeneratedLog) -> None:
    describe(log)
    folder = tmp_path / f"example-{next(_counter)}"  # tmp_path is shared by all examples
    folder.mkdir()
    ref = pm4py_answers(log)
    sources = [write_csv(log, folder / "log.csv")]
    if log.parquet is not None:
        sources.append(write_parquet(log, folder / "log.parquet"))
    for source in sources:
        doc = diagnose(load_event_log(source, timezone="UTC"), variant_limit=None).to_dict()
        assert_matches_pm4py(doc, ref, f"{source.suffix} ({log.parquet or 'text'} timestamps)")


# --- one log worked out by hand ---------------------------------------------------------------

RESOLVE = 'Resolve, "fixed"'


def test_hand_built_log_with_a_tie_and_both_dst_changes(tmp_path: Path) -> None:
    # Rows are written out of order on purpose.
    rows = [
        # A crosses the spring change: 01:30+01:00 → 03:30+02:00 is 1 h elapsed, not 2 h.
        ("A", "Close", "2024-03-31T04:00:00.250000+02:00"),
        ("B", "Open", "2024-01-10T09:00:00+01:00"),
        ("A", "Assign", "2024-03-31T03:30:00+02:00"),
        # C crosses the autumn change: 02:10+02:00 → 02:30+01:00 is 80 min elapsed, not 20.
        ("C", "Assign", "2024-10-27T02:30:00+01:00"),
        # B: resolved and closed at the same instant; file order (Resolve first) decides,
        # not the alphabet.
        ("B", RESOLVE, "2024-01-10T09:15:00+01:00"),
        ("A", "Open", "2024-03-31T01:30:00+01:00"),
        ("B", "Close", "2024-01-10T09:15:00+01:00"),
        ("C", "Open", "2024-10-27T02:10:00+02:00"),
        ("C", "Close", "2024-10-27T02:45:00+01:00"),
    ]
    path = tmp_path / "hand.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case_id", "activity", "timestamp"))
        writer.writerows(rows)
    doc = diagnose(load_event_log(path, timezone="UTC"), variant_limit=None).to_dict()

    # A: Open →3600→ Assign →1800.25→ Close (5400.25 s)
    # B: Open →900→ Resolve →0→ Close (900 s)
    # C: Open →4800→ Assign →900→ Close (5700 s)
    expected_dfg = {
        ("Open", "Assign"): dict(count=2, mean_s=4200.0, median_s=4200.0, min_s=3600.0,
                                 max_s=4800.0, p90_s=4680.0, total_s=8400.0),
        ("Assign", "Close"): dict(count=2, mean_s=1350.125, median_s=1350.125, min_s=900.0,
                                  max_s=1800.25, p90_s=1710.225, total_s=2700.25),
        ("Open", RESOLVE): dict(count=1, mean_s=900.0, median_s=900.0, min_s=900.0,
                                max_s=900.0, p90_s=900.0, total_s=900.0),
        (RESOLVE, "Close"): dict(count=1, mean_s=0.0, median_s=0.0, min_s=0.0,
                                 max_s=0.0, p90_s=0.0, total_s=0.0),
    }  # fmt: skip
    ours = {(e.pop("source"), e.pop("target")): e for e in doc["dfg"]}
    assert ours.keys() == expected_dfg.keys()
    for arc, stats in expected_dfg.items():
        assert ours[arc] == pytest.approx(stats, abs=1e-6), arc

    assert doc["case_duration_s"] == pytest.approx(
        {
            "mean": (5400.25 + 900 + 5700) / 3,
            "median": 5400.25,
            "p90": 5400.25 + 0.8 * (5700 - 5400.25),
            "min": 900.0,
            "max": 5700.0,
        },
        abs=1e-6,
    )
    assert [(v["activities"], v["cases"]) for v in doc["variants"]] == [
        (["Open", "Assign", "Close"], 2),
        (["Open", RESOLVE, "Close"], 1),
    ]
    assert [v["median_duration_s"] for v in doc["variants"]] == pytest.approx(
        [(5400.25 + 5700) / 2, 900.0], abs=1e-6
    )
    assert doc["start_activities"] == {"Open": 3}
    assert doc["end_activities"] == {"Close": 3}
    assert doc["activities"] == {"Close": 3, "Open": 3, "Assign": 2, RESOLVE: 1}
    assert doc["rework"]["per_activity"] == {}
    assert doc["rework"]["cases_with_rework"] == 0
    assert doc["log"]["first_timestamp"] == "2024-01-10T08:00:00+00:00"
    assert doc["log"]["last_timestamp"] == "2024-10-27T01:45:00+00:00"
