import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from communitygrid.cases.calendar import add_working_days, add_working_hours, is_workday
from communitygrid.cases.models import CalendarOverride

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


pytestmark = pytest.mark.django_db


def test_spring_festival_days_are_not_working_days_and_the_make_up_saturday_is():
    assert not is_workday(dt.date(2026, 2, 17))  # 初一
    assert not is_workday(dt.date(2026, 2, 23))  # the Monday the holiday runs into
    assert is_workday(dt.date(2026, 2, 14))  # make-up Saturday before the festival
    assert is_workday(dt.date(2026, 2, 28))  # make-up Saturday after it


def test_complex_case_filed_before_spring_festival_is_due_after_it():
    # Fri 13 Feb → Sat 14 Feb (make-up day), then the holiday, then Tue 24, Wed 25.
    due = add_working_days(local(2026, 2, 13, 10, 0), 3)
    assert due == local(2026, 2, 25, 23, 59, 59).astimezone(UTC)
    assert due.tzinfo == UTC


def test_make_up_saturday_counts_as_a_working_day():
    assert add_working_days(local(2026, 2, 27, 16, 0), 1) == local(2026, 2, 28, 23, 59, 59)
    assert add_working_days(local(2026, 2, 27, 16, 0), 3) == local(2026, 3, 3, 23, 59, 59)


def test_the_day_of_submission_never_counts_even_at_midnight():
    assert add_working_days(local(2026, 3, 2, 0, 0, 1), 1) == local(2026, 3, 3, 23, 59, 59)
    # 23:30 UTC on Sunday is already Monday in Shanghai: the local day is what counts.
    assert add_working_days(dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 1) == local(2026, 3, 3, 23, 59, 59)


def test_late_december_2026_is_due_in_january_2027_without_crashing():
    # chinese-calendar 1.11 knows nothing of 2027; Monday–Friday applies: Fri 1 Jan counts.
    due = add_working_days(local(2026, 12, 31, 10, 0), 3)
    assert due == local(2027, 1, 5, 23, 59, 59)


def test_an_override_for_2027_is_honoured():
    CalendarOverride.objects.create(day=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    CalendarOverride.objects.create(day=dt.date(2027, 1, 9), is_workday=True, note="调休上班")
    assert not is_workday(dt.date(2027, 1, 1))
    assert is_workday(dt.date(2027, 1, 9))
    assert add_working_days(local(2026, 12, 31, 10, 0), 3) == local(2027, 1, 6, 23, 59, 59)
    assert add_working_days(local(2027, 1, 7, 10, 0), 2) == local(2027, 1, 9, 23, 59, 59)


def test_an_override_beats_the_statutory_calendar():
    CalendarOverride.objects.create(day=dt.date(2026, 2, 14), is_workday=False, note="local decision")
    assert not is_workday(dt.date(2026, 2, 14))


def test_working_hours_run_round_the_clock_on_working_days_only():
    assert add_working_hours(local(2026, 2, 12, 12, 0), 24) == local(2026, 2, 13, 12, 0)
    assert add_working_hours(local(2026, 2, 13, 12, 0), 24) == local(2026, 2, 14, 12, 0)
    # Half of Sat 14 Feb is left; the festival is skipped; the rest runs on Tue 24 Feb.
    assert add_working_hours(local(2026, 2, 14, 12, 0), 24) == local(2026, 2, 24, 12, 0)


def test_working_hours_from_a_rest_day_start_at_the_next_working_midnight():
    assert add_working_hours(local(2026, 3, 1, 15, 0), 1) == local(2026, 3, 2, 1, 0)


def test_working_hours_cross_into_2027_on_the_weekday_fallback():
    assert add_working_hours(local(2026, 12, 31, 12, 0), 24) == local(2027, 1, 1, 12, 0)
    assert add_working_hours(local(2027, 1, 1, 12, 0), 24) == local(2027, 1, 4, 12, 0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_working_days(dt.datetime(2026, 3, 2, 10, 0), 1)


from hypothesis import given, settings as hypothesis_settings, strategies as st  # noqa: E402

starts = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31),
                      timezones=st.just(UTC))


@hypothesis_settings(max_examples=100, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=20))
def test_add_working_days_ends_a_working_day_with_exactly_n_working_days_after_the_start(start, n):
    due = add_working_days(start, n).astimezone(SHANGHAI)
    assert due.time() == dt.time(23, 59, 59) and is_workday(due.date())
    first = start.astimezone(SHANGHAI).date()
    days = [first + dt.timedelta(days=k) for k in range(1, (due.date() - first).days + 1)]
    assert sum(is_workday(day) for day in days) == n


@hypothesis_settings(max_examples=100, deadline=None)
@given(start=starts, hours=st.integers(min_value=1, max_value=200))
def test_add_working_hours_counts_only_hours_on_working_days(start, hours):
    due = add_working_hours(start, hours)
    assert due > start
    # The time spent on working days between start and due, day by local day, is ``hours``.
    spent = dt.timedelta()
    cursor = start.astimezone(SHANGHAI)
    end = due.astimezone(SHANGHAI)
    while cursor < end:
        midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
        step_end = min(midnight, end)
        if is_workday(cursor.date()):
            spent += step_end - cursor
        cursor = step_end
    assert spent == dt.timedelta(hours=hours)
