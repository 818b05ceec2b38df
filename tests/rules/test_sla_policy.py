"""Stories of SLA policies written by hand: a good one loads, each mistake names line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from supportflow.rules.sla import SlaPolicy, Window, load_sla_policy
from supportflow.rules.yamlio import RulesError

GOOD = """\
calendars:
  emea:
    timezone: Europe/Rome
    hours: {mon-fri: "09:00-13:00,14:00-18:00", sat: "09:00-12:00"}
    holidays: IT
    dates: [2024-12-24]
    teams: [Billing EU]
  us:
    timezone: America/New_York
    hours: 24x7
    holidays: {country: US, subdivision: NY}
    regions: [Americas]
default_calendar: emea
pause_states: [waiting_on_customer]
targets:
  - {priority: P1, first_response: 1h, resolution: 8h, calendar: 24x7}
  - {priority: 2, channel: chat, first_response: 10m}
  - {priority: "*", channel: "*", first_response: 1d, resolution: 5d}
kpi_targets: {first_response_time: 4h}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(RulesError) as error:
        load_sla_policy(write(tmp_path, text))
    return str(error.value).replace(str(tmp_path / "sla.yaml"), "sla.yaml")


def test_a_good_policy_loads(tmp_path: Path) -> None:
    policy = load_sla_policy(write(tmp_path, GOOD))
    emea = policy.calendars["emea"]
    assert emea.windows_on(0) == (Window(540, 780), Window(840, 1080))
    assert emea.windows_on(5) == (Window(540, 720),)
    assert emea.windows_on(6) == ()
    assert emea.holidays is not None and emea.holidays.country == "IT"
    assert date(2024, 11, 1) in emea.holidays.dates(range(2024, 2025))
    assert policy.calendars["us"].windows_on(6) == (Window(0, 1440),)
    assert policy.pause_states == ["waiting_on_customer"]
    assert [t.priority for t in policy.targets] == ["P1", "2", "*"]
    assert [t.specificity for t in policy.targets] == [1, 2, 0]
    assert policy.targets[1].first_response == 600.0
    assert policy.targets[2].channel is None
    assert policy.kpi_targets == {"first_response_time": 14400.0}
    assert policy.fallback_calendar == "emea"
    assert policy.calendar("24x7").timezone == "UTC"
    assert SlaPolicy.model_validate(policy.model_dump()) == policy


def test_defaults_pause_on_both_waiting_states_and_run_24x7(tmp_path: Path) -> None:
    policy = load_sla_policy(write(tmp_path, "targets: [{priority: P1, resolution: 1d}]\n"))
    assert policy.pause_states == ["waiting_on_customer", "waiting_on_third_party"]
    assert policy.fallback_calendar == "24x7"
    assert policy.pause_first_response is False


def test_calendar_mistakes_name_their_line_and_field(tmp_path: Path) -> None:
    text = """\
calendars:
  emea:
    timezone: Europe/Rme
    hours:
      moon: "09:00-18:00"
      mon-fri: "09:00-18:00"
      fri: "09:00-17:00"
    holidays: {country: XX}
  us:
    hours: {mon: "18:00-09:00", tue: "9:00-25:00", wed: 9h, thu: "09:00-13:00,12:00-18:00"}
    holidays: {country: US, subdivision: ZZ}
targets:
  - {priority: P1, resolution: 8h}
"""
    assert error_of(tmp_path, text).splitlines() == [
        "sla.yaml:3: calendars.emea.timezone: unknown time zone 'Europe/Rme'; "
        "use an IANA name such as Europe/Rome",
        "sla.yaml:5: calendars.emea.hours.moon: unknown weekday 'moon'; "
        "use mon, tue, wed, thu, fri, sat, sun or a range as mon-fri",
        "sla.yaml:7: calendars.emea.hours.fri: fri is also given by 'mon-fri'",
        "sla.yaml:8: calendars.emea.holidays: unknown holidays country 'XX'; "
        "use an ISO code such as IT, DE, US",
        "sla.yaml:10: calendars.us.hours.mon: the window '18:00-09:00' does not end after it "
        "starts; split a night shift over two days: 22:00-24:00 and 00:00-06:00",
        "sla.yaml:10: calendars.us.hours.tue: not a time of day: 25:00 in '9:00-25:00'",
        "sla.yaml:10: calendars.us.hours.wed: not a time window: '9h' (write HH:MM-HH:MM, "
        "several separated by commas: '09:00-13:00,14:00-18:00')",
        "sla.yaml:10: calendars.us.hours.thu: the windows 09:00-13:00 and 12:00-18:00 overlap",
        "sla.yaml:11: calendars.us.holidays: unknown subdivision 'ZZ' of US; choose from "
        "AK, AL, AR, AS, AZ, CA, CO, CT, DC, DE, FL, GA, ...",
    ]


def test_unknown_calendar_names_point_at_the_reference(tmp_path: Path) -> None:
    text = """\
calendars:
  emea: {hours: 24x7}
default_calendar: emae
targets:
  - {priority: P1, resolution: 8h}
  - {priority: P2, resolution: 1d, calendar: apac}
"""
    assert error_of(tmp_path, text).splitlines() == [
        "sla.yaml:3: default_calendar: unknown calendar 'emae'; define it under calendars or "
        "use one of: 24x7, emea",
        "sla.yaml:6: targets[1].calendar: unknown calendar 'apac'; define it under calendars "
        "or use one of: 24x7, emea",
    ]


def test_a_team_belongs_to_one_calendar(tmp_path: Path) -> None:
    text = """\
calendars:
  emea: {hours: 24x7, teams: [Billing]}
  us:
    hours: 24x7
    teams: [Sales, billing]
  24x7: {hours: 24x7}
targets: [{priority: P1, resolution: 8h}]
"""
    assert error_of(tmp_path, text).splitlines() == [
        "sla.yaml:6: calendars.24x7: the name 24x7 is the built-in calendar",
        "sla.yaml:5: calendars.us.teams[1]: 'billing' is already in calendar 'emea'",
    ]


def test_target_and_pause_mistakes(tmp_path: Path) -> None:
    text = """\
pause_states: [waiting_on_customer, resolved]
targets:
  - {priority: P1}
  - {priority: P2, resolution: 0}
  - {priority: P3, resolution: 3 dayz}
  - {channel: chat, resolution: 1d}
  - {priority: P4, resolution: 1d, severity: high}
"""
    assert error_of(tmp_path, text).splitlines() == [
        "sla.yaml:1: pause_states[1]: unknown pause state 'resolved'; choose from created, "
        "in_progress, waiting_on_customer, waiting_on_third_party "
        "(resolved and closed always stop the clock)",
        "sla.yaml:3: targets[0]: give first_response, resolution or both",
        "sla.yaml:4: targets[1].resolution: a target must be longer than zero",
        "sla.yaml:5: targets[2].resolution: not a duration: '3 dayz' "
        "(use 90s, 15m, 4h, 2d or 1h30m)",
        "sla.yaml:6: targets[3].priority: Field required",
        "sla.yaml:7: targets[4].severity: Extra inputs are not permitted",
    ]


def test_a_policy_needs_a_target(tmp_path: Path) -> None:
    assert error_of(tmp_path, "calendars: {}\ntargets: []\n") == (
        "sla.yaml:2: targets: name at least one target, such as priority: '*' with resolution: 3d"
    )
    assert error_of(tmp_path, "calendars:\n  emea: {timezone: UTC}\ntargets: []\n").startswith(
        "sla.yaml:2: calendars.emea.hours: Field required"
    )
    assert error_of(tmp_path, "calendars:\n  emea:\n    hours: {}\n").startswith(
        "sla.yaml:3: calendars.emea.hours: write 24x7 or weekdays with windows, "
        "such as mon-fri: 09:00-18:00"
    )


def test_the_documented_policy_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "sla.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = load_sla_policy(write(tmp_path, example))
    assert list(policy.calendars) == ["emea", "americas"]
    assert [t.specificity for t in policy.targets] == [1, 2, 1, 1, 0]
