"""Business-time math (tickets/calendars.py) with exact instants, and the validation of the
calendar models that feed it (DESIGN.md § SLA: opening hours, holidays, 调休)."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tickets.calendars import (
    ALWAYS_OPEN,
    CalendarHasNoHours,
    Schedule,
    add_business_minutes,
    business_minutes_between,
    parse_hours,
)
from tickets.models import BusinessCalendar, CalendarDay, weekly_schedule
from tickets.sla import calendar_schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC

WEEKDAYS_9_TO_21 = {
    "mon": [["09:00", "21:00"]],
    "tue": [["09:00", "21:00"]],
    "wed": [["09:00", "21:00"]],
    "thu": [["09:00", "21:00"]],
    "fri": [["09:00", "21:00"]],
    "sat": [],
    "sun": [],
}
MAKEUP_HOURS = [["10:00", "18:00"]]
# 国庆节 2026 as test data: 1–7 October closed, Sunday 27 September and Saturday 10 October worked (调休).
NATIONAL_DAY = [dt.date(2026, 10, day) for day in range(1, 8)]


def sh(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def berlin(*args):
    return dt.datetime(*args, tzinfo=BERLIN)


def schedule(weekly=None, tz=SHANGHAI, **exceptions):
    """A Schedule from the JSON shapes the models store; `exceptions` maps "YYYY_MM_DD" to hours."""
    return Schedule(
        tz=tz,
        weekly=weekly_schedule(weekly if weekly is not None else WEEKDAYS_9_TO_21),
        exceptions={dt.date(*map(int, key.split("_"))): parse_hours(hours) for key, hours in exceptions.items()},
    )


def china_office():
    """Mon–Fri 09:00–21:00, the National Day week closed, two make-up days, New Year's Day closed."""
    exceptions = {day: [] for day in NATIONAL_DAY}
    exceptions[dt.date(2026, 9, 27)] = parse_hours(MAKEUP_HOURS)
    exceptions[dt.date(2026, 10, 10)] = parse_hours([["13:00", "17:00"]])
    exceptions[dt.date(2027, 1, 1)] = []
    return Schedule(tz=SHANGHAI, weekly=weekly_schedule(WEEKDAYS_9_TO_21), exceptions=exceptions)


OFFICE = china_office()
SPLIT = schedule({day: [["13:30", "21:00"], ["09:00", "12:00"]] for day in WEEKDAYS_9_TO_21})
EVENINGS = schedule({day: [["18:00", "24:00"]] for day in WEEKDAYS_9_TO_21})
ROUND_THE_CLOCK = {day: [["00:00", "24:00"]] for day in WEEKDAYS_9_TO_21}


# Adding business minutes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        pytest.param(sh(2026, 3, 2, 10, 0), 60, sh(2026, 3, 2, 11, 0), id="inside hours"),
        pytest.param(sh(2026, 3, 2, 10, 17, 30), 45, sh(2026, 3, 2, 11, 2, 30), id="seconds kept"),
        pytest.param(sh(2026, 3, 2, 23, 30), 30, sh(2026, 3, 3, 9, 30), id="late evening"),
        pytest.param(sh(2026, 3, 3, 3, 0), 30, sh(2026, 3, 3, 9, 30), id="small hours"),
        pytest.param(sh(2026, 3, 2, 20, 30), 60, sh(2026, 3, 3, 9, 30), id="across a night"),
        pytest.param(sh(2026, 3, 2, 20, 30), 30 + 720 + 15, sh(2026, 3, 4, 9, 15), id="across two nights"),
        pytest.param(sh(2026, 3, 6, 20, 0), 120, sh(2026, 3, 9, 10, 0), id="friday to monday"),
        pytest.param(sh(2026, 3, 7, 14, 0), 15, sh(2026, 3, 9, 9, 15), id="opened on saturday"),
        pytest.param(sh(2026, 3, 2, 9, 0), 60, sh(2026, 3, 2, 10, 0), id="exactly at opening"),
        pytest.param(sh(2026, 3, 2, 21, 0), 1, sh(2026, 3, 3, 9, 1), id="exactly at closing"),
        pytest.param(sh(2026, 3, 2, 20, 0), 60, sh(2026, 3, 2, 21, 0), id="due exactly at closing"),
        pytest.param(sh(2026, 7, 31, 20, 30), 60, sh(2026, 8, 3, 9, 30), id="month edge"),
    ],
)
def test_business_minutes_count_only_opening_hours_on_weekdays(start, minutes, due):
    assert add_business_minutes(start, minutes, OFFICE) == due


@pytest.mark.parametrize(
    ("start", "due"),
    [
        pytest.param(sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 10, 0), id="inside hours: now"),
        pytest.param(sh(2026, 3, 2, 9, 0), sh(2026, 3, 2, 9, 0), id="at opening: now"),
        pytest.param(sh(2026, 3, 2, 21, 0), sh(2026, 3, 3, 9, 0), id="at closing: next opening"),
        pytest.param(sh(2026, 3, 2, 23, 0), sh(2026, 3, 3, 9, 0), id="at night: next opening"),
        pytest.param(sh(2026, 3, 7, 12, 0), sh(2026, 3, 9, 9, 0), id="weekend: monday opening"),
    ],
)
def test_zero_minutes_is_now_when_open_and_the_next_opening_when_closed(start, due):
    assert add_business_minutes(start, 0, OFFICE) == due


def test_the_national_day_week_is_skipped():
    assert add_business_minutes(sh(2026, 9, 30, 20, 0), 120, OFFICE) == sh(2026, 10, 8, 10, 0)


def test_a_ticket_opened_during_the_holiday_waits_for_the_first_working_morning():
    assert add_business_minutes(sh(2026, 10, 3, 11, 0), 60, OFFICE) == sh(2026, 10, 8, 10, 0)


def test_a_makeup_sunday_opens_with_the_makeup_hours():
    # Saturday is closed; Sunday 27 September is a working day from 10:00 to 18:00.
    assert add_business_minutes(sh(2026, 9, 26, 12, 0), 60, OFFICE) == sh(2026, 9, 27, 11, 0)
    assert add_business_minutes(sh(2026, 9, 27, 17, 30), 60, OFFICE) == sh(2026, 9, 28, 9, 30)


def test_a_makeup_saturday_with_its_own_hours_uses_them_and_sunday_stays_closed():
    assert add_business_minutes(sh(2026, 10, 9, 20, 30), 60, OFFICE) == sh(2026, 10, 10, 13, 30)
    assert add_business_minutes(sh(2026, 10, 10, 16, 30), 60, OFFICE) == sh(2026, 10, 12, 9, 30)


def test_new_years_eve_rolls_over_the_year_past_the_new_year_holiday_and_the_weekend():
    assert add_business_minutes(sh(2026, 12, 31, 20, 30), 60, OFFICE) == sh(2027, 1, 4, 9, 30)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        pytest.param(sh(2026, 3, 2, 11, 30), 60, sh(2026, 3, 2, 14, 0), id="across the lunch break"),
        pytest.param(sh(2026, 3, 2, 12, 45), 10, sh(2026, 3, 2, 13, 40), id="opened at lunch"),
        pytest.param(sh(2026, 3, 2, 11, 0), 60, sh(2026, 3, 2, 12, 0), id="due exactly at the break"),
        pytest.param(sh(2026, 3, 2, 12, 0), 0, sh(2026, 3, 2, 13, 30), id="zero at the break"),
        pytest.param(sh(2026, 3, 2, 20, 0), 300, sh(2026, 3, 3, 14, 30), id="evening to next afternoon"),
        pytest.param(sh(2026, 3, 2, 20, 0), 240, sh(2026, 3, 3, 12, 0), id="evening to next noon"),
    ],
)
def test_split_shifts_skip_the_break(start, minutes, due):
    assert add_business_minutes(start, minutes, SPLIT) == due


def test_hours_that_end_at_2400_run_to_midnight():
    assert add_business_minutes(sh(2026, 3, 2, 23, 0), 60, EVENINGS) == sh(2026, 3, 3, 0, 0)
    assert add_business_minutes(sh(2026, 3, 2, 23, 30), 60, EVENINGS) == sh(2026, 3, 3, 18, 30)
    assert business_minutes_between(sh(2026, 3, 2, 17, 0), sh(2026, 3, 3, 0, 0), EVENINGS) == 360.0


def test_a_calendar_open_around_the_clock_is_always_open_and_counts_plain_minutes():
    always = schedule(ROUND_THE_CLOCK)
    assert always.is_always_open
    assert ALWAYS_OPEN.is_always_open
    assert add_business_minutes(sh(2026, 3, 7, 23, 30), 60, always) == sh(2026, 3, 8, 0, 30)
    assert add_business_minutes(sh(2026, 3, 7, 23, 30), 60) == sh(2026, 3, 8, 0, 30)
    assert business_minutes_between(sh(2026, 3, 7, 23, 30), sh(2026, 3, 8, 0, 30)) == 60.0


def test_round_the_clock_hours_with_a_holiday_join_at_midnight_and_skip_the_holiday():
    with_holiday = schedule(ROUND_THE_CLOCK, **{"2026_03_04": []})
    assert not with_holiday.is_always_open
    assert add_business_minutes(sh(2026, 3, 2, 23, 30), 60, with_holiday) == sh(2026, 3, 3, 0, 30)
    assert add_business_minutes(sh(2026, 3, 3, 23, 30), 60, with_holiday) == sh(2026, 3, 5, 0, 30)


def test_the_due_time_keeps_the_time_zone_of_the_start():
    due = add_business_minutes(dt.datetime(2026, 3, 2, 12, 30, tzinfo=UTC), 60, OFFICE)
    assert due == sh(2026, 3, 3, 9, 30)
    assert due.tzinfo is UTC
    assert due == dt.datetime(2026, 3, 3, 1, 30, tzinfo=UTC)


# Daylight saving time (Europe/Berlin: 29 March 2026 02:00 → 03:00, 25 October 03:00 → 02:00) ---


def test_opening_hours_follow_the_wall_clock_across_the_spring_change():
    daily = schedule({day: [["09:00", "21:00"]] for day in WEEKDAYS_9_TO_21}, tz=BERLIN)
    due = add_business_minutes(berlin(2026, 3, 28, 20, 30), 60, daily)
    assert due == berlin(2026, 3, 29, 9, 30)
    assert due == dt.datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    assert business_minutes_between(berlin(2026, 3, 28, 20, 30), berlin(2026, 3, 29, 9, 30), daily) == 60.0


def test_a_round_the_clock_day_of_the_spring_change_has_23_business_hours():
    with_holiday = schedule(ROUND_THE_CLOCK, tz=BERLIN, **{"2026_12_25": []})
    start = berlin(2026, 3, 28, 12, 0)
    due = add_business_minutes(start, 24 * 60, with_holiday)
    assert due == berlin(2026, 3, 29, 13, 0)
    assert due - start == dt.timedelta(hours=25)  # wall clock: same tzinfo, offsets ignored
    assert due.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=24)
    assert business_minutes_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), with_holiday) == 23 * 60.0


def test_a_round_the_clock_day_of_the_autumn_change_has_25_business_hours():
    with_holiday = schedule(ROUND_THE_CLOCK, tz=BERLIN, **{"2026_12_25": []})
    assert add_business_minutes(berlin(2026, 10, 24, 12, 0), 24 * 60, with_holiday) == berlin(2026, 10, 25, 11, 0)
    assert business_minutes_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), with_holiday) == 25 * 60.0


def test_the_always_open_calendar_counts_elapsed_time_across_a_change_of_clocks():
    assert add_business_minutes(berlin(2026, 3, 28, 12, 0), 24 * 60) == berlin(2026, 3, 29, 13, 0)
    assert business_minutes_between(berlin(2026, 3, 28, 12, 0), berlin(2026, 3, 29, 13, 0)) == 24 * 60.0


# Business minutes between two instants -----------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        pytest.param(sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 11, 30), 90.0, id="inside hours"),
        pytest.param(sh(2026, 3, 6, 20, 0), sh(2026, 3, 9, 10, 0), 120.0, id="over a weekend"),
        pytest.param(sh(2026, 3, 2, 23, 0), sh(2026, 3, 3, 9, 30), 30.0, id="from the night"),
        pytest.param(sh(2026, 3, 2, 21, 0), sh(2026, 3, 3, 9, 0), 0.0, id="closed the whole time"),
        pytest.param(sh(2026, 9, 30, 9, 0), sh(2026, 10, 8, 9, 0), 720.0, id="over the holiday"),
        pytest.param(sh(2026, 9, 26, 0, 0), sh(2026, 9, 28, 0, 0), 480.0, id="a make-up sunday"),
        pytest.param(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 10, 0), 0.0, id="end before start"),
        pytest.param(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 11, 0), 0.0, id="end equals start"),
    ],
)
def test_business_minutes_between_two_instants(start, end, minutes):
    assert business_minutes_between(start, end, OFFICE) == minutes


@pytest.mark.parametrize("calendar", [OFFICE, SPLIT, EVENINGS], ids=["office", "split", "evenings"])
def test_business_minutes_between_undoes_adding_business_minutes(calendar):
    # A seeded table instead of hypothesis (not installed): 300 starts across 2026 to the minute.
    rng = random.Random(20260929)
    year_start = sh(2026, 1, 1)
    for _ in range(300):
        start = year_start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        minutes = rng.randrange(0, 5000)
        due = add_business_minutes(start, minutes, calendar)
        assert business_minutes_between(start, due, calendar) == minutes, (start, minutes, due)
        assert due >= start


def test_a_due_time_far_beyond_the_scan_window_is_still_found():
    with_holiday = schedule(ROUND_THE_CLOCK, **{"2026_01_02": []})
    assert add_business_minutes(sh(2026, 1, 1, 0, 0), 500 * 24 * 60, with_holiday) == sh(2027, 5, 17, 0, 0)


# Calendars without hours -------------------------------------------------------------------


def test_a_calendar_with_no_hours_raises_instead_of_looping_forever():
    closed = schedule({})
    with pytest.raises(CalendarHasNoHours):
        add_business_minutes(sh(2026, 3, 2, 10, 0), 60, closed)
    with pytest.raises(CalendarHasNoHours):
        add_business_minutes(sh(2026, 3, 2, 10, 0), 0, closed)
    with pytest.raises(CalendarHasNoHours):
        business_minutes_between(sh(2026, 3, 2, 10, 0), sh(2026, 3, 3, 10, 0), closed)


def test_a_calendar_whose_hours_end_with_its_last_makeup_day_raises_after_it():
    only_makeup = schedule({}, **{"2026_10_10": [["09:00", "10:00"]]})
    assert add_business_minutes(sh(2026, 10, 1, 0, 0), 30, only_makeup) == sh(2026, 10, 10, 9, 30)
    with pytest.raises(CalendarHasNoHours):
        add_business_minutes(sh(2026, 10, 1, 0, 0), 61, only_makeup)


# Parsing hours -----------------------------------------------------------------------------


def test_hours_parse_sorted_and_2400_means_the_end_of_the_day():
    assert parse_hours([["13:30", "24:00"], ["09:00", "12:00"], ["12:00", "13:00"]]) == [
        (dt.time(9, 0), dt.time(12, 0)),
        (dt.time(12, 0), dt.time(13, 0)),
        (dt.time(13, 30), dt.time.max),
    ]
    assert parse_hours([]) == []
    assert parse_hours(None) == []


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        pytest.param([["09:00", "12:00"], ["11:00", "14:00"]], "must not overlap", id="overlap"),
        pytest.param([["09:00", "24:00"], ["20:00", "22:00"]], "must not overlap", id="overlap to midnight"),
        pytest.param([["18:00", "09:00"]], "must close after it opens", id="close before open"),
        pytest.param([["09:00", "09:00"]], "must close after it opens", id="empty interval"),
        pytest.param([["9am", "18:00"]], "Not a time of day: '9am'", id="words"),
        pytest.param([["09:00", "25:00"]], "Not a time of day: '25:00'", id="hour 25"),
        pytest.param([["24:00", "24:00"]], "Not a time of day: '24:00'", id="opening at 24:00"),
        pytest.param([["09:00", None]], "Not a time of day: None", id="null"),
        pytest.param([[900, 1800]], "Not a time of day: 900", id="numbers"),
        pytest.param([["09:00+08:00", "18:00"]], "Not a time of day: '09:00+08:00'", id="with an offset"),
        pytest.param([["09:00"]], "a pair of times", id="one time"),
        pytest.param([["09:00", "12:00", "13:00"]], "a pair of times", id="three times"),
        pytest.param(["09:00-18:00"], "a pair of times", id="a string interval"),
        pytest.param("09:00-18:00", "a list of intervals", id="a string"),
        pytest.param(9, "a list of intervals", id="a number"),
        pytest.param({"09:00": "18:00"}, "a list of intervals", id="an object"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(hours, message):
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        parse_hours(hours)


# Model validation --------------------------------------------------------------------------


def test_a_valid_calendar_passes_clean():
    BusinessCalendar(
        name="office", timezone="Asia/Shanghai", weekly_hours=WEEKDAYS_9_TO_21, makeup_day_hours=MAKEUP_HOURS
    ).clean()
    BusinessCalendar(name="defaults").clean()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"timezone": "Mars/Olympus_Mons"}, "{'timezone': ['Unknown time zone.']}", id="unknown zone"),
        pytest.param({"timezone": ""}, "{'timezone': ['Unknown time zone.']}", id="empty zone"),
        pytest.param({"timezone": "../etc/passwd"}, "{'timezone': ['Unknown time zone.']}", id="path as zone"),
        pytest.param(
            {"weekly_hours": {"monday": [["09:00", "18:00"]]}},
            "['Unknown weekday(s): monday; use mon … sun.']",
            id="unknown weekday",
        ),
        pytest.param(
            {"weekly_hours": [["09:00", "18:00"]]},
            "['Hours must be an object keyed by weekday (mon … sun).']",
            id="a list for weekly hours",
        ),
        pytest.param(
            {"weekly_hours": {"mon": [["18:00", "09:00"]]}},
            "['An interval must close after it opens: 18:00–09:00.']",
            id="close before open",
        ),
        pytest.param(
            {"weekly_hours": {"mon": "09:00-18:00"}},
            '[\'Hours are a list of intervals like [["09:00", "18:00"]].\']',
            id="a string for a day",
        ),
        pytest.param(
            {"weekly_hours": {"mon": 9}},
            '[\'Hours are a list of intervals like [["09:00", "18:00"]].\']',
            id="a number for a day",
        ),
        pytest.param(
            {"makeup_day_hours": [["10:00", "14:00"], ["13:00", "18:00"]]},
            "['Intervals must not overlap.']",
            id="overlapping make-up hours",
        ),
    ],
)
def test_a_calendar_with_bad_settings_fails_clean_with_a_message(fields, message):
    calendar = BusinessCalendar(name="bad", **fields)
    with pytest.raises(ValidationError) as caught:
        calendar.clean()
    assert str(caught.value) == message


def test_a_calendar_day_with_bad_hours_fails_clean_on_its_hours():
    day = CalendarDay(date=dt.date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY, hours=[["13:00", "x"]])
    with pytest.raises(ValidationError) as caught:
        day.clean()
    assert caught.value.message_dict == {"hours": ["Not a time of day: 'x' (use HH:MM)."]}
    CalendarDay(date=dt.date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY, hours=[["13:00", "17:00"]]).clean()


# From the stored calendar to the schedule --------------------------------------------------


@pytest.mark.django_db
def test_a_stored_calendar_becomes_the_same_schedule_with_holidays_and_makeup_days():
    calendar = BusinessCalendar.objects.create(
        name="甲店 office", timezone="Asia/Shanghai", weekly_hours=WEEKDAYS_9_TO_21, makeup_day_hours=MAKEUP_HOURS
    )
    CalendarDay.objects.bulk_create(
        [CalendarDay(calendar=calendar, date=day, kind=CalendarDay.Kind.HOLIDAY, name="国庆节") for day in NATIONAL_DAY]
        + [
            CalendarDay(calendar=calendar, date=dt.date(2026, 9, 27), kind=CalendarDay.Kind.WORKDAY, name="调休"),
            CalendarDay(
                calendar=calendar,
                date=dt.date(2026, 10, 10),
                kind=CalendarDay.Kind.WORKDAY,
                name="调休",
                hours=[["13:00", "17:00"]],
            ),
            # A holiday's own hours are ignored: it is closed.
            CalendarDay(
                calendar=calendar,
                date=dt.date(2027, 1, 1),
                kind=CalendarDay.Kind.HOLIDAY,
                name="元旦",
                hours=[["09:00", "21:00"]],
            ),
        ]
    )
    stored = calendar_schedule(calendar)
    assert stored == OFFICE
    assert add_business_minutes(sh(2026, 9, 26, 12, 0), 60, stored) == sh(2026, 9, 27, 11, 0)
    assert add_business_minutes(sh(2026, 12, 31, 20, 30), 60, stored) == sh(2027, 1, 4, 9, 30)


def test_no_calendar_means_the_clock_runs_around_the_clock():
    assert calendar_schedule(None) is ALWAYS_OPEN
