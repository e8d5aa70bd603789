"""Working days by the State Council's notices: holidays, make-up working weekends, unknown years."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.services.workdays import CalendarUnknown, add_working_days, is_working_day, known_years


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2026 Spring Festival (国办发明电〔2025〕7号): 15–23 February off,
        # Saturday 14 and Saturday 28 February worked.
        (date(2026, 2, 13), True),  # Friday
        (date(2026, 2, 14), True),  # Saturday, make-up working day
        (date(2026, 2, 16), False),  # Monday, 除夕
        (date(2026, 2, 20), False),  # Friday, in lieu
        (date(2026, 2, 23), False),  # Monday, in lieu
        (date(2026, 2, 24), True),  # Tuesday
        (date(2026, 2, 28), True),  # Saturday, make-up working day
        (date(2026, 3, 1), False),  # an ordinary Sunday
        # 2026 国庆 and 中秋: 1–7 October off, Sunday 20 September and Saturday 10 October worked.
        (date(2026, 9, 20), True),  # Sunday, make-up working day
        (date(2026, 9, 25), False),  # Friday, 中秋节
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),  # Wednesday, in lieu
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),  # Sunday
        # 2025 Spring Festival: Sunday 26 January and Saturday 8 February worked.
        (date(2025, 1, 26), True),
        (date(2025, 2, 4), False),
        (date(2025, 2, 8), True),
    ],
)
def test_working_day_follows_the_notice(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "deadline"),
    [
        # Thursday before the 2026 Spring Festival: Fri 13 (1), Sat 14 (2, make-up),
        # 16–23 off, 24–27 (3–6), Sat 28 (7, make-up).
        (date(2026, 2, 12), 7, date(2026, 2, 28)),
        # Friday's next working day is the make-up Saturday, not Monday.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        # Decided on a holiday: counting starts at the next working day.
        (date(2026, 2, 17), 1, date(2026, 2, 24)),
        # Monday before 国庆 2026: 29, 30 (1–2), 1–7 October off, Thu 8, Fri 9 (3–4),
        # Sat 10 (5, make-up), Mon 12, Tue 13 (6–7).
        (date(2026, 9, 28), 7, date(2026, 10, 13)),
        # Across the Mid-Autumn Friday and the make-up Sunday before it.
        (date(2026, 9, 18), 2, date(2026, 9, 21)),
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        # 2025 Spring Festival: Fri 24 (1), Sun 26 (2, make-up), Mon 27 (3), 28 January–4
        # February off, 5–7 (4–6), Sat 8 (7, make-up).
        (date(2025, 1, 23), 7, date(2025, 2, 8)),
        # Zero working days later is the start itself, even on a holiday.
        (date(2026, 10, 1), 0, date(2026, 10, 1)),
    ],
)
def test_add_working_days_crosses_holidays_and_make_up_days(
    start: date, n: int, deadline: date
) -> None:
    assert add_working_days(start, n) == deadline


def test_a_year_without_a_notice_is_an_explicit_error() -> None:
    after = date(known_years().stop, 1, 4)
    with pytest.raises(CalendarUnknown) as refused:
        is_working_day(after)
    assert refused.value.day == after
    assert refused.value.code == "calendar_unknown"
    assert str(after.year) in str(refused.value)
    with pytest.raises(CalendarUnknown):
        is_working_day(date(known_years().start - 1, 12, 31))


def test_a_count_running_into_an_unknown_year_is_refused_not_guessed() -> None:
    last_known = date(known_years().stop - 1, 12, 28)
    with pytest.raises(CalendarUnknown) as refused:
        add_working_days(last_known, 30)
    assert refused.value.day == date(known_years().stop, 1, 1)


def test_the_calendar_knows_the_years_deadlines_are_computed_for() -> None:
    # The pinned chinesecalendar holds the notices of 2004 to 2026; a newer release adds more.
    assert known_years().start <= 2004
    assert known_years().stop >= 2027


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 3, 2, 9, 0))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 10, 31)),
    n=st.integers(min_value=0, max_value=30),
)
def test_the_deadline_is_the_nth_working_day_after_the_start(start: date, n: int) -> None:
    deadline = add_working_days(start, n)
    days = [start + timedelta(days=k) for k in range(1, (deadline - start).days + 1)]
    assert sum(is_working_day(day) for day in days) == n
    assert n == 0 or is_working_day(deadline)
