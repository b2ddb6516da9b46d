"""The working-day calendar behind case deadlines.

A day is a working day if the administrator's override table says so; otherwise as the
``chinese-calendar`` package says (statutory holidays and make-up working days); for a year
the package does not know (it raises ``NotImplementedError``), Monday to Friday.

Deadline semantics (all computed in the local zone, ``settings.TIME_ZONE``, returned in UTC):

* ``add_working_days(start, n)``: the END of the n-th working day AFTER the day of ``start``
  (23:59:59 local). The day of submission never counts, whatever the hour: "respond within
  3 working days" of a Friday-afternoon submission is the end of the following Wednesday.
* ``add_working_hours(start, h)``: the clock runs round the clock on working days and stops
  on rest days. Friday 10:00 + 24 working hours = Monday 10:00; a start on a rest day
  starts the clock at 00:00 of the next working day.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

END_OF_DAY = dt.time(23, 59, 59)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _package_is_workday(day: dt.date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


class WorkingCalendar:
    """Answers ``is_workday`` for many days from one copy of the override table (``lookups``)."""

    def __init__(self) -> None:
        from communitygrid.cases.lookups import calendar_overrides

        self._overrides = calendar_overrides()

    def is_workday(self, day: dt.date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        known = _package_is_workday(day)
        if known is not None:
            return known
        return day.weekday() < 5


def is_workday(day: dt.date) -> bool:
    return WorkingCalendar().is_workday(day)


def _require_aware(start: dt.datetime) -> None:
    if timezone.is_naive(start):
        raise ValueError("deadlines are computed from aware datetimes only")


def add_working_days(start: dt.datetime, n: int, *, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """End (23:59:59 local) of the ``n``-th working day after the local day of ``start``, in UTC."""
    _require_aware(start)
    if n < 1:
        raise ValueError("n must be at least 1")
    zone = local_zone()
    calendar = calendar or WorkingCalendar()
    day = start.astimezone(zone).date()
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(dt.timezone.utc)


def add_working_hours(start: dt.datetime, hours: float, *, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """``start`` plus ``hours`` of clock time counted only on working days, in UTC."""
    _require_aware(start)
    if hours < 0:
        raise ValueError("hours must not be negative")
    zone = local_zone()
    calendar = calendar or WorkingCalendar()
    remaining = dt.timedelta(hours=hours)
    cursor = start.astimezone(zone)
    while True:
        next_midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        if calendar.is_workday(cursor.date()):
            available = next_midnight - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(dt.timezone.utc)
            remaining -= available
        cursor = next_midnight
