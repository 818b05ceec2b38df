"""Drift: period profiles and change points, on the demo log and on short synthetic stories.

The demo log's finding is checked against pandas reading the raw CSV (an independent pairing of
consecutive events and numpy percentiles); the synthetic stories know where they changed
because they were made that way; the calendar is checked instant by instant against zoneinfo.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest

from supportflow.eventlog import load_event_log
from supportflow.kpi.drift import SeriesDrift, detect_drift, detect_series_drift
from supportflow.kpi.drift_series import named_series
from supportflow.kpi.periods import Calendar, local_date
from supportflow.mining.engine import DuckDBEngine

DAY_S = 86_400.0
HOUR_S = 3_600.0


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# --- the demo log: an auto-close policy ---------------------------------------------------


@pytest.fixture(scope="module")
def resolve_to_close(helpdesk_csv: Path) -> pd.DataFrame:
    """Every "Resolve ticket → Closed" step of the raw log, paired by pandas."""
    raw = pd.read_csv(helpdesk_csv, usecols=[0, 1, 3], header=0, names=["case", "act", "ts"])
    raw["ts"] = pd.to_datetime(raw["ts"], format="%Y/%m/%d %H:%M:%S")
    raw["row"] = np.arange(len(raw))
    ordered = raw.sort_values(["case", "ts", "row"], kind="stable")
    ordered["next_act"] = ordered.groupby("case")["act"].shift(-1)
    ordered["next_ts"] = ordered.groupby("case")["ts"].shift(-1)
    steps = ordered[(ordered["act"] == "Resolve ticket") & (ordered["next_act"] == "Closed")]
    wait_s = (steps["next_ts"] - steps["ts"]).dt.total_seconds()
    return pd.DataFrame({"day": steps["ts"].dt.date, "wait_s": wait_s})


def test_demo_log_reveals_the_auto_close_policy(
    helpdesk_csv: Path, resolve_to_close: pd.DataFrame
) -> None:
    log = load_event_log(helpdesk_csv)  # naive times read as UTC: wall-clock waits
    report = detect_drift(DuckDBEngine(log.con), timezone="UTC", kpi_series=False)
    series = next(s for s in report.series if s.series == "Resolve ticket → Closed")
    assert series.kind == "transition"
    assert len(series.change_points) == 1
    change = series.change_points[0]

    # What pandas says: the last wait that is not 15 days ± 1 hour was a ticket resolved on
    # 2012-08-16; the next resolution was on Monday 2012-08-20, and every one from then on
    # waited 15 days ± 1 hour (the hour where the wait crosses a daylight-saving change; the
    # closing job also ran up to half a minute late, hence the extra minute of tolerance).
    steps = resolve_to_close
    fixed = (steps["wait_s"] - 15 * DAY_S).abs() <= HOUR_S + 60
    last_other = steps.loc[~fixed, "day"].max()
    first_after = steps.loc[steps["day"] > last_other, "day"].min()
    assert (last_other, first_after) == (date(2012, 8, 16), date(2012, 8, 20))
    assert fixed[steps["day"] >= first_after].all()

    assert change.period_start == "2012-09-01"  # the month test: September is all new policy
    assert change.at == first_after.isoformat()  # refined to the day
    before = steps.loc[steps["day"] < first_after, "wait_s"].to_numpy()
    after = steps.loc[steps["day"] >= first_after, "wait_s"].to_numpy()
    for segment, values in ((change.before, before), (change.after, after)):
        assert segment.n == len(values)
        expected = np.percentile(values, [10, 25, 50, 75, 90])
        got = [segment.p10_s, segment.p25_s, segment.median_s, segment.p75_s, segment.p90_s]
        assert got == pytest.approx(expected, abs=1e-6)
        assert (segment.min_s, segment.max_s) == (values.min(), values.max())
    assert 28 * DAY_S <= change.before.median_s <= 34 * DAY_S
    assert change.before.p90_s - change.before.p10_s > 20 * DAY_S
    for value in (change.after.p10_s, change.after.median_s, change.after.p90_s):
        assert abs(value - 15 * DAY_S) <= HOUR_S
    assert change.statistic > 0.8 and change.p_value < 1e-12
    assert change.description == (
        "Resolve ticket → Closed: median 31.9 d (p10–p90 15.0–46.7 d, n = 3720) before "
        "2012-08-20, 15.0 d (p10–p90 15.0–15.0 d, n = 838) from then on"
    )
    monthly = {p.start: p for p in series.periods}
    assert monthly["2012-10-01"].n == 36
    assert abs(monthly["2012-10-01"].median_s - 15 * DAY_S) <= HOUR_S
    assert report.to_dict()["series"][0]["change_points"][0]["after"]["n"] == 838


# --- synthetic stories ----------------------------------------------------------------------


def _monthly_story(
    samples: list[np.ndarray], *, timezone: str = "UTC"
) -> tuple[list[SeriesDrift], np.ndarray, np.ndarray]:
    """One series whose month ``i`` from January 2022 holds ``samples[i]``, at seeded random
    instants of the month; returns the drift, and every observation's instant and value."""
    zone, rng = ZoneInfo(timezone), np.random.default_rng(11)
    obs_us: list[int] = []
    for i, values in enumerate(samples):
        first = datetime(2022 + i // 12, i % 12 + 1, 1, tzinfo=zone)
        after = datetime(2022 + (i + 1) // 12, (i + 1) % 12 + 1, 1, tzinfo=zone)
        obs_us += [int(u) for u in rng.integers(_us(first), _us(after), size=len(values))]
    values = np.concatenate(samples)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE story AS SELECT 'wait' AS series, unnest($1::BIGINT[]) AS obs_us, "
        "unnest($2::DOUBLE[]) AS value_s",
        [obs_us, values.tolist()],
    )
    engine = DuckDBEngine(con)
    names, sql = named_series(engine, relation_sql="SELECT * FROM story")
    drift = detect_series_drift(
        engine, names=names, observations_sql=sql, kind="kpi", timezone=timezone
    )
    return drift, np.array(obs_us), values


def _split_at(day: str, obs_us: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values observed before the (UTC) date ``day``, and from it on."""
    cut = _us(datetime.fromisoformat(day).replace(tzinfo=UTC))
    return values[obs_us < cut], values[obs_us >= cut]


def _lognormal(rng: np.random.Generator, median_s: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median_s), sigma, size=n)


def test_stationary_waits_have_no_change_point() -> None:
    rng = np.random.default_rng(3)
    drift, _, _ = _monthly_story([_lognormal(rng, 4 * HOUR_S, 1.0, 300) for _ in range(24)])
    assert [p.n for p in drift[0].periods] == [300] * 24
    assert drift[0].change_points == []


def test_a_tripled_median_is_found_at_its_month() -> None:
    rng = np.random.default_rng(5)
    samples = [_lognormal(rng, (3 if i >= 14 else 1) * HOUR_S, 0.6, 200) for i in range(24)]
    drift, obs_us, values = _monthly_story(samples)
    (change,) = drift[0].change_points
    assert (change.period_start, change.at) == ("2023-03-01", "2023-03-01")
    before, after = _split_at(change.at, obs_us, values)
    assert (len(before), len(after)) == (14 * 200, 10 * 200)
    assert (change.before.n, change.after.n) == (len(before), len(after))
    assert change.before.median_s == pytest.approx(np.median(before))
    assert change.after.median_s == pytest.approx(np.median(after))
    assert change.after.mean_s == pytest.approx(after.mean())
    assert (change.before.start, change.after.end) == ("2022-01-01", "2023-12-31")


def test_a_spread_that_widens_around_the_same_median_is_found() -> None:
    rng = np.random.default_rng(8)
    samples = [_lognormal(rng, 2 * HOUR_S, 0.3 if i < 10 else 1.5, 250) for i in range(20)]
    drift, obs_us, values = _monthly_story(samples)
    (change,) = drift[0].change_points
    assert change.period_start == "2022-11-01"
    # Refined to the day: noise may move it by a day or two, here to 31 October.
    assert change.at == "2022-10-31"
    before, after = _split_at(change.at, obs_us, values)
    for segment, part in ((change.before, before), (change.after, after)):
        assert segment.n == len(part)
        assert [segment.p10_s, segment.median_s, segment.p90_s] == pytest.approx(
            np.percentile(part, [10, 50, 90])
        )
    # The same median within 10%, a p10–p90 spread more than five times wider.
    assert change.after.median_s / change.before.median_s == pytest.approx(1.0, abs=0.1)
    spread = [s.p90_s - s.p10_s for s in (change.before, change.after)]
    assert spread[1] > 5 * spread[0]


def test_a_small_sample_never_flags() -> None:
    # A tenfold jump, but 24 observations on each side: fewer than the 30 a side needs.
    rng = np.random.default_rng(2)
    samples = [_lognormal(rng, (10 if i >= 6 else 1) * HOUR_S, 0.2, 4) for i in range(12)]
    drift, _, _ = _monthly_story(samples)
    assert drift[0].change_points == []
    assert sum(p.n for p in drift[0].periods) == 48


def test_months_follow_the_local_calendar() -> None:
    # New York: an observation one microsecond before local midnight on 31 March belongs to
    # March; at local midnight, to April (04:00 UTC, not 00:00).
    zone = ZoneInfo("America/New_York")
    midnight = _us(datetime(2024, 4, 1, tzinfo=zone))
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE story AS SELECT 'wait' AS series, unnest($1::BIGINT[]) AS obs_us, "
        "unnest($2::DOUBLE[]) AS value_s",
        [[midnight - 1, midnight, midnight + 1], [1.0, 2.0, 4.0]],
    )
    engine = DuckDBEngine(con)
    names, sql = named_series(engine, relation_sql="SELECT * FROM story")
    for period, starts in (
        ("month", ["2024-03-01", "2024-04-01"]),
        ("week", ["2024-03-25", "2024-04-01"]),
    ):
        (drift,) = detect_series_drift(
            engine,
            names=names,
            observations_sql=sql,
            kind="kpi",
            timezone="America/New_York",
            period=period,  # type: ignore[arg-type]
        )
        assert [(p.start, p.n, p.mean_s) for p in drift.periods] == [
            (starts[0], 1, 1.0),
            (starts[1], 2, 3.0),
        ]


@pytest.mark.parametrize(
    "timezone",
    [
        "UTC",
        "Europe/Rome",
        "Europe/London",
        "America/New_York",
        "America/Santiago",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
    ],
)
@pytest.mark.parametrize("unit", ["day", "week", "month"])
def test_periods_start_at_local_midnight(timezone: str, unit: str) -> None:
    # Every instant, random or a microsecond either side of a local midnight, gets the period
    # zoneinfo gives it: the local date, its ISO week's Monday, or the first of its month.
    zone = ZoneInfo(timezone)
    first, last = _us(datetime(2023, 12, 20, tzinfo=UTC)), _us(datetime(2025, 1, 10, tzinfo=UTC))
    calendar = Calendar.build(first_us=first, last_us=last, period=unit, timezone=timezone)  # type: ignore[arg-type]
    edges = [u + d for u in calendar.starts_us[:-1] for d in (-1, 0, 1) if first <= u + d <= last]
    instants = edges + [int(u) for u in np.random.default_rng(1).integers(first, last, 3000)]
    engine = DuckDBEngine(duckdb.connect())
    calendar.materialise_map(engine, "story_map")
    number, join = calendar.period_sql("o.us", "m")
    got = engine.rows(
        "story",
        f"SELECT o.us, {number} FROM (SELECT unnest($1::BIGINT[]) AS us) o "
        f"JOIN story_map m ON {join} ORDER BY o.us",
        [instants],
    )
    assert len(got) == len(instants)
    for us, period in got:
        day = local_date(us, zone)
        expected = {
            "day": day,
            "week": day - timedelta(days=day.weekday()),
            "month": day.replace(day=1),
        }[unit]
        assert calendar.starts[period] == expected, (us, period)


def test_ticket_kpis_are_profiled_when_the_ticket_table_exists(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case_id,activity,timestamp\n"
        "T1,Open,2024-01-03T09:00:00Z\nT1,Close,2024-01-03T11:00:00Z\n"
        "T2,Open,2024-02-05T09:00:00Z\nT2,Close,2024-02-06T09:00:00Z\n",
        encoding="utf-8",
    )
    log = load_event_log(path)
    log.con.execute(
        "CREATE TEMP TABLE kpi_tickets AS SELECT * FROM (VALUES "
        "(epoch_us(TIMESTAMPTZ '2024-01-03 09:00Z'), epoch_us(TIMESTAMPTZ '2024-01-03 10:00Z'), "
        " epoch_us(TIMESTAMPTZ '2024-01-03 11:00Z'), epoch_us(TIMESTAMPTZ '2024-01-03 11:00Z'), "
        " NULL::BIGINT, 600.0), "
        "(epoch_us(TIMESTAMPTZ '2024-02-05 09:00Z'), NULL::BIGINT, "
        " epoch_us(TIMESTAMPTZ '2024-02-06 09:00Z'), epoch_us(TIMESTAMPTZ '2024-02-06 09:00Z'), "
        " NULL::BIGINT, 1800.0)"
        ") t(created_us, first_response_us, first_resolved_us, resolved_us, closed_us, handling_s)"
    )
    report = detect_drift(
        DuckDBEngine(log.con), timezone="UTC", min_transition_count=1, kpi_series=True
    )
    profiles = {
        s.series: [(p.start, p.n, p.median_s) for p in s.periods]
        for s in report.series
        if s.kind == "kpi"
    }
    assert profiles == {
        "resolution_time": [("2024-01-01", 1, 7200.0), ("2024-02-01", 1, 86400.0)],
        "handling_time": [("2024-01-01", 1, 600.0), ("2024-02-01", 1, 1800.0)],
        # T2 had no reply: its resolution answered it, as in the KPI of that name
        "first_response_time": [("2024-01-01", 1, 3600.0), ("2024-02-01", 1, 86400.0)],
    }
    transitions = [s for s in report.series if s.kind == "transition"]
    assert [(s.series, [p.n for p in s.periods]) for s in transitions] == [("Open → Close", [1, 1])]


def test_unknown_period_or_zone_is_refused() -> None:
    engine = DuckDBEngine(duckdb.connect())
    sql = "SELECT 0 AS sid, 0 AS obs_us, 1.0 AS value_s"
    with pytest.raises(ValueError, match="period"):
        detect_series_drift(
            engine,
            names=["x"],
            observations_sql=sql,
            kind="kpi",
            timezone="UTC",
            period="year",  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="time zone"):
        detect_series_drift(
            engine, names=["x"], observations_sql=sql, kind="kpi", timezone="Mars/Olympus"
        )
