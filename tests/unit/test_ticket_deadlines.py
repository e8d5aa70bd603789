"""Ticket deadlines: working days end at Beijing midnight, emergencies run by the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from voting.domain.ticket_deadlines import (
    BEIJING,
    DEFAULT,
    Deadlines,
    Span,
    Stage,
    Unit,
    due_at,
    end_of,
    looser_than,
)
from voting.domain.tickets import Kind, State

# A small calendar of its own (weekends, one holiday week and a make-up Saturday) for the
# arithmetic here; tests/unit/test_ticket_calendar.py runs the same deadlines on the real one.
HOLIDAYS = {date(2026, 10, d) for d in range(1, 8)}
MAKE_UP = {date(2026, 10, 10)}  # a Saturday


def is_working(day: date) -> bool:
    return day in MAKE_UP or (day.weekday() < 5 and day not in HOLIDAYS)


def add_working_days(start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        n -= is_working(day)
    return day


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


def test_a_working_day_ends_at_midnight_beijing_time_after_the_day_of_receipt() -> None:
    # Filed Monday 09:00: accept by the end of Tuesday.
    assert end_of(beijing(2026, 9, 14, 9), Span(1, Unit.working_days), add_working_days) == beijing(
        2026, 9, 16
    )
    # Filed Friday 23:59 Beijing (15:59 UTC, Friday in UTC too): by the end of Monday.
    assert end_of(beijing(2026, 9, 18, 23, 59), Span(1, Unit.working_days), add_working_days) == (
        beijing(2026, 9, 22)
    )
    # Filed Saturday 00:30 Beijing, still Friday in UTC: the Beijing date counts.
    assert end_of(beijing(2026, 9, 19, 0, 30), Span(1, Unit.working_days), add_working_days) == (
        beijing(2026, 9, 22)
    )


def test_across_a_holiday_week_and_its_make_up_saturday() -> None:
    filed = beijing(2026, 9, 30, 16)  # the Wednesday before National Day
    # 3 working days: 10-08 (Thu), 10-09 (Fri), 10-10 (the make-up Saturday).
    assert end_of(filed, Span(3, Unit.working_days), add_working_days) == beijing(2026, 10, 11)
    # 1 working day: the holiday week does not count.
    assert end_of(filed, Span(1, Unit.working_days), add_working_days) == beijing(2026, 10, 9)
    # Clock time ignores the calendar.
    assert end_of(filed, Span(30, Unit.minutes), add_working_days) == filed + timedelta(minutes=30)
    assert end_of(filed, Span(24, Unit.hours), add_working_days) == filed + timedelta(days=1)
    assert end_of(filed, Span(10, Unit.days), add_working_days) == filed + timedelta(days=10)


def stage(state: State, kind: Kind = Kind.repair, emergency: bool = False) -> Stage:
    received = beijing(2026, 9, 30, 16)
    return Stage(kind, state, emergency, received, received + timedelta(days=2))


@pytest.mark.parametrize(
    ("state", "kind", "emergency", "due"),
    [
        (State.submitted, Kind.repair, False, beijing(2026, 10, 9)),
        (State.submitted, Kind.repair, True, beijing(2026, 9, 30, 16, 30)),
        (State.submitted, Kind.complaint, False, beijing(2026, 10, 9)),
        (State.accepted, Kind.repair, False, beijing(2026, 10, 11)),
        (State.assigned, Kind.repair, True, beijing(2026, 10, 1, 16)),
        (State.reopened, Kind.inquiry, False, beijing(2026, 10, 11)),
        (State.accepted, Kind.complaint, False, beijing(2026, 10, 10, 16)),
        (State.accepted, Kind.suggestion, False, beijing(2026, 10, 10, 16)),
        # The authority's 5 working days: 10-08, 09, 10, 12, 13.
        (State.escalated, Kind.complaint, False, beijing(2026, 10, 14)),
        # The owner's 7 days count from the resolution (stage_at); rejected work goes up at
        # once, with no deadline of its own.
        (State.resolved, Kind.repair, False, beijing(2026, 10, 9, 16)),
        (State.rejected, Kind.repair, False, None),
    ],
)
def test_the_default_deadline_of_each_stage(
    state: State, kind: Kind, emergency: bool, due: datetime | None
) -> None:
    assert due_at(stage(state, kind, emergency), add_working_days) == due


def test_final_states_have_no_deadline() -> None:
    for state in (State.confirmed, State.closed, State.withdrawn, State.merged):
        assert due_at(stage(state), add_working_days) is None


def test_an_emergency_s_targets_run_by_the_clock() -> None:
    filed = beijing(2026, 9, 30, 16)
    found = [
        end_of(filed, span, add_working_days)
        for span in (DEFAULT.accept_for(True), DEFAULT.resolve_for(Kind.repair, True))
    ]
    assert found == [beijing(2026, 9, 30, 16, 30), beijing(2026, 10, 1, 16)]


def test_the_calendar_failing_is_the_callers_to_handle() -> None:
    class Unknown(Exception):
        pass

    def no_data(start: date, n: int) -> date:
        raise Unknown(start)

    with pytest.raises(Unknown):
        due_at(stage(State.accepted), no_data)
    # Clock deadlines need no calendar.
    assert due_at(stage(State.accepted, emergency=True), no_data) == beijing(2026, 10, 1, 16)


def test_a_community_may_be_stricter_never_looser() -> None:
    assert looser_than(DEFAULT) == []
    stricter = Deadlines(
        accept=Span(1, Unit.working_days),
        accept_emergency=Span(15, Unit.minutes),
        resolve={**DEFAULT.resolve, Kind.complaint: Span(7, Unit.days)},
        resolve_emergency=Span(12, Unit.hours),
        authority=Span(3, Unit.working_days),
        owner_window=Span(14, Unit.days),
    )
    assert looser_than(stricter) == []
    looser = Deadlines(
        accept=Span(2, Unit.working_days),
        accept_emergency=Span(1, Unit.hours),
        resolve={**DEFAULT.resolve, Kind.complaint: Span(10, Unit.working_days)},
        resolve_emergency=Span(1, Unit.days),
        authority=Span(5, Unit.working_days),
        owner_window=Span(5, Unit.days),
    )
    found = {(item.name, item.comparable) for item in looser_than(looser)}
    assert found == {
        ("accept", True),
        ("accept_emergency", True),
        ("resolve.complaint", False),
        ("owner_window", True),
    }


def test_a_span_is_at_least_one_unit() -> None:
    with pytest.raises(ValueError):
        Span(0, Unit.days)


def test_a_community_shortens_only_the_handler_s_deadlines_in_their_own_units() -> None:
    from voting.domain.ticket_deadlines import HANDLER_DEADLINES, shortened, span_named

    chosen = shortened({"resolve.complaint": 7, "accept_emergency": 15})
    assert chosen.resolve[Kind.complaint] == Span(7, Unit.days)
    assert chosen.accept_emergency == Span(15, Unit.minutes)
    assert chosen.resolve[Kind.repair] == DEFAULT.resolve[Kind.repair]
    assert looser_than(chosen) == []
    assert [item.name for item in looser_than(shortened({"resolve.repair": 4}))] == [
        "resolve.repair"
    ]
    assert all(
        span_named(shortened({}), name) == span_named(DEFAULT, name) for name in HANDLER_DEADLINES
    )
    for other in ({"authority": 3}, {"owner_window": 5}, {"resolve.gossip": 1}):
        with pytest.raises(ValueError):
            shortened(other)
    with pytest.raises(ValueError):
        shortened({"accept": 0})
