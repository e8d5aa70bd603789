"""Monthly ticket figures, exact: counts, durations in whole seconds, rates as fractions.

The caller picks the tickets of an estate, a firm, a street or the city and
asks for one month (Beijing time). Each figure counts the tickets whose event
fell in that month:

- **filed** (by kind): filed in the month;
- **time to accept**: first accepted in the month, from filing;
- **time to resolve**: first resolved in the month, from filing;
- **on time**: the handler's answer (a resolution, or a rejection with its
  reason) by the deadline fixed at filing, among the tickets whose deadline
  fell in the month; a ticket withdrawn or merged before its deadline is not
  counted, one still unanswered is late;
- **overdue now**: of the month's filed tickets, those whose holder has
  missed its current deadline at ``now``;
- **satisfaction**: ratings given in the month, their mean and the share of 4
  and 5;
- **reopen rate**: of the tickets first resolved in the month, the share the
  owner reopened (then or later).

Medians of an even count are the mean of the two middle values (a half
second at most); the 90th percentile is the nearest rank, ⌈0.9·n⌉-th smallest.
No float anywhere. A firm's month becomes credit records by the scoring
scheme's thresholds (``credit.ticket_verdicts`` on ``Figures.for_credit()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from voting.domain.credit import TicketFigures
from voting.domain.ticket_deadlines import BEIJING
from voting.domain.tickets import Kind
from voting.domain.years import YEARS


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError("month must be 1-12")

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = moment.astimezone(BEIJING)
        return cls(local.year, local.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-03``, in one of ``YEARS``."""
        year, _dash, month = text.partition("-")
        if not (len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
            raise ValueError("a month is written YYYY-MM")
        if int(year) not in YEARS:
            raise ValueError("a month is in 2000-2099")
        return cls(int(year), int(month))

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def starts_at(self) -> datetime:
        """Midnight Beijing time on the first day, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=BEIJING).astimezone(UTC)

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and Month.of(moment) == self

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months(first: Month, last: Month) -> list[Month]:
    found, month = [], first
    while month <= last:
        found.append(month)
        month = month.next()
    return found


@dataclass(frozen=True)
class TicketFacts:
    """One ticket as the figures see it (times aware, UTC)."""

    kind: Kind
    filed_at: datetime
    accepted_at: datetime | None = None  # first acceptance
    resolved_at: datetime | None = None  # first resolution
    answered_at: datetime | None = None  # first resolution or rejection
    ended_at: datetime | None = None  # withdrawn or merged (never answered)
    resolve_by: datetime | None = None  # the handler's deadline fixed at filing
    due_at: datetime | None = None  # the current holder's deadline, while it holds it
    is_with_holder: bool = False
    rating: int | None = None
    rated_at: datetime | None = None
    was_reopened: bool = False


@dataclass(frozen=True)
class Durations:
    """Seconds: how many, the median and the 90th percentile (None when there are none)."""

    count: int
    median: Fraction | None
    p90: int | None

    @classmethod
    def of(cls, seconds: Iterable[int]) -> Durations:
        ordered = sorted(seconds)
        n = len(ordered)
        if n == 0:
            return cls(0, None, None)
        middle = n // 2
        median = (
            Fraction(ordered[middle])
            if n % 2
            else Fraction(ordered[middle - 1] + ordered[middle], 2)
        )
        rank = -(-9 * n // 10)  # ⌈0.9·n⌉
        return cls(n, median, ordered[rank - 1])


@dataclass(frozen=True)
class Figures:
    month: Month
    filed: dict[Kind, int]
    to_accept: Durations
    to_resolve: Durations
    due: int  # answers due in the month
    on_time: int  # of those, answered by the deadline
    overdue_now: int
    rated: int
    rating_sum: int
    rated_well: int  # 4 or 5
    resolved: int  # first resolved in the month
    reopened: int  # of those, reopened

    @property
    def filed_total(self) -> int:
        return sum(self.filed.values())

    @property
    def on_time_rate(self) -> Fraction | None:
        return Fraction(self.on_time, self.due) if self.due else None

    @property
    def mean_rating(self) -> Fraction | None:
        return Fraction(self.rating_sum, self.rated) if self.rated else None

    @property
    def satisfaction(self) -> Fraction | None:
        """The share of ratings that are 4 or 5."""
        return Fraction(self.rated_well, self.rated) if self.rated else None

    @property
    def reopen_rate(self) -> Fraction | None:
        return Fraction(self.reopened, self.resolved) if self.resolved else None

    def for_credit(self) -> TicketFigures:
        """What the scoring scheme's ticket thresholds judge (credit.ticket_verdicts)."""
        return TicketFigures(
            rated=self.rated, satisfied=self.rated_well, due=self.due, on_time=self.on_time
        )


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def monthly(tickets: Sequence[TicketFacts], month: Month, now: datetime) -> Figures:
    filed = [t for t in tickets if month.contains(t.filed_at)]
    accepted = [t for t in tickets if month.contains(t.accepted_at)]
    resolved = [t for t in tickets if month.contains(t.resolved_at)]
    rated = [t for t in tickets if t.rating is not None and month.contains(t.rated_at)]
    due = [t for t in tickets if month.contains(t.resolve_by) and _counts_for_on_time(t, now)]
    return Figures(
        month=month,
        filed={kind: sum(t.kind is kind for t in filed) for kind in Kind},
        to_accept=Durations.of(_seconds(t.filed_at, t.accepted_at) for t in accepted),  # type: ignore[arg-type]
        to_resolve=Durations.of(_seconds(t.filed_at, t.resolved_at) for t in resolved),  # type: ignore[arg-type]
        due=len(due),
        on_time=sum(_answered_in_time(t) for t in due),
        overdue_now=sum(
            t.is_with_holder and t.due_at is not None and now >= t.due_at for t in filed
        ),
        rated=len(rated),
        rating_sum=sum(t.rating or 0 for t in rated),
        rated_well=sum((t.rating or 0) >= 4 for t in rated),
        resolved=len(resolved),
        reopened=sum(t.was_reopened for t in resolved),
    )


def _counts_for_on_time(ticket: TicketFacts, now: datetime) -> bool:
    """Answered, or unanswered past its deadline. Unanswered and still within it, nobody is
    late yet (counting it would lower a firm's public rate for every ticket it has not
    finished on the day it was filed); withdrawn or merged before it, nobody was."""
    if ticket.answered_at is not None:
        return True
    if ticket.resolve_by is None or now <= ticket.resolve_by:
        return False
    return ticket.ended_at is None or ticket.ended_at > ticket.resolve_by


def _answered_in_time(ticket: TicketFacts) -> bool:
    return (
        ticket.answered_at is not None
        and ticket.resolve_by is not None
        and ticket.answered_at <= ticket.resolve_by
    )
