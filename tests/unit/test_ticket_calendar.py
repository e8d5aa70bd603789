"""Ticket deadlines on the State Council's calendar (voting.services.workdays): holidays
and make-up working Saturdays count as the notices say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from voting.domain.ticket_deadlines import BEIJING, DEFAULT, Stage, due_at, end_of
from voting.domain.tickets import Kind, State
from voting.services.workdays import CalendarUnknown, add_working_days


class Targets(NamedTuple):
    accept_by: datetime
    resolve_by: datetime


def targets(kind: Kind, is_emergency: bool, filed: datetime) -> Targets:
    """The handler's deadlines fixed at filing (``handling.fix_targets``), by the default
    spans on the State Council's calendar."""
    return Targets(
        end_of(filed, DEFAULT.accept_for(is_emergency), add_working_days),
        end_of(filed, DEFAULT.resolve_for(kind, is_emergency), add_working_days),
    )


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def test_a_repair_filed_before_national_day_2026() -> None:
    filed = bj(2026, 9, 30, 16)  # Wednesday; 1-7 October off, Saturday 10 October worked
    found = targets(Kind.repair, False, filed)
    assert found.accept_by == bj(2026, 10, 9)  # the end of Thursday 8 October
    assert found.resolve_by == bj(2026, 10, 11)  # 8, 9 and the make-up Saturday 10
    # Escalated on 9 October: the street office's 5 working days are 10, 12, 13, 14, 15.
    escalated = Stage(Kind.repair, State.escalated, False, bj(2026, 10, 9, 9), bj(2026, 10, 9, 9))
    assert due_at(escalated, add_working_days) == bj(2026, 10, 16)


def test_a_repair_filed_before_the_spring_festival_2026() -> None:
    filed = bj(2026, 2, 13, 18)  # Friday; Saturday 14 February is worked, 15-23 off
    found = targets(Kind.repair, False, filed)
    assert found.accept_by == bj(2026, 2, 15)  # the end of the make-up Saturday
    assert found.resolve_by == bj(2026, 2, 26)  # 14, 24 and 25 February


def test_emergencies_and_complaints_run_by_the_clock_through_holidays() -> None:
    filed = bj(2026, 10, 1, 3)  # a holiday, at night
    found = targets(Kind.repair, True, filed)
    assert (found.accept_by, found.resolve_by) == (
        filed + timedelta(minutes=30),
        filed + timedelta(hours=24),
    )
    assert targets(Kind.complaint, False, filed).resolve_by == filed + timedelta(days=10)


def test_a_deadline_in_a_year_without_a_notice_is_unknown_not_guessed() -> None:
    filed = bj(2026, 12, 30, 10)  # 3 working days reach into 2027
    with pytest.raises(CalendarUnknown):
        targets(Kind.repair, False, filed)
    found = targets(Kind.repair, True, filed)
    assert found.resolve_by == filed + timedelta(hours=24)
