"""Business time on a weekly calendar: hand-worked DST and weekend cases, a brute-force minute
reference, and the round trip between adding business time and measuring it."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from supportflow.simulate.clock import BusinessClock, OpenHours, learn_open_hours

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
HOUR = 3600.0
OFFICE = {"mon-fri": "08:00-18:00", "sat": "09:00-13:00"}


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """UTC epoch seconds of a local wall-clock time (the first one when it happens twice)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def local(zone: ZoneInfo, instant_s: float | np.ndarray) -> str:
    return datetime.fromtimestamp(float(instant_s), zone).isoformat()


def hours(zone: str, weekly: object) -> OpenHours:
    return OpenHours.model_validate({"zone": zone, "weekly": weekly})


def clock(zone: str, weekly: object) -> BusinessClock:
    return BusinessClock(hours(zone, weekly), at(ROME, 2024, 1, 1), at(ROME, 2025, 1, 1))


@functools.cache
def rome_office() -> BusinessClock:
    return clock("Europe/Rome", OFFICE)


def test_friday_afternoon_plus_three_hours_is_monday_ten_across_the_autumn_change() -> None:
    office = clock("Europe/Rome", {"mon-fri": "08:00-18:00"})
    friday = at(ROME, 2024, 10, 25, 17)  # summer time; clocks go back on Sunday 27
    assert local(ROME, office.add(friday, 3 * HOUR)) == "2024-10-28T10:00:00+01:00"
    assert local(ROME, office.add1(friday, 3 * HOUR)) == "2024-10-28T10:00:00+01:00"
    monday = at(ROME, 2024, 10, 28, 10)
    assert office.elapsed(friday, monday) == 3 * HOUR
    assert monday - friday == 66 * HOUR  # 65 wall-clock hours plus the repeated one


def test_the_repeated_hour_counts_twice_and_the_skipped_one_not_at_all() -> None:
    always = BusinessClock(
        OpenHours.always("Europe/Rome"), at(ROME, 2024, 3, 1), at(ROME, 2024, 11, 1)
    )
    assert always.elapsed(at(ROME, 2024, 10, 26, 12), at(ROME, 2024, 10, 27, 12)) == 25 * HOUR
    assert always.elapsed(at(ROME, 2024, 3, 30, 12), at(ROME, 2024, 3, 31, 12)) == 23 * HOUR
    night = clock("Europe/Rome", {"sun": "02:00-03:00"})
    assert night.elapsed(at(ROME, 2024, 10, 27), at(ROME, 2024, 10, 27, 6)) == 2 * HOUR
    assert night.elapsed(at(ROME, 2024, 3, 31), at(ROME, 2024, 3, 31, 6)) == 0.0
    assert night.elapsed(at(ROME, 2024, 3, 24), at(ROME, 2024, 3, 24, 6)) == 1 * HOUR


def test_new_york_spring_forward() -> None:
    office = clock("America/New_York", {"mon-fri": "08:00-18:00", "sun": "00:00-05:00"})
    # Sunday 10 March 2024: 02:00 EST jumps to 03:00 EDT, so 00:00-05:00 lasts 4 hours
    sunday = at(NEW_YORK, 2024, 3, 10)
    assert office.elapsed(sunday, sunday + 24 * HOUR) == 4 * HOUR
    assert local(NEW_YORK, office.add(sunday, 4 * HOUR)) == "2024-03-10T05:00:00-04:00"
    friday = at(NEW_YORK, 2024, 3, 8, 17)
    assert local(NEW_YORK, office.add1(friday, 6 * HOUR)) == "2024-03-11T09:00:00-04:00"
    assert office.next_open(at(NEW_YORK, 2024, 3, 10, 12)) == at(NEW_YORK, 2024, 3, 11, 8)
    assert datetime.fromtimestamp(at(NEW_YORK, 2024, 3, 11, 8), UTC).hour == 12


def test_kolkata_half_hour_offset() -> None:
    office = clock("Asia/Kolkata", {"mon-fri": "09:00-18:00"})
    saturday = at(KOLKATA, 2024, 6, 8, 10)
    monday = office.next_open(saturday)
    assert datetime.fromtimestamp(float(monday), UTC).isoformat() == "2024-06-10T03:30:00+00:00"
    evening = at(KOLKATA, 2024, 6, 10, 17, 30)
    assert local(KOLKATA, office.add1(evening, HOUR)) == "2024-06-11T09:30:00+05:30"
    assert office.elapsed(saturday, evening) == 8.5 * HOUR


def test_zero_work_at_a_closed_instant_does_not_wait() -> None:
    office = rome_office()
    sunday = at(ROME, 2024, 5, 5, 12)
    assert office.add(sunday, 0.0) == sunday
    assert office.add1(sunday, 0.0) == sunday
    assert local(ROME, office.add1(sunday, 1.0)) == "2024-05-06T08:00:01+02:00"


def test_next_open_and_is_open() -> None:
    office = rome_office()
    instants = [at(ROME, 2024, 5, 3, 9), at(ROME, 2024, 5, 3, 18), at(ROME, 2024, 5, 4, 13)]
    assert office.is_open(instants).tolist() == [True, False, False]
    assert [local(ROME, t) for t in office.next_open(instants)] == [
        "2024-05-03T09:00:00+02:00",
        "2024-05-04T09:00:00+02:00",
        "2024-05-06T08:00:00+02:00",
    ]


def test_an_always_open_clock_is_plain_arithmetic() -> None:
    rng = np.random.default_rng(12)
    t0 = at(ROME, 2024, 1, 1) + rng.random(10_000) * 300 * 86_400
    d = rng.exponential(3 * 86_400, 10_000)
    for zone in ("Europe/Rome", "America/New_York", "Asia/Kolkata"):
        always = BusinessClock(OpenHours.always(zone), at(ROME, 2024, 1, 1), at(ROME, 2025, 1, 1))
        assert always.add(t0, d) == pytest.approx(t0 + d, abs=1e-5)
        assert always.elapsed(t0, t0 + d) == pytest.approx(d, abs=1e-5)


def _minutes_open(zone: ZoneInfo, week: np.ndarray, t0: int, t1: int) -> int:
    """Brute force: open whole minutes in [t0, t1), each read on the local wall clock."""
    opened = 0
    for minute in range(t0, t1, 60):
        wall = datetime.fromtimestamp(minute, zone)
        opened += bool(week[wall.weekday() * 24 + wall.hour])
    return opened


@pytest.mark.parametrize(
    ("zone", "weekly", "dst_day"),
    [
        ("Europe/Rome", OFFICE, datetime(2024, 10, 27)),
        ("Europe/Rome", {"sun-mon": "00:00-04:00", "wed": "12:00-13:00"}, datetime(2024, 3, 31)),
        (
            "America/New_York",
            {"mon-fri": "07:00-19:00", "sun": "01:00-03:00"},
            datetime(2024, 11, 3),
        ),
        ("Asia/Kolkata", {"mon-fri": "09:00-18:00"}, datetime(2024, 6, 1)),
    ],
)
def test_agrees_with_a_minute_by_minute_reference(
    zone: str, weekly: object, dst_day: datetime
) -> None:
    open_hours = hours(zone, weekly)
    tz = ZoneInfo(zone)
    business = BusinessClock(open_hours, at(ROME, 2024, 1, 1), at(ROME, 2025, 1, 1))
    rng = np.random.default_rng(13)
    around_change = int(dst_day.replace(tzinfo=tz).timestamp()) - 86_400
    starts = [around_change] + [
        int(at(ROME, 2024, 1, 8)) + int(m) * 60 for m in rng.integers(0, 500_000, 11)
    ]
    for t0 in starts:
        t1 = t0 + int(rng.integers(1, 3 * 1440)) * 60
        expected = _minutes_open(tz, open_hours.week_mask(), t0, t1) * 60
        assert business.elapsed(float(t0), float(t1)) == expected
        if expected:
            # the reference end: the minute in which the open time is reached, then its end
            reached = float(business.add(float(t0), float(expected)))
            assert reached <= t1
            assert _minutes_open(tz, open_hours.week_mask(), t0, int(reached)) * 60 == expected
            assert business.is_open(reached - 1.0)


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(min_value=at(ROME, 2024, 1, 1), max_value=at(ROME, 2024, 12, 1)),
    duration=st.floats(min_value=0.0, max_value=40 * 86_400),
)
def test_add_and_elapsed_are_inverses(start: float, duration: float) -> None:
    office = rome_office()
    end = float(office.add(start, duration))
    assert end >= start
    assert float(office.elapsed(start, end)) == pytest.approx(duration, abs=1e-5)
    assert office.add1(start, duration) == pytest.approx(end, abs=1e-5)
    # the earliest such instant: a moment earlier the work is not done
    if duration > 0:
        assert float(office.elapsed(start, end - 0.01)) < duration


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(min_value=at(ROME, 2024, 1, 1), max_value=at(ROME, 2024, 12, 1)),
    gap=st.floats(min_value=0.0, max_value=20 * 86_400),
)
def test_adding_the_elapsed_time_never_passes_the_end(start: float, gap: float) -> None:
    office = rome_office()
    worked = float(office.elapsed(start, start + gap))
    reached = float(office.add(start, worked))
    assert reached <= start + gap + 1e-5
    assert float(office.elapsed(reached, start + gap)) == pytest.approx(0.0, abs=1e-5)


def test_the_horizon_grows_on_demand_without_changing_answers() -> None:
    week = BusinessClock(
        hours("Europe/Rome", OFFICE), at(ROME, 2024, 5, 6), at(ROME, 2024, 5, 6), margin_s=0
    )
    year = rome_office()
    t = np.array([at(ROME, 2024, 5, 6, 9), at(ROME, 2024, 2, 1, 12), at(ROME, 2024, 11, 30, 10)])
    d = np.array([30 * 86_400.0, 2 * HOUR, 0.5 * HOUR])
    assert week.add(t, d) == pytest.approx(year.add(t, d), abs=1e-5)
    assert week.add1(at(ROME, 2024, 12, 20, 9), 100 * HOUR) == pytest.approx(
        year.add1(at(ROME, 2024, 12, 20, 9), 100 * HOUR), abs=1e-5
    )
    lo, hi = week.horizon
    assert lo <= at(ROME, 2024, 2, 1, 12) and hi >= at(ROME, 2025, 1, 6)


def test_intervals_list_the_open_stretches_in_utc() -> None:
    office = BusinessClock(
        hours("Europe/Rome", {"mon-fri": "08:00-18:00"}),
        at(ROME, 2024, 5, 6),
        at(ROME, 2024, 5, 7),
        margin_s=0,
    )
    assert [(local(ROME, a), local(ROME, b)) for a, b in office.intervals()][:1] == [
        ("2024-05-06T08:00:00+02:00", "2024-05-06T18:00:00+02:00")
    ]


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        rome_office().add(at(ROME, 2024, 5, 6), -1.0)
    with pytest.raises(ValueError, match="zero or more"):
        rome_office().add1(at(ROME, 2024, 5, 6), -1.0)


def test_the_weekly_form_and_the_full_mask_agree() -> None:
    compact = hours("Europe/Rome", OFFICE)
    week = compact.week_mask()
    assert week.sum() == 5 * 10 + 4
    assert week[8] and not week[7] and week[5 * 24 + 9] and not week[6 * 24 + 10]
    flat = OpenHours.model_validate({"zone": "Europe/Rome", "hours": week.astype(int).tolist()})
    assert flat == compact
    assert compact.weekly() == OFFICE
    assert OpenHours.model_validate(compact.to_yaml_dict()) == compact
    assert (
        OpenHours.model_validate(yaml.safe_load(yaml.safe_dump(compact.model_dump(mode="json"))))
        == compact
    )
    assert hours("UTC", "24x7") == OpenHours.always()
    assert OpenHours.always().weekly() == {"mon-sun": "00:00-24:00"}
    assert hours("UTC", {"fri-mon": "22:00-24:00"}).weekly() == {
        "mon": "22:00-24:00",
        "fri-sun": "22:00-24:00",
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"zone": "Europe/Roma", "weekly": OFFICE}, "unknown time zone 'Europe/Roma'"),
        ({"zone": "UTC", "weekly": {"mon-fri": "08:30-18:00"}}, "not on the hour"),
        (
            {"zone": "UTC", "weekly": {"mon-fri": "08:00-18:00", "fri": "09:00-10:00"}},
            "fri is also given by 'mon-fri'",
        ),
        ({"zone": "UTC", "weekly": {"mon-fry": "08:00-18:00"}}, "unknown weekday 'mon-fry'"),
        ({"zone": "UTC", "weekly": {"mon": "18:00-08:00"}}, "does not end after it starts"),
        ({"zone": "UTC", "weekly": {}}, "no hour is open"),
        ({"zone": "UTC", "hours": [[True] * 24] * 6}, "7 rows"),
        ({"zone": "UTC", "weekly": OFFICE, "hours": [[True] * 24] * 7}, "not both"),
        ({"zone": "UTC", "weekly": OFFICE, "shifts": 2}, "Extra inputs"),
    ],
)
def test_bad_open_hours_are_explained(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OpenHours.model_validate(spec)


def _office_events(count: int, rng: np.random.Generator) -> list[int]:
    """Events at random instants of Mon-Fri 09:00-17:00 in Rome through 2024 (µs)."""
    events: list[int] = []
    first_monday = datetime(2024, 1, 1)
    while len(events) < count:
        day = first_monday + timedelta(days=int(rng.integers(0, 364)))
        if day.weekday() < 5:
            wall = day + timedelta(hours=9, seconds=float(rng.random() * 8 * 3600))
            events.append(int(wall.replace(tzinfo=ROME).timestamp() * 1_000_000))
    return events


def test_learn_open_hours_recovers_the_working_week() -> None:
    rng = np.random.default_rng(14)
    office = _office_events(20_000, rng)
    # 20 stray night events, 0.1 % of the log: below the 0.2 % an hour needs to count as open
    stray = [int(at(ROME, 2024, 3, 1 + k, 3) * 1_000_000) for k in range(20)]
    learned = learn_open_hours(np.array(office + stray), "Europe/Rome")
    assert learned.weekly() == {"mon-fri": "09:00-17:00"}
    assert learned.zone == "Europe/Rome"


def test_learn_open_hours_reads_local_time_across_dst() -> None:
    # Mon-Fri 09:00-17:00 local is 08:00-16:00 UTC in winter and 07:00-15:00 in summer
    learned_utc = learn_open_hours(
        np.array(_office_events(20_000, np.random.default_rng(15))), "UTC"
    )
    assert learned_utc.weekly() == {"mon-fri": "07:00-16:00"}


def test_learn_open_hours_on_a_tiny_log_is_always_open() -> None:
    assert learn_open_hours(np.array([], dtype=np.int64), "Europe/Rome") == OpenHours.always(
        "Europe/Rome"
    )
    few = np.array(_office_events(50, np.random.default_rng(16)))
    assert learn_open_hours(few, "Europe/Rome") == OpenHours.always("Europe/Rome")


def test_learn_open_hours_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        learn_open_hours(np.array([0]), "Mars/Olympus")
    with pytest.raises(ValueError, match="min_share"):
        learn_open_hours(np.array([0]), "UTC", min_share=0.1)
