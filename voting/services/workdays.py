"""Working days in mainland China: the State Council's holidays and make-up working weekends.

Deadlines in working days (a penalty published within 7 of its decision, a
ticket accepted within 1) follow the General Office of the State Council's
yearly holiday notice, which moves weekends around (调休): a Saturday can be a
working day and a Thursday a day off. The notice is law for one year at a
time and cannot be computed, so the calendar is the maintained
``chinesecalendar`` package (one release per notice), not a table of ours.

A year the package has no notice for is an explicit ``CalendarUnknown``: a
deadline guessed from weekdays alone would be wrong by up to a week around
the Spring Festival, and nobody would notice. Upgrading the package (pinned in
requirements.txt) after each November's notice extends the known years.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar import constants as _calendar_data

_ONE_DAY = timedelta(days=1)


class CalendarUnknown(Exception):
    """The calendar has no holiday notice for ``day``'s year, so no working day can be told."""

    code = "calendar_unknown"

    def __init__(self, day: date) -> None:
        self.day = day
        self.known = known_years()
        super().__init__(
            f"no holiday notice for {day.year} in the calendar "
            f"(it knows {self.known.start}–{self.known.stop - 1}): {day.isoformat()}"
        )


@cache
def known_years() -> range:
    """The years whose State Council holiday notice the installed calendar holds."""
    years = [day.year for day in _calendar_data.holidays]
    return range(min(years), max(years) + 1)


def is_working_day(day: date) -> bool:
    """Whether offices work on ``day``: a weekday that is no holiday, or a make-up weekend day."""
    if isinstance(day, datetime):
        # A datetime is a date too; its time of day would be silently ignored.
        raise TypeError("is_working_day takes a date, not a datetime")
    if day.year not in known_years():
        raise CalendarUnknown(day)
    return bool(chinese_calendar.is_workday(day))


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts; n=0 is ``start``).

    "Within 7 working days of the decision" ends on ``add_working_days(decision, 7)``,
    inclusive. Raises ``CalendarUnknown`` as soon as the count reaches a year
    the calendar does not know, rather than guessing.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += _ONE_DAY
        if is_working_day(day):
            n -= 1
    return day
