"""Monthly ticket figures against a fixture counted by hand (March 2026, Beijing time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from voting.domain.credit import DEFAULT_SCHEME, ticket_verdicts
from voting.domain.ticket_deadlines import BEIJING
from voting.domain.ticket_figures import Durations, Month, TicketFacts, monthly, months
from voting.domain.tickets import Kind


def bj(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


R, C, Q, S = Kind.repair, Kind.complaint, Kind.inquiry, Kind.suggestion
FIXTURE = {
    # Accepted in 1 h, resolved in 1 day, on time, rated 5 in March.
    "T1": TicketFacts(R, bj(3, 2, 9), bj(3, 2, 10), bj(3, 3, 9), bj(3, 3, 9), None, bj(3, 6),
                      rating=5, rated_at=bj(3, 4)),
    # Resolved after its deadline, rated 2, reopened.
    "T2": TicketFacts(R, bj(3, 5, 9), bj(3, 5, 9, 30), bj(3, 10, 9), bj(3, 10, 9), None, bj(3, 9),
                      rating=2, rated_at=bj(3, 11), was_reopened=True),
    # Rejected in time with a reason: answered, not resolved.
    "T3": TicketFacts(C, bj(3, 8, 20), bj(3, 9, 8), None, bj(3, 9, 12), None, bj(3, 18, 20)),
    "T4": TicketFacts(Q, bj(3, 10, 10), bj(3, 10, 10, 10), bj(3, 10, 11), bj(3, 10, 11), None,
                      bj(3, 14), rating=4, rated_at=bj(3, 12)),
    # An emergency, rated in April: the rating is April's.
    "T5": TicketFacts(R, bj(3, 15, 22), bj(3, 15, 22, 20), bj(3, 16, 20), bj(3, 16, 20), None,
                      bj(3, 16, 22), rating=5, rated_at=bj(4, 1)),
    # Accepted late, never answered: late, and overdue now.
    "T6": TicketFacts(R, bj(3, 20, 9), bj(3, 23, 9), None, None, None, bj(3, 26),
                      due_at=bj(3, 26), is_with_holder=True),
    # Withdrawn: filed in March, due in April.
    "T7": TicketFacts(S, bj(3, 28, 9), None, None, None, bj(3, 29), bj(4, 7)),
    # Filed in February, accepted and resolved in March, reopened, rated 3.
    "T8": TicketFacts(C, bj(2, 27, 9), bj(3, 1, 9), bj(3, 6, 9), bj(3, 6, 9), None, bj(3, 9, 9),
                      rating=3, rated_at=bj(3, 7), was_reopened=True),
    # Filed at 23:30 on the last day (March in Beijing), accepted in April, overdue now.
    "T9": TicketFacts(R, bj(3, 31, 23, 30), bj(4, 1, 0, 10), None, None, None, bj(4, 3),
                      due_at=bj(4, 3), is_with_holder=True),
    # Filed at 07:00 on 1 March Beijing time: still 28 February in UTC, but March's.
    "T10": TicketFacts(R, bj(3, 1, 7), bj(3, 1, 8, 0) .replace(second=1), bj(3, 2, 7),
                       bj(3, 2, 7), None, bj(3, 4), rating=4, rated_at=bj(3, 2)),
    # Merged an hour after filing, long before its deadline: nobody was late.
    "T11": TicketFacts(R, bj(3, 3, 9), None, None, None, bj(3, 3, 10), bj(3, 6)),
    # Due at midnight starting 1 March (28 February in UTC): March's; answered late.
    "T12": TicketFacts(Q, bj(2, 20, 9), bj(2, 20, 10), bj(3, 2, 9), bj(3, 2, 9), None, bj(3, 1)),
}  # fmt: skip
NOW = bj(4, 5, 12)


def test_march_counted_by_hand() -> None:
    figures = monthly(list(FIXTURE.values()), Month(2026, 3), NOW)
    assert figures.filed == {R: 7, C: 1, Q: 1, S: 1}  # T1 2 5 6 9 10 11; T3; T4; T7
    assert figures.filed_total == 10
    # Accepted in March: T1 3600, T2 1800, T3 43200, T4 600, T5 1200, T6 259200, T8 172800,
    # T10 3601; sorted 600 1200 1800 3600 3601 43200 172800 259200.
    assert figures.to_accept == Durations(8, Fraction(7201, 2), 259200)
    # Resolved in March: T1 86400, T2 432000, T4 3600, T5 79200, T8 604800, T10 86400,
    # T12 864000; sorted 3600 79200 86400 86400 432000 604800 864000; ⌈6.3⌉ = 7th.
    assert figures.to_resolve == Durations(7, Fraction(86400), 864000)
    # Due in March: T1 T2 T3 T4 T5 T6 T8 T10 T12 (T11 merged early); late: T2 T6 T12.
    assert (figures.due, figures.on_time, figures.on_time_rate) == (9, 6, Fraction(2, 3))
    assert figures.overdue_now == 2  # T6, T9
    # Rated in March: T1 5, T2 2, T4 4, T8 3, T10 4.
    assert (figures.rated, figures.mean_rating, figures.satisfaction) == (
        5,
        Fraction(18, 5),
        Fraction(3, 5),
    )
    assert (figures.resolved, figures.reopened, figures.reopen_rate) == (7, 2, Fraction(2, 7))


def test_february_and_april_take_their_own_events() -> None:
    tickets = list(FIXTURE.values())
    february = monthly(tickets, Month(2026, 2), NOW)
    assert february.filed == {R: 0, C: 1, Q: 1, S: 0}
    assert february.to_accept == Durations(1, Fraction(3600), 3600)  # T12
    assert february.due == 0 and february.rated == 0 and february.resolved == 0
    april = monthly(tickets, Month(2026, 4), NOW)
    assert april.filed_total == 0
    assert april.to_accept == Durations(1, Fraction(2400), 2400)  # T9
    assert (april.rated, april.rating_sum, april.rated_well) == (1, 5, 1)  # T5
    # T7 withdrawn before its April deadline, T9 due 3 April and unanswered.
    assert (april.due, april.on_time) == (1, 0)


def test_an_open_ticket_within_its_deadline_is_not_yet_late() -> None:
    """T9 is due on 3 April: on the 2nd it is nobody's lateness (it lowered the firm's
    public rate from the day it was filed), on the 4th it is late; answered in time on the
    2nd, it counts at once, and on time."""
    tickets = list(FIXTURE.values())
    assert monthly(tickets, Month(2026, 4), bj(4, 2)).due == 0
    late = monthly(tickets, Month(2026, 4), bj(4, 4))
    assert (late.due, late.on_time) == (1, 0)
    answered = replace(FIXTURE["T9"], answered_at=bj(4, 2), resolved_at=bj(4, 2))
    early = monthly([answered], Month(2026, 4), bj(4, 2, 12))
    assert (early.due, early.on_time) == (1, 1)


def test_an_empty_month_has_no_rates() -> None:
    figures = monthly([], Month(2026, 3), NOW)
    assert figures.on_time_rate is None and figures.mean_rating is None
    assert figures.satisfaction is None and figures.reopen_rate is None
    assert figures.to_accept == Durations(0, None, None)


@pytest.mark.parametrize(
    ("seconds", "median", "p90"),
    [([5], 5, 5), ([1, 2], Fraction(3, 2), 2), (list(range(1, 11)), Fraction(11, 2), 9),
     (list(range(1, 12)), 6, 10), (list(range(1, 21)), Fraction(21, 2), 18)],
)  # fmt: skip
def test_median_and_nearest_rank_percentile(seconds: list[int], median: Fraction, p90: int) -> None:
    assert Durations.of(reversed(seconds)) == Durations(len(seconds), Fraction(median), p90)


def test_months() -> None:
    assert Month.parse("2026-03") == Month(2026, 3)
    for bad in ("2026-3", "26-03", "2026-13", "2026/03", ""):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 3).starts_at() == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert Month.of(datetime(2026, 2, 28, 16, tzinfo=UTC)) == Month(2026, 3)
    assert months(Month(2025, 11), Month(2026, 2)) == [
        Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2)
    ]  # fmt: skip
    assert str(Month(2026, 3)) == "2026-03"


def _figures(**counts: int):  # type: ignore[no-untyped-def]
    base = monthly([], Month(2026, 3), NOW)
    return replace(base, **counts)


def verdicts(figures) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = ticket_verdicts(DEFAULT_SCHEME, figures.for_credit())
    return [(v.record_class.value, v.category) for v in found]


def test_a_month_becomes_credit_records_by_the_schemes_thresholds_at_their_boundaries() -> None:
    # 27 of 30 rated 4 or 5: exactly 90 %, over exactly 30 ratings: good.
    assert verdicts(_figures(rated=30, rated_well=27, rating_sum=130)) == [
        ("good", "G-SATISFACTION")
    ]
    assert verdicts(_figures(rated=30, rated_well=26, rating_sum=130)) == []
    assert verdicts(_figures(rated=29, rated_well=29, rating_sum=145)) == []
    # 8 of 10 on time: exactly 80 %, not below: nothing; 7 of 10: bad, handled late.
    assert verdicts(_figures(due=10, on_time=8)) == []
    assert verdicts(_figures(due=10, on_time=7)) == [("bad", "B-LATE")]
    assert verdicts(_figures(due=9, on_time=0)) == []  # too few answers due to judge
    # March of the fixture: 5 rated, 9 due: too few for either.
    assert verdicts(monthly(list(FIXTURE.values()), Month(2026, 3), NOW)) == []
