"""Tests for bot.hours: weekly-hours parsing, opening checks, deadlines and elapsed time."""

from __future__ import annotations

import copy
import dataclasses
import functools
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.hours import Calendar, CalendarError, parse_weekly_hours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def at(tz: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=tz)  # type: ignore[arg-type, misc]


def utc(*fields: int) -> datetime:
    return at(ZoneInfo("UTC"), *fields).astimezone(UTC)


# 2024-12-02 is a Monday; 24-26 December are Tuesday to Thursday.
OFFICE = Calendar.from_spec(
    "office", "Europe/Berlin", {"mon-fri": "09:00-17:00"}, ["2024-12-25", "2024-12-26"]
)


# --- parsing -------------------------------------------------------------------------------


def test_weekday_range_gives_the_same_hours_to_each_day() -> None:
    """'mon-fri' opens Monday to Friday and leaves the weekend closed."""
    week = parse_weekly_hours({"mon-fri": "09:00-17:00"})
    assert week == {d: ((hm("09:00"), hm("17:00")),) if d < 5 else () for d in range(7)}


def test_wraparound_range_runs_through_the_weekend() -> None:
    """'fri-mon' covers Friday, Saturday, Sunday and Monday only."""
    week = parse_weekly_hours({"fri-mon": "10:00-11:00"})
    assert [d for d, hours in week.items() if hours] == [0, 4, 5, 6]


def test_comma_lists_and_daily_name_days() -> None:
    """'mon,wed' names two days and 'daily' names all seven."""
    assert [d for d, h in parse_weekly_hours({"mon,wed": "10:00-11:00"}).items() if h] == [0, 2]
    assert all(parse_weekly_hours({"daily": "10:00-11:00"}).values())


def test_keys_and_values_ignore_case_and_spaces() -> None:
    """' Mon - Tue ' with ' 9:00 - 17:00 ' parses like 'mon-tue' with '09:00-17:00'."""
    assert parse_weekly_hours({" Mon - Tue ": " 9:00 - 17:00 ", "SUN": "Closed"}) == (
        parse_weekly_hours({"mon-tue": "09:00-17:00"})
    )


def test_closed_and_unnamed_days_have_no_hours() -> None:
    """A day marked 'closed' or missing from the spec is closed."""
    week = parse_weekly_hours({"mon": "closed", "tue": "09:00-10:00"})
    assert week[0] == () and week[2] == ()


def test_several_ranges_are_sorted_and_overlaps_merged() -> None:
    """Out-of-order, overlapping and touching ranges come back sorted and merged."""
    week = parse_weekly_hours({"sat": "13:00-15:00, 09:00-12:00, 11:00-12:30, 15:00-16:00"})
    assert week[5] == ((hm("09:00"), hm("12:30")), (hm("13:00"), hm("16:00")))


def test_overnight_range_continues_on_the_next_day() -> None:
    """'22:00-06:00' on Saturday opens Saturday 22:00-24:00 and Sunday 00:00-06:00."""
    week = parse_weekly_hours({"sat": "22:00-06:00"})
    assert week[5] == ((hm("22:00"), time(0)),)
    assert week[6] == ((time(0), hm("06:00")),)


def test_overnight_range_on_sunday_wraps_to_monday() -> None:
    """Sunday's night shift runs into Monday morning and merges with Monday's own hours."""
    week = parse_weekly_hours({"sun": "20:00-02:00", "mon": "01:00-03:00"})
    assert week[0] == ((time(0), hm("03:00")),)


def test_midnight_end_written_as_00_00_means_end_of_day() -> None:
    """'18:00-00:00' closes at midnight and adds nothing to the next day."""
    week = parse_weekly_hours({"mon": "18:00-00:00"})
    assert week[0] == ((hm("18:00"), time(0)),) and week[1] == ()


def test_24_00_ends_the_day() -> None:
    """'00:00-24:00' is a full day, written with time(0) as the 24:00 end."""
    assert parse_weekly_hours({"tue": "00:00-24:00"})[1] == ((time(0), time(0)),)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"mnday": "09:00-17:00"}, "unknown day 'mnday' in day key 'mnday'"),
        ({"mon-fir": "09:00-17:00"}, "unknown day 'fir' in day key 'mon-fir'"),
        ({"monday": "09:00-17:00"}, "unknown day 'monday'"),
        ({"": "09:00-17:00"}, "bad day key ''"),
        ({"mon,": "09:00-17:00"}, "bad day key 'mon,'"),
        ({"mon,mon": "09:00-17:00"}, "day key 'mon,mon' names 'mon' more than once"),
        ({"mon-fri": "09:00-17:00", "fri": "closed"}, "'fri' is named by both 'mon-fri' and"),
        ({"daily": "09:00-17:00", "sun": "closed"}, "'sun' is named by both 'daily' and 'sun'"),
        ({"mon": "9-5"}, "bad hours '9-5' for 'mon'"),
        ({"mon": "9am-5pm"}, "bad hours '9am-5pm' for 'mon'"),
        ({"mon": ""}, "bad hours '' for 'mon'"),
        ({"mon": "closed, 09:00-10:00"}, "bad hours 'closed' for 'mon'"),
        ({"mon": "09:00-17:00,"}, "bad hours '' for 'mon'"),
        ({"mon": "09:00-17:60"}, "bad time 17:60 in '09:00-17:60' for 'mon'"),
        ({"mon": "25:00-26:00"}, "bad time 25:00"),
        ({"mon": "09:00-24:30"}, "bad time 24:30"),
        ({"mon": "24:00-06:00"}, "range '24:00-06:00' for 'mon' starts at 24:00"),
        ({"mon": "09:00-09:00"}, "range '09:00-09:00' for 'mon' is empty"),
        ({"mon": None}, "entry 'mon': None must map a string day key to a string"),
        ({1: "09:00-17:00"}, "entry 1: '09:00-17:00' must map a string day key"),
    ],
)
def test_bad_spec_is_rejected_naming_the_bad_key_or_value(
    spec: dict[object, object], expected: str
) -> None:
    """Each kind of mistake raises CalendarError naming what is wrong and what is allowed."""
    with pytest.raises(CalendarError, match="use ") as info:
        parse_weekly_hours(spec)  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_spec_that_is_not_a_mapping_is_rejected() -> None:
    """A list instead of a mapping raises CalendarError."""
    with pytest.raises(CalendarError, match="must be a mapping"):
        parse_weekly_hours(["mon", "09:00-17:00"])  # type: ignore[arg-type]


# --- building calendars --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/berlin", "", "Europe", "../etc"])
def test_unknown_time_zone_is_rejected(name: str) -> None:
    """An unknown zone name raises CalendarError naming the zone and suggesting IANA names."""
    with pytest.raises(CalendarError, match="IANA") as info:
        Calendar.from_spec("help", name, {"mon": "09:00-17:00"})
    assert f"unknown time zone {name!r}" in str(info.value)


@pytest.mark.parametrize("holiday", ["2024-13-01", "christmas", datetime(2024, 12, 25, tzinfo=UTC)])
def test_bad_holiday_is_rejected(holiday: object) -> None:
    """A holiday that is not a date or 'YYYY-MM-DD' raises CalendarError naming it."""
    with pytest.raises(CalendarError, match="YYYY-MM-DD") as info:
        Calendar.from_spec("help", "UTC", {"mon": "09:00-17:00"}, [holiday])  # type: ignore[list-item]
    assert f"bad holiday {holiday!r}" in str(info.value)


def test_spec_errors_name_the_calendar() -> None:
    """A parse error from from_spec says which calendar it came from."""
    with pytest.raises(CalendarError, match=r"calendar 'help': unknown day 'mnday'"):
        Calendar.from_spec("help", "UTC", {"mnday": "09:00-17:00"})


def test_calendar_that_never_opens_is_rejected() -> None:
    """A spec with every day closed raises CalendarError at construction."""
    with pytest.raises(CalendarError, match="no open hours on any day"):
        Calendar.from_spec("help", "UTC", {"daily": "closed"})
    with pytest.raises(CalendarError, match="no open hours on any day"):
        Calendar.from_spec("help", "UTC", {})


@pytest.mark.parametrize(
    ("weekly", "expected"),
    [
        ({7: ((hm("09:00"), hm("17:00")),)}, "weekly key 7 must be a weekday"),
        ({0: ((hm("17:00"), hm("09:00")),)}, "ends before it starts"),
        ({0: ((hm("09:00"),),)}, "must be a (start, end) pair"),
        ({0: (("09:00", "17:00"),)}, "must be a (start, end) pair"),
        ({0: ((time(9, tzinfo=UTC), hm("17:00")),)}, "naive datetime.time"),
    ],
)
def test_direct_construction_validates_weekly_hours(
    weekly: dict[int, object], expected: str
) -> None:
    """Building a Calendar by hand with unusable hours raises CalendarError."""
    with pytest.raises(CalendarError, match="calendar 'x'") as info:
        Calendar("x", BERLIN, weekly)  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_direct_construction_rejects_other_mistakes() -> None:
    """Datetime holidays, 24/7 calendars with holidays and non-ZoneInfo zones are rejected."""
    week = {0: ((hm("09:00"), hm("17:00")),)}
    with pytest.raises(CalendarError, match="must be a date"):
        Calendar("x", BERLIN, week, frozenset({datetime(2024, 1, 1, tzinfo=UTC)}))
    with pytest.raises(CalendarError, match="always open and cannot have holidays"):
        Calendar("x", BERLIN, week, frozenset({date(2024, 1, 1)}), always_open=True)
    with pytest.raises(CalendarError, match="ZoneInfo"):
        Calendar("x", UTC, week)  # type: ignore[arg-type]


def test_direct_construction_normalises_weekly_hours() -> None:
    """Hand-built hours are sorted and merged and every weekday gets an entry."""
    cal = Calendar("x", BERLIN, {0: ((hm("13:00"), hm("15:00")), (hm("09:00"), hm("13:00")))})
    assert dict(cal.weekly) == {
        d: ((hm("09:00"), hm("15:00")),) if d == 0 else () for d in range(7)
    }
    assert cal == Calendar.from_spec("x", "Europe/Berlin", {"mon": "09:00-15:00"})
    assert hash(cal) == hash(Calendar.from_spec("x", "Europe/Berlin", {"mon": "09:00-15:00"}))


def test_calendar_survives_pickling_and_copying() -> None:
    """A calendar can be pickled and deep-copied (e.g. into a job store) and stays equal."""
    restored = pickle.loads(pickle.dumps(OFFICE))
    assert restored == OFFICE == copy.deepcopy(OFFICE)
    assert restored.deadline(at(BERLIN, 2024, 12, 24, 16), 2 * HOUR) == at(BERLIN, 2024, 12, 27, 10)


def test_calendar_is_immutable() -> None:
    """Weekly hours cannot be changed after construction."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        OFFICE.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        OFFICE.weekly[5] = ()  # type: ignore[index]


def test_no_hours_means_open_around_the_clock() -> None:
    """from_spec with hours=None is always open; with holidays it closes only on those dates."""
    always = Calendar.from_spec("a", "Europe/Berlin", None)
    assert always.always_open
    assert always.is_open(at(BERLIN, 2024, 12, 25, 3))
    with_holiday = Calendar.from_spec("h", "Europe/Berlin", None, [date(2024, 12, 25)])
    assert not with_holiday.always_open
    assert not with_holiday.is_open(at(BERLIN, 2024, 12, 25, 3))
    assert with_holiday.is_open(at(BERLIN, 2024, 12, 26, 0))


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: OFFICE.is_open(naive),
        lambda naive: OFFICE.next_open(naive),
        lambda naive: OFFICE.deadline(naive, HOUR),
        lambda naive: OFFICE.business_elapsed(naive, utc(2024, 12, 3)),
        lambda naive: OFFICE.business_elapsed(utc(2024, 12, 3), naive),
        lambda naive: Calendar.always().deadline(naive, HOUR),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[datetime], object]) -> None:
    """Passing a datetime without a time zone raises ValueError mentioning timezone-aware."""
    naive = utc(2024, 12, 3, 10).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        call(naive)


def test_negative_target_is_rejected() -> None:
    """A negative target raises ValueError."""
    with pytest.raises(ValueError, match="must not be negative"):
        OFFICE.deadline(utc(2024, 12, 3), -MINUTE)


# --- is_open and next_open -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(BERLIN, 2024, 12, 3, 8, 59), False),
        (at(BERLIN, 2024, 12, 3, 9, 0), True),
        (at(BERLIN, 2024, 12, 3, 16, 59, 59), True),
        (at(BERLIN, 2024, 12, 3, 17, 0), False),
        (at(BERLIN, 2024, 12, 7, 12, 0), False),
        (at(BERLIN, 2024, 12, 25, 12, 0), False),
        (utc(2024, 12, 3, 8, 30), True),
        (at(NEW_YORK, 2024, 12, 3, 3, 0), True),
    ],
)
def test_is_open_follows_local_hours(when: datetime, expected: bool) -> None:
    """Open 09:00-17:00 Berlin time on weekdays, closed at 17:00, weekends and holidays."""
    assert OFFICE.is_open(when) is expected


def test_night_shift_is_open_after_midnight_unless_that_date_is_a_holiday() -> None:
    """Friday's 22:00-06:00 shift is open Saturday 02:00, but not on a Saturday holiday."""
    cal = Calendar.from_spec("night", "Europe/Berlin", {"fri": "22:00-06:00"}, ["2024-12-14"])
    assert cal.is_open(at(BERLIN, 2024, 12, 6, 23))
    assert cal.is_open(at(BERLIN, 2024, 12, 7, 2))
    assert not cal.is_open(at(BERLIN, 2024, 12, 7, 6))
    assert cal.is_open(at(BERLIN, 2024, 12, 13, 23))
    assert not cal.is_open(at(BERLIN, 2024, 12, 14, 2))


def test_next_open_returns_now_or_the_next_opening_in_utc() -> None:
    """next_open is the instant itself when open, else the next opening, always in UTC."""
    assert OFFICE.next_open(at(BERLIN, 2024, 12, 3, 10)) == utc(2024, 12, 3, 9)
    assert OFFICE.next_open(at(BERLIN, 2024, 12, 3, 17)) == utc(2024, 12, 4, 8)
    assert OFFICE.next_open(at(BERLIN, 2024, 12, 6, 18)) == utc(2024, 12, 9, 8)
    assert OFFICE.next_open(at(BERLIN, 2024, 12, 24, 18)) == utc(2024, 12, 27, 8)
    assert OFFICE.next_open(at(BERLIN, 2024, 12, 3, 10)).tzinfo is UTC


def test_next_open_gives_up_after_ten_years_of_holidays() -> None:
    """A calendar closed by holidays for over ten years raises CalendarError."""
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(3700)]
    cal = Calendar.from_spec("closed", "UTC", {"mon": "09:00-10:00"}, days)
    with pytest.raises(CalendarError, match="does not open within ten years"):
        cal.next_open(utc(2024, 1, 1))


# --- deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "expected"),
    [
        # Inside hours: plain addition.
        (at(BERLIN, 2024, 12, 3, 10), 2 * HOUR, at(BERLIN, 2024, 12, 3, 12)),
        # Before opening: the clock starts at 09:00.
        (at(BERLIN, 2024, 12, 3, 7), HOUR, at(BERLIN, 2024, 12, 3, 10)),
        # Running out exactly at closing time gives the closing time.
        (at(BERLIN, 2024, 12, 3, 16), HOUR, at(BERLIN, 2024, 12, 3, 17)),
        # Straddling closing time: the rest is served the next morning.
        (at(BERLIN, 2024, 12, 3, 16), 2 * HOUR, at(BERLIN, 2024, 12, 4, 10)),
        # At and after closing: rolls to the next day.
        (at(BERLIN, 2024, 12, 3, 17), HOUR, at(BERLIN, 2024, 12, 4, 10)),
        (at(BERLIN, 2024, 12, 3, 20), HOUR, at(BERLIN, 2024, 12, 4, 10)),
        # Over a weekend.
        (at(BERLIN, 2024, 12, 6, 16), 2 * HOUR, at(BERLIN, 2024, 12, 9, 10)),
        (at(BERLIN, 2024, 12, 7, 12), HOUR, at(BERLIN, 2024, 12, 9, 10)),
        # Over the Christmas holidays (25th and 26th).
        (at(BERLIN, 2024, 12, 24, 16), 2 * HOUR, at(BERLIN, 2024, 12, 27, 10)),
        # Several days.
        (at(BERLIN, 2024, 12, 2, 9), 40 * HOUR, at(BERLIN, 2024, 12, 6, 17)),
        (at(BERLIN, 2024, 12, 2, 9), 41 * HOUR, at(BERLIN, 2024, 12, 9, 10)),
        # Start given in another zone.
        (utc(2024, 12, 3, 15, 30), HOUR, at(BERLIN, 2024, 12, 4, 9, 30)),
    ],
)
def test_deadline_counts_only_business_hours(
    start: datetime, target: timedelta, expected: datetime
) -> None:
    """Deadlines skip nights, weekends and holidays and come back in UTC."""
    result = OFFICE.deadline(start, target)
    assert result == expected
    assert result.tzinfo is UTC
    assert OFFICE.business_elapsed(start, result) == target


def test_zero_target_is_due_when_the_clock_starts() -> None:
    """A zero target is due at the start if open, else at the next opening, with 0 elapsed."""
    inside, evening = at(BERLIN, 2024, 12, 3, 10), at(BERLIN, 2024, 12, 6, 18)
    assert OFFICE.deadline(inside, timedelta(0)) == inside
    assert OFFICE.deadline(evening, timedelta(0)) == at(BERLIN, 2024, 12, 9, 9)
    assert OFFICE.business_elapsed(evening, OFFICE.deadline(evening, timedelta(0))) == timedelta(0)


def test_overnight_shift_deadline_runs_across_midnight() -> None:
    """A 3 h target at 23:00 in a 22:00-06:00 shift is due at 02:00 the next morning."""
    cal = Calendar.from_spec("night", "Europe/Berlin", {"daily": "22:00-06:00"})
    assert cal.deadline(at(BERLIN, 2024, 12, 3, 23), 3 * HOUR) == at(BERLIN, 2024, 12, 4, 2)


def test_target_beyond_ten_years_of_hours_is_rejected() -> None:
    """A target the calendar cannot provide within ten years raises CalendarError."""
    cal = Calendar.from_spec("sparse", "UTC", {"mon": "09:00-10:00"})
    assert cal.deadline(utc(2024, 1, 1), 500 * HOUR) > utc(2033, 1, 1)
    with pytest.raises(CalendarError, match="within ten years"):
        cal.deadline(utc(2024, 1, 1), 600 * HOUR)


# --- business_elapsed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (at(BERLIN, 2024, 12, 3, 10), at(BERLIN, 2024, 12, 3, 12, 30), timedelta(hours=2.5)),
        (at(BERLIN, 2024, 12, 3, 7), at(BERLIN, 2024, 12, 3, 20), 8 * HOUR),
        # Overnight.
        (at(BERLIN, 2024, 12, 3, 16), at(BERLIN, 2024, 12, 4, 10), 2 * HOUR),
        # Over a weekend.
        (at(BERLIN, 2024, 12, 6, 16), at(BERLIN, 2024, 12, 9, 10), 2 * HOUR),
        # A full week.
        (at(BERLIN, 2024, 12, 2), at(BERLIN, 2024, 12, 9), 40 * HOUR),
        # Over the holidays.
        (at(BERLIN, 2024, 12, 24, 16), at(BERLIN, 2024, 12, 27, 10), 2 * HOUR),
        (at(BERLIN, 2024, 12, 23), at(BERLIN, 2024, 12, 30), 24 * HOUR),
        # Wholly outside hours.
        (at(BERLIN, 2024, 12, 7), at(BERLIN, 2024, 12, 8, 23), timedelta(0)),
        # End before start.
        (at(BERLIN, 2024, 12, 3, 12), at(BERLIN, 2024, 12, 3, 10), timedelta(0)),
        # Mixed zones.
        (utc(2024, 12, 3, 7), at(NEW_YORK, 2024, 12, 3, 5), 2 * HOUR),
    ],
)
def test_business_elapsed_counts_only_open_time(
    start: datetime, end: datetime, expected: timedelta
) -> None:
    """Elapsed business time leaves out nights, weekends and holidays, and is never negative."""
    assert OFFICE.business_elapsed(start, end) == expected


def test_a_year_of_office_hours_adds_up() -> None:
    """2024 (52 weeks plus Mon 30 and Tue 31 Dec, minus two weekday holidays) is 2080 h."""
    elapsed = OFFICE.business_elapsed(at(BERLIN, 2024, 1, 1), at(BERLIN, 2025, 1, 1))
    assert elapsed == (52 * 40 + 16 - 16) * HOUR


# --- daylight saving time ------------------------------------------------------------------

DAILY_OFFICE_SPEC = {"daily": "09:00-17:00"}


@pytest.mark.parametrize(
    ("zone", "start", "expected_utc"),
    [
        # Berlin springs forward on Sunday 2024-03-31 (UTC+1 -> UTC+2).
        ("Europe/Berlin", (2024, 3, 30, 16, 30), utc(2024, 3, 31, 7, 30)),
        ("Europe/Berlin", (2024, 3, 31, 16, 30), utc(2024, 4, 1, 7, 30)),
        ("Europe/Berlin", (2024, 4, 1, 16, 30), utc(2024, 4, 2, 7, 30)),
        # Berlin falls back on Sunday 2024-10-27 (UTC+2 -> UTC+1).
        ("Europe/Berlin", (2024, 10, 26, 16, 30), utc(2024, 10, 27, 8, 30)),
        ("Europe/Berlin", (2024, 10, 27, 16, 30), utc(2024, 10, 28, 8, 30)),
        ("Europe/Berlin", (2024, 10, 28, 16, 30), utc(2024, 10, 29, 8, 30)),
        # New York springs forward on Sunday 2024-03-10 (UTC-5 -> UTC-4).
        ("America/New_York", (2024, 3, 9, 16, 30), utc(2024, 3, 10, 13, 30)),
        ("America/New_York", (2024, 3, 10, 16, 30), utc(2024, 3, 11, 13, 30)),
        ("America/New_York", (2024, 3, 11, 16, 30), utc(2024, 3, 12, 13, 30)),
        # New York falls back on Sunday 2024-11-03 (UTC-4 -> UTC-5).
        ("America/New_York", (2024, 11, 2, 16, 30), utc(2024, 11, 3, 14, 30)),
        ("America/New_York", (2024, 11, 3, 16, 30), utc(2024, 11, 4, 14, 30)),
        ("America/New_York", (2024, 11, 4, 16, 30), utc(2024, 11, 5, 14, 30)),
    ],
)
def test_hour_target_half_an_hour_before_closing_across_dst(
    zone: str, start: tuple[int, ...], expected_utc: datetime
) -> None:
    """60 min from 16:30 is 30 min today plus 30 min after 09:00 local time tomorrow, in UTC."""
    cal = Calendar.from_spec("office", zone, DAILY_OFFICE_SPEC)
    begin = at(ZoneInfo(zone), *start)
    assert cal.deadline(begin, HOUR) == expected_utc
    assert cal.business_elapsed(begin, expected_utc) == HOUR


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", (2024, 3, 30), 24),
        ("Europe/Berlin", (2024, 3, 31), 23),
        ("Europe/Berlin", (2024, 10, 27), 25),
        ("America/New_York", (2024, 3, 10), 23),
        ("America/New_York", (2024, 11, 3), 25),
        ("America/New_York", (2024, 11, 4), 24),
        ("Australia/Lord_Howe", (2024, 4, 7), 24.5),
        ("Australia/Lord_Howe", (2024, 10, 6), 23.5),
        ("Asia/Kolkata", (2024, 3, 31), 24),
        # Santiago changes at midnight: Saturday 24:00 -> 23:00, and Sunday 00:00 -> 01:00.
        ("America/Santiago", (2024, 4, 6), 25),
        ("America/Santiago", (2024, 9, 8), 23),
    ],
)
@pytest.mark.parametrize("holidays", [(), ["2031-01-01"]], ids=["no-holidays", "holiday"])
def test_all_day_hours_follow_the_real_length_of_the_day(
    zone: str, day: tuple[int, int, int], hours: float, holidays: list[str]
) -> None:
    """A 00:00-24:00 local day is 23 h / 25 h long on DST change days, 24 h otherwise."""
    tz = ZoneInfo(zone)
    cal = Calendar.from_spec("all day", zone, {"daily": "00:00-24:00"}, holidays)
    start, end = at(tz, *day), at(tz, *day) + DAY  # aware arithmetic: next local midnight
    assert cal.business_elapsed(start, end) == timedelta(hours=hours)
    assert cal.deadline(start, timedelta(hours=hours)) == end
    assert cal.deadline(start, DAY) == start.astimezone(UTC) + DAY


def test_nine_to_five_is_eight_hours_on_dst_change_days() -> None:
    """Hours that do not span the 02:00/03:00 change keep their length on change days."""
    cal = Calendar.from_spec("office", "Europe/Berlin", DAILY_OFFICE_SPEC)
    for day in (date(2024, 3, 31), date(2024, 10, 27)):
        start = at(BERLIN, day.year, day.month, day.day)
        assert cal.business_elapsed(start, start + DAY) == 8 * HOUR


@pytest.mark.parametrize(
    ("spec", "day", "expected", "opens_utc"),
    [
        # Spanning the change: shorter in spring, longer in autumn.
        ("00:00-06:00", (2024, 3, 31), 5 * HOUR, utc(2024, 3, 30, 23)),
        ("00:00-06:00", (2024, 10, 27), 7 * HOUR, utc(2024, 10, 26, 22)),
        # Starting inside the spring gap (02:00-03:00 does not exist): opens at 03:00 CEST.
        ("02:30-04:00", (2024, 3, 31), HOUR, utc(2024, 3, 31, 1)),
        # Ending inside the gap: closes when the gap begins.
        ("01:00-02:30", (2024, 3, 31), HOUR, utc(2024, 3, 31, 0)),
        # Wholly inside the gap: never opens that day.
        ("02:10-02:50", (2024, 3, 31), timedelta(0), None),
        # Starting inside the repeated hour: the first 02:30 (CEST) counts.
        ("02:30-04:00", (2024, 10, 27), 2.5 * HOUR, utc(2024, 10, 27, 0, 30)),
        # Ending inside the repeated hour: the first 02:30 (CEST) ends it.
        ("01:00-02:30", (2024, 10, 27), 1.5 * HOUR, utc(2024, 10, 26, 23)),
    ],
)
def test_wall_times_in_dst_gaps_and_overlaps(
    spec: str, day: tuple[int, int, int], expected: timedelta, opens_utc: datetime | None
) -> None:
    """Skipped wall times move to the end of the gap; repeated ones use their first occurrence."""
    cal = Calendar.from_spec("odd", "Europe/Berlin", {"sun": spec})
    start = at(BERLIN, *day)
    assert cal.business_elapsed(start, start + DAY) == expected
    if opens_utc is not None:
        assert cal.next_open(start) == opens_utc
        assert cal.deadline(start, expected) == cal.next_open(start) + expected
    else:
        assert cal.next_open(start) > start + DAY


# --- 24/7 ----------------------------------------------------------------------------------


def test_always_open_calendar_is_open_everywhere() -> None:
    """Calendar.always() is open at any instant and next_open is the instant itself in UTC."""
    cal = Calendar.always()
    # The first of New York's two 01:30s that day; an ambiguous local time never compares equal
    # to a UTC one (PEP 495), hence the explicit conversion.
    when = at(NEW_YORK, 2024, 11, 3, 1, 30)
    assert cal.is_open(when)
    assert cal.next_open(when) == when.astimezone(UTC) == utc(2024, 11, 3, 5, 30)
    assert cal.next_open(when.replace(fold=1)) == utc(2024, 11, 3, 6, 30)
    assert cal.next_open(when).tzinfo is UTC
    assert cal.business_elapsed(when, when - HOUR) == timedelta(0)


# --- properties ----------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kolkata",  # no DST, half-hour offset
    "America/Santiago",  # changes at midnight
    "UTC",
]
FIRST, LAST = datetime(2023, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
SPAN_US = (LAST - FIRST) // US
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Minutes around the 01:00-03:30 wall times at which these zones change, so that hours starting
# or ending in a gap or overlap come up often.
DST_MINUTES = [0, 60, 90, 120, 130, 150, 180, 210]
Scenario = tuple[Calendar, datetime]
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@functools.cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """UTC instants (to the minute) at which `zone` changes offset between FIRST and LAST."""
    tz, found = ZoneInfo(zone), []
    day = FIRST
    while day < LAST:
        lo, hi = day, day + DAY
        if lo.astimezone(tz).utcoffset() != hi.astimezone(tz).utcoffset():
            while hi - lo > MINUTE:
                mid = lo + (hi - lo) // 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        day += DAY
    return tuple(found)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """An instant anywhere in FIRST..LAST, or within three days of one of the zone's changes."""
    changes = transitions(zone)
    near_change: bool = draw(st.booleans())
    if changes and near_change:
        base = draw(st.sampled_from(changes))
        return base + draw(st.integers(-3 * DAY // US, 3 * DAY // US)) * US
    return FIRST + draw(st.integers(0, SPAN_US)) * US


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random calendar and a start instant, with some holidays near the start."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(instants(zone))
    start_minute = st.one_of(st.integers(0, 1439), st.sampled_from(DST_MINUTES))
    end_minute = st.one_of(st.integers(0, 1440), st.sampled_from([*DST_MINUTES, 1440]))
    spec: dict[str, str] = {}
    for day in DAY_NAMES:
        ranges = [
            f"{hhmm(s)}-{hhmm(e)}"
            for s, e in draw(st.lists(st.tuples(start_minute, end_minute), max_size=3))
            if s != e
        ]
        listed: bool = draw(st.booleans())
        if ranges or listed:
            spec[day] = ", ".join(ranges) or "closed"
    if not any(v != "closed" for v in spec.values()):
        spec[draw(st.sampled_from(DAY_NAMES))] = "09:00-17:00"
    local_start = start.astimezone(ZoneInfo(zone)).date()
    near = st.integers(-3, 14).map(lambda n: local_start + timedelta(days=n))
    holidays = draw(st.lists(st.one_of(near, st.dates(FIRST.date(), LAST.date())), max_size=6))
    return Calendar.from_spec("random", zone, spec, holidays), start


def time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def weekly_open_us(cal: Calendar) -> int:
    """Open microseconds in a week without DST changes or holidays."""
    return sum(
        (time_us(end) or DAY // US) - time_us(start)
        for intervals in cal.weekly.values()
        for start, end in intervals
    )


@st.composite
def targets(draw: st.DrawFn, cal: Calendar) -> timedelta:
    """Zero, a few minutes or hours, or up to about three weeks' worth of the calendar's hours."""
    most = max(1, weekly_open_us(cal) * 3)
    return draw(
        st.one_of(
            st.just(timedelta(0)),
            st.integers(1, 4 * HOUR // US).map(lambda n: n * US),
            st.integers(1, most).map(lambda n: n * US),
        )
    )


def wall_clock_open(cal: Calendar, when: datetime) -> bool:
    """Return whether the local wall time of `when` is inside its own date's weekly hours."""
    local = when.astimezone(cal.tz)
    if local.date() in cal.holidays:
        return False
    time_of_day = local.time().replace(tzinfo=None)
    return any(
        start <= time_of_day and (end == time(0) or time_of_day < end)
        for start, end in cal.weekly[local.weekday()]
    )


@PROPERTY
@given(data=st.data(), scenario=scenarios())
def test_deadline_and_elapsed_are_inverse(data: st.DataObject, scenario: Scenario) -> None:
    """The business time from a start to its deadline is exactly the target."""
    cal, start = scenario
    target = data.draw(targets(cal))
    due = cal.deadline(start, target)
    assert due.tzinfo is UTC
    assert cal.business_elapsed(start, due) == target
    assert due >= start


@PROPERTY
@given(data=st.data(), scenario=scenarios())
def test_deadline_lands_in_an_open_interval_or_at_its_end(
    data: st.DataObject, scenario: Scenario
) -> None:
    """A deadline falls on open time, or on the closing instant of the interval that served it."""
    cal, start = scenario
    target = data.draw(targets(cal))
    due = cal.deadline(start, target)
    if target:
        assert cal.is_open(due - US)
    else:
        assert due == cal.next_open(start)
        assert cal.is_open(due)
        assert cal.business_elapsed(start, due) == timedelta(0)


@PROPERTY
@given(data=st.data(), scenario=scenarios())
def test_deadline_is_monotonic_in_target_and_start(data: st.DataObject, scenario: Scenario) -> None:
    """A bigger target or a later start never gives an earlier deadline."""
    cal, start = scenario
    small, extra = data.draw(targets(cal)), data.draw(targets(cal))
    later = start + data.draw(st.integers(0, 3 * DAY // US)) * US
    assert cal.deadline(start, small) <= cal.deadline(start, small + extra)
    assert cal.deadline(start, small) <= cal.deadline(later, small)


@PROPERTY
@given(data=st.data(), scenario=scenarios())
def test_elapsed_is_additive_non_negative_and_bounded(
    data: st.DataObject, scenario: Scenario
) -> None:
    """Elapsed time over a span is the sum over its parts, at least zero, at most wall time."""
    cal, a = scenario
    b = a + data.draw(st.integers(0, 10 * DAY // US)) * US
    c = b + data.draw(st.integers(0, 10 * DAY // US)) * US
    ab, bc, ac = cal.business_elapsed(a, b), cal.business_elapsed(b, c), cal.business_elapsed(a, c)
    assert ac == ab + bc
    for part, span in ((ab, b - a), (bc, c - b), (ac, c - a)):
        assert timedelta(0) <= part <= span
    assert cal.business_elapsed(c, a) == timedelta(0)


@PROPERTY
@given(scenario=scenarios())
def test_open_instants_count_as_elapsed_time(scenario: Scenario) -> None:
    """One microsecond from an instant is business time exactly when the calendar is open then."""
    cal, when = scenario
    expected = US if cal.is_open(when) else timedelta(0)
    assert cal.business_elapsed(when, when + US) == expected


@PROPERTY
@given(scenario=scenarios())
def test_is_open_matches_the_local_wall_clock(scenario: Scenario) -> None:
    """Outside repeated fall-back hours, open means the local time is within that date's hours."""
    cal, when = scenario
    local = when.astimezone(cal.tz)
    if local.replace(fold=0).utcoffset() == local.replace(fold=1).utcoffset():
        assert cal.is_open(when) is wall_clock_open(cal, when)


@PROPERTY
@given(data=st.data(), zone=st.sampled_from(ZONES))
def test_round_the_clock_calendars_use_plain_arithmetic(data: st.DataObject, zone: str) -> None:
    """24/7 calendars, and all-day local hours across DST changes, add real elapsed time."""
    start = data.draw(instants(zone))
    span = data.draw(st.integers(0, 40 * DAY // US)) * US
    holiday = ["2030-06-01"]  # far away, so only the day-by-day walk can answer
    for cal in (
        Calendar.always(),
        Calendar.from_spec("local", zone, {"daily": "00:00-24:00"}),
        Calendar.from_spec("walked", zone, {"daily": "00:00-24:00"}, holiday),
    ):
        assert cal.is_open(start)
        assert cal.deadline(start, span) == start + span
        assert cal.business_elapsed(start, start + span) == span
