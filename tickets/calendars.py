"""Business-time math: opening hours per weekday, holidays and make-up working days (调休).

Pure functions over a `Schedule` (no database), so SLA due times can be computed in bulk during
ingestion and tested exhaustively with frozen time.
"""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# Beyond this many days without a single open minute, a calendar is treated as misconfigured.
_MAX_SCAN_DAYS = 400

Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Schedule:
    """Weekly hours by weekday (Monday 0), and dated exceptions: a date mapped to its own list of
    intervals (an empty list is a holiday; a weekend date with hours is a make-up working day)."""

    tz: dt.tzinfo
    weekly: dict[int, list[Interval]]
    exceptions: dict[dt.date, list[Interval]] = field(default_factory=dict)

    def intervals_on(self, day):
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(day.weekday(), [])

    @property
    def is_always_open(self):
        full = [(dt.time.min, dt.time.max)]
        return not self.exceptions and all(self.weekly.get(d) == full for d in range(7))


ALWAYS_OPEN = Schedule(tz=ZoneInfo("Asia/Shanghai"), weekly={d: [(dt.time.min, dt.time.max)] for d in range(7)})


class CalendarHasNoHours(ValueError):
    pass


def _open_spans(schedule, start):
    """Yield (span_start, span_end) of open time from `start` onwards, in UTC: aware datetimes
    that share a ZoneInfo subtract and add as wall-clock time, which is wrong across a DST change."""
    start = start.astimezone(dt.UTC)
    day = start.astimezone(schedule.tz).date()
    days_without_hours = 0
    while days_without_hours < _MAX_SCAN_DAYS:
        intervals = schedule.intervals_on(day)
        days_without_hours = 0 if intervals else days_without_hours + 1
        for opens, closes in intervals:
            span_start = dt.datetime.combine(day, opens, tzinfo=schedule.tz).astimezone(dt.UTC)
            # time.max stands for midnight at the end of the day.
            if closes == dt.time.max:
                span_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=schedule.tz)
            else:
                span_end = dt.datetime.combine(day, closes, tzinfo=schedule.tz)
            span_end = span_end.astimezone(dt.UTC)
            if span_end <= start:
                continue
            yield max(span_start, start), span_end
        day += dt.timedelta(days=1)
    raise CalendarHasNoHours(f"No open hours within {_MAX_SCAN_DAYS} days.")


def add_business_minutes(start, minutes, schedule=ALWAYS_OPEN):
    """The instant `minutes` of open time after `start` (aware). Starting outside opening hours
    counts from the next opening."""
    if schedule.is_always_open:
        return (start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(start.tzinfo)
    remaining = dt.timedelta(minutes=minutes)
    spans = _open_spans(schedule, start)
    span_start, span_end = next(spans)
    if remaining <= dt.timedelta(0):
        return span_start.astimezone(start.tzinfo)
    while True:
        available = span_end - span_start
        if remaining <= available:
            return (span_start + remaining).astimezone(start.tzinfo)
        remaining -= available
        span_start, span_end = next(spans)


def business_minutes_between(start, end, schedule=ALWAYS_OPEN):
    """Open minutes from `start` to `end` (0 when end is not after start)."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return 0.0
    if schedule.is_always_open:
        return (end - start).total_seconds() / 60
    total = dt.timedelta(0)
    for span_start, span_end in _open_spans(schedule, start):
        if span_start >= end:
            break
        total += min(span_end, end) - span_start
    return total.total_seconds() / 60


def parse_hours(value):
    """`[["09:00", "12:00"], ["13:30", "21:00"]]` -> list of (time, time), validated; "24:00"
    means the end of the day."""
    if value is not None and not isinstance(value, (list, tuple)):
        raise ValueError('Hours are a list of intervals like [["09:00", "18:00"]].')
    intervals = []
    for pair in value or []:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError('Each interval is a pair of times like ["09:00", "18:00"].')
        opens = _parse_time(pair[0])
        closes = dt.time.max if pair[1] == "24:00" else _parse_time(pair[1])
        if closes <= opens:
            raise ValueError(f"An interval must close after it opens: {pair[0]}–{pair[1]}.")
        intervals.append((opens, closes))
    intervals.sort()
    for (_o1, c1), (o2, _c2) in zip(intervals, intervals[1:], strict=False):
        if o2 < c1:
            raise ValueError("Intervals must not overlap.")
    return intervals


def _parse_time(text):
    try:
        value = dt.time.fromisoformat(text)
    except (TypeError, ValueError):
        value = None
    # An offset ("09:00+08:00") would make the time incomparable: the calendar has the time zone.
    if value is None or value.tzinfo is not None:
        raise ValueError(f"Not a time of day: {text!r} (use HH:MM).")
    return value
